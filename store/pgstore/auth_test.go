package pgstore

import (
	"bytes"
	"context"
	"io"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/store/storetest"
)

// authMigrated is the URL of a fresh, migrated database.
func authMigrated(t *testing.T) string {
	t.Helper()
	url := pgtest.Database(t)
	if err := Migrate(context.Background(), url, io.Discard); err != nil {
		t.Fatal(err)
	}
	return url
}

// authDB is a fresh, migrated database, opened for the test.
func authDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), authMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// rows is every row of the auth tables as PostgreSQL writes it out: what
// the database holds of a secret.
func rows(db *DB) storetest.Raw {
	return func() ([]byte, error) {
		var out bytes.Buffer
		for _, table := range []string{"tokens", "clerks", "devices", "enrolment_batches"} {
			r, err := db.Pool.Query(context.Background(), "SELECT t::text FROM "+table+" t")
			if err != nil {
				return nil, err
			}
			for r.Next() {
				var line string
				if err := r.Scan(&line); err != nil {
					r.Close()
					return nil, err
				}
				out.WriteString(line + "\n")
			}
			r.Close()
			if err := r.Err(); err != nil {
				return nil, err
			}
		}
		return out.Bytes(), nil
	}
}

func TestTokenStore(t *testing.T) {
	storetest.RunTokens(t, func(t *testing.T) (storetest.Tokens, storetest.Raw) {
		db := authDB(t)
		return db.Tokens(), rows(db)
	})
}

func TestClerkStore(t *testing.T) {
	storetest.RunClerks(t, func(t *testing.T) (storetest.Clerks, storetest.Raw) {
		db := authDB(t)
		return db.Clerks().WithCost(bcrypt.MinCost), rows(db)
	})
}

func TestDeviceStore(t *testing.T) {
	storetest.RunDevices(t, func(t *testing.T) (storetest.Devices, storetest.Raw) {
		db := authDB(t)
		return db.Devices(), rows(db)
	})
}
