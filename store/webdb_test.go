package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestBookingsPurgedAfterRetention(t *testing.T) {
	db, err := OpenWebDB(filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	b := Booking{Office: "o", ID: "r1", Service: "family", Slot: now.Add(24 * time.Hour), Name: "Jan Kowalski",
		Contact: "jan@example.pl", CodeKey: "k1", PurgeAt: now.Add(31 * 24 * time.Hour)}
	if err := db.PutBooking(b); err != nil {
		t.Fatal(err)
	}
	if err := db.PutBooking(Booking{Office: "o", ID: "r2", CodeKey: "k1", PurgeAt: b.PurgeAt}); !errors.Is(err, ErrCodeTaken) {
		t.Fatalf("a second booking with the same code: %v, want ErrCodeTaken", err)
	}
	got, ok, err := db.BookingByCode("k1")
	if err != nil || !ok || got.Name != "Jan Kowalski" {
		t.Fatalf("by code: %+v %v %v", got, ok, err)
	}
	if n, err := db.PurgeBookings(now.Add(30 * 24 * time.Hour)); err != nil || n != 0 {
		t.Fatalf("purge before retention: %d %v", n, err)
	}
	if n, err := db.PurgeBookings(b.PurgeAt); err != nil || n != 1 {
		t.Fatalf("purge at retention: %d %v, want 1", n, err)
	}
	if _, ok, _ := db.Booking("o", "r1"); ok {
		t.Error("the booking outlived its retention")
	}
	if _, ok, _ := db.BookingByCode("k1"); ok {
		t.Error("the code outlived its booking")
	}
}

func TestCancelDropsPersonalData(t *testing.T) {
	db, err := OpenWebDB(filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_ = db.PutBooking(Booking{Office: "o", ID: "r1", Name: "Ala", Contact: "600100200", CodeKey: "k", PurgeAt: time.Now().Add(time.Hour)})
	if err := db.CancelBooking("o", "r1"); err != nil {
		t.Fatal(err)
	}
	b, ok, _ := db.Booking("o", "r1")
	if !ok || !b.Cancelled || b.Name != "" || b.Contact != "" {
		t.Errorf("after cancel: %+v", b)
	}
	// The code still finds the booking, so check-in can say it was
	// cancelled; the record holds nothing personal.
	if got, ok, _ := db.BookingByCode("k"); !ok || !got.Cancelled || got.Name != "" || got.Contact != "" {
		t.Errorf("a cancelled booking by its code: %+v found=%v, want it, cancelled and without personal data", got, ok)
	}
}

func TestSessionsExpire(t *testing.T) {
	db, err := OpenWebDB(filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	_ = db.PutSession("h", Session{Clerk: "anna", Expires: now.Add(time.Hour)})
	if _, ok, _ := db.Session("h", now); !ok {
		t.Fatal("a live session is not found")
	}
	if _, ok, _ := db.Session("h", now.Add(2*time.Hour)); ok {
		t.Error("an expired session is accepted")
	}
	_ = db.DeleteSessionsOf("anna")
	if _, ok, _ := db.Session("h", now); ok {
		t.Error("the clerk's session survived DeleteSessionsOf")
	}
}

func TestKeyKeptAcrossRestarts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "web.key")
	k1, err := LoadOrCreateKey(p)
	if err != nil || len(k1) != KeySize {
		t.Fatal(k1, err)
	}
	k2, err := LoadOrCreateKey(p)
	if err != nil || string(k1) != string(k2) {
		t.Error("a second start made a new key: every e-ticket link would break")
	}
}

// The booking desk lists one office's visits of one day: the day's
// bounds are [from, to), and another office's visits stay out.
func TestBookingsBetween(t *testing.T) {
	db, err := OpenWebDB(filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for i, b := range []Booking{
		{Office: "o", ID: "midnight", Slot: day},
		{Office: "o", ID: "noon", Slot: day.Add(12 * time.Hour)},
		{Office: "o", ID: "next-midnight", Slot: day.Add(24 * time.Hour)},
		{Office: "o", ID: "before", Slot: day.Add(-time.Minute)},
		{Office: "o2", ID: "other-office", Slot: day.Add(12 * time.Hour)},
		{Office: "o-longer", ID: "prefix-office", Slot: day.Add(12 * time.Hour)},
	} {
		b.CodeKey = string(rune('a' + i))
		if err := db.PutBooking(b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.BookingsBetween("o", day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range got {
		ids = append(ids, b.ID)
	}
	if len(ids) != 2 || ids[0] != "midnight" || ids[1] != "noon" {
		t.Errorf("the day's bookings %v, want midnight and noon", ids)
	}
}
