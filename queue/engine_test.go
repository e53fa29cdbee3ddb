package queue

import (
	"testing"
	"time"
)

func TestNumbersPerServiceAndDay(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	got := []string{h.issue("family").Number, h.issue("docs").Number, h.issue("family").Number}
	want := []string{"A001", "D001", "A002"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ticket %d = %s, want %s", i, got[i], want[i])
		}
	}
	h.now = at("09:00", "2026-11-24")
	if n := h.issue("family").Number; n != "A001" {
		t.Errorf("next day starts at %s, want A001", n)
	}
	if len(h.s.Tickets) != 1 {
		t.Errorf("yesterday's tickets still in today's queues: %d", len(h.s.Tickets))
	}
	h.refold()
}

func TestDayRollOverCancelsLeftoversAndClosesCounters(t *testing.T) {
	h := newHarness(t, testOffice(), at("15:00"))
	h.open(1)
	h.issue("family")
	h.issue("family")
	h.callNext(1)
	h.now = at("08:05", "2026-11-24")
	h.issue("family")
	if st := h.s.Counters[1].Status; st != CounterClosedStatus {
		t.Errorf("counter 1 is %s after the night, want closed", st)
	}
	if h.s.Counters[1].Current != "" {
		t.Errorf("counter 1 still holds %s", h.s.Counters[1].Current)
	}
	if _, err := h.try(CallNext{Counter: 1}); errKind(err) != Conflict {
		t.Errorf("calling at a closed counter: %v, want a conflict", err)
	}
	if h.s.Day != "2026-11-24" {
		t.Errorf("day = %s", h.s.Day)
	}
	h.refold()
}

func TestIdempotentIssue(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	cmd := Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk, RequestID: "kiosk-1-42"}
	a := h.do(cmd)
	h.advance(time.Minute)
	b := h.do(cmd)
	if a.Ticket != b.Ticket {
		t.Errorf("same request id gave %s and %s", a.Ticket, b.Ticket)
	}
	if n := len(h.s.Tickets); n != 1 {
		t.Errorf("%d tickets issued, want 1", n)
	}
	h.refold()
}

func TestIssueRefusals(t *testing.T) {
	tests := []struct {
		name    string
		now     time.Time
		service string
		prepare func(h *harness)
		want    Reason
		until   time.Time
	}{
		{name: "before opening", now: at("07:40"), service: "family", want: ReasonClosed, until: at("08:00")},
		{name: "after closing", now: at("16:30"), service: "family", want: ReasonClosed, until: at("08:00", "2026-11-24")},
		{name: "lunch break", now: at("12:30", "2026-11-25"), service: "family", want: ReasonClosed, until: at("13:00", "2026-11-25")},
		{name: "weekend", now: at("10:00", "2026-11-28"), service: "family", want: ReasonClosed, until: at("08:00", "2026-11-30")},
		{name: "holiday", now: at("10:00", "2026-12-24"), service: "family", want: ReasonHoliday, until: at("08:00", "2026-12-25")},
		{name: "cut-off", now: at("15:50"), service: "family", want: ReasonCutOff, until: at("08:00", "2026-11-24")},
		{name: "cut-off on a short day", now: at("11:50", "2026-11-27"), service: "family", want: ReasonCutOff, until: at("08:00", "2026-11-30")},
		{name: "daily cap", now: at("10:00"), service: "docs", prepare: func(h *harness) {
			for range 3 {
				h.issue("docs")
			}
		}, want: ReasonDailyCap, until: at("08:00", "2026-11-24")},
		{name: "queue too long to serve before closing", now: at("15:00"), service: "family", prepare: func(h *harness) {
			h.now = at("14:00")
			h.open(1)
			for range 12 {
				h.issue("family")
			}
			h.now = at("15:00")
		}, want: ReasonPastClosing, until: at("08:00", "2026-11-24")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testOffice(), tt.now)
			if tt.prepare != nil {
				tt.prepare(h)
			}
			_, err := h.try(Issue{Service: tt.service, Lang: "pl", Channel: ChannelKiosk})
			if got := refusal(err); got != tt.want {
				t.Fatalf("refusal = %q (%v), want %q", got, err, tt.want)
			}
			qe := err.(*Error)
			if !qe.Refusal.Until.Equal(tt.until) {
				t.Errorf("until = %s, want %s", qe.Refusal.Until.In(warsaw), tt.until)
			}
			if qe.Refusal.Reason == ReasonHoliday && qe.Refusal.Holiday != "Wigilia" {
				t.Errorf("holiday named %q", qe.Refusal.Holiday)
			}
		})
	}
}

func TestIssueOpenJustBeforeCutOff(t *testing.T) {
	h := newHarness(t, testOffice(), at("15:44"))
	h.open(1, 2)
	if _, err := h.try(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk}); err != nil {
		t.Fatalf("15:44, cut-off at 15:45: %v", err)
	}
}

