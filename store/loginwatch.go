package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/numerek/numerek/store/kv"
)

// What the staff login keeps to watch over accounts: alerts for the admin
// when an account meets many wrong passwords, and the browsers each
// account has logged in from, which keep their own budget of tries while
// the account is under attack. Their buckets are made on first write.
var (
	bucketLoginAlerts   = []byte("login-alerts")
	bucketStaffBrowsers = []byte("staff-browsers")
)

// LoginRecordsKept is how long alerts and staff browsers are kept.
const LoginRecordsKept = 90 * 24 * time.Hour

// LoginAlert says an account met so many wrong passwords that its logins
// were slowed. It holds no password and no address.
type LoginAlert struct {
	At      time.Time `json:"at"`
	Account string    `json:"account"`
	// Failures is the number of wrong passwords that set it off.
	Failures int `json:"failures"`
	// SeenBy is the admin who marked it read; an alert read is no longer
	// shown.
	SeenBy string `json:"seen_by,omitempty"`
}

// PutLoginAlert records an alert durably.
func (w *WebDB) PutLoginAlert(a LoginAlert) error {
	data, err := json.Marshal(a)
	if err != nil {
		return err
	}
	key := a.At.UTC().Format(time.RFC3339Nano) + "/" + a.Account
	err = w.db.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketLoginAlerts)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), data)
	})
	if err != nil {
		return fmt.Errorf("recording a login alert: %w", err)
	}
	return nil
}

// MarkLoginAlertsSeen marks every alert raised up to a time as read by an
// admin, and says how many were marked.
func (w *WebDB) MarkLoginAlertsSeen(upTo time.Time, by string) (int, error) {
	n := 0
	err := w.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketLoginAlerts)
		if b == nil {
			return nil
		}
		end := upTo.UTC().Format(time.RFC3339Nano) + "/\xff"
		c := b.Cursor()
		for k, v := c.First(); k != nil && string(k) <= end; k, v = c.Next() {
			var a LoginAlert
			if json.Unmarshal(v, &a) != nil || a.SeenBy != "" {
				continue
			}
			a.SeenBy = by
			data, err := json.Marshal(a)
			if err != nil {
				return err
			}
			// Overwriting the value at the cursor's key does not move it.
			if err := b.Put(append([]byte(nil), k...), data); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("marking login alerts read: %w", err)
	}
	return n, nil
}

// LoginAlerts returns the alerts since a time, newest first.
func (w *WebDB) LoginAlerts(since time.Time) ([]LoginAlert, error) {
	var out []LoginAlert
	err := w.db.View(func(tx kv.Tx) error {
		b := tx.Bucket(bucketLoginAlerts)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		from := []byte(since.UTC().Format(time.RFC3339Nano))
		for k, v := c.Seek(from); k != nil; k, v = c.Next() {
			var a LoginAlert
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("login alert %q: %w", k, err)
			}
			out = append([]LoginAlert{a}, out...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading login alerts: %w", err)
	}
	return out, nil
}

// PutStaffBrowser records that a browser (key: a hash of the account and
// the browser's id) logged in to an account at a time.
func (w *WebDB) PutStaffBrowser(key string, at time.Time) error {
	data, err := at.UTC().MarshalText()
	if err != nil {
		return err
	}
	err = w.db.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketStaffBrowsers)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), data)
	})
	if err != nil {
		return fmt.Errorf("recording a staff browser: %w", err)
	}
	return nil
}

// StaffBrowser reports whether the browser under key logged in since a
// time.
func (w *WebDB) StaffBrowser(key string, since time.Time) (bool, error) {
	var last time.Time
	err := w.db.View(func(tx kv.Tx) error {
		b := tx.Bucket(bucketStaffBrowsers)
		if b == nil {
			return nil
		}
		if v := b.Get([]byte(key)); v != nil {
			return last.UnmarshalText(v)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("reading a staff browser: %w", err)
	}
	return !last.IsZero() && !last.Before(since), nil
}

// purgeLoginRecords deletes alerts and staff browsers older than before.
func purgeLoginRecords(tx kv.Tx, before time.Time) error {
	if b := tx.Bucket(bucketLoginAlerts); b != nil {
		var old [][]byte
		end := []byte(before.UTC().Format(time.RFC3339Nano))
		c := b.Cursor()
		for k, _ := c.First(); k != nil && string(k) < string(end); k, _ = c.Next() {
			old = append(old, append([]byte(nil), k...))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
	}
	if b := tx.Bucket(bucketStaffBrowsers); b != nil {
		if _, err := deleteWhere(b, func(_, v []byte) bool {
			var last time.Time
			return last.UnmarshalText(v) != nil || last.Before(before)
		}); err != nil {
			return err
		}
	}
	return nil
}
