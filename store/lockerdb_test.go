package store

import (
	"path/filepath"
	"testing"
	"time"
)

// A deposit's personal side is kept, changed, listed per office, survives
// a reopening of the file, and goes at its purge time.
func TestLockerDeposits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.db")
	db, err := OpenWebDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	recs := []LockerDeposit{
		{Office: "a", ID: "d1", Name: "Jan Kowalski", Contact: "jan@example.pl", Lang: "pl", PickupCode: "ABCDEFGH", ClerkCode: "HGFEDCBA", By: "anna", CreatedAt: t0, PurgeAfter: t0.Add(10 * 24 * time.Hour)},
		{Office: "a", ID: "d2", Name: "Olena", Contact: "+48600100200", Phone: "+48600100200", Lang: "uk", By: "anna", CreatedAt: t0, PurgeAfter: t0.Add(40 * 24 * time.Hour)},
		{Office: "ab", ID: "d1", Name: "Other office", Lang: "en", CreatedAt: t0, PurgeAfter: t0.Add(time.Hour)},
	}
	for _, r := range recs {
		if err := db.PutLockerDeposit(r); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := db.LockerDeposit("a", "d1")
	if err != nil || !ok || got.Name != "Jan Kowalski" || got.PickupCode != "ABCDEFGH" {
		t.Fatalf("read back %+v, %v, %v", got, ok, err)
	}
	if _, ok, _ := db.LockerDeposit("a", "nope"); ok {
		t.Error("found a deposit never stored")
	}
	// The ready message is stored: the plain pickup code goes.
	changed, ok, err := db.UpdateLockerDeposit("a", "d1", func(d *LockerDeposit) { d.PickupCode, d.ID = "", "hijack" })
	if err != nil || !ok || changed.PickupCode != "" || changed.ID != "d1" {
		t.Fatalf("update: %+v, %v, %v", changed, ok, err)
	}
	if _, ok, _ := db.UpdateLockerDeposit("a", "nope", func(*LockerDeposit) {}); ok {
		t.Error("updated a deposit never stored")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenWebDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	of, err := db.LockerDepositsOf("a")
	if err != nil || len(of) != 2 || of[0].ID != "d1" || of[1].ID != "d2" || of[0].PickupCode != "" {
		t.Fatalf("office a's deposits after reopening: %+v, %v", of, err)
	}
	n, err := db.PurgeLockerDeposits(t0.Add(10 * 24 * time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("purged %d, %v; want the two past their time", n, err)
	}
	if _, ok, _ := db.LockerDeposit("a", "d1"); ok {
		t.Error("a purged deposit is still there")
	}
	if left, _ := db.LockerDepositsOf("a"); len(left) != 1 || left[0].ID != "d2" {
		t.Errorf("left after the purge: %+v", left)
	}
	if left, _ := db.LockerDepositsOf("ab"); len(left) != 0 {
		t.Errorf("office ab's deposit past its time stayed: %+v", left)
	}
}
