package pgstore

import (
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
