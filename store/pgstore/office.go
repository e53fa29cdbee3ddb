package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// eventsChannel is the NOTIFY channel an append signals, its payload the
// office's id (Changes listens on it).
const eventsChannel = "numerek_events"

// snapshotsKept is how many snapshots of an office stay; older ones go,
// as in bbolt's log.
const snapshotsKept = 2

// scanPage is how many events one statement of Scan reads, so a long
// history is read in statements each bounded by the Timeout.
const scanPage = 1000

// Node names this queue-server process to the others.
type Node struct {
	// ID is unique per process: the configured name plus a random part,
	// so a restarted node never inherits its old lease by accident.
	ID string
	// URL is where the other nodes forward this office's commands
	// (http://10.0.0.5:8080).
	URL string
}

// OfficeOptions tune an Office; the zero value takes the defaults.
type OfficeOptions struct {
	// LeaseTTL is how long a lease lasts past its last renewal in the
	// database; it is renewed every LeaseTTL/3. Default 3 s.
	LeaseTTL time.Duration
	// Timeout bounds each statement (each transaction of Append); default 5 s.
	Timeout time.Duration
}

func (o OfficeOptions) withDefaults() OfficeOptions {
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 3 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	return o
}

// ErrNotWriter refuses an Append: this node does not hold the office's
// lease (it never won it, lost it, or another node wrote the seq).
var ErrNotWriter = errors.New("this node does not hold the office's lease")

// ErrNoWriter means no node holds a live lease on the office.
var ErrNoWriter = errors.New("no node holds the office's lease")

// Office is one office's log in the database, and this node's claim on
// writing it. Its Append, Events, SaveSnapshot and Load make it an
// actor's log, as *store.OfficeLog is; only the node leading the office
// (Lead) appends.
type Office struct {
	pool *pgxpool.Pool
	id   string
	node Node
	opts OfficeOptions

	mu   sync.Mutex
	lead *leadership // nil while this node does not lead
}

// Office is the log of office id as node sees it.
func (db *DB) Office(id string, node Node, opts OfficeOptions) *Office {
	return &Office{pool: db.Pool, id: id, node: node, opts: opts.withDefaults()}
}

// statement bounds one statement (or transaction) by the Timeout.
func (o *Office) statement(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, o.opts.Timeout)
}

// encodedEvents are a batch of events as the columns of office_events.
type encodedEvents struct {
	seqs   []int64
	ats    []time.Time
	actors []string
	kinds  []string
	events []string
}

// encodeEvents encodes events as bbolt's log does (queue.Event's JSON)
// and checks their seqs follow each other.
func encodeEvents(office string, events []queue.Event) (*encodedEvents, error) {
	enc := &encodedEvents{}
	for i, e := range events {
		if e.Seq == 0 {
			return nil, fmt.Errorf("appending to %s: an event without a seq", office)
		}
		if i > 0 && e.Seq != events[i-1].Seq+1 {
			return nil, fmt.Errorf("appending event %d after %d to %s: seq out of order", e.Seq, events[i-1].Seq, office)
		}
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encoding event %d of %s: %w", e.Seq, office, err)
		}
		enc.seqs = append(enc.seqs, int64(e.Seq))
		enc.ats = append(enc.ats, e.At)
		// PostgreSQL's text holds no NUL; the column is for SQL's
		// readers, the event itself keeps the actor exactly.
		enc.actors = append(enc.actors, strings.ReplaceAll(e.Actor, "\x00", ""))
		enc.kinds = append(enc.kinds, e.Body.Kind())
		enc.events = append(enc.events, string(data))
	}
	return enc, nil
}

