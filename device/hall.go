package device

import (
	"context"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/queue"
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
	d.spawn("hall screen", func(ctx context.Context) error {
		defer d.sound.close()
		return d.feed(ctx, 30*time.Second, func(v queue.View, online bool) {
			hall.SetView(v)
			hall.SetOnline(online)
			h.announce(v)
		})
	})
	d.status = func() any { return map[string]any{"last_announced": h.lastAnnounced()} }
	return hall, nil
}

// herald decides which calls to say: each call once, however often the
// hall restarts or reconnects. The seq of the last call said is kept on
// disk (synced) before the call is handed to the speaker; a call the hall
// learns of too late (after a long break) is shown but not said.
type herald struct {
	d       *dev
	last    uint64
	rewinds int
}

func newHerald(d *dev) (*herald, error) {
	last, err := d.db.LastAnnounced()
	if err != nil {
		return nil, err
	}
	return &herald{d: d, last: last, rewinds: d.follower.Status().Rewinds}, nil
}

func (h *herald) lastAnnounced() uint64 { return h.last }

// announce says the calls of v not said before, oldest first.
func (h *herald) announce(v queue.View) {
	d := h.d
	if r := d.follower.Status().Rewinds; r != h.rewinds {
		// The server went back to an earlier log: its seqs no longer
		// compare with ours. What it shows now is history.
		h.rewinds = r
		h.last = 0
		for _, c := range v.Calls {
			h.last = max(h.last, c.Seq)
		}
		d.log.Warn("the server's log went back; not announcing its calls so far", "last", h.last)
		h.save()
		return
	}
	now := d.clock.Now()
	newest := h.last
	var say []queue.RecentCall
	for i := len(v.Calls) - 1; i >= 0; i-- { // View.Calls is newest first
		c := v.Calls[i]
		if c.Seq <= h.last {
			continue
		}
		newest = max(newest, c.Seq)
		if age := now.Sub(c.At); age > d.cfg.Sound.AnnounceWithin {
			d.log.Info("not announcing a call the hall learnt of late", "ticket", c.Number, "counter", c.Counter, "age", age.Round(time.Second))
			continue
		}
		say = append(say, c)
	}
	if newest == h.last {
		return
	}
	h.last = newest
	h.save()
	for _, c := range say {
		d.log.Info("called", "ticket", c.Number, "counter", c.Counter, "recall", c.Recall, "seq", c.Seq)
	}
	if !d.cfg.Sound.Enabled || len(say) == 0 {
		return
	}
	a, voices, err := d.sound.announcer()
	if err != nil {
		return // said once in the log when the speaker would not open
	}
	o := d.follower.Office()
	for _, c := range say {
		for _, call := range callsFor(o, voices, c) {
			if err := a.Announce(call); err != nil {
				d.log.Warn("call not said", "ticket", c.Number, "err", err)
			}
		}
	}
}

func (h *herald) save() {
	if err := h.d.db.SetLastAnnounced(h.last); err != nil {
		h.d.log.Error("recording the last call announced", "err", err)
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
