package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numerek/numerek/store/kv"
)

// kvTimeout bounds one side-data transaction: a web page or the outbox
// waits no longer than this for a database that stopped answering.
const kvTimeout = 30 * time.Second

// cursorBatch is how many rows a cursor reads at a time.
const cursorBatch = 128

// KV is one space of the side data (a bbolt file's worth: "web",
// "outbox") as a kv.DB. Its Updates are serialised across every node by
// a transaction-level advisory lock on the space, as bbolt serialises a
// file's writers, so a record read and written in one Update is never
// written by another node in between.
type KV struct {
	db    *DB
	space string
}

// KV is the side-data space called space.
func (db *DB) KV(space string) *KV { return &KV{db: db, space: space} }

// View runs fn in a read-only transaction that sees one state.
func (s *KV) View(fn func(kv.Tx) error) error {
	return s.run(pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, false, fn)
}

// Update runs fn in a transaction, alone among the space's Updates, and
// commits it when fn and every read in it succeeded.
func (s *KV) Update(fn func(kv.Tx) error) error {
	return s.run(pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, true, fn)
}

func (s *KV) run(opts pgx.TxOptions, write bool, fn func(kv.Tx) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), kvTimeout)
	defer cancel()
	tx, err := s.db.Pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("starting a transaction on %s data: %w", s.space, err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit it is a no-op
	if write {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('numerek-kv:' || $1, 0))`, s.space); err != nil {
			return fmt.Errorf("waiting for the other writers of %s data: %w", s.space, err)
		}
	}
	t := &kvTx{ctx: ctx, tx: tx, space: s.space, write: write}
	ferr := fn(t)
	if t.err != nil {
		// A failed read may have made fn decide on a record it did not
		// see: nothing of it is kept.
		return fmt.Errorf("%s data: %w", s.space, t.err)
	}
	if ferr != nil {
		return ferr
	}
	if !write {
		return nil
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing %s data: %w", s.space, err)
	}
	return nil
}

// kvTx is one transaction; err is its first failed read or write.
type kvTx struct {
	ctx   context.Context
	tx    pgx.Tx
	space string
	write bool
	err   error
}

func (t *kvTx) fail(err error) error {
	if t.err == nil {
		t.err = err
	}
	return err
}

// Bucket is always there: a bucket with no rows is an empty one.
func (t *kvTx) Bucket(name []byte) kv.Bucket {
	return &kvBucket{t: t, name: append([]byte(nil), name...)}
}

func (t *kvTx) CreateBucketIfNotExists(name []byte) (kv.Bucket, error) {
	return t.Bucket(name), nil
}

type kvBucket struct {
	t    *kvTx
	name []byte
}

var errReadOnly = errors.New("a write in a read-only transaction")

func (b *kvBucket) Get(key []byte) []byte {
	var v []byte
	err := b.t.tx.QueryRow(b.t.ctx, `SELECT value FROM kv WHERE space = $1 AND bucket = $2 AND key = $3`, b.t.space, b.name, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		b.t.fail(fmt.Errorf("reading %q of %s: %w", key, b.name, err))
		return nil
	}
	if v == nil {
		v = []byte{} // present but empty, as bbolt tells it from absent
	}
	return v
}

func (b *kvBucket) Put(key, value []byte) error {
	if !b.t.write {
		return b.t.fail(errReadOnly)
	}
	if len(key) == 0 {
		return errors.New("putting a record: its key is empty")
	}
	_, err := b.t.tx.Exec(b.t.ctx, `INSERT INTO kv (space, bucket, key, value) VALUES ($1, $2, $3, $4)
		ON CONFLICT (space, bucket, key) DO UPDATE SET value = EXCLUDED.value`, b.t.space, b.name, key, nonNil(value))
	if err != nil {
		return b.t.fail(fmt.Errorf("writing %q of %s: %w", key, b.name, err))
	}
	return nil
}

func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

func (b *kvBucket) Delete(key []byte) error {
	if !b.t.write {
		return b.t.fail(errReadOnly)
	}
	_, err := b.t.tx.Exec(b.t.ctx, `DELETE FROM kv WHERE space = $1 AND bucket = $2 AND key = $3`, b.t.space, b.name, key)
	if err != nil {
		return b.t.fail(fmt.Errorf("deleting %q of %s: %w", key, b.name, err))
	}
	return nil
}

func (b *kvBucket) ForEach(fn func(k, v []byte) error) error {
	// All rows are read before fn runs: fn may query the same
	// transaction, which cannot while rows are open.
	rows, err := b.rows(`SELECT key, value FROM kv WHERE space = $1 AND bucket = $2 ORDER BY key`, b.t.space, b.name)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := fn(r.key, r.value); err != nil {
			return err
		}
	}
	return nil
}

type kvRow struct{ key, value []byte }

func (b *kvBucket) rows(query string, args ...any) ([]kvRow, error) {
	rows, err := b.t.tx.Query(b.t.ctx, query, args...)
	if err != nil {
		return nil, b.t.fail(fmt.Errorf("reading %s: %w", b.name, err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kvRow, error) {
		var row kvRow
		err := r.Scan(&row.key, &row.value)
		row.value = nonNil(row.value)
		return row, err
	})
	if err != nil {
		return nil, b.t.fail(fmt.Errorf("reading %s: %w", b.name, err))
	}
	return out, nil
}

func (b *kvBucket) NextSequence() (uint64, error) {
	if !b.t.write {
		return 0, b.t.fail(errReadOnly)
	}
	var n uint64
	err := b.t.tx.QueryRow(b.t.ctx, `INSERT INTO kv_sequences (space, bucket, seq) VALUES ($1, $2, 1)
		ON CONFLICT (space, bucket) DO UPDATE SET seq = kv_sequences.seq + 1 RETURNING seq`, b.t.space, b.name).Scan(&n)
	if err != nil {
		return 0, b.t.fail(fmt.Errorf("numbering a record of %s: %w", b.name, err))
	}
	return n, nil
}

// SetSequence sets the bucket's sequence, for a bbolt file moved here.
func (b *kvBucket) SetSequence(n uint64) error {
	_, err := b.t.tx.Exec(b.t.ctx, `INSERT INTO kv_sequences (space, bucket, seq) VALUES ($1, $2, $3)
		ON CONFLICT (space, bucket) DO UPDATE SET seq = EXCLUDED.seq`, b.t.space, b.name, int64(n))
	if err != nil {
		return b.t.fail(fmt.Errorf("setting the sequence of %s: %w", b.name, err))
	}
	return nil
}

func (b *kvBucket) Cursor() kv.Cursor { return &kvCursor{b: b} }

// kvCursor reads the bucket a batch at a time in the direction it walks;
// at is the index in rows of the current record.
type kvCursor struct {
	b       *kvBucket
	rows    []kvRow
	at      int
	forward bool
	// end is set when the last read reached the end in its direction.
	end bool
}

func (c *kvCursor) load(forward, inclusive bool, from []byte) ([]byte, []byte) {
	op, order := ">", "ASC"
	if !forward {
		op, order = "<", "DESC"
	}
	if inclusive {
		op += "="
	}
	q := `SELECT key, value FROM kv WHERE space = $1 AND bucket = $2`
	args := []any{c.b.t.space, c.b.name}
	if from != nil {
		q += ` AND key ` + op + ` $3`
		args = append(args, from)
	}
	q += fmt.Sprintf(` ORDER BY key %s LIMIT %d`, order, cursorBatch)
	rows, err := c.b.rows(q, args...)
	c.rows, c.at, c.forward = rows, 0, forward
	c.end = err != nil || len(rows) < cursorBatch
	if len(rows) == 0 {
		return nil, nil
	}
	return rows[0].key, rows[0].value
}

func (c *kvCursor) current() ([]byte, []byte) {
	if c.at < 0 || c.at >= len(c.rows) {
		return nil, nil
	}
	return c.rows[c.at].key, c.rows[c.at].value
}

func (c *kvCursor) First() ([]byte, []byte) { return c.load(true, true, nil) }
func (c *kvCursor) Last() ([]byte, []byte)  { return c.load(false, true, nil) }
func (c *kvCursor) Seek(seek []byte) ([]byte, []byte) {
	return c.load(true, true, nonNil(seek))
}

func (c *kvCursor) Next() ([]byte, []byte) { return c.step(true) }
func (c *kvCursor) Prev() ([]byte, []byte) { return c.step(false) }

func (c *kvCursor) step(forward bool) ([]byte, []byte) {
	k, _ := c.current()
	if k == nil {
		return nil, nil
	}
	if forward == c.forward {
		c.at++
		if c.at < len(c.rows) {
			return c.current()
		}
		if c.end {
			return nil, nil
		}
	}
	return c.load(forward, false, k)
}