func TestBadIssueInput(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	tests := []struct {
		cmd  Issue
		kind ErrorKind
	}{
		{Issue{Service: "nope", Lang: "pl", Channel: ChannelKiosk}, NotFound},
		{Issue{Service: "family", Lang: "", Channel: ChannelKiosk}, Invalid},
		{Issue{Service: "family", Lang: "Polish", Channel: ChannelKiosk}, Invalid},
		{Issue{Service: "family", Lang: "pl", Channel: "fax"}, Invalid},
	}
	for _, tt := range tests {
		if _, err := h.try(tt.cmd); errKind(err) != tt.kind {
			t.Errorf("%+v: %v, want kind %d", tt.cmd, err, tt.kind)
		}
	}
	if len(h.s.Tickets) != 0 {
		t.Errorf("bad input issued %d tickets", len(h.s.Tickets))
	}
}

func TestCallOrder(t *testing.T) {
	tests := []struct {
		name  string
		steps func(h *harness)
		// calls are made at counter, in order, and must call these numbers.
		counter int
		want    []string
	}{
		{
			name: "first come first served in a service",
			steps: func(h *harness) {
				for range 3 {
					h.issue("family")
					h.advance(time.Minute)
				}
			},
			counter: 1, want: []string{"A001", "A002", "A003", ""},
		},
		{
			name: "priority ticket first",
			steps: func(h *harness) {
				h.issue("family")
				h.advance(time.Minute)
				h.do(Issue{Service: "family", Lang: "uk", Channel: ChannelKiosk, Priority: true})
			},
			counter: 1, want: []string{"A002", "A001"},
		},
		{
			name: "counter calls only its services",
			steps: func(h *harness) {
				h.issue("docs")
				h.advance(time.Minute)
				h.issue("family")
			},
			counter: 3, want: []string{"D001", ""},
		},
		{
			name: "longer wait wins between equal services",
			steps: func(h *harness) {
				h.issue("docs")
				h.advance(5 * time.Minute)
				h.issue("family")
				h.advance(time.Minute)
			},
			counter: 2, want: []string{"D001", "A001"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testOffice(), at("09:00"))
			h.open(1, 2, 3)
			tt.steps(h)
			for i, want := range tt.want {
				if got := h.callNext(tt.counter); got != want {
					t.Errorf("call %d = %q, want %q", i+1, got, want)
				}
				h.advance(time.Minute)
			}
			h.refold()
		})
	}
}

func TestWeightedPolicyDoesNotStarve(t *testing.T) {
	o := testOffice()
	o.Services[0].Priority = 5 // family matters five times more than documents
	h := newHarness(t, o, at("09:00"))
	h.open(2)
	h.issue("docs")
	for i := 0; i < 40; i++ {
		h.issue("family")
		h.advance(time.Minute)
	}
	// Counter 2 serves both: the heavy family line goes first, but the
	// document ticket must be called once it has waited long enough.
	calls := 0
	for {
		calls++
		n := h.callNext(2)
		if n == "D001" {
			break
		}
		if n == "" || calls > 40 {
			t.Fatalf("D001 never called in %d calls", calls)
		}
		h.advance(3 * time.Minute)
	}
	if calls == 1 {
		t.Errorf("D001 called first although family weighs 5x and waited as long")
	}
}

func TestClerkMoves(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	a1 := h.issue("family")
	a2 := h.issue("family")
	h.callNext(1)
	if a1.State != Called || h.s.Counters[1].Current != a1.ID {
		t.Fatalf("A001 %s at counter %q", a1.State, h.s.Counters[1].Current)
	}
	h.do(Start{Counter: 1})
	if a1.State != Serving {
		t.Errorf("after start: %s", a1.State)
	}
	if _, err := h.try(Recall{Counter: 1}); errKind(err) != Conflict {
		t.Errorf("recall while serving: %v", err)
	}
	h.advance(4 * time.Minute)
	h.do(Finish{Counter: 1})
	if a1.State != Done || h.s.Counters[1].Current != "" {
		t.Errorf("after finish: %s, counter holds %q", a1.State, h.s.Counters[1].Current)
	}
	if got := h.s.Services["family"].Durations; len(got) != 1 || got[0] != 4*time.Minute {
		t.Errorf("service time learned = %v, want [4m]", got)
	}
	// "next" while serving finishes the current ticket first.
	h.callNext(1)
	h.do(Start{Counter: 1})
	a3 := h.issue("family")
	h.callNext(1)
	if a2.State != Done || a3.State != Called {
		t.Errorf("next while serving: A002 %s, A003 %s", a2.State, a3.State)
	}
	h.refold()
}

