package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

// runMigrate brings a PostgreSQL store's schema up to this build's, and
// moves a data directory's offices (and its tokens, clerks and devices)
// into one (docs/cluster.md).
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server migrate", stderr)
	storeURL := fs.String("store", "", "the PostgreSQL store whose schema to migrate (postgres://…)")
	from := fs.String("from", "", "a data directory to copy into --to: its offices with their whole history, tokens, clerks and devices, bookings, sessions, messages, the fleet's records, keys and update bundles")
	to := fs.String("to", "", "the PostgreSQL store to copy --from into (postgres://…); its schema is migrated first")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: queue-server migrate --store postgres://…\n       queue-server migrate --from DIR --to postgres://…\n\nThe first brings the database's schema up to this version's. The second also\ncopies the offices of DIR (every event and the newest snapshot), its tokens,\nclerks and devices, its web data, outbox and fleet records, its keys and its\nupdate bundles; stop the server on DIR first. An office that already has\nevents in the database is refused.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	switch {
	case *storeURL != "" && (*from != "" || *to != ""):
		return usageError(fs, "--store migrates the schema only: to copy a data directory give --from DIR --to URL alone")
	case *storeURL != "":
		if !pgstore.IsURL(*storeURL) {
			return usageError(fs, fmt.Sprintf("--store %q is not a postgres:// URL", *storeURL))
		}
		return pgstore.Migrate(ctx, *storeURL, stdout)
	case *from == "" && *to == "":
		return usageError(fs, "give --store URL, or --from DIR --to URL")
	case *from == "" || *to == "":
		return usageError(fs, "--from and --to go together")
	case !pgstore.IsURL(*to):
		return usageError(fs, fmt.Sprintf("--to %q is not a postgres:// URL", *to))
	}
	return migrateFrom(ctx, *from, *to, stdout)
}

// migrateFrom copies the offices of the data directory dir into the
// database at url. Every log is opened and every office checked before
// anything is copied, so a refusal leaves the database as it was; each
// office is then copied in one transaction of its own.
func migrateFrom(ctx context.Context, dir, url string, out io.Writer) error {
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	names, err := officeFiles(dir)
	if err != nil {
		return fmt.Errorf("listing the offices of %s: %w", dir, err)
	}
	type office struct {
		id  string
		log *store.OfficeLog
	}
	var offices []office
	defer func() {
		for _, o := range offices {
			o.log.Close()
		}
	}()
	for _, name := range names {
		id := strings.TrimSuffix(filepath.Base(name), ".db")
		l, err := store.OpenOfficeLog(filepath.Join(dir, name), id)
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%s is in use by a running server: stop it before migrating", filepath.Join(dir, name))
		}
		if err != nil {
			return err
		}
		offices = append(offices, office{id, l})
	}
	if err := pgstore.Migrate(ctx, url, out); err != nil {
		return err
	}
	db, err := pgstore.Open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	var present []string
	for _, o := range offices {
		n, err := db.EventCount(ctx, o.id)
		if err != nil {
			return err
		}
		if n > 0 {
			present = append(present, fmt.Sprintf("%s (%d events)", o.id, n))
		}
	}
	if len(present) > 0 {
		return fmt.Errorf("the database already has events of office %s: nothing was copied (a copy would mix two histories)", strings.Join(present, ", "))
	}
	for _, o := range offices {
		res, err := db.ImportOffice(ctx, o.id, o.log)
		if err != nil {
			return err
		}
		want, err := o.log.LastSeq()
		if err != nil {
			return err
		}
		got, err := db.Office(o.id, pgstore.Node{}, pgstore.OfficeOptions{}).LastSeq()
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("office %s: the database's log ends at seq %d after the copy, the data directory's at %d", o.id, got, want)
		}
		snapshot := "no snapshot"
		if res.SnapshotSeq > 0 {
			snapshot = fmt.Sprintf("snapshot at seq %d", res.SnapshotSeq)
		}
		fmt.Fprintf(out, "office %s: %d events copied, last seq %d, %s\n", o.id, res.Events, got, snapshot)
	}
	if len(offices) == 0 {
		fmt.Fprintf(out, "no offices in %s\n", filepath.Join(dir, officesDir))
	}
	if err := migrateAuth(ctx, dir, db, out); err != nil {
		return err
	}
	return migrateSide(ctx, dir, db, out)
}
