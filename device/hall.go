package device

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// buildHall makes the hall screen: the newest call large, the calls
// before it, the waits; each new call said by the speaker.
func (d *dev) buildHall(ctx context.Context) (display.Screen, error) {
	o := d.office(ctx, 5*time.Second)
	counterWord := ""
	if o != nil {
		counterWord = o.Rules.CounterWord
	}
	hall := display.NewHall(display.HallConfig{
		Panel: d.panel(), Lang: d.cfg.Languages[0], CounterWord: counterWord, Message: d.cfg.Screen.Message,
		Location: location(o), Now: d.clock.Now, BlinkFor: d.cfg.Screen.Blink,
	})
	d.sound = &soundOnce{cfg: d.cfg.Sound, log: d.log, now: func() time.Time {
		return d.clock.Now().In(location(d.follower.Office()))
	}}
	// Watching from before the herald reads how far the calls have been
	// said, so a rewind of the server's log in between is not missed.
	w := d.follower.Watch()
	h, err := newHerald(d)
	if err != nil {
		w.Stop()
		return nil, err
	}
	d.sound.onSaid = h.said
	hs := &hallScreen{d: d, screen: hall, herald: h, now: d.clock.Now}
	d.spawn("hall screen", func(ctx context.Context) error {
		defer d.sound.close()
		return d.feed(ctx, w, 30*time.Second, hs.react)
	})
	d.status = h.status
	d.health.setRole(nil, h.lastCall)
	return hall, nil
}

// hallScreen is what the hall has been given: the parts of the office's
// view it draws (name, opening, the lines and their waits, the calls).
// Only the feed's goroutine uses it.
type hallScreen struct {
	d      *dev
	screen *display.Hall
	herald *herald
	now    func() time.Time // office time
	v      queue.View
	shown  bool // the screen has had a view: calls after it are news to it
}

// react recomputes the parts of the hall's view that the events (or the
// clock) changed, and asks the office once which calls are new since the
// herald's last: those the herald says, and the screen blinks.
func (hs *hallScreen) react(s *queue.State, n news) func() {
	now := hs.now()
	v := hs.v
	redraw := officeParts(&v, s, now, n) || !hs.shown
	var fresh []queue.RecentCall
	newest := uint64(0)
	if n.Parts&queue.PartCalls != 0 {
		v.Calls = s.RecentCalls()
		if len(v.Calls) > 0 {
			newest = v.Calls[0].Seq
		}
		if !n.Rewound {
			fresh = s.CallsSince(hs.herald.cursor())
		}
		redraw = true
	}
	v.Seq, v.At = s.Seq, now
	hs.v = v
	screenFresh := fresh
	if !hs.shown {
		// The first view is history to the screen (no blink), though the
		// herald may still have calls to say from before a restart.
		screenFresh = nil
	}
	hs.shown = true
	if !redraw && !n.OnlineChanged && !n.Rewound && len(fresh) == 0 {
		return nil
	}
	office := s.Office
	return func() {
		if redraw {
			hs.screen.SetView(v, screenFresh)
		}
		if n.OnlineChanged {
			hs.screen.SetOnline(n.Online)
		}
		if n.Rewound {
			hs.herald.rewound(newest)
		}
		if len(fresh) > 0 {
			hs.herald.announce(office, fresh)
		}
	}
}

// herald decides which calls to say and records each once it has been
// said: every call is said once, however often the hall restarts or
// reconnects, and a hall stopped in the middle of a backlog (each call
// takes seconds of sound) says the rest when it starts again. How far the
// calls have been said is kept on disk (synced) after each announcement
// has been heard, not when it is queued. A call the hall learns of too
// late (after a long break: announce_within) is shown but not said.
type herald struct {
	d *dev

	mu sync.Mutex
	// done is how far the calls have been said, as on disk.
	done store.Announced
	// last is the last call said in this run (server clock), for the
	// health report.
	last *protocol.LastCall
	// queued is the newest call handed to the speaker, or let go, in this
	// run. It is written under mu but read without (cursor), so the feed
	// can ask for it while it holds the follower's lock.
	queued atomic.Uint64
	// pending are the calls after done that this run has taken up,
	// oldest first, as the speaker says them.
	pending []*heraldCall
	// gen names the calls of one log of the server: when its log goes
	// back, reports of calls queued before are stale.
	gen int
}

// heraldCall is a call being said: one announcement per language.
type heraldCall struct {
	seq uint64
	// parts is how many announcements the call has (0: none to say), and
	// handled how many of them have been said, or failed to be.
	parts, handled int
}

func newHerald(d *dev) (*herald, error) {
	done, err := d.db.Announced()
	if err != nil {
		return nil, err
	}
	h := &herald{d: d, done: done}
	h.queued.Store(done.Seq)
	if done.Parts > 0 {
		h.queued.Store(done.Seq - 1) // the call at done.Seq still has languages to say
	}
	return h, nil
}