// insertEvents writes a batch in one multi-row INSERT.
func insertEvents(ctx context.Context, tx pgx.Tx, office string, enc *encodedEvents) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO office_events (office, seq, at, actor, kind, event)
		SELECT $1, e.seq, e.at, e.actor, e.kind, e.event::json
		FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[]) AS e(seq, at, actor, kind, event)`,
		office, enc.seqs, enc.ats, enc.actors, enc.kinds, enc.events)
	return err
}

// Append writes events in one transaction, fenced by the lease: it
// commits only if this node holds the lease at the epoch Lead won and
// the lease has not expired, and the events continue the log. The lease
// row is read FOR SHARE, so a take-over's UPDATE of it waits until this
// transaction has ended: a new leader, once Lead returns, reads every
// event this one committed. Refused: an error wrapping ErrNotWriter.
func (o *Office) Append(events []queue.Event) error {
	if len(events) == 0 {
		return nil
	}
	first, last := events[0].Seq, events[len(events)-1].Seq
	l := o.leading()
	if l == nil || !l.valid() {
		return fmt.Errorf("appending events %d-%d to office %s: %w", first, last, o.id, ErrNotWriter)
	}
	enc, err := encodeEvents(o.id, events)
	if err != nil {
		return err
	}
	// The leadership's context is the parent: once it ends, an append
	// under way is abandoned rather than acknowledged late.
	ctx, cancel := o.statement(l.ctx)
	defer cancel()
	err = pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		var logEnd int64
		err := tx.QueryRow(ctx, `
			SELECT (SELECT coalesce(max(seq), 0) FROM office_events WHERE office = $1)
			FROM office_leases
			WHERE office = $1 AND node = $2 AND epoch = $3 AND expires_at > statement_timestamp()
			FOR SHARE`, o.id, o.node.ID, l.epoch).Scan(&logEnd)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotWriter
		}
		if err != nil {
			return fmt.Errorf("checking the lease: %w", err)
		}
		switch {
		case uint64(logEnd) >= first:
			// Someone else wrote these seqs: this node's state is behind.
			return fmt.Errorf("the log already ends at %d: %w", logEnd, ErrNotWriter)
		case uint64(logEnd) < first-1:
			return fmt.Errorf("the log ends at %d: seq out of order", logEnd)
		}
		if err := insertEvents(ctx, tx, o.id, enc); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, eventsChannel, o.id)
		return err
	})
	if isUniqueViolation(err) {
		err = fmt.Errorf("another writer wrote these seqs: %w", ErrNotWriter)
	}
	if err != nil {
		return fmt.Errorf("appending events %d-%d to office %s: %w", first, last, o.id, err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// LastSeq is the seq of the newest event, 0 for an empty log.
func (o *Office) LastSeq() (uint64, error) {
	ctx, cancel := o.statement(context.Background())
	defer cancel()
	var last int64
	err := o.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM office_events WHERE office = $1`, o.id).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("reading the last seq of office %s: %w", o.id, err)
	}
	return uint64(last), nil
}

// Events returns up to limit events with seq > after, in order (limit <=
// 0: all).
func (o *Office) Events(after uint64, limit int) ([]queue.Event, error) {
	var out []queue.Event
	if limit <= 0 {
		err := o.Scan(after, func(e queue.Event) bool {
			out = append(out, e)
			return true
		})
		return out, err
	}
	_, err := o.page(after, limit, func(e queue.Event) bool {
		out = append(out, e)
		return true
	})
	return out, err
}

// Scan calls fn with every event in order from seq > after until fn
// returns false, reading a page at a time.
func (o *Office) Scan(after uint64, fn func(queue.Event) bool) error {
	stopped := false
	for {
		n, err := o.page(after, scanPage, func(e queue.Event) bool {
			after = e.Seq
			stopped = !fn(e)
			return !stopped
		})
		if err != nil || stopped || n < scanPage {
			return err
		}
	}
}

