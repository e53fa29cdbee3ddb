package device

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/display"
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
	h, err := newHerald(d)
	if err != nil {
		return nil, err
	}
	d.sound.onSaid = h.said
	d.spawn("hall screen", func(ctx context.Context) error {
		defer d.sound.close()
		return d.feed(ctx, 30*time.Second, func(v queue.View, online bool) {
			hall.SetView(v)
			hall.SetOnline(online)
			h.announce(v)
		})
	})
	d.status = h.status
	return hall, nil
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
	// queued is the newest call handed to the speaker, or let go, in this
	// run.
	queued uint64
	// pending are the calls after done that this run has taken up,
	// oldest first, as the speaker says them.
	pending []*heraldCall
	// gen names the calls of one log of the server: when its log goes
	// back, reports of calls queued before are stale.
	gen     int
	rewinds int
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
	h := &herald{d: d, done: done, queued: done.Seq, rewinds: d.follower.Status().Rewinds}
	if done.Parts > 0 {
		h.queued = done.Seq - 1 // the call at done.Seq still has languages to say
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

// announce queues the calls of v not said before, oldest first.
func (h *herald) announce(v queue.View) {
	d := h.d
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := d.follower.Status().Rewinds; r != h.rewinds {
		// The server went back to an earlier log: its seqs no longer
		// compare with ours. What it shows now is history.
		h.rewinds = r
		h.gen++
		h.pending = nil
		newest := uint64(0)
		for _, c := range v.Calls {
			newest = max(newest, c.Seq)
		}
		h.queued = newest
		d.log.Warn("the server's log went back; not announcing its calls so far", "last", newest)
		h.record(store.Announced{Seq: newest})
		return
	}
	now := d.clock.Now()
	for i := len(v.Calls) - 1; i >= 0; i-- { // View.Calls is newest first
		c := v.Calls[i]
		if c.Seq <= h.queued {
			continue
		}
		h.queued = c.Seq
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
		parts := callsFor(d.follower.Office(), voices, c)
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
			h.d.log.Info("said", "ticket", call.Ticket, "counter", call.Counter, "lang", call.Lang, "seq", seq)
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
	out := []audio.Call{{Lang: lang, Ticket: c.Number, Counter: c.Counter, CounterWord: word, Recall: c.Recall}}
	if both && c.Lang != "" && c.Lang != lang {
		if _, ok := voices.Pack(c.Lang); ok {
			out = append(out, audio.Call{Lang: c.Lang, Ticket: c.Number, Counter: c.Counter, Recall: c.Recall})
		}
	}
	return out
}
