package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"time"

	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

// migrateAuth copies who may do what from a server's data folder into
// the cluster's database: the tokens (tokens.db), the clerk accounts
// (clerks.db), the paired devices and enrolment batches (devices.db),
// their secrets' hashes as they are, so every token, password and
// enrolment secret works as before. A file not in fromDir is nothing to
// copy. A record the database has already is never overwritten: out says
// so, and whether the file's differs (the database's is kept).
func migrateAuth(ctx context.Context, fromDir string, db *pgstore.DB, out io.Writer) error {
	steps := []struct {
		file string
		copy func(path string) error
	}{
		{tokensFile, func(path string) error { return copyTokens(ctx, out, path, db.Tokens()) }},
		{clerksFile, func(path string) error { return copyClerks(ctx, out, path, db.Clerks()) }},
		{devicesFile, func(path string) error { return copyDevices(ctx, out, path, db.Devices()) }},
	}
	for _, s := range steps {
		path := filepath.Join(fromDir, s.file)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(out, "%s: not in %s, nothing to copy\n", s.file, fromDir)
			continue
		}
		if err := s.copy(path); err != nil {
			return fmt.Errorf("copying %s: %w", path, err)
		}
	}
	return nil
}

// records is one kind of record of one file, to be copied.
type records[T any] struct {
	file, what string
	all        []T
	// name says which record it is, without a secret.
	name func(T) string
	// add stores a record unless the database has it: added=false then.
	add func(T) (bool, error)
	// stored is the database's record in the way of the file's.
	stored func(T) (T, bool, error)
	// norm is a record as the database keeps it (times in microseconds,
	// UTC), to compare.
	norm func(T) T
}

// copyAll adds every record the database lacks and tells out what it
// did: how many were copied, how many were there already, and each one
// the database holds otherwise than the file.
func copyAll[T any](ctx context.Context, out io.Writer, r records[T]) error {
	copied, same := 0, 0
	var differ []string
	for _, x := range r.all {
		if err := ctx.Err(); err != nil {
			return err
		}
		added, err := r.add(x)
		if err != nil {
			return err
		}
		if added {
			copied++
			continue
		}
		old, found, err := r.stored(x)
		if err != nil {
			return err
		}
		if found && reflect.DeepEqual(r.norm(old), r.norm(x)) {
			same++
			continue
		}
		differ = append(differ, r.name(x))
	}
	fmt.Fprintf(out, "%s: %d %s copied, %d already in the database as they are\n", r.file, copied, r.what, same)
	for _, n := range differ {
		fmt.Fprintf(out, "%s: %s is in the database already, otherwise than in the file: the database's is kept, the file's NOT copied\n", r.file, n)
	}
	return nil
}

// dbTime is t as the database keeps it.
func dbTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// hashedToken is a token file's record: the token under its secret's hash.
type hashedToken struct {
	hash string
	tok  store.Token
}

func copyTokens(ctx context.Context, out io.Writer, path string, to *pgstore.TokenStore) error {
	idx, err := store.NewTokenStore(path).Index()
	if err != nil {
		return err
	}
	all := make([]hashedToken, 0, len(idx))
	for h, t := range idx {
		all = append(all, hashedToken{h, t})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].tok.ID < all[j].tok.ID })
	existing, err := to.Index()
	if err != nil {
		return err
	}
	return copyAll(ctx, out, records[hashedToken]{
		file: tokensFile, what: "tokens", all: all,
		name: func(t hashedToken) string { return "token " + t.tok.ID },
		add:  func(t hashedToken) (bool, error) { return to.Import(t.hash, t.tok) },
		stored: func(t hashedToken) (hashedToken, bool, error) {
			old, ok := existing[t.hash]
			return hashedToken{t.hash, old}, ok, nil
		},
		norm: func(t hashedToken) hashedToken { t.tok.Created = dbTime(t.tok.Created); return t },
	})
}

func copyClerks(ctx context.Context, out io.Writer, path string, to *pgstore.ClerkStore) error {
	all, err := store.NewClerkStore(path).List()
	if err != nil {
		return err
	}
	return copyAll(ctx, out, records[store.Clerk]{
		file: clerksFile, what: "clerks", all: all,
		name:   func(c store.Clerk) string { return "clerk " + c.Name },
		add:    to.Import,
		stored: func(c store.Clerk) (store.Clerk, bool, error) { return to.Get(c.Name) },
		norm:   func(c store.Clerk) store.Clerk { c.Created = dbTime(c.Created); return c },
	})
}

func copyDevices(ctx context.Context, out io.Writer, path string, to *pgstore.DeviceStore) error {
	from := store.NewDeviceStore(path)
	devices, err := from.Devices()
	if err != nil {
		return err
	}
	err = copyAll(ctx, out, records[store.DeviceRecord]{
		file: devicesFile, what: "devices", all: devices,
		name:   func(d store.DeviceRecord) string { return "device " + d.ID },
		add:    to.ImportDevice,
		stored: func(d store.DeviceRecord) (store.DeviceRecord, bool, error) { return to.Device(d.ID) },
		norm: func(d store.DeviceRecord) store.DeviceRecord {
			d.Paired, d.Revoked = dbTime(d.Paired), dbTime(d.Revoked)
			return d
		},
	})
	if err != nil {
		return err
	}
	batches, err := from.Batches()
	if err != nil {
		return err
	}
	existing, err := to.Batches()
	if err != nil {
		return err
	}
	return copyAll(ctx, out, records[store.EnrolmentBatch]{
		file: devicesFile, what: "enrolment batches", all: batches,
		name: func(b store.EnrolmentBatch) string { return "enrolment batch " + b.ID },
		add:  to.ImportBatch,
		stored: func(b store.EnrolmentBatch) (store.EnrolmentBatch, bool, error) {
			for _, old := range existing {
				if old.ID == b.ID {
					return old, true, nil
				}
			}
			return store.EnrolmentBatch{}, false, nil
		},
		norm: func(b store.EnrolmentBatch) store.EnrolmentBatch {
			b.Expires, b.Created = dbTime(b.Expires), dbTime(b.Created)
			return b
		},
	})
}
