package store

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// A locker's openings are journalled phase by phase; the ones with a
// report to send wait in the outbox, in order, until acknowledged, across
// a reopen of the file (a restart, a power cut after the write).
func TestLockerJournalKeepsOpeningsAndOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.db")
	d, err := OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("0123456789abcdef")
	first, err := d.BeginLockerEntry(LockerEntry{Flow: LockerFlowPickup, Phase: LockerOpening, Deposit: "d1", Compartment: "7", Code: "pickup", CodeSalt: salt})
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.BeginLockerEntry(LockerEntry{Flow: LockerFlowFault, Phase: LockerNoted, Compartment: "3", Report: "door-forced", Reported: LockerReportPending})
	if err != nil {
		t.Fatal(err)
	}
	if first.ID == second.ID || first.ID == "" || second.Key != first.Key+1 {
		t.Fatalf("entries %q (%d) and %q (%d): want distinct ids, numbered in order", first.ID, first.Key, second.ID, second.Key)
	}
	closedAt := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if _, err := d.UpdateLockerEntry(first.Key, func(e *LockerEntry) error {
		e.Phase, e.At, e.Report, e.Reported = LockerClosed, closedAt, "picked-up", LockerReportPending
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveLockerThrottle(LockerThrottle{Unknown: 4, LastUnknown: closedAt, Wrong: map[string]int{"d1/pickup/x": 2}}); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d = openDevice(t, path)
	pending, err := d.PendingLockerReports()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range pending {
		got = append(got, e.ID+":"+e.Report)
	}
	if want := []string{first.ID + ":picked-up", second.ID + ":door-forced"}; !slices.Equal(got, want) {
		t.Fatalf("outbox after reopening: %v, want %v", got, want)
	}
	if e := pending[0]; e.Phase != LockerClosed || !e.At.Equal(closedAt) || string(e.CodeSalt) != string(salt) || e.Deposit != "d1" {
		t.Errorf("the pickup as journalled: %+v", e)
	}
	if _, err := d.UpdateLockerEntry(first.Key, func(e *LockerEntry) error { e.Reported = LockerReportDone; return nil }); err != nil {
		t.Fatal(err)
	}
	if pending, _ := d.PendingLockerReports(); len(pending) != 1 || pending[0].Key != second.Key {
		t.Errorf("after the pickup's acknowledgement the outbox holds %+v, want only the forced door", pending)
	}
	th, err := d.LockerThrottle()
	if err != nil || th.Unknown != 4 || !th.LastUnknown.Equal(closedAt) || th.Wrong["d1/pickup/x"] != 2 {
		t.Errorf("throttle after reopening: %+v, %v", th, err)
	}
	// Pruning keeps what is still to be reported.
	n, err := d.PruneLockerJournal(time.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want the reported pickup only", n, err)
	}
	if all, _ := d.LockerEntries(0, 0); len(all) != 1 || all[0].Key != second.Key {
		t.Errorf("after pruning: %+v", all)
	}
	if _, err := d.UpdateLockerEntry(99, func(*LockerEntry) error { return nil }); err == nil {
		t.Error("updating an entry that does not exist: no error")
	}
}
