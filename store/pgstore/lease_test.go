package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
)

// The guarantee these tests defend: there are never two nodes
// acknowledging writes for one office. It rests on three things, each
// tested on its own below: (office, seq) is unique; an Append commits
// only under the lease at the epoch its node won, and every take-over
// raises the epoch (so a deposed leader is refused by the database even
// when it still believes it leads); and a leader cut off from the
// database ends its leadership by its own clock before the lease can
// expire in the database's, so it has stopped before anyone else starts.

func dayEvents(n int) []queue.Event {
	at := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var out []queue.Event
	for i := 1; i <= n; i++ {
		out = append(out, queue.Event{Seq: uint64(i), At: at.Add(time.Duration(i) * time.Second), Actor: "test", Body: queue.DayRolledOver{Day: "2026-11-23"}})
	}
	return out
}

// leadAsync starts Lead in a goroutine; the channel gets its context when
// it wins.
func leadAsync(t *testing.T, o *Office) <-chan context.Context {
	t.Helper()
	won := make(chan context.Context, 1)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		lead, err := o.Lead(ctx)
		if err == nil {
			won <- lead
		}
	}()
	return won
}

func ended(ctx context.Context) bool { return ctx.Err() != nil }

// Two nodes: only the one holding the lease appends; the other's Append
// is refused, its Lead waits, and it reads and forwards to the leader.
func TestOnlyTheLeaderAppends(t *testing.T) {
	db := open(t, migrated(t))
	events := dayEvents(6)
	a, _ := leading(t, db, "office", nodeA, OfficeOptions{})
	b := db.Office("office", nodeB, OfficeOptions{})
	if err := b.Append(events[:1]); !errors.Is(err, ErrNotWriter) {
		t.Fatalf("a node that never led appended: %v", err)
	}
	if err := a.Append(events[:3]); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := b.Lead(short); err == nil {
		t.Fatal("a second node won a lease that is held and renewed")
	}
	if err := b.Append(events[3:4]); !errors.Is(err, ErrNotWriter) {
		t.Fatalf("the node that does not lead appended: %v", err)
	}
	if url, err := b.OwnerURL(context.Background()); err != nil || url != nodeA.URL {
		t.Errorf("OwnerURL = %q, %v; want the leader's %q", url, err, nodeA.URL)
	}
	if err := a.Append(events[3:6]); err != nil {
		t.Fatal(err)
	}
	if last, _ := b.LastSeq(); last != 6 {
		t.Errorf("the other node reads the log to %d, want 6", last)
	}
	if _, err := db.Office("nobody-leads", nodeA, OfficeOptions{}).OwnerURL(context.Background()); !errors.Is(err, ErrNoWriter) {
		t.Errorf("OwnerURL of an office nobody leads: %v, want ErrNoWriter", err)
	}
}

// Release hands over at once: the waiting node leads long before the
// lease would have expired, the old leader's context has ended and its
// appends are refused.
func TestReleaseHandsOverAtOnce(t *testing.T) {
	db := open(t, migrated(t))
	opts := OfficeOptions{LeaseTTL: 30 * time.Second}
	a, aLead := leading(t, db, "office", nodeA, opts)
	b := db.Office("office", nodeB, opts)
	won := leadAsync(t, b)
	if err := a.Append(dayEvents(1)); err != nil {
		t.Fatal(err)
	}
	released := time.Now()
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !ended(aLead) {
		t.Error("the releasing node's leadership had not ended when Release returned")
	}
	var bLead context.Context
	select {
	case bLead = <-won:
	case <-time.After(opts.LeaseTTL / 2):
		t.Fatalf("the other node did not lead within %v of the release", opts.LeaseTTL/2)
	}
	t.Logf("the other node led %v after the release", time.Since(released).Round(time.Millisecond))
	if err := a.Append(dayEvents(2)[1:]); !errors.Is(err, ErrNotWriter) {
		t.Errorf("the node that released appended: %v", err)
	}
	if err := b.Append(dayEvents(2)[1:]); err != nil || ended(bLead) {
		t.Errorf("the new leader's append: %v (leading: %v)", err, !ended(bLead))
	}
	if url, _ := a.OwnerURL(context.Background()); url != nodeB.URL {
		t.Errorf("OwnerURL after the hand-over = %q, want %q", url, nodeB.URL)
	}
}

