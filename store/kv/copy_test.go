package kv_test

import (
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/store/kv"
)

func openBolt(t *testing.T, name string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), name), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A file copied keeps every record and each bucket's sequence; copying
// it again is refused and changes nothing.
func TestCopyBolt(t *testing.T) {
	src, dstFile := openBolt(t, "src.db"), openBolt(t, "dst.db")
	err := src.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"bookings", "sessions", "empty"} {
			b, err := tx.CreateBucket([]byte(name))
			if err != nil {
				return err
			}
			if name == "empty" {
				continue
			}
			for _, k := range []string{"a", "b", "c"} {
				if err := b.Put([]byte(k), []byte(name+"/"+k)); err != nil {
					return err
				}
			}
			if err := b.SetSequence(41); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	dst := kv.Bolt(dstFile)
	c, err := kv.CopyBolt(src, dst)
	if err != nil || c.Buckets != 3 || c.Records != 6 {
		t.Fatalf("copied %+v, %v; want 3 buckets, 6 records", c, err)
	}
	err = dst.Update(func(tx kv.Tx) error {
		b := tx.Bucket([]byte("sessions"))
		if v := b.Get([]byte("b")); string(v) != "sessions/b" {
			t.Errorf("sessions/b = %q", v)
		}
		if n, err := b.NextSequence(); err != nil || n != 42 {
			t.Errorf("the next sequence is %d (%v), want 42", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.CopyBolt(src, dst); err == nil {
		t.Fatal("a second copy was taken")
	}
}
