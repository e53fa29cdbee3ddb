package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/store/kv"
)

// The web pages' data lives in its own bbolt file, apart from the office
// logs: residents' personal data from bookings (purged after the office's
// retention) and the clerks' login sessions.
var (
	bucketBookings = []byte("bookings")
	bucketCodes    = []byte("booking-codes")
	bucketSessions = []byte("sessions")
	// bucketTicketReach holds how to reach phone tickets' residents (push
	// subscriptions, a phone number): see reach.go.
	bucketTicketReach = []byte("ticket-reach")
)

// ErrCodeTaken means another booking already has the code; the caller
// makes a new booking id and so a new code.
var ErrCodeTaken = errors.New("booking code already in use")

// Booking is a booked visit's personal data and how to find it by code.
// The event log knows the visit (queue.Reservation) but never who made it.
type Booking struct {
	Office  string    `json:"office"`
	ID      string    `json:"id"`
	Service string    `json:"service"`
	Slot    time.Time `json:"slot"`
	Lang    string    `json:"lang"`
	// Name and Contact (an e-mail address or a phone number) are the
	// personal data; they are emptied when the visit is cancelled and the
	// whole record goes at PurgeAt.
	Name    string `json:"name,omitempty"`
	Contact string `json:"contact,omitempty"`
	// CodeKey is a keyed hash of the booking code: the code itself is
	// never stored.
	CodeKey  string    `json:"code_key"`
	BookedAt time.Time `json:"booked_at"`
	// TermsAccepted is when the resident accepted the office's terms.
	TermsAccepted time.Time `json:"terms_accepted"`
	PurgeAt       time.Time `json:"purge_at"`
	Cancelled     bool      `json:"cancelled,omitempty"`
	// CancelReason is the office's reason when the office cancelled.
	CancelReason string `json:"cancel_reason,omitempty"`
	// ContactKey is the contact normalised for comparing (e-mail in lower
	// case, a phone's digits with its country code): personal data too,
	// emptied with Contact.
	ContactKey string `json:"contact_key,omitempty"`
	// Confirmed is set once the resident confirmed the contact (or at once
	// where the office does not ask); until then the slot is only held
	// until HoldUntil, and ConfirmTries counts wrong codes.
	Confirmed    bool      `json:"confirmed,omitempty"`
	HoldUntil    time.Time `json:"hold_until,omitzero"`
	ConfirmTries int       `json:"confirm_tries,omitempty"`
	// Moves counts the times the resident moved the booking.
	Moves int `json:"moves,omitempty"`
	// Sent lists the messages handed to the outbox for this booking.
	Sent []SentNotice `json:"sent,omitempty"`
}

// SentNotice is one message about a booking handed over for delivery.
type SentNotice struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
}

// Held reports whether the booking still waits for its contact to be
// confirmed. A record from before contacts were confirmed has neither
// Confirmed nor HoldUntil, and is a booking.
func (b Booking) Held() bool { return !b.Confirmed && !b.HoldUntil.IsZero() }

// Active reports whether the booking takes (or holds) its slot at now.
func (b Booking) Active(now time.Time) bool {
	return !b.Cancelled && (!b.Held() || now.Before(b.HoldUntil))
}