func TestRecallLimitMakesNoShow(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	a := h.issue("family")
	h.callNext(1)
	for i := 1; i <= 2; i++ {
		h.do(Recall{Counter: 1})
		if a.Recalls != i || a.State != Called {
			t.Fatalf("recall %d: recalls=%d state=%s", i, a.Recalls, a.State)
		}
	}
	h.do(Recall{Counter: 1})
	if a.State != NoShow {
		t.Errorf("after the limit: %s, want no-show", a.State)
	}
	if h.s.Counters[1].Current != "" {
		t.Errorf("counter still holds the no-show")
	}
	if len(h.s.Calls) != 3 || !h.s.Calls[1].Recall {
		t.Errorf("hall calls = %+v: want the call and two recalls", h.s.Calls)
	}
	h.refold()
}

func TestMarkNoShow(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	a := h.issue("family")
	h.callNext(1)
	h.do(MarkNoShow{Counter: 1})
	if a.State != NoShow {
		t.Errorf("state %s", a.State)
	}
	if _, err := h.try(MarkNoShow{Counter: 1}); errKind(err) != Conflict {
		t.Errorf("no-show with nobody at the counter: %v", err)
	}
}

func TestTransfer(t *testing.T) {
	t.Run("to another service keeping place", func(t *testing.T) {
		h := newHarness(t, testOffice(), at("09:00"))
		h.open(1, 3)
		a := h.issue("family")
		h.advance(time.Minute)
		h.issue("docs")
		h.advance(time.Minute)
		h.callNext(1)
		h.do(Transfer{Counter: 1, ToService: "docs", KeepPlace: true, Note: "needs form 3"})
		if a.State != Waiting || a.Service != "docs" || a.Note != "needs form 3" {
			t.Fatalf("after transfer: %+v", a)
		}
		if got := h.callNext(3); got != "A001" {
			t.Errorf("counter 3 called %s, want A001 (kept its place before D001)", got)
		}
	})
	t.Run("to the back of the line", func(t *testing.T) {
		h := newHarness(t, testOffice(), at("09:00"))
		h.open(1, 3)
		h.issue("family")
		h.advance(time.Minute)
		h.issue("docs")
		h.advance(time.Minute)
		h.callNext(1)
		h.do(Transfer{Counter: 1, ToService: "docs"})
		if got := h.callNext(3); got != "D001" {
			t.Errorf("counter 3 called %s, want D001 (A001 went to the back)", got)
		}
	})
	t.Run("to a counter only that counter calls", func(t *testing.T) {
		h := newHarness(t, testOffice(), at("09:00"))
		h.open(1, 2)
		h.issue("family")
		h.callNext(1)
		h.do(Transfer{Counter: 1, ToCounter: 2, KeepPlace: true})
		h.issue("family")
		if got := h.callNext(1); got != "A002" {
			t.Errorf("counter 1 called %s, want A002: A001 belongs to counter 2", got)
		}
		if got := h.callNext(2); got != "A001" {
			t.Errorf("counter 2 called %s, want A001", got)
		}
		h.refold()
	})
	t.Run("assistant moves a waiting ticket", func(t *testing.T) {
		h := newHarness(t, testOffice(), at("09:00"))
		a := h.issue("family")
		h.do(Transfer{Ticket: "A001", ToService: "docs", KeepPlace: true, Note: "wrong matter"})
		if a.Service != "docs" {
			t.Errorf("service %s", a.Service)
		}
		if _, err := h.try(Transfer{Ticket: "A001", ToService: "nope"}); errKind(err) != NotFound {
			t.Errorf("unknown service: %v", err)
		}
	})
}

func TestParkAndCallBack(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1, 2)
	a := h.issue("family")
	h.issue("family")
	h.callNext(1)
	h.do(Park{Counter: 1})
	if a.State != Parked || h.s.Counters[1].Current != "" {
		t.Fatalf("after park: %s", a.State)
	}
	if got := h.callNext(2); got != "A002" {
		t.Errorf("a parked ticket was called by next: %s", got)
	}
	if _, err := h.try(CallTicket{Counter: 2, Ticket: "A001"}); errKind(err) != Conflict {
		t.Errorf("another counter took the parked ticket: %v", err)
	}
	d := h.do(CallTicket{Counter: 1, Ticket: "A001"})
	if d.Ticket != a.ID || a.State != Called {
		t.Errorf("call back: %s", a.State)
	}
	h.refold()
}

func TestCallSpecific(t *testing.T) {
	o := testOffice()
	h := newHarness(t, o, at("09:00"))
	h.open(1)
	h.issue("family")
	h.issue("family")
	d := h.do(CallTicket{Counter: 1, Ticket: "A002"})
	if h.s.Tickets[d.Ticket].Number != "A002" {
		t.Fatalf("called %s", d.Ticket)
	}
	last := h.log[len(h.log)-1].Body.(TicketCalled)
	if !last.Specific {
		t.Errorf("an out-of-order call must be logged as such")
	}
	o.Rules.AllowCallSpecific = false
	if _, err := h.try(CallTicket{Counter: 1, Ticket: "A001"}); errKind(err) != Conflict {
		t.Errorf("office forbids it, got %v", err)
	}
}

