package replica

import (
	"slices"

	"github.com/numerek/numerek/queue"
)

// Change is what a Watcher has not been told of yet: which events the
// follower folded in, what they changed, and whether the server can be
// reached. A screen recomputes, and redraws, only the parts it shows that
// changed.
type Change struct {
	// From is the seq the watcher saw last, To the state's seq now: the
	// events after From up to To have been folded in (none when equal).
	From, To uint64
	// Parts are what those events changed in the office's view
	// (queue.PartsOf); all of them after a Reset.
	Parts queue.Parts
	// Reset says the state was replaced wholesale (the state saved at the
	// last run, a snapshot, a changed configuration of the office), or
	// that this is the watcher's first look: anything may have changed.
	Reset bool
	// Rewound says the state went back to an earlier seq (a server
	// restored from a backup): seqs seen before may come again, for other
	// events.
	Rewound bool
	// Online is whether the server can be reached now; OnlineChanged
	// whether that changed (or this is the first look).
	Online, OnlineChanged bool
}

// Any reports whether anything changed.
func (c Change) Any() bool {
	return c.From != c.To || c.Parts != 0 || c.Reset || c.Rewound || c.OnlineChanged
}

// Watcher hears of a follower's changes: C receives a value after each
// (several may come as one), and Read takes them with the state.
type Watcher struct {
	f *Follower
	c chan struct{}
	// pending is guarded by f.mu.
	pending Change
}

// Watch returns a watcher of the follower's changes. Its first Read is a
// Reset, so a screen draws everything once.
func (f *Follower) Watch() *Watcher {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &Watcher{f: f, c: make(chan struct{}, 1)}
	w.pending = Change{Reset: true, Parts: queue.AllParts, OnlineChanged: true, Online: f.online}
	if f.state != nil {
		w.pending.From, w.pending.To = f.state.Seq, f.state.Seq
	}
	f.watchers = append(f.watchers, w)
	w.c <- struct{}{}
	return w
}

// Stop ends the watch.
func (w *Watcher) Stop() {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	w.f.watchers = slices.DeleteFunc(w.f.watchers, func(x *Watcher) bool { return x == w })
}

// C receives a value after the state or the online status changed.
func (w *Watcher) C() <-chan struct{} { return w.c }

// Read calls fn with the state and what changed since the last Read,
// under the follower's lock, and reports whether there is a state yet;
// without one the changes wait for the next Read. fn must not keep the
// state.
func (w *Watcher) Read(fn func(*queue.State, Change)) bool {
	f := w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == nil {
		return false
	}
	ch := w.pending
	ch.To, ch.Online = f.state.Seq, f.online
	w.pending = Change{From: ch.To, To: ch.To}
	fn(f.state, ch)
	return true
}

// tell records a change for every watcher and wakes them. f.mu must be
// held.
func (f *Follower) tell(record func(*Change)) {
	for _, w := range f.watchers {
		record(&w.pending)
		select {
		case w.c <- struct{}{}:
		default:
		}
	}
}

// folded tells the watchers of an event folded in. f.mu must be held.
func (f *Follower) folded(e queue.Event) {
	parts := queue.PartsOf(e.Body)
	f.tell(func(c *Change) { c.Parts |= parts })
}

// replaced tells the watchers that the state was replaced. f.mu must be
// held.
func (f *Follower) replaced(rewound bool) {
	f.tell(func(c *Change) {
		c.Reset, c.Parts = true, queue.AllParts
		c.Rewound = c.Rewound || rewound
	})
}

// onlineChanged tells the watchers that the server became reachable or
// unreachable. f.mu must be held.
func (f *Follower) onlineChanged() {
	f.tell(func(c *Change) { c.OnlineChanged = true })
}
