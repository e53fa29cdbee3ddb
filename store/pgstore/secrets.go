package pgstore

import (
	"context"
	"fmt"
)

// Secret is the secret key called name that every node shares (the key
// booking codes and e-ticket addresses are made with, the Web Push key).
// The first node to ask stores offer; every node, that one included, gets
// what is stored, so they all agree whatever each offered.
func (db *DB) Secret(ctx context.Context, name string, offer []byte) ([]byte, error) {
	if _, err := db.Pool.Exec(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, offer); err != nil {
		return nil, fmt.Errorf("storing the shared %s: %w", name, err)
	}
	var v []byte
	if err := db.Pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("reading the shared %s: %w", name, err)
	}
	return v, nil
}
