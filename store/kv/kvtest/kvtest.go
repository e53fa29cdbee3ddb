// Package kvtest checks that a kv.DB behaves as the side data's code
// expects of bbolt, so a backend (bbolt, PostgreSQL) is run through the
// same cases.
package kvtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/numerek/numerek/store/kv"
)

// Run checks the DB open makes; each case opens its own, empty.
func Run(t *testing.T, open func(t *testing.T) kv.DB) {
	t.Run("PutGetDelete", func(t *testing.T) { putGetDelete(t, open(t)) })
	t.Run("Cursor", func(t *testing.T) { cursor(t, open(t)) })
	t.Run("FailedUpdateKeepsNothing", func(t *testing.T) { failedUpdate(t, open(t)) })
	t.Run("UpdatesAreSerialised", func(t *testing.T) { serialised(t, open(t)) })
	t.Run("Sequence", func(t *testing.T) { sequence(t, open(t)) })
}

var bucket = []byte("things")

func put(t *testing.T, db kv.DB, pairs ...string) {
	t.Helper()
	err := db.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		for i := 0; i < len(pairs); i += 2 {
			if err := b.Put([]byte(pairs[i]), []byte(pairs[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, db kv.DB, key string) (string, bool) {
	t.Helper()
	var v []byte
	err := db.View(func(tx kv.Tx) error {
		if b := tx.Bucket(bucket); b != nil {
			v = bytes.Clone(b.Get([]byte(key)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(v), v != nil
}

func putGetDelete(t *testing.T, db kv.DB) {
	if v, ok := get(t, db, "a"); ok {
		t.Fatalf("an empty store has a = %q", v)
	}
	put(t, db, "a", "1", "b", "2", "empty", "")
	put(t, db, "a", "3")
	for key, want := range map[string]string{"a": "3", "b": "2", "empty": ""} {
		if v, ok := get(t, db, key); !ok || v != want {
			t.Errorf("%s = %q (found %v), want %q", key, v, ok, want)
		}
	}
	err := db.Update(func(tx kv.Tx) error { return tx.Bucket(bucket).Delete([]byte("a")) })
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := get(t, db, "a"); ok {
		t.Errorf("a deleted is still %q", v)
	}
	var seen []string
	err = db.View(func(tx kv.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			seen = append(seen, string(k)+"="+string(v))
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(seen) != "[b=2 empty=]" {
		t.Errorf("ForEach saw %v, want [b=2 empty=]", seen)
	}
}

func key(i int) []byte { return binary.BigEndian.AppendUint32([]byte("k"), uint32(i)) }

// cursor walks more keys than a backend may read at once, both ways.
func cursor(t *testing.T, db kv.DB) {
	const n = 300
	err := db.Update(func(tx kv.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		for i := range n {
			if err := b.Put(key(i*2), fmt.Appendf(nil, "%d", i*2)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx kv.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		count := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if !bytes.Equal(k, key(count*2)) || string(v) != fmt.Sprint(count*2) {
				return fmt.Errorf("forward step %d: %x=%s", count, k, v)
			}
			count++
		}
		if count != n {
			return fmt.Errorf("forward walk saw %d of %d", count, n)
		}
		count = 0
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			if want := key((n - 1 - count) * 2); !bytes.Equal(k, want) {
				return fmt.Errorf("backward step %d: %x, want %x", count, k, want)
			}
			count++
		}
		if count != n {
			return fmt.Errorf("backward walk saw %d of %d", count, n)
		}
		// Seek lands on the key or the next one.
		if k, _ := c.Seek(key(41)); !bytes.Equal(k, key(42)) {
			return fmt.Errorf("seek 41 found %x, want 42", k)
		}
		if k, _ := c.Next(); !bytes.Equal(k, key(44)) {
			return fmt.Errorf("next after 42 is %x, want 44", k)
		}
		if k, _ := c.Prev(); !bytes.Equal(k, key(42)) {
			return fmt.Errorf("prev after 44 is %x, want 42", k)
		}
		if k, _ := c.Seek(key(2 * n)); k != nil {
			return fmt.Errorf("seek past the end found %x", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var errOnPurpose = errors.New("on purpose")

func failedUpdate(t *testing.T, db kv.DB) {
	put(t, db, "kept", "1")
	err := db.Update(func(tx kv.Tx) error {
		b := tx.Bucket(bucket)
		if err := b.Put([]byte("lost"), []byte("1")); err != nil {
			return err
		}
		if err := b.Delete([]byte("kept")); err != nil {
			return err
		}
		return errOnPurpose
	})
	if !errors.Is(err, errOnPurpose) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	if _, ok := get(t, db, "lost"); ok {
		t.Error("a failed Update's write was kept")
	}
	if _, ok := get(t, db, "kept"); !ok {
		t.Error("a failed Update's delete was kept")
	}
}

// serialised: read-modify-write Updates from several goroutines lose no
// increment, as with bbolt's single writer.
func serialised(t *testing.T, db kv.DB) {
	const workers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := db.Update(func(tx kv.Tx) error {
					b, err := tx.CreateBucketIfNotExists(bucket)
					if err != nil {
						return err
					}
					n := 0
					if v := b.Get([]byte("n")); v != nil {
						n = int(binary.BigEndian.Uint64(v))
					}
					return b.Put([]byte("n"), binary.BigEndian.AppendUint64(nil, uint64(n+1)))
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	v, _ := get(t, db, "n")
	if n := binary.BigEndian.Uint64([]byte(v)); n != workers*each {
		t.Fatalf("counter is %d after %d increments", n, workers*each)
	}
}

func sequence(t *testing.T, db kv.DB) {
	var got []uint64
	for range 3 {
		err := db.Update(func(tx kv.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			n, err := b.NextSequence()
			got = append(got, n)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(got) != "[1 2 3]" {
		t.Fatalf("sequences %v, want [1 2 3]", got)
	}
}
