package store

import (
	"path/filepath"
	"testing"
	"time"
)

// A note is kept until its purge time, survives reopening the file, and
// is gone after the purge; a later note on the same ticket replaces it.
func TestFinishNotesArePurged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "web.db")
	db, err := OpenWebDB(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	if _, found, err := db.FinishNoteOf("o", "t1"); err != nil || found {
		t.Fatalf("before any note: %v %v", found, err)
	}
	notes := []FinishNote{
		{Office: "o", Ticket: "t1", Clerk: "anna", Note: "first", At: now, PurgeAt: now.Add(24 * time.Hour)},
		{Office: "o", Ticket: "t1", Clerk: "anna", Note: "brings form 3 tomorrow", At: now, PurgeAt: now.Add(24 * time.Hour)},
		{Office: "o", Ticket: "t2", Clerk: "ben", Note: "kept longer", At: now, PurgeAt: now.Add(72 * time.Hour)},
	}
	for _, n := range notes {
		if err := db.PutFinishNote(n); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	if db, err = OpenWebDB(path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, found, err := db.FinishNoteOf("o", "t1"); err != nil || !found || n.Note != "brings form 3 tomorrow" {
		t.Errorf("after reopening: %+v %v %v", n, found, err)
	}
	tests := []struct {
		at     time.Time
		purged int
		left   map[string]bool
	}{
		{now.Add(time.Hour), 0, map[string]bool{"t1": true, "t2": true}},
		{now.Add(24 * time.Hour), 1, map[string]bool{"t1": false, "t2": true}},
		{now.Add(100 * time.Hour), 1, map[string]bool{"t1": false, "t2": false}},
	}
	for _, tt := range tests {
		n, err := db.PurgeFinishNotes(tt.at)
		if err != nil || n != tt.purged {
			t.Errorf("purge at %v: %d, %v; want %d", tt.at, n, err, tt.purged)
		}
		for ticket, want := range tt.left {
			if _, found, _ := db.FinishNoteOf("o", ticket); found != want {
				t.Errorf("after the purge at %v, %s kept: %v, want %v", tt.at, ticket, found, want)
			}
		}
	}
}
