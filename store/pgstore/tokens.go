package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numerek/numerek/store"
)

// authTimeout bounds each statement of the token, clerk and device
// stores: their methods are the bbolt stores' (no context), and a request
// must not hang on a database that stopped answering.
const authTimeout = 5 * time.Second

// authChannel is where a token store tells every node that tokens
// changed (NOTIFY in the transaction that changed them).
const authChannel = "numerek_auth"

// statement is the context of one statement of the auth stores.
func statement() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), authTimeout)
}

// queryAll runs query and scans each row it gives.
func queryAll[T any](db *DB, query string, scan func(pgx.Row) (T, error)) ([]T, error) {
	ctx, cancel := statement()
	defer cancel()
	rows, err := db.Pool.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (T, error) { return scan(row) })
}

// deleted runs a DELETE of one key and says whether it found a row.
func deleted(db *DB, query, key string) (bool, error) {
	ctx, cancel := statement()
	defer cancel()
	tag, err := db.Pool.Exec(ctx, query, key)
	return err == nil && tag.RowsAffected() > 0, err
}

// micro is t as the database keeps it (microseconds), so what a method
// returns is what a later read gives.
func micro(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// TokenStore keeps bearer tokens in the database every node shares; it
// behaves as store.TokenStore does (the same secrets, hashed the same
// way, the same answers). Watch lets a node see at once what another
// node changed.
type TokenStore struct {
	db *DB
	// listening is set while Watch holds its LISTEN; changes counts the
	// notifications it got and its (re)connections.
	listening atomic.Bool
	changes   atomic.Uint64
}

// Tokens is the database's token store.
func (db *DB) Tokens() *TokenStore { return &TokenStore{db: db} }

const tokenColumns = "hash, id, office, role, counter, label, created, key"

func scanToken(row pgx.Row) (hash string, t store.Token, err error) {
	err = row.Scan(&hash, &t.ID, &t.Office, &t.Role, &t.Counter, &t.Label, &t.Created, &t.Key)
	t.Created = t.Created.UTC()
	return hash, t, err
}

// Create makes a new token and returns its secret, shown once.
func (ts *TokenStore) Create(t store.Token) (string, store.Token, error) {
	secret, t, err := store.NewToken(t)
	if err != nil {
		return "", store.Token{}, err
	}
	t.Created = micro(t.Created)
	if err := ts.put(store.Hash(secret), t); err != nil {
		return "", store.Token{}, err
	}
	return secret, t, nil
}

// put stores t under the hash of its secret and tells the other nodes.
func (ts *TokenStore) put(hash string, t store.Token) error {
	if _, err := ts.insert(hash, t, ""); err != nil {
		return fmt.Errorf("storing the token: %w", err)
	}
	return nil
}

// Import stores a token of a token file (store.TokenStore.Index: the
// hash of its secret, and the token) unless the database has one of its
// hash or id already: added=false then, and the database's is kept.
func (ts *TokenStore) Import(hash string, t store.Token) (added bool, err error) {
	t.Created = micro(t.Created)
	added, err = ts.insert(hash, t, " ON CONFLICT DO NOTHING")
	if err != nil {
		return false, fmt.Errorf("importing token %s: %w", t.ID, err)
	}
	return added, nil
}

func (ts *TokenStore) insert(hash string, t store.Token, onConflict string) (added bool, err error) {
	ctx, cancel := statement()
	defer cancel()
	err = pgx.BeginFunc(ctx, ts.db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "INSERT INTO tokens ("+tokenColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"+onConflict,
			hash, t.ID, t.Office, t.Role, t.Counter, t.Label, t.Created, t.Key)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		added = true
		return notifyTokens(ctx, tx)
	})
	return added, err
}

func notifyTokens(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_notify($1, 'tokens')", authChannel)
	return err
}

