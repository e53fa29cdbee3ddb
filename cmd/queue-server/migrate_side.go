package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/kv"
	"github.com/numerek/numerek/store/pgstore"
)

// migrateSide copies the rest of a data directory into the database the
// nodes share: the web data (bookings, sessions, locker deposits), the
// message outbox and the fleet's records, bucket by bucket as bbolt holds
// them; the secret keys, so booking codes, e-ticket links and push
// subscriptions made by the old server keep working; and the update
// bundles. A file the database already has records of is refused.
func migrateSide(ctx context.Context, fromDir string, db *pgstore.DB, out io.Writer) error {
	for _, f := range []struct{ file, space string }{{webFile, webSpace}, {outboxFile, outboxSpace}, {fleetFile, fleetSpace}} {
		path := filepath.Join(fromDir, f.file)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(out, "%s: not in %s, nothing to copy\n", f.file, fromDir)
			continue
		}
		src, err := store.OpenReadOnly(path)
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%s is in use by a running server: stop it before migrating", path)
		}
		if err != nil {
			return err
		}
		c, err := kv.CopyBolt(src, db.KV(f.space))
		src.Close()
		if err != nil {
			return fmt.Errorf("copying %s: %w", path, err)
		}
		fmt.Fprintf(out, "%s: %d records in %d buckets copied\n", f.file, c.Records, c.Buckets)
	}
	for _, name := range []string{keyFile, vapidKeyFile} {
		local, err := os.ReadFile(filepath.Join(fromDir, name))
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(out, "%s: not in %s, nothing to copy\n", name, fromDir)
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		shared, err := db.Secret(ctx, name, local)
		if err != nil {
			return err
		}
		if !bytes.Equal(shared, local) {
			fmt.Fprintf(out, "%s: the database has another one already, kept: what %s's key made (booking codes, e-ticket links, push subscriptions) no longer works\n", name, fromDir)
			continue
		}
		fmt.Fprintf(out, "%s: copied\n", name)
	}
	bundles, err := filepath.Glob(filepath.Join(fromDir, bundlesDir, "*.raucb"))
	if err != nil {
		return err
	}
	for _, path := range bundles {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		err = db.PutFile(ctx, filepath.Base(path), f)
		f.Close()
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "update bundles: %d copied\n", len(bundles))
	return nil
}
