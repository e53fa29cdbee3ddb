package queue

import (
	"slices"
	"testing"
	"time"
)

// A no-show, finish or close is taken back within the window while
// nothing else touched the counter or the ticket; then it stands.
func TestUndo(t *testing.T) {
	finish := func(h *harness) { h.do(Finish{Counter: 1}) }
	startAndFinish := func(h *harness) { h.do(Start{Counter: 1}); h.advance(3 * time.Minute); h.do(Finish{Counter: 1}) }
	noShow := func(h *harness) { h.do(MarkNoShow{Counter: 1}) }
	tests := []struct {
		name string
		move func(*harness)
		// then happens between the move and the undo.
		then func(*harness)
		ok   bool
		// want: the ticket's state after the undo ("" no ticket), the
		// counter's status.
		want   TicketState
		status CounterStatus
	}{
		{"finish, at once", finish, nil, true, Called, CounterOpenStatus},
		{"finish of a ticket being served", startAndFinish, nil, true, Serving, CounterOpenStatus},
		{"no-show", noShow, func(h *harness) { h.advance(UndoWindow) }, true, Called, CounterOpenStatus},
		{"close", func(h *harness) {
			finish(h)
			h.advance(time.Minute)
			h.do(SetCounter{Counter: 1, Status: CounterClosedStatus})
		}, nil, true, "", CounterOpenStatus},
		{"close after a pause", func(h *harness) {
			finish(h)
			h.do(SetCounter{Counter: 1, Status: CounterPausedStatus})
			h.advance(time.Minute)
			h.do(SetCounter{Counter: 1, Status: CounterClosedStatus})
		}, nil, true, "", CounterPausedStatus},
		{"finish, too late", finish, func(h *harness) { h.advance(UndoWindow + time.Second) }, false, Done, CounterOpenStatus},
		{"no-show, then the next call", noShow, func(h *harness) { h.callNext(1) }, false, NoShow, CounterOpenStatus},
		{"finish, then rated", finish, func(h *harness) { h.do(RateAtCounter{Counter: 1, Rating: RatingGood}) }, false, Done, CounterOpenStatus},
		{"finish, then paused", finish, func(h *harness) { h.do(SetCounter{Counter: 1, Status: CounterPausedStatus}) }, false, Done, CounterPausedStatus},
		{"finish, then undone once already", finish, func(h *harness) { h.do(Undo{Counter: 1}); h.do(Finish{Counter: 1}); h.do(Undo{Counter: 1}) }, false, Called, CounterOpenStatus},
		{"next finishes and calls: nothing to undo", func(h *harness) { h.callNext(1) }, nil, false, Done, CounterOpenStatus},
		{"the day rolled over", finish, func(h *harness) {
			h.now = at("08:00", "2026-11-24")
			h.do(SetCounter{Counter: 1, Status: CounterOpenStatus})
		}, false, "", CounterOpenStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testOffice(), at("09:00"))
			h.open(1)
			h.issue("family")
			h.issue("family")
			h.callNext(1)
			first := h.s.Counters[1].Current
			durations := len(h.s.Services["family"].Durations)
			h.advance(2 * time.Minute)
			tt.move(h)
			if tt.then != nil {
				tt.then(h)
			}
			d, err := h.try(Undo{Counter: 1})
			if ok := err == nil; ok != tt.ok {
				t.Fatalf("undo: %v, want done %v", err, tt.ok)
			}
			if !tt.ok && errKind(err) != Conflict {
				t.Errorf("refused undo: %v, want a conflict", err)
			}
			c := h.s.Counters[1]
			if c.Status != tt.status {
				t.Errorf("counter %s, want %s", c.Status, tt.status)
			}
			if tt.want != "" {
				tk := h.s.Tickets[first]
				if tk == nil || tk.State != tt.want {
					t.Fatalf("ticket %+v, want %s", tk, tt.want)
				}
				if tt.ok && (c.Current != first || !tk.EndedAt.IsZero() || d.Ticket != first) {
					t.Errorf("after the undo the counter holds %q (ended %v), want %s back", c.Current, tk.EndedAt, first)
				}
			}
			if tt.ok && tt.want != "" && len(h.s.Services["family"].Durations) != durations {
				t.Errorf("the forecast kept the undone service time: %v", h.s.Services["family"].Durations)
			}
			h.refold()
		})
	}
}