// Lookup finds the token for a secret; ok=false if there is none.
func (ts *TokenStore) Lookup(secret string) (store.Token, bool, error) {
	ctx, cancel := statement()
	defer cancel()
	_, t, err := scanToken(ts.db.Pool.QueryRow(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = $1", store.Hash(secret)))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Token{}, false, nil
	}
	if err != nil {
		return store.Token{}, false, fmt.Errorf("looking a token up: %w", err)
	}
	return t, true, nil
}

// Index returns every token by the hash of its secret (store.Hash), for
// a server to check tokens in memory.
func (ts *TokenStore) Index() (map[string]store.Token, error) {
	out := map[string]store.Token{}
	err := ts.each("", func(hash string, t store.Token) { out[hash] = t })
	if err != nil {
		return nil, fmt.Errorf("reading the tokens: %w", err)
	}
	return out, nil
}

// List returns every token, oldest first.
func (ts *TokenStore) List() ([]store.Token, error) {
	var out []store.Token
	if err := ts.each(" ORDER BY created", func(_ string, t store.Token) { out = append(out, t) }); err != nil {
		return nil, fmt.Errorf("listing the tokens: %w", err)
	}
	return out, nil
}

func (ts *TokenStore) each(order string, fn func(hash string, t store.Token)) error {
	ctx, cancel := statement()
	defer cancel()
	rows, err := ts.db.Pool.Query(ctx, "SELECT "+tokenColumns+" FROM tokens"+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		hash, t, err := scanToken(rows)
		if err != nil {
			return err
		}
		fn(hash, t)
	}
	return rows.Err()
}

// Revoke deletes the token with the given id; ok=false if none had it.
// Every node watching the store hears of it at once.
func (ts *TokenStore) Revoke(id string) (found bool, err error) {
	ctx, cancel := statement()
	defer cancel()
	err = pgx.BeginFunc(ctx, ts.db.Pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM tokens WHERE id = $1", id)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		found = true
		return notifyTokens(ctx, tx)
	})
	if err != nil {
		return false, fmt.Errorf("revoking token %s: %w", id, err)
	}
	return found, nil
}

// Stamp changes whenever the tokens may have changed, on any node: while
// Watch listens, with each notification it hears (no query: a server may
// ask on every request); while nobody listens, every second, so a server
// reads the tokens again as often as it rereads a token file.
func (ts *TokenStore) Stamp() string {
	if ts.listening.Load() {
		return "heard " + strconv.FormatUint(ts.changes.Load(), 10)
	}
	return "polled " + strconv.FormatInt(time.Now().Unix(), 10)
}

// Listening reports whether Watch holds its LISTEN now.
func (ts *TokenStore) Listening() bool { return ts.listening.Load() }

// watchRetry is how long Watch waits before connecting again.
const watchRetry = time.Second

// Watch listens for the other nodes' changes to the tokens on one
// connection of its own until ctx ends, connecting again when the
// connection is lost (meanwhile Stamp falls back to polling, and a
// reconnection counts as a change: what was said while away is lost).
// changed, unless nil, is called after each change heard, in Watch's
// goroutine: a server rereads its tokens there (server.TokensChanged),
// so a device revoked on another node loses its streams here at once.
func (ts *TokenStore) Watch(ctx context.Context, logger *slog.Logger, changed func()) {
	if changed == nil {
		changed = func() {}
	}
	for ctx.Err() == nil {
		err := ts.listen(ctx, changed)
		ts.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		logger.Warn("listening for token changes from the other nodes; trying again", "err", err, "in", watchRetry)
		t := time.NewTimer(watchRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (ts *TokenStore) listen(ctx context.Context, changed func()) error {
	conn, err := pgx.ConnectConfig(ctx, ts.db.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer func() {
		closing, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(closing)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+authChannel); err != nil {
		return fmt.Errorf("listening on %s: %w", authChannel, err)
	}
	ts.changes.Add(1)
	ts.listening.Store(true)
	for {
		changed()
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("waiting for a notification: %w", err)
		}
		ts.changes.Add(1)
	}
}
