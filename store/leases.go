package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/queue"
)

// HeldLease is a number lease a kiosk holds and how far it has used it.
type HeldLease struct {
	queue.Lease
	// Next is the next number to give; Last+1 once all are given.
	Next int `json:"next"`
}

// Left is how many numbers remain.
func (l HeldLease) Left() int { return max(0, l.Last-l.Next+1) }

// ErrNoLease means no lease of the service and day has a number left.
var ErrNoLease = errors.New("no leased number left")

// AddLease keeps a lease the server granted. Adding the same lease again
// changes nothing.
func (d *DeviceDB) AddLease(l queue.Lease) error {
	if l.ID == "" || l.First < 1 || l.Last < l.First {
		return fmt.Errorf("keeping lease %q of %s: numbers %d-%d make no lease", l.ID, l.Service, l.First, l.Last)
	}
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLeases)
		if b.Get([]byte(l.ID)) != nil {
			return nil
		}
		return putLease(b, HeldLease{Lease: l, Next: l.First})
	})
	if err != nil {
		return fmt.Errorf("keeping lease %s of %s: %w", l.ID, l.Service, err)
	}
	return nil
}

// Leases returns the leases held, by day, service and first number.
func (d *DeviceDB) Leases() ([]HeldLease, error) {
	var out []HeldLease
	err := d.db.View(func(tx *bolt.Tx) error {
		var err error
		out, err = allLeases(tx.Bucket(bucketLeases))
		return err
	})
	return out, err
}

// LeaseLeft counts the numbers left in the leases of service on day.
func (d *DeviceDB) LeaseLeft(service, day string) (int, error) {
	leases, err := d.Leases()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range leases {
		if l.Service == service && l.Day == day {
			n += l.Left()
		}
	}
	return n, nil
}

// DropLeasesBefore forgets the leases of days before day: their numbers
// can no longer be given. It returns how many went.
func (d *DeviceDB) DropLeasesBefore(day string) (int, error) {
	n := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLeases)
		leases, err := allLeases(b)
		if err != nil {
			return err
		}
		for _, l := range leases {
			if l.Day < day {
				if err := b.Delete([]byte(l.ID)); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dropping old leases: %w", err)
	}
	return n, nil
}

// IssueFromLease gives e the next number of a lease of its service on day
// and journals it, in phase issued and in the outbox, in one synced
// write: a number is never given twice, and a ticket given a number is
// never lost. prefix is the service's letter. It returns ErrNoLease when
// no lease has a number left.
func (d *DeviceDB) IssueFromLease(e JournalEntry, day, prefix string) (JournalEntry, error) {
	err := d.db.Update(func(tx *bolt.Tx) error {
		return d.takeNumber(tx, &e, day, prefix, true)
	})
	if err != nil {
		return JournalEntry{}, fmt.Errorf("issuing a %s ticket from a lease: %w", e.Service, err)
	}
	return e, nil
}

// ErrAnswered means a request already has its ticket, or its end, in the
// journal: it cannot be given a leased number.
var ErrAnswered = errors.New("the request is no longer waiting for its answer")

// LeaseForRequest gives the request journalled under key, which asked the
// server for a ticket and got no answer in time, the next number of a
// lease of its service on day instead, in one synced write, as
// IssueFromLease does. The entry keeps its request id: the leased ticket
// is handed in under it, so the server withdraws any ticket it issued for
// the request too late, and the printed ticket is the one that counts.
// Only a request still waiting for its answer (phase requested, asked of
// the server) takes a number: one whose answer was journalled never gets
// a second ticket (ErrAnswered). ErrNoLease leaves the entry as it was.
func (d *DeviceDB) LeaseForRequest(key uint64, day, prefix string) (JournalEntry, error) {
	var e JournalEntry
	err := d.db.Update(func(tx *bolt.Tx) error {
		var err error
		if e, err = getEntry(tx, key); err != nil {
			return err
		}
		if e.Phase != PhaseRequested || e.Source != SourceServer {
			return fmt.Errorf("request %s is %s (%s): %w", e.RequestID, e.Phase, e.Source, ErrAnswered)
		}
		return d.takeNumber(tx, &e, day, prefix, false)
	})
	if err != nil {
		return JournalEntry{}, fmt.Errorf("issuing a ticket from a lease for request %d: %w", key, err)
	}
	return e, nil
}

// takeNumber gives e the next number of a lease of its service on day and
// writes it, issued and in the outbox; fresh entries are numbered first.
func (d *DeviceDB) takeNumber(tx *bolt.Tx, e *JournalEntry, day, prefix string, fresh bool) error {
	b := tx.Bucket(bucketLeases)
	leases, err := allLeases(b)
	if err != nil {
		return err
	}
	var use *HeldLease
	for i := range leases {
		l := &leases[i]
		if l.Service == e.Service && l.Day == day && l.Left() > 0 {
			use = l
			break
		}
	}
	if use == nil {
		return ErrNoLease
	}
	if fresh {
		if err := d.newEntry(tx, e); err != nil {
			return err
		}
	}
	e.Source, e.Phase, e.HandIn = SourceLease, PhaseIssued, HandInPending
	e.LeaseID, e.LeaseNumber = use.ID, use.Next
	e.Number = queue.FormatNumber(prefix, use.Next)
	e.TicketID = queue.TicketID(day, e.Number)
	e.Changed = time.Now()
	use.Next++
	if err := putLease(b, *use); err != nil {
		return err
	}
	return putEntry(tx, *e)
}

func putLease(b *bolt.Bucket, l HeldLease) error {
	data, err := json.Marshal(l)
	if err != nil {
		return err
	}
	return b.Put([]byte(l.ID), data)
}

func allLeases(b *bolt.Bucket) ([]HeldLease, error) {
	var out []HeldLease
	err := b.ForEach(func(k, v []byte) error {
		var l HeldLease
		if err := json.Unmarshal(v, &l); err != nil {
			return fmt.Errorf("reading lease %s: %w", k, err)
		}
		out = append(out, l)
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Day != b.Day {
			return a.Day < b.Day
		}
		if a.Service != b.Service {
			return a.Service < b.Service
		}
		return a.First < b.First
	})
	return out, err
}
