package main

import (
	"context"
	"io"

	"github.com/numerek/numerek/store/pgstore"
)

// migrateAuth copies tokens.db, clerks.db and devices.db of fromDir into
// db. A placeholder: pgauth's version replaces this file.
func migrateAuth(ctx context.Context, fromDir string, db *pgstore.DB, out io.Writer) error {
	return nil
}
