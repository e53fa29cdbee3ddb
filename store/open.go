package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	boltErrors "go.etcd.io/bbolt/errors"
)

// openBolt opens a bbolt file, saying ErrLocked when another process holds
// it past the options' timeout, and naming the file in any error.
func openBolt(path string, opts *bolt.Options) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, opts)
	if err != nil {
		if errors.Is(err, boltErrors.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return db, nil
}

// OpenReadOnly opens the bbolt file at path for reading after checking it
// whole: a damaged file is an error, a file a server holds is ErrLocked.
func OpenReadOnly(path string) (*bolt.DB, error) {
	return openChecked(path, &bolt.Options{ReadOnly: true, Timeout: 3 * time.Second}, CheckFile)
}

// updateFile runs fn in one write transaction on the bbolt file at path,
// opened for this change only (so the command line can change it while
// the server runs), creating the file, its folder and buckets if need be.
// what names the file's folder in an error.
func updateFile(path, what string, buckets [][]byte, fn func(tx *bolt.Tx) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("creating the %s directory: %w", what, err)
	}
	db, err := openOrCreate(path, &bolt.Options{Timeout: 3 * time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// viewFile runs fn in one read transaction on the bbolt file at path,
// opened for this read only. A file not yet written, or without the
// buckets, reads as empty: fn is not called.
func viewFile(path string, buckets [][]byte, fn func(tx *bolt.Tx) error) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := openOrCreate(path, &bolt.Options{Timeout: 3 * time.Second, ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if tx.Bucket(b) == nil {
				return nil
			}
		}
		return fn(tx)
	})
}
