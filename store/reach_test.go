package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// A ticket's record keeps at most MaxPushSubscriptions browsers (the
// same browser again replaces its keys), drops gone ones, says "ahead"
// once, survives reopening the file and is purged at its time.
func TestTicketReach(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.db")
	db, err := OpenWebDB(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	purge := now.Add(24 * time.Hour)
	sub := func(i int, key string) PushSubscription {
		return PushSubscription{Endpoint: fmt.Sprintf("https://push.example/%d", i), P256dh: key, Auth: "a"}
	}
	for i := range MaxPushSubscriptions + 1 {
		if err := db.AddPushSubscription("o1", "T1", "uk", sub(i, "k"), purge); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AddPushSubscription("o1", "T1", "pl", sub(2, "new"), purge.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTicketPhone("o2", "T1", "en", "+48600100200", purge); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = OpenWebDB(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, found, err := db.TicketReach("o1", "T1")
	if err != nil || !found {
		t.Fatalf("reading: %v %v", found, err)
	}
	var endpoints []string
	for _, s := range r.Subscriptions {
		endpoints = append(endpoints, s.Endpoint+"="+s.P256dh)
	}
	want := "[https://push.example/1=k https://push.example/3=k https://push.example/4=k https://push.example/2=new]"
	if got := fmt.Sprint(endpoints); got != want || r.Lang != "uk" || !r.PurgeAt.Equal(purge) {
		t.Errorf("kept %s lang %s purge %v; want %s, uk, %v (the first record's)", got, r.Lang, r.PurgeAt, want, purge)
	}
	for i, wantFirst := range []bool{true, false} {
		if first, err := db.MarkAheadSent("o1", "T1"); err != nil || first != wantFirst {
			t.Errorf("MarkAheadSent #%d = %v, %v", i+1, first, err)
		}
	}
	if first, _ := db.MarkAheadSent("o1", "nobody"); first {
		t.Error("MarkAheadSent of a ticket without a record said first")
	}
	for _, e := range []string{"https://push.example/1", "https://push.example/3", "https://push.example/4", "https://push.example/2"} {
		if err := db.DropPushEndpoint("o1", "T1", e); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, _ := db.TicketReach("o1", "T1"); found {
		t.Error("a record without subscriptions or phone is kept")
	}
	if rs, err := db.TicketReaches("o2"); err != nil || len(rs) != 1 || rs[0].Phone != "+48600100200" {
		t.Errorf("office o2's records: %+v, %v", rs, err)
	}
	if n, err := db.PurgeTicketReaches(purge.Add(-time.Second)); err != nil || n != 0 {
		t.Errorf("purge before its time took %d, %v", n, err)
	}
	if n, err := db.PurgeTicketReaches(purge); err != nil || n != 1 {
		t.Errorf("purge at its time took %d, %v; want the phone's record", n, err)
	}
}
