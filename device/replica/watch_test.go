package replica_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/servertest"
)

// next waits for the watcher's next wake and takes what changed, until
// done says it has all a step should bring (a step's events may come over
// more than one wake).
func next(t *testing.T, w *replica.Watcher, what string, done func(replica.Change) bool) replica.Change {
	t.Helper()
	var sum replica.Change
	first := true
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-w.C():
		case <-deadline:
			t.Fatalf("waited 5s for %s; have %+v", what, sum)
		}
		w.Read(func(s *queue.State, ch replica.Change) {
			if first {
				sum, first = ch, false
				return
			}
			if ch.From != sum.To {
				t.Errorf("a change from %d after one to %d: a gap", ch.From, sum.To)
			}
			sum.To, sum.Parts = ch.To, sum.Parts|ch.Parts
			sum.Reset, sum.Rewound = sum.Reset || ch.Reset, sum.Rewound || ch.Rewound
			sum.Online, sum.OnlineChanged = ch.Online, sum.OnlineChanged || ch.OnlineChanged
		})
		if !first && done(sum) {
			return sum
		}
	}
}

// A watcher is told what the follower folded in, event range and the
// parts of the view it changed, and when the server comes and goes: a
// screen recomputes what changed only.
func TestWatcherHearsWhatChanged(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	clerk := srv.Tokens["clerk"]
	srv.MustCall(clerk, "POST", "/counters/1/open", "", 200)
	f := follow(t, srv.URL, srv.Office.ID, srv.Tokens["hall"], openDB(t, filepath.Join(t.TempDir(), "d.db")),
		replica.FollowOptions{OfflineAfter: 100 * time.Millisecond, Backoff: protocol.Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}})
	w := f.Watch()
	defer w.Stop()

	start := serverSeq(t, srv)
	ch := next(t, w, "the snapshot, online", func(c replica.Change) bool { return c.To == start && c.Online })
	if !ch.Reset || ch.Parts != queue.AllParts || !ch.OnlineChanged {
		t.Errorf("the first look: %+v, want a reset of all parts, online", ch)
	}

	srv.MustCall(clerk, "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"w1"}`, 201)
	want := serverSeq(t, srv)
	ch = next(t, w, "a new ticket", func(c replica.Change) bool { return c.To == want })
	if ch.From != start || ch.Reset || ch.OnlineChanged || ch.Parts != queue.PartLines {
		t.Errorf("a new ticket: %+v, want from %d, the lines only", ch, start)
	}

	from := want
	srv.MustCall(clerk, "POST", "/counters/1/next", "", 200)
	want = serverSeq(t, srv)
	ch = next(t, w, "a call", func(c replica.Change) bool { return c.To == want })
	if ch.From != from || ch.Parts != queue.PartLines|queue.PartCounters|queue.PartCalls {
		t.Errorf("a call: %+v, want from %d, lines, counters and calls", ch, from)
	}
	var calls []queue.RecentCall
	f.Read(func(s *queue.State) { calls = s.CallsSince(ch.From) })
	if len(calls) != 1 || calls[0].Seq != ch.To {
		t.Errorf("the calls since %d: %+v, want the one at %d", ch.From, calls, ch.To)
	}

	from = want
	res := srv.Actor().Do(context.Background(), "test", queue.ReportFault{Device: "kiosk", Fault: "paper_out"})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want = serverSeq(t, srv)
	ch = next(t, w, "a fault", func(c replica.Change) bool { return c.To == want })
	if ch.From != from || ch.Parts != queue.PartFaults {
		t.Errorf("a device's fault: %+v, want from %d, the faults only", ch, from)
	}

	srv.Stop()
	ch = next(t, w, "offline", func(c replica.Change) bool { return c.OnlineChanged && !c.Online })
	if ch.From != ch.To || ch.Parts != 0 {
		t.Errorf("the server gone: %+v, want no events", ch)
	}
	srv.Restart()
	next(t, w, "online again", func(c replica.Change) bool { return c.OnlineChanged && c.Online })
}