func TestCounterStatus(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	h.issue("family")
	h.callNext(1)
	if _, err := h.try(SetCounter{Counter: 1, Status: CounterPausedStatus}); errKind(err) != Conflict {
		t.Errorf("pause with a resident at the counter: %v", err)
	}
	h.do(Finish{Counter: 1})
	h.do(SetCounter{Counter: 1, Status: CounterPausedStatus})
	h.issue("family")
	if _, err := h.try(CallNext{Counter: 1}); errKind(err) != Conflict {
		t.Errorf("next on a break: %v", err)
	}
	h.do(SetCounter{Counter: 1, Status: CounterOpenStatus})
	if got := h.callNext(1); got != "A002" {
		t.Errorf("after resuming called %q", got)
	}
	if _, err := h.try(SetCounter{Counter: 9, Status: CounterOpenStatus}); errKind(err) != NotFound {
		t.Errorf("unknown counter: %v", err)
	}
}

func TestRating(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	a := h.issue("family")
	h.callNext(1)
	if _, err := h.try(Rate{Ticket: "A001", Rating: RatingGood}); errKind(err) != Conflict {
		t.Errorf("rating before service: %v", err)
	}
	h.do(Finish{Counter: 1})
	h.do(RateAtCounter{Counter: 1, Rating: RatingBad})
	if a.Rating != RatingBad {
		t.Errorf("rating %q", a.Rating)
	}
	if _, err := h.try(Rate{Ticket: "A001", Rating: RatingGood}); errKind(err) != Conflict {
		t.Errorf("rated twice: %v", err)
	}
	if _, err := h.try(Rate{Ticket: "A001", Rating: "meh"}); errKind(err) != Invalid {
		t.Errorf("bad rating: %v", err)
	}
	h.advance(RateWindow + time.Minute)
	if _, err := h.try(RateAtCounter{Counter: 1, Rating: RatingGood}); errKind(err) != Conflict {
		t.Errorf("button rating long after service: %v", err)
	}
}

func TestCancelTicket(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	a := h.issue("family")
	h.issue("family")
	h.do(CancelTicket{Ticket: a.ID})
	if got := h.callNext(1); got != "A002" {
		t.Errorf("cancelled ticket called: %s", got)
	}
	if _, err := h.try(CancelTicket{Ticket: "A002"}); errKind(err) != Conflict {
		t.Errorf("cancelling a called ticket: %v", err)
	}
}

func TestDeviceFaults(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.do(ReportFault{Device: "kiosk-1", Fault: "paper-out"})
	n := len(h.log)
	h.do(ReportFault{Device: "kiosk-1", Fault: "paper-out"})
	if len(h.log) != n {
		t.Errorf("a repeated report appended an event")
	}
	if h.s.Faults["kiosk-1"].Fault != "paper-out" {
		t.Errorf("faults %+v", h.s.Faults)
	}
	h.do(ReportFault{Device: "kiosk-1"})
	if len(h.s.Faults) != 0 {
		t.Errorf("fault not cleared")
	}
}

func TestApplyRefusesGaps(t *testing.T) {
	s := NewState(testOffice())
	err := s.Apply(Event{Seq: 2, At: at("09:00"), Body: CounterOpened{Counter: 1}})
	if err == nil {
		t.Fatal("an event after a gap was applied")
	}
	if err := s.Apply(Event{Seq: 1, At: at("09:00"), Body: TicketCalled{Ticket: "x", Counter: 1}}); err == nil {
		t.Fatal("a call of an unknown ticket was applied")
	}
}

// A rush of residents uses remembered forecasts, but each is refused
// exactly when the full forecast says the office would close first.
func TestRushRefusedExactlyWhenForecastSaysSo(t *testing.T) {
	h := newHarness(t, testOffice(), at("14:20"))
	h.open(1)
	closing := at("16:00")
	for i := 0; i < 40; i++ {
		exact := h.s.WaitForNew(h.now, "family")
		fits := !h.now.Add(exact).After(closing)
		_, err := h.try(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk})
		if fits != (err == nil) {
			t.Fatalf("ticket %d: forecast %v (fits %v) but issue gave %v", i+1, exact, fits, err)
		}
		if err != nil {
			if refusal(err) != ReasonPastClosing {
				t.Fatalf("refused for %v", err)
			}
			return
		}
		h.advance(time.Second)
	}
	t.Fatal("40 tickets in 40 seconds at one counter were all accepted")
}
