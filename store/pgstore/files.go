package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/jackc/pgx/v5"
)

// fileChunk is the size of one row of a file kept in the database.
const fileChunk = 1 << 20

// PutFile keeps the file read from r under name, replacing one of the
// same name, in one transaction: another node sees all of it or none.
func (db *DB) PutFile(ctx context.Context, name string, r io.Reader) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM file_chunks WHERE name = $1`, name); err != nil {
			return fmt.Errorf("replacing the shared file %s: %w", name, err)
		}
		buf := make([]byte, fileChunk)
		for n := 0; ; n++ {
			got, err := io.ReadFull(r, buf)
			if got > 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO file_chunks (name, n, data) VALUES ($1, $2, $3)`, name, n, buf[:got]); err != nil {
					return fmt.Errorf("storing the shared file %s: %w", name, err)
				}
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("reading %s to share it: %w", name, err)
			}
		}
	})
}

// WriteFile writes the file kept under name to w, a chunk at a time;
// fs.ErrNotExist when there is none.
func (db *DB) WriteFile(ctx context.Context, name string, w io.Writer) error {
	// One snapshot: a file replaced meanwhile is read whole, old or new.
	return pgx.BeginTxFunc(ctx, db.Pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var chunks int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM file_chunks WHERE name = $1`, name).Scan(&chunks); err != nil {
			return fmt.Errorf("reading the shared file %s: %w", name, err)
		}
		if chunks == 0 {
			return fmt.Errorf("the shared file %s: %w", name, fs.ErrNotExist)
		}
		for n := range chunks {
			var data []byte
			if err := tx.QueryRow(ctx, `SELECT data FROM file_chunks WHERE name = $1 AND n = $2`, name, n).Scan(&data); err != nil {
				return fmt.Errorf("reading chunk %d of the shared file %s: %w", n, name, err)
			}
			if _, err := w.Write(data); err != nil {
				return fmt.Errorf("copying the shared file %s: %w", name, err)
			}
		}
		return nil
	})
}
