package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Phase is where a ticket the kiosk issued is in its life on the device.
// The journal moves a ticket through the phases one synced write at a
// time, so after a power cut each ticket is in exactly one of them.
type Phase string

// The phases of a journalled ticket.
const (
	// PhaseRequested: the request to the server is journalled and about to
	// be sent (or under way); its number is not known yet.
	PhaseRequested Phase = "requested"
	// PhaseIssued: the ticket has its number, from the server or from a
	// lease, and is about to be printed.
	PhaseIssued Phase = "issued"
	// PhasePrinted: the printer reported the ticket printed.
	PhasePrinted Phase = "printed"
	// PhaseShown: the ticket could not be printed; its number (and the
	// e-ticket's QR code) was shown on the screen instead.
	PhaseShown Phase = "shown"
	// PhaseRefused: the server refused the request (the service closed,
	// a wrong booking code); no ticket exists.
	PhaseRefused Phase = "refused"
	// PhaseUnanswered: the request got no answer; the server may have
	// issued a ticket that nobody holds (Number says so once known).
	PhaseUnanswered Phase = "unanswered"
	// PhaseInterrupted: the device stopped between journalling the ticket
	// and learning whether it printed. A resident may hold it.
	PhaseInterrupted Phase = "interrupted"
)

// Settled reports whether nothing more will happen to the ticket on the
// device (apart from handing it in).
func (p Phase) Settled() bool { return p != PhaseRequested && p != PhaseIssued }

// Source is where a journalled ticket's number comes from.
type Source string

// The sources of a ticket.
const (
	SourceServer  Source = "server"  // POST tickets
	SourceLease   Source = "lease"   // the kiosk's own lease, while offline
	SourceCheckIn Source = "checkin" // POST checkins (a booked visit)
	// SourceAssistant is a ticket the hall assistant issued for a resident
	// and sent to this kiosk to print.
	SourceAssistant Source = "assistant"
)

// HandIn is where what the server must still be told of a request is on
// its way: a leased ticket handed in, or a request withdrawn.
type HandIn string

// The states of handing in a ticket issued offline, or of withdrawing a
// request the kiosk printed nothing for.
const (
	HandInNone     HandIn = ""         // nothing to tell the server
	HandInPending  HandIn = "pending"  // a leased ticket in the outbox
	HandInDone     HandIn = "done"     // the server has it
	HandInExpired  HandIn = "expired"  // its day ended first; kept for statistics
	HandInRejected HandIn = "rejected" // the server refused it (HandInNote says why)
	// HandInWithdraw: in the outbox, to tell the server that nothing was
	// printed for this request, so it withdraws the ticket it may have
	// issued for it (nobody holds that ticket).
	HandInWithdraw HandIn = "withdraw"
	// HandInWithdrawn: the server has been told (HandInNote says what it
	// did with its ticket).
	HandInWithdrawn HandIn = "withdrawn"
)

// Waiting reports whether the entry is in the outbox.
func (h HandIn) Waiting() bool { return h == HandInPending || h == HandInWithdraw }

// JournalEntry is one ticket the kiosk issued or tried to.
type JournalEntry struct {
	// Key numbers the journal from 1, in the order tickets were asked for.
	Key uint64 `json:"key"`
	// RequestID makes the request idempotent: the same id twice is the
	// same ticket, on the server and when handing in.
	RequestID string `json:"request_id"`
	Source    Source `json:"source"`
	Service   string `json:"service,omitempty"`
	Lang      string `json:"lang"`
	Priority  bool   `json:"priority,omitempty"`
	// Number is the ticket's number ("A021"), once known; LeaseNumber its
	// numeric part when it came from a lease.
	Number      string `json:"number,omitempty"`
	LeaseNumber int    `json:"lease_number,omitempty"`
	LeaseID     string `json:"lease_id,omitempty"`
	TicketID    string `json:"ticket_id,omitempty"`
	ETicketURL  string `json:"eticket_url,omitempty"`
	// IssuedAt is when the resident asked, by the office's clock.
	IssuedAt time.Time `json:"issued_at"`
	Phase    Phase     `json:"phase"`
	// Detail says why a ticket was shown, refused or not answered.
	Detail     string `json:"detail,omitempty"`
	HandIn     HandIn `json:"hand_in,omitempty"`
	HandInNote string `json:"hand_in_note,omitempty"`
	// Changed is when the entry last changed, by the device's clock.
	Changed time.Time `json:"changed"`
}

