package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// WriteBackup writes a consistent copy of the log, as it stands at one
// moment, to w. It runs in a read transaction, so the office keeps taking
// events while the copy is written.
func (l *OfficeLog) WriteBackup(w io.Writer) error {
	return CopyOpen(l.db, w)
}

// CopyOpen writes a consistent copy of a bbolt file this process holds
// open to w, in one read transaction: writers carry on meanwhile.
func CopyOpen(db *bolt.DB, w io.Writer) error {
	return db.View(func(tx *bolt.Tx) error {
		if _, err := tx.WriteTo(w); err != nil {
			return fmt.Errorf("copying %s: %w", db.Path(), err)
		}
		return nil
	})
}

// WriteBackup writes a consistent copy of fleet.db (the devices' last
// reports, faults and updates) to w; ErrInDatabase on PostgreSQL.
func (f *FleetDB) WriteBackup(w io.Writer) error {
	if f.file == nil {
		return ErrInDatabase
	}
	return CopyOpen(f.file, w)
}

// Path is the log's file.
func (l *OfficeLog) Path() string { return l.path }

// ErrInDatabase is WriteBackup's answer for data kept in PostgreSQL,
// which is backed up with the database (docs/cluster.md).
var ErrInDatabase = errors.New("kept in PostgreSQL: back the database up instead")

// WriteBackup writes a consistent copy of the web data to w;
// ErrInDatabase on PostgreSQL.
func (w *WebDB) WriteBackup(out io.Writer) error {
	if w.file == nil {
		return ErrInDatabase
	}
	return CopyOpen(w.file, out)
}

// WriteBackup writes a consistent copy of the token file to w; fs.ErrNotExist
// if no token was ever made.
func (ts *TokenStore) WriteBackup(w io.Writer) error {
	if _, err := os.Stat(ts.path); err != nil {
		return err
	}
	return BackupFile(ts.path, w)
}

// BackupFile writes a consistent copy of the bbolt file at path, which no
// server holds, to w: it opens the file read-only after checking it, so a
// damaged file is an error and not a copy.
func BackupFile(path string, w io.Writer) error {
	db, err := openChecked(path, &bolt.Options{ReadOnly: true, Timeout: 3 * time.Second}, CheckFile)
	if err != nil {
		return err
	}
	defer db.Close()
	return CopyOpen(db, w)
}

// WriteFileAtomically writes path through a temporary file that is synced
// and then renamed, so path is always either the old file or the whole
// new one.
func WriteFileAtomically(path string, write func(io.Writer) error) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// IsNotExist reports whether err says a file does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