// The undone finish can be finished again with other outcomes; the log
// holds both finishes and the undo between them.
func TestUndoThenFinishAgain(t *testing.T) {
	o := testOffice()
	o.Services[0].Outcomes = []Outcome{{ID: "claim", Names: map[string]string{"pl": "Wniosek złożony", "en": "Claim filed"}}, {ID: "advice", Names: map[string]string{"pl": "Porada", "en": "Advice"}}}
	h := newHarness(t, o, at("09:00"))
	h.open(1)
	h.issue("family")
	h.callNext(1)
	h.do(Finish{Counter: 1, Outcomes: []string{"advice"}})
	if action, until, ok := h.s.UndoUntil(1, h.now); !ok || action != "finish" || !until.Equal(h.now.Add(UndoWindow)) {
		t.Errorf("UndoUntil: %s %v %v", action, until, ok)
	}
	h.do(Undo{Counter: 1})
	if _, _, ok := h.s.UndoUntil(1, h.now); ok {
		t.Error("an undone finish can be undone again")
	}
	h.do(Finish{Counter: 1, Outcomes: []string{"claim", "advice"}})
	var kinds []string
	for _, e := range h.log {
		kinds = append(kinds, e.Body.Kind())
	}
	if !slices.Equal(kinds[len(kinds)-3:], []string{"TicketFinished", "Undone", "TicketFinished"}) {
		t.Errorf("log ends %v", kinds)
	}
	if got := h.log[len(h.log)-1].Body.(TicketFinished).Outcomes; !slices.Equal(got, []string{"claim", "advice"}) {
		t.Errorf("outcomes %v", got)
	}
	h.refold()
}

// Finish records only the service's own outcomes; an unknown one is an
// invalid request naming it, and nothing is finished.
func TestFinishOutcomes(t *testing.T) {
	o := testOffice()
	o.Services[0].Outcomes = []Outcome{{ID: "claim", Names: map[string]string{"pl": "Wniosek złożony", "en": "Claim filed"}}}
	o.Services[1].Outcomes = []Outcome{{ID: "stamp", Names: map[string]string{"pl": "Opieczętowano", "en": "Stamped"}}}
	tests := []struct {
		outcomes []string
		want     []string
		err      string
	}{
		{nil, nil, ""},
		{[]string{"claim"}, []string{"claim"}, ""},
		{[]string{" claim ", "claim", ""}, []string{"claim"}, ""},
		{[]string{"stamp"}, nil, `outcomes: "stamp" is not an outcome of service family`},
		{[]string{"claim", "dance"}, nil, `outcomes: "dance" is not an outcome of service family`},
	}
	for _, tt := range tests {
		h := newHarness(t, o, at("09:00"))
		h.open(1)
		h.issue("family")
		h.callNext(1)
		_, err := h.try(Finish{Counter: 1, Outcomes: tt.outcomes})
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err || errKind(err) != Invalid):
			t.Errorf("%q: %v, want invalid %q", tt.outcomes, err, tt.err)
		case tt.err != "" && h.s.Counters[1].Current == "":
			t.Errorf("%q: refused, yet the ticket was finished", tt.outcomes)
		case tt.err == "" && err != nil:
			t.Errorf("%q: %v", tt.outcomes, err)
		case tt.err == "" && !slices.Equal(h.log[len(h.log)-1].Body.(TicketFinished).Outcomes, tt.want):
			t.Errorf("%q: recorded %v, want %v", tt.outcomes, h.log[len(h.log)-1].Body, tt.want)
		}
	}
}
