package store

import (
	"path/filepath"
	"testing"
	"time"
)

// A device's faults come back newest first and only its own (not those
// of a device whose id begins the same); purging takes the ended faults
// older than the cut and nothing that still lasts.
func TestFleetFaults(t *testing.T) {
	db, err := OpenFleetDB(filepath.Join(t.TempDir(), "fleet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	recs := []FaultRecord{
		{Device: "k1", Code: "paper-out", Start: t0, End: t0.Add(time.Hour)},
		{Device: "k1", Code: "offline", Start: t0.Add(24 * time.Hour), End: t0.Add(25 * time.Hour)},
		{Device: "k1", Code: "too-hot", Start: t0.Add(48 * time.Hour)},
		{Device: "k10", Code: "paper-out", Start: t0.Add(72 * time.Hour)},
	}
	if err := db.PutFaults(recs); err != nil {
		t.Fatal(err)
	}
	codes := func(fs []FaultRecord) []string {
		var out []string
		for _, f := range fs {
			out = append(out, f.Code)
		}
		return out
	}
	got, err := db.Faults("k1", 0)
	if err != nil || len(got) != 3 || got[0].Code != "too-hot" || got[2].Code != "paper-out" {
		t.Fatalf("k1's faults %v, %v", codes(got), err)
	}
	if got, _ := db.Faults("k1", 2); len(got) != 2 || got[1].Code != "offline" {
		t.Errorf("k1's newest two %v", codes(got))
	}
	if got, _ := db.Faults("k10", 0); len(got) != 1 {
		t.Errorf("k10's faults %v", codes(got))
	}
	if got, _ := db.Faults("k", 0); len(got) != 0 {
		t.Errorf("a device k has faults %v", codes(got))
	}
	n, err := db.PurgeFaults(t0.Add(30 * time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("purged %d, %v; want the two ended", n, err)
	}
	open, err := db.OpenFaults()
	if err != nil || len(open) != 2 {
		t.Errorf("open faults after the purge %v, %v", codes(open), err)
	}
}
