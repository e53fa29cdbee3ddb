package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/numerek/numerek/store/kv"
)

// bucketLockerDeposits holds the personal side of the lockers' deposits:
// who the document is for, how to reach them and the plain codes until
// they are handed over. The event log knows the deposit (queue.Deposit)
// but never who it is for, and holds the codes only hashed.
var bucketLockerDeposits = []byte("locker-deposits")

// LockerDeposit is a deposit's personal data, purged at PurgeAfter.
type LockerDeposit struct {
	Office string `json:"office"`
	ID     string `json:"id"`
	// Name and Contact (an e-mail address or a phone number) are as the
	// clerk typed them; Lang is the resident's language.
	Name    string `json:"name,omitempty"`
	Contact string `json:"contact,omitempty"`
	Lang    string `json:"lang"`
	// Phone receives the second factor's one-time code (may equal
	// Contact); empty for documents that need none.
	Phone string `json:"phone,omitempty"`
	// PickupCode is the plain pickup code, kept only until the ready
	// notice is stored; then "".
	PickupCode string `json:"pickup_code,omitempty"`
	// ClerkCode is the plain clerk code, shown on the staff page until it
	// is used or runs out.
	ClerkCode string `json:"clerk_code,omitempty"`
	// RemindedAt is when the resident was reminded of the deadline
	// (server/lockers): a reminder goes once.
	RemindedAt time.Time `json:"reminded_at,omitzero"`
	// By is the clerk who made the deposit.
	By         string    `json:"by"`
	CreatedAt  time.Time `json:"created_at"`
	PurgeAfter time.Time `json:"purge_after"`
}

// PutLockerDeposit keeps a deposit's record, replacing one with the same
// office and id.
func (w *WebDB) PutLockerDeposit(d LockerDeposit) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encoding locker deposit %s: %w", d.ID, err)
	}
	err = w.db.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketLockerDeposits)
		if err != nil {
			return err
		}
		return b.Put(reachKey(d.Office, d.ID), data)
	})
	if err != nil {
		return fmt.Errorf("storing locker deposit %s: %w", d.ID, err)
	}
	return nil
}

// LockerDeposit returns a deposit's record; ok=false if there is none (or
// it was purged).
func (w *WebDB) LockerDeposit(office, id string) (LockerDeposit, bool, error) {
	var d LockerDeposit
	found := false
	err := w.db.View(func(tx kv.Tx) error {
		b := tx.Bucket(bucketLockerDeposits)
		if b == nil {
			return nil
		}
		v := b.Get(reachKey(office, id))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &d)
	})
	if err != nil {
		return LockerDeposit{}, false, fmt.Errorf("reading locker deposit %s: %w", id, err)
	}
	return d, found, nil
}

// UpdateLockerDeposit changes a deposit's record in one transaction;
// ok=false if there is none. Its office and id cannot change.
func (w *WebDB) UpdateLockerDeposit(office, id string, change func(*LockerDeposit)) (LockerDeposit, bool, error) {
	var d LockerDeposit
	found := false
	err := w.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketLockerDeposits)
		if b == nil {
			return nil
		}
		key := reachKey(office, id)
		v := b.Get(key)
		if v == nil {
			return nil
		}
		found = true
		if err := json.Unmarshal(v, &d); err != nil {
			return err
		}
		change(&d)
		d.Office, d.ID = office, id
		data, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return b.Put(key, data)
	})
	if err != nil {
		return LockerDeposit{}, false, fmt.Errorf("updating locker deposit %s: %w", id, err)
	}
	return d, found, nil
}

// LockerDepositsOf lists an office's deposit records, by id.
func (w *WebDB) LockerDepositsOf(office string) ([]LockerDeposit, error) {
	var out []LockerDeposit
	err := w.db.View(func(tx kv.Tx) error {
		b := tx.Bucket(bucketLockerDeposits)
		if b == nil {
			return nil
		}
		prefix := []byte(office + "/")
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var d LockerDeposit
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("reading locker deposit %s: %w", k, err)
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the locker deposits of office %s: %w", office, err)
	}
	return out, nil
}

// PurgeLockerDeposits deletes every record whose PurgeAfter has passed at
// now (and any unreadable one: it may hold personal data), returning how
// many went.
func (w *WebDB) PurgeLockerDeposits(now time.Time) (int, error) {
	n := 0
	err := w.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketLockerDeposits)
		if b == nil {
			return nil
		}
		var err error
		n, err = deleteWhere(b, func(_, v []byte) bool {
			var d LockerDeposit
			return json.Unmarshal(v, &d) != nil || !d.PurgeAfter.After(now)
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purging locker deposits: %w", err)
	}
	return n, nil
}
