package pgstore

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/numerek/numerek/store/kv"
	"github.com/numerek/numerek/store/kv/kvtest"
)

// The side data behaves on PostgreSQL as on a bbolt file.
func TestKV(t *testing.T) {
	db := open(t, migrated(t))
	kvtest.Run(t, func(t *testing.T) kv.DB {
		// One database, a space of its own for each case.
		return db.KV(t.Name())
	})
}

// Two spaces never see each other's records.
func TestKVSpacesAreApart(t *testing.T) {
	db := open(t, migrated(t))
	web, outbox := db.KV("web"), db.KV("outbox")
	err := web.Update(func(tx kv.Tx) error { return tx.Bucket([]byte("b")).Put([]byte("k"), []byte("web")) })
	if err != nil {
		t.Fatal(err)
	}
	err = outbox.View(func(tx kv.Tx) error {
		if v := tx.Bucket([]byte("b")).Get([]byte("k")); v != nil {
			t.Errorf("the outbox sees the web's record %q", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A file kept in the database comes back whole, over several chunks, and
// one put again replaces it.
func TestFiles(t *testing.T) {
	db := open(t, migrated(t))
	ctx := context.Background()
	var missing bytes.Buffer
	if err := db.WriteFile(ctx, "nothing", &missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a file never kept: %v, want fs.ErrNotExist", err)
	}
	big := bytes.Repeat([]byte("numerek "), fileChunk/4+123) // two chunks and a bit
	for _, content := range [][]byte{big, []byte("small")} {
		if err := db.PutFile(ctx, "bundle.raucb", bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := db.WriteFile(ctx, "bundle.raucb", &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), content) {
			t.Fatalf("read back %d bytes, want %d", got.Len(), len(content))
		}
	}
}
