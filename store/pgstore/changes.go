package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// listenQuiet is how long the listening connection may stay silent
// before it is asked to answer: a connection cut without a FIN or RST
// (a pulled cable, a router's lost state) is noticed within twice this.
const listenQuiet = 2 * time.Second

// Changes is one dedicated connection LISTENing for appended events, for
// every office of this node.
type Changes struct {
	cfg    *pgx.ConnConfig
	logger *slog.Logger

	mu      sync.Mutex
	offices map[string]chan struct{}
}

// Listen starts listening in its own goroutine until ctx ends; it
// reconnects by itself whenever the connection fails.
func (db *DB) Listen(ctx context.Context, logger *slog.Logger) *Changes {
	c := &Changes{cfg: db.Pool.Config().ConnConfig.Copy(), logger: logger, offices: map[string]chan struct{}{}}
	go c.run(ctx)
	return c
}

// Office's channel (capacity 1, coalescing) is signalled when the office
// may have new events: on its NOTIFY, and on every (re)connection of the
// listener, since NOTIFYs sent while it was away are lost.
func (c *Changes) Office(id string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channel(id)
}

// channel is office id's channel, made on first use; c.mu is held.
func (c *Changes) channel(id string) chan struct{} {
	ch, ok := c.offices[id]
	if !ok {
		ch = make(chan struct{}, 1)
		c.offices[id] = ch
	}
	return ch
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default: // a signal is already waiting: it covers this one too
	}
}

func (c *Changes) signalOffice(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	signal(c.channel(id))
}

func (c *Changes) signalAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.offices {
		signal(ch)
	}
}

func (c *Changes) run(ctx context.Context) {
	const firstPause, longestPause = 100 * time.Millisecond, 5 * time.Second
	pause := firstPause
	for {
		listened, err := c.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		if listened {
			pause = firstPause
		}
		c.logger.Warn("listening for the offices' new events failed; connecting again", "err", err, "in", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, longestPause)
	}
}

// listen connects, LISTENs and passes notifications on until the
// connection fails; listened tells whether it got as far as LISTEN.
func (c *Changes) listen(ctx context.Context) (listened bool, err error) {
	connectCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	conn, err := pgx.ConnectConfig(connectCtx, c.cfg)
	if err == nil {
		_, err = conn.Exec(connectCtx, "LISTEN "+eventsChannel)
	}
	cancel()
	if conn != nil {
		defer func() {
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			conn.Close(closeCtx)
			cancel()
		}()
	}
	if err != nil {
		return false, fmt.Errorf("connecting to listen: %w", err)
	}
	// Listening from now: whatever was appended while the listener was
	// away has been missed, so every office looks at its log.
	c.signalAll()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, listenQuiet)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			c.signalOffice(n.Payload)
			continue
		case ctx.Err() != nil:
			return true, nil
		case !errors.Is(err, context.DeadlineExceeded) && !pgconn.Timeout(err):
			return true, fmt.Errorf("waiting for notifications: %w", err)
		}
		// Quiet for a while: make sure the connection still answers.
		pingCtx, cancel := context.WithTimeout(ctx, listenQuiet)
		err = conn.Ping(pingCtx)
		cancel()
		if err != nil && ctx.Err() == nil {
			return true, fmt.Errorf("the listening connection stopped answering: %w", err)
		}
	}
}
