package device

import (
	"slices"

	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/queue"
)

// counterScreen is what a counter's display has been given: its own
// counter, and the calls to it. Only the feed's goroutine uses it.
type counterScreen struct {
	d      *dev
	screen *display.Counter
	n      int
	shown  counterShown
	has    bool   // the display has had a view
	seen   uint64 // the seq up to which the calls have been looked at
}

// counterShown is what the display draws of its counter.
type counterShown struct {
	known  bool
	status queue.CounterStatus
	ticket string
}

// react recomputes the counter's line, without any forecast, when the
// events touched the counters or the calls: a call to another counter
// changes nothing here, and neither does a new ticket in a line.
func (cs *counterScreen) react(s *queue.State, n news) func() {
	redraw := !cs.has
	var view queue.View
	if n.Parts&(queue.PartCounters|queue.PartCalls) != 0 {
		cv, known := s.CounterView(cs.n, cs.d.clock.Now())
		shown := counterShown{known: known, status: cv.Status}
		if cv.Current != nil {
			shown.ticket = cv.Current.Number
		}
		var calls []queue.RecentCall
		if !n.Rewound {
			for _, c := range s.CallsSince(cs.seen) {
				if c.Counter == cs.n {
					calls = append(calls, c)
				}
			}
		}
		slices.Reverse(calls) // View.Calls is newest first
		redraw = redraw || shown != cs.shown || len(calls) > 0
		cs.shown = shown
		view = queue.View{Office: s.Office.ID, Seq: s.Seq, Calls: calls}
		if known {
			view.Counters = []queue.CounterView{cv}
		}
	}
	cs.seen, cs.has = s.Seq, true
	return onScreen(redraw, n, func() { cs.screen.SetView(view) }, cs.screen.SetOnline)
}

// kioskScreen is what the kiosk's screen has been given: the services it
// offers, with their waits and whether they issue, and the office's seq
// for the service screen. Only the feed's goroutine uses it.
type kioskScreen struct {
	d      *dev
	screen *display.Kiosk
	v      queue.View
	has    bool
}

// react recomputes the services' lines when events changed them, or the
// clock may have (the waits); every event moves the seq the service
// screen shows.
func (ks *kioskScreen) react(s *queue.State, n news) func() {
	v := ks.v
	now := ks.d.clock.Now()
	redraw := officeParts(&v, s, now, n) || !ks.has || n.From != n.To || n.Reset
	v.Seq, v.At = s.Seq, now
	ks.v, ks.has = v, true
	return onScreen(redraw, n, func() { ks.screen.SetView(v) }, ks.screen.SetOnline)
}