// Session is a clerk's login. It is stored under a hash of its cookie
// value, so a copy of the file does not let anyone log in.
type Session struct {
	Clerk   string    `json:"clerk"`
	Role    string    `json:"role"`
	Offices []string  `json:"offices"`
	CSRF    string    `json:"csrf"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Office and Counter are the counter the clerk works at, once picked.
	Office  string `json:"office,omitempty"`
	Counter int    `json:"counter,omitempty"`
	// TakenOverBy names the clerk who took this session's counter over,
	// so the console that lost it can say who.
	TakenOverBy string `json:"taken_over_by,omitempty"`
}

// WebDB holds bookings' personal data and clerk sessions: a bbolt file
// kept open by the server (OpenWebDB), or a space of a PostgreSQL shared
// by several nodes (NewWebDB).
type WebDB struct {
	db kv.DB
	// file is the bbolt file, nil on PostgreSQL.
	file *bolt.DB
}

// OpenWebDB opens (creating if needed) the web data file at path. Like an
// office log, a file that exists is read through first and a damaged one
// is a *DamagedError, never a fresh start.
func OpenWebDB(path string) (*WebDB, error) {
	file, err := openOrCreate(path, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	w, err := NewWebDB(kv.Bolt(file))
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	w.file = file
	return w, nil
}

// NewWebDB keeps the web data in db.
func NewWebDB(db kv.DB) (*WebDB, error) {
	err := db.Update(func(tx kv.Tx) error {
		for _, b := range [][]byte{bucketBookings, bucketCodes, bucketSessions, bucketTicketReach} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("making the web data's buckets: %w", err)
	}
	return &WebDB{db: db}, nil
}

// Close closes the file (nothing on PostgreSQL, whose pool is the
// caller's).
func (w *WebDB) Close() error {
	if w.file == nil {
		return nil
	}
	return w.file.Close()
}

func bookingKey(office, id string) []byte { return []byte(office + "/" + id) }

// PutBooking stores a new booking and indexes its code; ErrCodeTaken if
// the code's key is already indexed.
func (w *WebDB) PutBooking(b Booking) error {
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encoding booking %s: %w", b.ID, err)
	}
	return w.db.Update(func(tx kv.Tx) error {
		codes := tx.Bucket(bucketCodes)
		if b.CodeKey != "" {
			if codes.Get([]byte(b.CodeKey)) != nil {
				return ErrCodeTaken
			}
			if err := codes.Put([]byte(b.CodeKey), bookingKey(b.Office, b.ID)); err != nil {
				return fmt.Errorf("indexing booking %s: %w", b.ID, err)
			}
		}
		if err := tx.Bucket(bucketBookings).Put(bookingKey(b.Office, b.ID), data); err != nil {
			return fmt.Errorf("storing booking %s: %w", b.ID, err)
		}
		return nil
	})
}

// DeleteBooking removes a booking and its code (a booking the office
// refused after it was stored).
func (w *WebDB) DeleteBooking(office, id string) error {
	return w.db.Update(func(tx kv.Tx) error { return deleteBooking(tx, bookingKey(office, id)) })
}

func deleteBooking(tx kv.Tx, key []byte) error {
	bk := tx.Bucket(bucketBookings)
	v := bk.Get(key)
	if v == nil {
		return nil
	}
	var b Booking
	if err := json.Unmarshal(v, &b); err == nil && b.CodeKey != "" {
		if err := tx.Bucket(bucketCodes).Delete([]byte(b.CodeKey)); err != nil {
			return err
		}
	}
	return bk.Delete(key)
}

// Booking returns a booking; ok=false if there is none (or it was purged).
func (w *WebDB) Booking(office, id string) (Booking, bool, error) {
	b, found, err := getJSON[Booking](w.db, bucketBookings, bookingKey(office, id))
	if err != nil {
		return Booking{}, false, fmt.Errorf("reading booking %s: %w", id, err)
	}
	return b, found, nil
}

// BookingByCode finds the booking whose code has the given key.
func (w *WebDB) BookingByCode(codeKey string) (Booking, bool, error) {
	var b Booking
	found := false
	err := w.db.View(func(tx kv.Tx) error {
		k := tx.Bucket(bucketCodes).Get([]byte(codeKey))
		if k == nil {
			return nil
		}
		v := tx.Bucket(bucketBookings).Get(k)
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &b)
	})
	if err != nil {
		return Booking{}, false, fmt.Errorf("reading a booking by code: %w", err)
	}
	return b, found, nil
}

// UpdateBooking changes a stored booking in one transaction; ok=false if
// there is none. The code cannot change.
func (w *WebDB) UpdateBooking(office, id string, change func(*Booking)) (Booking, bool, error) {
	var b Booking
	found := false
	err := w.db.Update(func(tx kv.Tx) error {
		bk := tx.Bucket(bucketBookings)
		key := bookingKey(office, id)
		v := bk.Get(key)
		if v == nil {
			return nil
		}
		found = true
		if err := json.Unmarshal(v, &b); err != nil {
			return err
		}
		code := b.CodeKey
		change(&b)
		b.CodeKey = code
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		return bk.Put(key, data)
	})
	if err != nil {
		return Booking{}, false, fmt.Errorf("updating booking %s: %w", id, err)
	}
	return b, found, nil
}

// BookingsOfContact lists an office's bookings whose ContactKey is key.
func (w *WebDB) BookingsOfContact(office, key string) ([]Booking, error) {
	return w.bookingsWhere(office, func(b Booking) bool { return b.ContactKey == key })
}

// CancelledByOffice lists an office's bookings the office cancelled, for
// staff.
func (w *WebDB) CancelledByOffice(office string) ([]Booking, error) {
	return w.bookingsWhere(office, func(b Booking) bool { return b.CancelReason != "" })
}

// BookingsBetween lists an office's bookings whose slot starts in
// [from, to), for the staff's booking desk.
func (w *WebDB) BookingsBetween(office string, from, to time.Time) ([]Booking, error) {
	return w.bookingsWhere(office, func(b Booking) bool { return !b.Slot.Before(from) && b.Slot.Before(to) })
}

func (w *WebDB) bookingsWhere(office string, keep func(Booking) bool) ([]Booking, error) {
	var out []Booking
	prefix := []byte(office + "/")
	err := w.db.View(func(tx kv.Tx) error {
		c := tx.Bucket(bucketBookings).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var b Booking
			if json.Unmarshal(v, &b) == nil && keep(b) {
				out = append(out, b)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the bookings of office %s: %w", office, err)
	}
	return out, nil
}

// CancelBooking marks a booking cancelled and drops its personal data at
// once. The code stays indexed until the record is purged, so that a
// resident who types it is told the visit was cancelled rather than that
// no booking has it; the code key is a keyed hash, not personal data.
func (w *WebDB) CancelBooking(office, id string) error {
	return w.db.Update(func(tx kv.Tx) error {
		bk := tx.Bucket(bucketBookings)
		key := bookingKey(office, id)
		v := bk.Get(key)
		if v == nil {
			return nil
		}
		var b Booking
		if err := json.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("reading booking %s: %w", id, err)
		}
		b.Name, b.Contact, b.ContactKey, b.Cancelled = "", "", "", true
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		return bk.Put(key, data)
	})
}

// PurgeBookings deletes every booking whose PurgeAt has passed at now, with
// its personal data and code, and returns how many went.
func (w *WebDB) PurgeBookings(now time.Time) (int, error) {
	n := 0
	err := w.db.Update(func(tx kv.Tx) error {
		var old [][]byte
		err := tx.Bucket(bucketBookings).ForEach(func(k, v []byte) error {
			var b Booking
			if err := json.Unmarshal(v, &b); err != nil || !b.PurgeAt.After(now) {
				// An unreadable record is purged too: it may hold personal data.
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := deleteBooking(tx, k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purging bookings: %w", err)
	}
	return n, nil
}

// CountBookings counts the stored bookings (for tests and the admin page).
func (w *WebDB) CountBookings() (int, error) {
	n := 0
	err := w.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketBookings).ForEach(func(_, _ []byte) error { n++; return nil })
	})
	return n, err
}

// PutSession stores a session under key (a hash of the cookie value).
func (w *WebDB) PutSession(key string, s Session) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return w.db.Update(func(tx kv.Tx) error {
		return tx.Bucket(bucketSessions).Put([]byte(key), data)
	})
}

// Session returns the session stored under key, if it has not expired at now.
func (w *WebDB) Session(key string, now time.Time) (Session, bool, error) {
	var s Session
	found := false
	err := w.db.View(func(tx kv.Tx) error {
		v := tx.Bucket(bucketSessions).Get([]byte(key))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &s)
	})
	if err != nil {
		return Session{}, false, fmt.Errorf("reading a session: %w", err)
	}
	if found && !s.Expires.After(now) {
		return Session{}, false, nil
	}
	return s, found, nil
}

// DeleteSession ends a session.
func (w *WebDB) DeleteSession(key string) error {
	return w.db.Update(func(tx kv.Tx) error { return tx.Bucket(bucketSessions).Delete([]byte(key)) })
}

// DeleteSessionsOf ends every session of a clerk (removed or given a new
// password).
func (w *WebDB) DeleteSessionsOf(clerk string) error {
	return w.purgeSessions(func(s Session) bool { return s.Clerk == clerk })
}

// PurgeSessions deletes sessions expired at now, and login alerts and
// staff browsers older than LoginRecordsKept.
func (w *WebDB) PurgeSessions(now time.Time) error {
	if err := w.purgeSessions(func(s Session) bool { return !s.Expires.After(now) }); err != nil {
		return err
	}
	return w.db.Update(func(tx kv.Tx) error { return purgeLoginRecords(tx, now.Add(-LoginRecordsKept)) })
}

func (w *WebDB) purgeSessions(drop func(Session) bool) error {
	return w.db.Update(func(tx kv.Tx) error {
		_, err := deleteWhere(tx.Bucket(bucketSessions), func(_, v []byte) bool {
			var s Session
			return json.Unmarshal(v, &s) != nil || drop(s)
		})
		return err
	})
}

// EachBooking calls fn with every stored booking, stopping at fn's first
// error (the day-before reminders look for tomorrow's visits).
func (w *WebDB) EachBooking(fn func(Booking) error) error {
	return w.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketBookings).ForEach(func(_, v []byte) error {
			var b Booking
			if err := json.Unmarshal(v, &b); err != nil {
				return nil
			}
			return fn(b)
		})
	})
}