// ErrNoEntry means the journal has no entry with the key asked for.
var ErrNoEntry = errors.New("no such journal entry")

// BeginRequest journals a ticket about to be asked of the server: it gives
// e its Key and RequestID, in phase requested, and returns once that is on
// disk.
func (d *DeviceDB) BeginRequest(e JournalEntry) (JournalEntry, error) {
	err := d.db.Update(func(tx *bolt.Tx) error {
		if err := d.newEntry(tx, &e); err != nil {
			return err
		}
		e.Phase = PhaseRequested
		return putEntry(tx, e)
	})
	if err != nil {
		return JournalEntry{}, fmt.Errorf("journalling a %s ticket request: %w", e.Service, err)
	}
	return e, nil
}

// RecordIssued journals a ticket the server already issued (one sent to
// this kiosk to print), in phase issued, and returns once that is on disk.
func (d *DeviceDB) RecordIssued(e JournalEntry) (JournalEntry, error) {
	err := d.db.Update(func(tx *bolt.Tx) error {
		if err := d.newEntry(tx, &e); err != nil {
			return err
		}
		e.Phase = PhaseIssued
		return putEntry(tx, e)
	})
	if err != nil {
		return JournalEntry{}, fmt.Errorf("journalling ticket %s: %w", e.Number, err)
	}
	return e, nil
}

// newEntry numbers a new entry.
func (d *DeviceDB) newEntry(tx *bolt.Tx, e *JournalEntry) error {
	key, err := tx.Bucket(bucketJournal).NextSequence()
	if err != nil {
		return err
	}
	e.Key = key
	// At most 8+1+20 characters, well inside the server's 64.
	e.RequestID = fmt.Sprintf("%s-%06d", d.nonce, key)
	e.Changed = time.Now()
	return nil
}

// UpdateEntry changes the entry with key through fn in one synced write.
// An entry whose HandIn stops waiting leaves the outbox.
func (d *DeviceDB) UpdateEntry(key uint64, fn func(*JournalEntry) error) (JournalEntry, error) {
	var e JournalEntry
	err := d.db.Update(func(tx *bolt.Tx) error {
		var err error
		if e, err = getEntry(tx, key); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			return err
		}
		e.Key = key
		e.Changed = time.Now()
		return putEntry(tx, e)
	})
	if err != nil {
		return JournalEntry{}, fmt.Errorf("updating journal entry %d: %w", key, err)
	}
	return e, nil
}

// Entry returns the entry with key.
func (d *DeviceDB) Entry(key uint64) (JournalEntry, error) {
	var e JournalEntry
	err := d.db.View(func(tx *bolt.Tx) error {
		var err error
		e, err = getEntry(tx, key)
		return err
	})
	return e, err
}

// Journal returns up to limit entries after key, oldest first (limit <= 0:
// all).
func (d *DeviceDB) Journal(after uint64, limit int) ([]JournalEntry, error) {
	var out []JournalEntry
	err := d.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = listAfter(tx.Bucket(bucketJournal).Cursor(), after, limit, decodeEntry)
		return err
	})
	return out, err
}

