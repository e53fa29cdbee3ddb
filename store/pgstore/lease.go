package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Why two nodes can never both acknowledge writes to one office
// (docs/cluster.md tells it at length):
//
//  1. The log itself: (office, seq) is unique, so two writers can never
//     both commit seq N.
//  2. Fencing: Append commits only while the lease row names this node at
//     the epoch its Lead won, unexpired, and it holds that row FOR SHARE
//     until commit. A take-over is an UPDATE of the row that raises the
//     epoch: it waits for every fenced Append under way, and every Append
//     after it sees the new epoch and is refused. So the log is a single
//     sequence of leaderships, each one's events all before the next's.
//  3. Time, for what the log cannot fence (answers from a stale state):
//     the database alone judges expiry, by its own clock (expires_at =
//     statement_timestamp() + TTL). The node counts TTL minus a margin on
//     its monotonic clock from when it SENT the statement, which is
//     before the database read its clock, and ends the leadership's
//     context then: before the lease can have expired, so before any
//     other node can take it. No two clocks are ever compared; only
//     their rates are assumed alike within the margin.

// leadership is one lease this node won, from Lead until it ends.
type leadership struct {
	epoch  int64
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the renewing goroutine has ended

	mu       sync.Mutex
	deadline time.Time // by the monotonic clock: the leadership ends then
}

// valid tells whether this node may still write under the leadership.
func (l *leadership) valid() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ctx.Err() == nil && time.Now().Before(l.deadline)
}

func (l *leadership) setDeadline(d time.Time) {
	l.mu.Lock()
	l.deadline = d
	l.mu.Unlock()
}

// margin is how long before the database's expiry the node stops
// leading: the renewal's send-to-commit time is already counted (from
// the send), so it covers the timer firing late on a loaded machine and
// the two clocks running at slightly different rates.
func (o *Office) margin() time.Duration { return o.opts.LeaseTTL / 5 }

// renewEvery is how often a held lease is renewed: two renewals may fail
// before the leadership ends.
func (o *Office) renewEvery() time.Duration { return o.opts.LeaseTTL / 3 }

// pollEvery is how often a node waiting for the lease looks again: often
// enough that a released lease is taken within half a second, whatever
// the TTL, at the cost of a one-row query per waiting office and look.
func (o *Office) pollEvery() time.Duration { return min(o.opts.LeaseTTL/6, 500*time.Millisecond) }

func (o *Office) leading() *leadership {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lead
}