// status is the hall's part of the status page.
func (h *herald) status() any {
	h.mu.Lock()
	defer h.mu.Unlock()
	through := h.done.Seq
	if h.done.Parts > 0 {
		through--
	}
	unsaid := 0
	for _, c := range h.pending {
		if c.handled < c.parts {
			unsaid++
		}
	}
	return map[string]any{"last_announced": through, "unsaid": unsaid}
}

// lastCall is the last call said since kioskd started, nil if none.
func (h *herald) lastCall() *protocol.LastCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last == nil {
		return nil
	}
	c := *h.last
	return &c
}

// cursor is the seq of the newest call the herald has taken up: the calls
// after it are news.
func (h *herald) cursor() uint64 { return h.queued.Load() }

// rewound drops what the herald was saying: the server went back to an
// earlier log, whose seqs no longer compare with ours. What it shows now,
// up to the call at newest, is history.
func (h *herald) rewound(newest uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gen++
	h.pending = nil
	h.queued.Store(newest)
	h.d.log.Warn("the server's log went back; not announcing its calls so far", "last", newest)
	h.record(store.Announced{Seq: newest})
}

// announce queues calls, the office's calls after the herald's cursor
// (oldest first, as queue.State.CallsSince answers), to be said.
func (h *herald) announce(o *queue.Office, calls []queue.RecentCall) {
	d := h.d
	h.mu.Lock()
	defer h.mu.Unlock()
	now := d.clock.Now()
	for _, c := range calls {
		if c.Seq <= h.queued.Load() {
			continue // taken up already (a change read twice)
		}
		h.queued.Store(c.Seq)
		hc := &heraldCall{seq: c.Seq}
		if c.Seq == h.done.Seq {
			hc.handled = h.done.Parts // said in part before a restart
		}
		h.pending = append(h.pending, hc)
		if age := now.Sub(c.At); age > d.cfg.Sound.AnnounceWithin {
			d.log.Info("not announcing a call the hall learnt of late", "ticket", c.Number, "counter", c.Counter, "age", age.Round(time.Second))
			continue
		}
		d.log.Info("called", "ticket", c.Number, "counter", c.Counter, "recall", c.Recall, "seq", c.Seq)
		if !d.cfg.Sound.Enabled {
			continue
		}
		a, voices, err := d.sound.announcer()
		if err != nil {
			continue // said once in the log when the speaker would not open
		}
		parts := callsFor(o, voices, c)
		hc.parts = len(parts)
		for i := hc.handled; i < len(parts); i++ {
			parts[i].ID = fmt.Sprintf("%d/%d", h.gen, c.Seq)
			if err := a.Announce(parts[i]); err != nil {
				d.log.Warn("call not said", "ticket", c.Number, "err", err)
				hc.handled++
			}
		}
	}
	h.advance()
}

// said is the speaker's report (audio's OnSaid) that one announcement has
// been heard to its end.
func (h *herald) said(call audio.Call) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var gen int
	var seq uint64
	if _, err := fmt.Sscanf(call.ID, "%d/%d", &gen, &seq); err != nil || gen != h.gen {
		return // the service screen's test call, or a call of a log gone back
	}
	for _, c := range h.pending {
		if c.seq == seq {
			c.handled++
			h.last = &protocol.LastCall{Ticket: call.Ticket, Counter: call.Counter, At: h.d.clock.Now()}
			h.d.log.Info("said", "ticket", call.Ticket, "counter", call.Counter, "lang", call.Lang, "seq", seq)
			if m := h.d.metrics; m != nil { // nil in the hall's unit tests
				m.said.Inc()
			}
			h.advance()
			return
		}
	}
}

// advance records on disk how far the calls have been said: past every
// call said in full (or let go), into the next one by the languages said.
// h.mu must be held.
func (h *herald) advance() {
	next := h.done
	for len(h.pending) > 0 {
		c := h.pending[0]
		if c.handled < c.parts {
			if c.handled > 0 {
				next = store.Announced{Seq: c.seq, Parts: c.handled}
			}
			break
		}
		next = store.Announced{Seq: c.seq}
		h.pending = h.pending[1:]
	}
	if next != h.done {
		h.record(next)
	}
}

// record keeps how far the calls have been said. h.mu must be held.
func (h *herald) record(done store.Announced) {
	h.done = done
	if err := h.d.db.SetAnnounced(done); err != nil {
		h.d.log.Error("recording the calls announced", "err", err)
	}
}

// callsFor is what the speaker says for a call: in the office's language
// with its word for a counter, then, where the office wants it, in the
// language the ticket was taken in.
func callsFor(o *queue.Office, voices *audio.Voices, c queue.RecentCall) []audio.Call {
	lang, word, both := "pl", "", false
	if o != nil {
		lang, word, both = o.DefaultLanguage(), o.Rules.CounterWord, o.Rules.AnnounceTicketLanguage
	}
	return voices.InBothLanguages(audio.Call{Lang: lang, Ticket: c.Number, Counter: c.Counter, CounterWord: word, Recall: c.Recall}, c.Lang, both)
}
