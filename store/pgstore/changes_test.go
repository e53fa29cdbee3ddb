package pgstore

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
)

func signalled(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// listening waits until c is connected and listening: a probe office's
// NOTIFY (or the connection's own signal) reaches it.
func listening(t *testing.T, db *DB, c *Changes) {
	t.Helper()
	probe := c.Office("probe")
	waitfor.Until(t, "the listener to listen", 30*time.Second, func() bool {
		db.Pool.Exec(context.Background(), `SELECT pg_notify($1, 'probe')`, eventsChannel)
		return signalled(probe)
	})
}

func listen(t *testing.T, db *DB) *Changes {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return db.Listen(ctx, slog.New(slog.DiscardHandler))
}

// An append wakes its office's channel on the listening node, and no
// other office's.
func TestChangesWakeOnAppend(t *testing.T) {
	db := open(t, migrated(t))
	c := listen(t, db)
	mine, other := c.Office("office"), c.Office("other")
	listening(t, db, c)
	signalled(mine)
	signalled(other)
	writer, _ := leading(t, open(t, db.url), "office", nodeA, OfficeOptions{})
	if err := writer.Append(dayEvents(1)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-mine:
	case <-time.After(20 * time.Second):
		t.Fatal("an append did not wake its office's channel")
	}
	if signalled(other) {
		t.Error("another office's channel was woken")
	}
}

// The listening connection is cut silently while an event is appended:
// its NOTIFY is lost, and the listener, once it has noticed and
// reconnected, wakes every office so each reads its log.
func TestChangesWakeAfterReconnect(t *testing.T) {
	u := migrated(t)
	viaProxy, proxy := behindProxy(t, u)
	c := listen(t, open(t, viaProxy))
	mine := c.Office("office")
	direct := open(t, u)
	listening(t, direct, c)
	signalled(mine)
	proxy.CutNow()
	writer, _ := leading(t, direct, "office", nodeA, OfficeOptions{})
	if err := writer.Append(dayEvents(1)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-mine: // only a new connection can have sent it: the NOTIFY went down the cut one
	case <-time.After(30 * time.Second):
		t.Fatal("the office was not woken after the listener reconnected")
	}
}