// A leader cut off from PostgreSQL (no FIN, no RST: its packets just
// vanish) ends its leadership before the other node can take the lease
// over; afterwards its writes are refused even with the network back.
func TestCutOffLeaderStopsBeforeAnotherLeads(t *testing.T) {
	u := migrated(t)
	viaProxy, proxy := behindProxy(t, u)
	opts := OfficeOptions{LeaseTTL: 3 * time.Second, Timeout: 2 * time.Second}
	a, aLead := leading(t, open(t, viaProxy), "office", nodeA, opts)
	if err := a.Append(dayEvents(2)); err != nil {
		t.Fatal(err)
	}
	b := open(t, u).Office("office", nodeB, opts)
	var aStopped, bLed atomic.Int64 // nanoseconds since cut
	cut := time.Now()
	go func() {
		<-aLead.Done()
		aStopped.Store(int64(time.Since(cut)))
	}()
	won := leadAsync(t, b)
	proxy.Set(faultproxy.Cut)
	var bLead context.Context
	select {
	case bLead = <-won:
		bLed.Store(int64(time.Since(cut)))
	case <-time.After(30 * time.Second):
		t.Fatal("the other node never led after the leader was cut off")
	}
	waitfor.Until(t, "the cut-off leader's context to end", 10*time.Second, func() bool { return aStopped.Load() != 0 })
	t.Logf("cut off: the leader stopped after %v, the other led after %v",
		time.Duration(aStopped.Load()).Round(time.Millisecond), time.Duration(bLed.Load()).Round(time.Millisecond))
	if aStopped.Load() >= bLed.Load() {
		t.Fatalf("two leaders at once: the cut-off node stopped %v after the cut, the other led at %v",
			time.Duration(aStopped.Load()), time.Duration(bLed.Load()))
	}
	if err := a.Append(dayEvents(3)[2:]); !errors.Is(err, ErrNotWriter) {
		t.Errorf("the cut-off node appended: %v", err)
	}
	if err := b.Append(dayEvents(3)[2:]); err != nil || ended(bLead) {
		t.Fatalf("the new leader's append: %v", err)
	}
	proxy.Set(faultproxy.Pass)
	if err := a.Append(dayEvents(4)[3:]); !errors.Is(err, ErrNotWriter) {
		t.Errorf("the deposed node appended once the network was back: %v", err)
	}
	if last, _ := b.LastSeq(); last != 3 {
		t.Errorf("the log ends at %d, want 3", last)
	}
}

// Fencing holds when timing does not: the database moves the lease on
// while the old leader still believes it leads (its process was frozen,
// the database's clock jumped). The old leader's append is refused by
// the database, not by its own clock.
func TestDeposedLeaderIsFencedByTheDatabase(t *testing.T) {
	db := open(t, migrated(t))
	// Long enough that the old leader still believes it leads when it
	// appends, short enough that its next renewal (at TTL/3) comes soon.
	opts := OfficeOptions{LeaseTTL: 15 * time.Second}
	a, aLead := leading(t, db, "office", nodeA, opts)
	if err := a.Append(dayEvents(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(context.Background(), `UPDATE office_leases SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	b, _ := leading(t, db, "office", nodeB, opts)
	if ended(aLead) {
		t.Fatal("the test wants the old leader still believing it leads")
	}
	err := a.Append(dayEvents(2)[1:])
	if !errors.Is(err, ErrNotWriter) {
		t.Fatalf("the deposed leader's append: %v, want ErrNotWriter", err)
	}
	if err := b.Append(dayEvents(2)[1:]); err != nil {
		t.Fatal(err)
	}
	// Its renewal finds the lease gone and ends its leadership.
	waitfor.Until(t, "the deposed leader's context to end", 20*time.Second, func() bool { return ended(aLead) })
}

// A take-over waits for an append under way: the old leader's fenced
// transaction holds the lease row FOR SHARE, so the new leader's Lead
// returns only once that transaction has ended, and then reads every
// event the old leader committed.
func TestTakeOverWaitsForAnAppendUnderWay(t *testing.T) {
	db := open(t, migrated(t))
	opts := OfficeOptions{LeaseTTL: time.Minute}
	leading(t, db, "office", nodeA, opts)
	ctx := context.Background()
	// The lease is about to lapse (by the database's clock) while the
	// old leader still believes it leads.
	if _, err := db.Pool.Exec(ctx, `UPDATE office_leases SET expires_at = now() + interval '500 milliseconds'`); err != nil {
		t.Fatal(err)
	}
	// What Append's transaction does, held open past the lease's expiry.
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if tag, err := tx.Exec(ctx, `SELECT 1 FROM office_leases WHERE office = 'office' AND node = $1 FOR SHARE`, nodeA.ID); err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("locking the lease row: %v %v", tag, err)
	}
	event, _ := json.Marshal(dayEvents(1)[0])
	if _, err := tx.Exec(ctx, `INSERT INTO office_events (office, seq, at, kind, event) VALUES ('office', 1, now(), 'x', $1)`, string(event)); err != nil {
		t.Fatal(err)
	}
	b := db.Office("office", nodeB, opts)
	won := leadAsync(t, b)
	waitfor.Until(t, "the take-over to wait for the lease row", 20*time.Second, func() bool {
		var waiting int
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO office_leases AS l%'`).Scan(&waiting)
		return err == nil && waiting > 0
	})
	select {
	case <-won:
		t.Fatal("the other node led while the old leader's append was under way")
	default:
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-won:
	case <-time.After(20 * time.Second):
		t.Fatal("the other node did not lead once the append had committed")
	}
	if last, _ := b.LastSeq(); last != 1 {
		t.Errorf("the new leader reads the log to %d, want 1", last)
	}
}
