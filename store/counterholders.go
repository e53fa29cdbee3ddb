package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/numerek/numerek/store/kv"
)

// CounterHolder is a live session bound to a counter.
type CounterHolder struct {
	// Key is the session's stored key (a hash of its cookie).
	Key     string
	Session Session
}

// CounterHolders lists the live sessions at office's counter n other
// than the one stored under except: the clerks a console warns about
// before taking the counter over.
func (w *WebDB) CounterHolders(office string, n int, except string, now time.Time) ([]CounterHolder, error) {
	var out []CounterHolder
	err := w.db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var s Session
			if json.Unmarshal(v, &s) != nil || string(k) == except || !s.Expires.After(now) {
				return nil
			}
			if s.Office == office && s.Counter == n {
				out = append(out, CounterHolder{Key: string(k), Session: s})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing who works at counter %d: %w", n, err)
	}
	return out, nil
}

// TakeCounter binds the session under key to office's counter n and
// unbinds every other session there, noting who took it, in one
// transaction: two clerks taking the same counter at once end with one.
func (w *WebDB) TakeCounter(key string, s Session, office string, n int) error {
	s.Office, s.Counter, s.TakenOverBy = office, n, ""
	err := w.db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucketSessions)
		var others [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var o Session
			if string(k) != key && json.Unmarshal(v, &o) == nil && o.Office == office && o.Counter == n {
				others = append(others, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range others {
			var o Session
			if err := json.Unmarshal(b.Get(k), &o); err != nil {
				return err
			}
			o.Office, o.Counter, o.TakenOverBy = "", 0, s.Clerk
			data, err := json.Marshal(o)
			if err != nil {
				return err
			}
			if err := b.Put(k, data); err != nil {
				return err
			}
		}
		data, err := json.Marshal(s)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), data)
	})
	if err != nil {
		return fmt.Errorf("taking counter %d of %s: %w", n, office, err)
	}
	return nil
}
