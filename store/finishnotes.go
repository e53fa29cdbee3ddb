package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/numerek/numerek/store/kv"
)

// bucketFinishNotes holds the clerks' notes on finished tickets: personal
// data (a resident's matter in a clerk's words), so never in the event
// log, which is kept forever, and purged after the office's retention.
var bucketFinishNotes = []byte("finish-notes")

// FinishNote is what a clerk wrote when finishing a ticket.
type FinishNote struct {
	Office string    `json:"office"`
	Ticket string    `json:"ticket"`
	Clerk  string    `json:"clerk"`
	Note   string    `json:"note"`
	At     time.Time `json:"at"`
	// PurgeAt is when the note goes: the office's retention of personal
	// data after the visit.
	PurgeAt time.Time `json:"purge_at"`
}

// PutFinishNote keeps a note, replacing an earlier one on the same ticket
// (a finish undone and done again).
func (w *WebDB) PutFinishNote(n FinishNote) error {
	data, err := json.Marshal(n)
	if err != nil {
		return err
	}
	err = w.db.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketFinishNotes)
		if err != nil {
			return err
		}
		return b.Put(reachKey(n.Office, n.Ticket), data)
	})
	if err != nil {
		return fmt.Errorf("keeping the note on ticket %s: %w", n.Ticket, err)
	}
	return nil
}

// FinishNoteOf is the note on a ticket, if one is kept.
func (w *WebDB) FinishNoteOf(office, ticket string) (FinishNote, bool, error) {
	var n FinishNote
	found := false
	err := w.db.View(func(tx kv.Tx) error {
		b := tx.Bucket(bucketFinishNotes)
		if b == nil {
			return nil
		}
		v := b.Get(reachKey(office, ticket))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &n)
	})
	if err != nil {
		return FinishNote{}, false, fmt.Errorf("reading the note on ticket %s: %w", ticket, err)
	}
	return n, found, nil
}

// PurgeFinishNotes deletes every note whose PurgeAt has passed at now
// (and any unreadable one: it may hold personal data), returning how
// many went.
func (w *WebDB) PurgeFinishNotes(now time.Time) (int, error) {
	n := 0
	err := w.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketFinishNotes)
		if b == nil {
			return nil
		}
		var err error
		n, err = deleteWhere(b, func(_, v []byte) bool {
			var fn FinishNote
			return json.Unmarshal(v, &fn) != nil || !fn.PurgeAt.After(now)
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purging finish notes: %w", err)
	}
	return n, nil
}