// page calls fn with up to limit events after seq after and tells how
// many it read; it stops early when fn returns false.
func (o *Office) page(after uint64, limit int, fn func(queue.Event) bool) (int, error) {
	ctx, cancel := o.statement(context.Background())
	defer cancel()
	rows, err := o.pool.Query(ctx, `SELECT seq, event FROM office_events WHERE office = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		o.id, int64(after), limit)
	if err != nil {
		return 0, fmt.Errorf("reading the events of office %s after %d: %w", o.id, after, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var seq int64
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			return n, fmt.Errorf("reading the events of office %s after %d: %w", o.id, after, err)
		}
		var e queue.Event
		if err := json.Unmarshal(data, &e); err != nil {
			return n, fmt.Errorf("reading event %d of office %s: %w", seq, o.id, err)
		}
		if e.Seq != uint64(seq) {
			return n, fmt.Errorf("event %d of office %s is stored under seq %d", e.Seq, o.id, seq)
		}
		n++
		if !fn(e) {
			return n, nil
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("reading the events of office %s after %d: %w", o.id, after, err)
	}
	return n, nil
}

// SaveSnapshot stores the state (at its seq), encoded as bbolt's log
// does, and drops all but the newest snapshots. It is not fenced: a
// state at seq N is the fold of the log's first N events whoever made
// it. A snapshot ahead of the log is refused, since Load would skip the
// events written later at its seqs.
func (o *Office) SaveSnapshot(s *queue.State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding snapshot of %s: %w", o.id, err)
	}
	ctx, cancel := o.statement(context.Background())
	defer cancel()
	err = pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		var inLog bool
		err := tx.QueryRow(ctx, `SELECT $2::bigint = 0 OR EXISTS (SELECT 1 FROM office_events WHERE office = $1 AND seq = $2)`,
			o.id, int64(s.Seq)).Scan(&inLog)
		if err != nil {
			return err
		}
		if !inLog {
			return fmt.Errorf("the log has no event %d yet", s.Seq)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO office_snapshots (office, seq, state) VALUES ($1, $2, $3) ON CONFLICT (office, seq) DO NOTHING`,
			o.id, int64(s.Seq), data); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
			DELETE FROM office_snapshots WHERE office = $1 AND seq NOT IN
				(SELECT seq FROM office_snapshots WHERE office = $1 ORDER BY seq DESC LIMIT $2)`, o.id, snapshotsKept)
		return err
	})
	if err != nil {
		return fmt.Errorf("saving the snapshot of office %s at seq %d: %w", o.id, s.Seq, err)
	}
	return nil
}

// Load rebuilds the office's state: the newest snapshot, then the events
// after it. A snapshot that cannot be read or does not fold is skipped
// for an older one or for the whole log, so a bad snapshot never loses
// acknowledged events.
func (o *Office) Load(office *queue.Office) (*queue.State, error) {
	ctx, cancel := o.statement(context.Background())
	defer cancel()
	rows, err := o.pool.Query(ctx, `SELECT state FROM office_snapshots WHERE office = $1 ORDER BY seq DESC`, o.id)
	if err != nil {
		return nil, fmt.Errorf("reading the snapshots of office %s: %w", o.id, err)
	}
	snaps, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("reading the snapshots of office %s: %w", o.id, err)
	}
	s, err := store.Fold(office, snaps, o.Scan)
	if err != nil {
		return nil, fmt.Errorf("loading office %s: %w", o.id, err)
	}
	return s, nil
}

// OfficeHistory is an office's log kept elsewhere (a bbolt
// *store.OfficeLog), to be copied into the database.
type OfficeHistory interface {
	Scan(after uint64, fn func(queue.Event) bool) error
	// NewestSnapshot is the newest snapshot as stored (queue.State's
	// JSON) and its seq; 0 and nil when there is none.
	NewestSnapshot() (uint64, []byte, error)
}

// NotEmptyError refuses to copy an office that already has events in
// the database: the copy would mix two histories.
type NotEmptyError struct {
	Office string
	Events int64
}

func (e *NotEmptyError) Error() string {
	return fmt.Sprintf("office %s already has %d events in the database", e.Office, e.Events)
}

// Imported tells what ImportOffice copied.
type Imported struct {
	Events      int
	LastSeq     uint64
	SnapshotSeq uint64 // 0: no snapshot
}

// importBatch is how many events one INSERT of ImportOffice carries.
const importBatch = 1000

// EventCount is how many events office id has in the database.
func (db *DB) EventCount(ctx context.Context, id string) (int64, error) {
	var n int64
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM office_events WHERE office = $1`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting the events of office %s: %w", id, err)
	}
	return n, nil
}

// ImportOffice copies an office's whole history, every event in seq
// order and its newest snapshot, in one transaction, with no lease: it
// is for moving an office in (queue-server migrate) while no node runs
// it. An office that already has events is refused (*NotEmptyError).
func (db *DB) ImportOffice(ctx context.Context, id string, h OfficeHistory) (Imported, error) {
	var res Imported
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var existing int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM office_events WHERE office = $1`, id).Scan(&existing); err != nil {
			return err
		}
		if existing > 0 {
			return &NotEmptyError{Office: id, Events: existing}
		}
		var batch []queue.Event
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			if want := res.LastSeq + 1; batch[0].Seq != want {
				return fmt.Errorf("the log has event %d where %d was due", batch[0].Seq, want)
			}
			enc, err := encodeEvents(id, batch)
			if err != nil {
				return err
			}
			if err := insertEvents(ctx, tx, id, enc); err != nil {
				return err
			}
			res.Events += len(batch)
			res.LastSeq = batch[len(batch)-1].Seq
			batch = batch[:0]
			return nil
		}
		var flushErr error
		if err := h.Scan(0, func(e queue.Event) bool {
			batch = append(batch, e)
			if len(batch) == importBatch {
				flushErr = flush()
			}
			return flushErr == nil
		}); err != nil {
			return fmt.Errorf("reading the log: %w", err)
		}
		if flushErr != nil {
			return flushErr
		}
		if err := flush(); err != nil {
			return err
		}
		seq, state, err := h.NewestSnapshot()
		if err != nil {
			return err
		}
		if state != nil && seq <= res.LastSeq {
			if _, err := tx.Exec(ctx, `INSERT INTO office_snapshots (office, seq, state) VALUES ($1, $2, $3)`, id, int64(seq), state); err != nil {
				return err
			}
			res.SnapshotSeq = seq
		}
		if res.Events > 0 {
			_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, eventsChannel, id)
		}
		return err
	})
	var notEmpty *NotEmptyError
	if errors.As(err, &notEmpty) {
		return Imported{}, err
	}
	if err != nil {
		return Imported{}, fmt.Errorf("copying office %s: %w", id, err)
	}
	return res, nil
}