// PendingHandIns returns the outbox, in the order the requests were made:
// tickets issued offline that the server does not have yet
// (HandInPending), and requests it is to withdraw (HandInWithdraw).
func (d *DeviceDB) PendingHandIns() ([]JournalEntry, error) {
	var out []JournalEntry
	err := d.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, _ []byte) error {
			e, err := getEntry(tx, binary.BigEndian.Uint64(k))
			if err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// Recover settles the entries a stopped device left open: a request that
// never got its answer becomes unanswered (and, for a ticket asked of the
// server, goes to the outbox to be withdrawn: nothing was printed for it),
// a ticket journalled but not known to be printed becomes interrupted
// (and, if leased, stays in the outbox: a resident may hold it). It
// returns the entries it changed.
func (d *DeviceDB) Recover() ([]JournalEntry, error) {
	var changed []JournalEntry
	err := d.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketJournal).Cursor()
		var open []JournalEntry
		for k, v := c.First(); k != nil; k, v = c.Next() {
			e, err := decodeEntry(k, v)
			if err != nil {
				return err
			}
			if !e.Phase.Settled() {
				open = append(open, e)
			}
		}
		for _, e := range open {
			switch e.Phase {
			case PhaseRequested:
				e.Phase, e.Detail = PhaseUnanswered, "the device stopped before the server answered"
				if e.Source == SourceServer {
					// Nothing was printed for it: the server is told to
					// withdraw the ticket it may have issued.
					e.HandIn = HandInWithdraw
				}
			case PhaseIssued:
				e.Phase, e.Detail = PhaseInterrupted, "the device stopped while printing"
			}
			e.Changed = time.Now()
			if err := putEntry(tx, e); err != nil {
				return err
			}
			changed = append(changed, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recovering the journal of %s: %w", d.path, err)
	}
	return changed, nil
}

// JournalStats counts the journal.
type JournalStats struct {
	Entries        int            `json:"entries"`
	ByPhase        map[Phase]int  `json:"by_phase"`
	PendingHandIns int            `json:"pending_hand_ins"`
	ByHandIn       map[HandIn]int `json:"by_hand_in,omitempty"`
}

// Stats counts the journal's entries.
func (d *DeviceDB) Stats() (JournalStats, error) {
	st := JournalStats{ByPhase: map[Phase]int{}, ByHandIn: map[HandIn]int{}}
	err := d.db.View(func(tx *bolt.Tx) error {
		st.PendingHandIns = tx.Bucket(bucketOutbox).Stats().KeyN
		return tx.Bucket(bucketJournal).ForEach(func(k, v []byte) error {
			e, err := decodeEntry(k, v)
			if err != nil {
				return err
			}
			st.Entries++
			st.ByPhase[e.Phase]++
			if e.HandIn != HandInNone {
				st.ByHandIn[e.HandIn]++
			}
			return nil
		})
	})
	return st, err
}

// Prune drops settled entries that last changed before cutoff and are not
// waiting to be handed in, and returns how many went.
func (d *DeviceDB) Prune(cutoff time.Time) (int, error) {
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJournal)
		var drop [][]byte
		err := b.ForEach(func(k, v []byte) error {
			e, err := decodeEntry(k, v)
			if err != nil {
				return err
			}
			if e.Phase.Settled() && !e.HandIn.Waiting() && e.Changed.Before(cutoff) {
				drop = append(drop, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(drop)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pruning the journal of %s: %w", d.path, err)
	}
	return n, nil
}

func getEntry(tx *bolt.Tx, key uint64) (JournalEntry, error) {
	k := seqKey(key)
	v := tx.Bucket(bucketJournal).Get(k)
	if v == nil {
		return JournalEntry{}, fmt.Errorf("journal entry %d: %w", key, ErrNoEntry)
	}
	return decodeEntry(k, v)
}

func decodeEntry(k, v []byte) (JournalEntry, error) {
	var e JournalEntry
	if err := json.Unmarshal(v, &e); err != nil {
		return JournalEntry{}, fmt.Errorf("reading journal entry %d: %w", binary.BigEndian.Uint64(k), err)
	}
	return e, nil
}

// putEntry writes e and keeps the outbox in step with its HandIn.
func putEntry(tx *bolt.Tx, e JournalEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding journal entry %d: %w", e.Key, err)
	}
	k := seqKey(e.Key)
	if err := tx.Bucket(bucketJournal).Put(k, data); err != nil {
		return err
	}
	out := tx.Bucket(bucketOutbox)
	if e.HandIn.Waiting() {
		return out.Put(k, []byte{})
	}
	return out.Delete(k)
}