// Lead blocks until this node holds the office's lease (or ctx ends) and
// returns a context that ends the moment this node may no longer write:
// a renewal failed or did not come back in time, ctx ended, or Release
// or another Lead was called. It renews every TTL/3 in its own
// goroutine; the context ends before the lease can have expired in the
// database (counted from when the last successful renewal was sent, by
// the local monotonic clock, with a margin), so a node cut off from
// PostgreSQL stops acknowledging before another can lead. One Lead at a
// time per Office.
func (o *Office) Lead(ctx context.Context) (context.Context, error) {
	o.stopLeading()
	var lastErr error
	for {
		sent := time.Now()
		epoch, wait, err := o.take(ctx)
		if err == nil && epoch > 0 {
			return o.startLeading(ctx, epoch, sent), nil
		}
		if err != nil {
			lastErr = err
			wait = o.pollEvery()
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("waiting for the lease of office %s: %w (last error: %v)", o.id, ctx.Err(), lastErr)
			}
			return nil, fmt.Errorf("waiting for the lease of office %s: %w", o.id, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// take tries once to take the lease: free, expired, or already this
// node's (a node that lost it locally takes it back at once). It always
// raises the epoch, so whatever this node did under an earlier epoch is
// fenced off too. Held by another: epoch 0 and how long to wait before
// trying again (until its expiry, at most pollEvery).
func (o *Office) take(parent context.Context) (epoch int64, wait time.Duration, err error) {
	ctx, cancel := o.statement(parent)
	defer cancel()
	err = o.pool.QueryRow(ctx, `
		INSERT INTO office_leases AS l (office, node, node_url, epoch, expires_at)
		VALUES ($1, $2, $3, 1, statement_timestamp() + $4 * interval '1 millisecond')
		ON CONFLICT (office) DO UPDATE
			SET node = excluded.node, node_url = excluded.node_url, epoch = l.epoch + 1, expires_at = excluded.expires_at
			WHERE l.expires_at <= statement_timestamp() OR l.node = excluded.node
		RETURNING epoch`,
		o.id, o.node.ID, o.node.URL, o.opts.LeaseTTL.Milliseconds()).Scan(&epoch)
	if err == nil {
		return epoch, 0, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, 0, fmt.Errorf("taking the lease of office %s: %w", o.id, err)
	}
	var leftMS float64
	err = o.pool.QueryRow(ctx, `SELECT extract(epoch FROM expires_at - statement_timestamp()) * 1000 FROM office_leases WHERE office = $1`,
		o.id).Scan(&leftMS)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the lease of office %s: %w", o.id, err)
	}
	left := time.Duration(leftMS * float64(time.Millisecond))
	return 0, max(min(left, o.pollEvery()), time.Millisecond), nil
}

func (o *Office) startLeading(parent context.Context, epoch int64, sent time.Time) context.Context {
	ctx, cancel := context.WithCancel(parent)
	l := &leadership{epoch: epoch, ctx: ctx, cancel: cancel, done: make(chan struct{}), deadline: o.deadlineFrom(sent)}
	o.mu.Lock()
	o.lead = l
	o.mu.Unlock()
	go o.renew(l)
	return ctx
}

// deadlineFrom is when a leadership whose lease was taken or renewed by
// a statement sent at sent must end.
func (o *Office) deadlineFrom(sent time.Time) time.Time {
	return sent.Add(o.opts.LeaseTTL - o.margin())
}

// renew keeps the lease until the leadership's context ends, a renewal
// finds the lease gone, or the deadline passes without a renewal that
// moved it; then it ends the leadership.
func (o *Office) renew(l *leadership) {
	defer close(l.done)
	defer l.cancel()
	l.mu.Lock()
	deadline := l.deadline
	l.mu.Unlock()
	expire := time.NewTimer(time.Until(deadline))
	defer expire.Stop()
	next := time.NewTimer(o.renewEvery())
	defer next.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-expire.C:
			return
		case <-next.C:
		}
		if !time.Now().Before(deadline) {
			return
		}
		sent := time.Now()
		held, err := o.extend(l, deadline)
		switch {
		case err == nil && held:
			deadline = o.deadlineFrom(sent)
			l.setDeadline(deadline)
			expire.Reset(time.Until(deadline))
			next.Reset(o.renewEvery())
		case err == nil:
			return // taken over or released: the lease is not ours
		default:
			// Cut off, perhaps for a moment: try again soon, until the
			// deadline decides.
			next.Reset(o.renewEvery() / 3)
		}
	}
}

// extend moves the lease's expiry on if it is still this node's, at the
// leadership's epoch and unexpired; an attempt is given up at deadline.
func (o *Office) extend(l *leadership, deadline time.Time) (bool, error) {
	ctx, cancel := context.WithDeadline(l.ctx, deadline)
	defer cancel()
	tag, err := o.pool.Exec(ctx, `
		UPDATE office_leases SET expires_at = statement_timestamp() + $4 * interval '1 millisecond'
		WHERE office = $1 AND node = $2 AND epoch = $3 AND expires_at > statement_timestamp()`,
		o.id, o.node.ID, l.epoch, o.opts.LeaseTTL.Milliseconds())
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// stopLeading ends this node's leadership locally, if it has one, and
// returns it once its renewals have stopped.
func (o *Office) stopLeading() *leadership {
	o.mu.Lock()
	l := o.lead
	o.lead = nil
	o.mu.Unlock()
	if l != nil {
		l.cancel()
		<-l.done
	}
	return l
}

// Release gives the lease up at once (clean shutdown), so another node
// leads without waiting for the TTL. The leadership's context ends
// before the lease is given up.
func (o *Office) Release(ctx context.Context) error {
	l := o.stopLeading()
	if l == nil {
		return nil
	}
	ctx, cancel := o.statement(ctx)
	defer cancel()
	_, err := o.pool.Exec(ctx, `
		UPDATE office_leases SET expires_at = '-infinity'
		WHERE office = $1 AND node = $2 AND epoch = $3`, o.id, o.node.ID, l.epoch)
	if err != nil {
		return fmt.Errorf("releasing the lease of office %s: %w", o.id, err)
	}
	return nil
}

// OwnerURL is the leading node's URL; ErrNoWriter when no live lease.
func (o *Office) OwnerURL(ctx context.Context) (string, error) {
	ctx, cancel := o.statement(ctx)
	defer cancel()
	var url string
	err := o.pool.QueryRow(ctx, `SELECT node_url FROM office_leases WHERE office = $1 AND expires_at > statement_timestamp()`, o.id).Scan(&url)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("office %s: %w", o.id, ErrNoWriter)
	}
	if err != nil {
		return "", fmt.Errorf("reading who leads office %s: %w", o.id, err)
	}
	return url, nil
}
