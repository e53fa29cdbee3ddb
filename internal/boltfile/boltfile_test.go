package boltfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// sample makes a real bbolt file with two buckets, one holding enough
// keys for branch pages, and returns its bytes.
func sample(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("events"))
		if err != nil {
			return err
		}
		for i := uint64(1); i <= 400; i++ {
			k := binary.BigEndian.AppendUint64(nil, i)
			if err := b.Put(k, []byte(fmt.Sprintf(`{"seq":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("x"), 60)))); err != nil {
				return err
			}
		}
		m, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return m.Put([]byte("office"), []byte("o"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadsWhatBboltWrote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	if err := os.WriteFile(path, sample(t), 0o600); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	rep, err := Read(path, func(bucket string, k, v []byte) { counts[bucket]++ })
	if err != nil || !rep.OK() {
		t.Fatalf("a sound file: %v %v", err, rep.Summary(5))
	}
	if counts["events"] != 400 || counts["meta"] != 1 {
		t.Errorf("read %v, want 400 events and 1 meta key", counts)
	}
	n := 0
	if err := ScanLeaves(path, rep.PageSize, func(Leaf) { n++ }); err != nil || n < 400 {
		t.Errorf("ScanLeaves found %d keys, %v", n, err)
	}
}

// FuzzRead feeds damaged copies of a real file to Read and ScanLeaves:
// they must never panic, whatever the bytes.
func FuzzRead(f *testing.F) {
	data := sample(f)
	f.Add(data, uint32(0), []byte{})
	f.Add(data, uint32(4096*2+10), []byte{0xff, 0xff})
	f.Add(data, uint32(4096*3+16), []byte{1, 0, 0, 0, 0, 0, 0xf0})
	f.Add(data[:5000], uint32(0), []byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, base []byte, at uint32, patch []byte) {
		damaged := append([]byte(nil), base...)
		if len(damaged) > 0 {
			copy(damaged[int(at)%len(damaged):], patch)
		}
		path := filepath.Join(dir, "f.db")
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		rep, err := Read(path, func(string, []byte, []byte) {})
		ps := 4096
		if err == nil {
			ps = rep.PageSize
		}
		if err := ScanLeaves(path, ps, func(Leaf) {}); err != nil {
			t.Fatal(err)
		}
	})
}
