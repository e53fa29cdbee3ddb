package device

import (
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/queue"
)

// A counter's display recomputes and redraws its own counter only: a call
// at another counter, a new ticket in a line or a rating leave it alone; a
// call to it, a recall or its counter's break redraw it.
func TestCounterScreenDrawsItsOwnCounter(t *testing.T) {
	s, now := busyMorning(t)
	d := &dev{clock: replica.NewClock(time.Until(now))}
	screen := display.NewCounter(display.CounterConfig{Panel: display.LandscapeHD, Number: 1, Location: s.Office.Location, Now: d.clock.Now})
	cs := &counterScreen{d: d, screen: screen, n: 1}
	step := func(cmds ...queue.Command) bool {
		t.Helper()
		ch := replica.Change{From: s.Seq, Online: true}
		for _, cmd := range cmds {
			events, _, err := s.Execute(now, "test", cmd)
			if err != nil {
				t.Fatalf("%s: %v", queue.String(cmd), err)
			}
			for _, e := range events {
				ch.Parts |= queue.PartsOf(e.Body)
			}
		}
		ch.To = s.Seq
		show := cs.react(s, news{Change: ch})
		if show != nil {
			show()
		}
		return show != nil
	}
	if show := cs.react(s, news{Change: replica.Change{From: s.Seq, To: s.Seq, Reset: true, Parts: queue.AllParts, Online: true, OnlineChanged: true}}); show == nil {
		t.Fatal("nothing to draw at first")
	}
	for _, tc := range []struct {
		what   string
		cmds   []queue.Command
		redraw bool
	}{
		{"a call at counter 2", []queue.Command{queue.Finish{Counter: 2}, queue.CallNext{Counter: 2}}, false},
		{"a new ticket", []queue.Command{queue.Issue{Service: s.Office.Services[0].ID, Lang: "pl", Channel: queue.ChannelKiosk}}, false},
		{"a rating at counter 2", []queue.Command{queue.RateAtCounter{Counter: 2, Rating: queue.RatingGood}}, false},
		{"a recall at counter 1", []queue.Command{queue.Recall{Counter: 1}}, true},
		{"the resident comes to counter 1 (it shows the same number)", []queue.Command{queue.Start{Counter: 1}}, false},
		{"counter 1 finishes and calls", []queue.Command{queue.Finish{Counter: 1}, queue.CallNext{Counter: 1}}, true},
		{"counter 1 pauses", []queue.Command{queue.Finish{Counter: 1}, queue.SetCounter{Counter: 1, Status: queue.CounterPausedStatus}}, true},
	} {
		if got := step(tc.cmds...); got != tc.redraw {
			t.Errorf("%s: redraw %v, want %v", tc.what, got, tc.redraw)
		}
	}
}
