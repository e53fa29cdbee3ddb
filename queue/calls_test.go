package queue

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// callsText writes calls as "A001@1" ("+r" for a recall), oldest first.
func callsText(calls []RecentCall) string {
	var out []string
	for _, c := range calls {
		s := fmt.Sprintf("%s@%d", c.Number, c.Counter)
		if c.Recall {
			s += "+r"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// CallsSince answers from any seq a device may have seen: before the
// first call, between calls, at the newest, in a morning whose called
// ticket was withdrawn, and after a new day.
func TestCallsSince(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	mark := map[string]uint64{"start": 0}
	h.open(1, 2)
	for range 3 {
		h.issue("family")
	}
	h.issue("docs")
	mark["issued"] = h.s.Seq
	h.callNext(1) // A001 at 1
	mark["first call"] = h.s.Seq
	h.do(Recall{Counter: 1})
	h.callNext(2) // A002 at 2
	mark["second call"] = h.s.Seq
	h.do(Finish{Counter: 2})
	h.do(Issue{Service: "docs", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/k-1"})
	h.do(CallTicket{Counter: 2, Ticket: "D002"})
	mark["before withdrawal"] = h.s.Seq
	h.do(WithdrawRequest{RequestID: "tok/k-1"}) // D002 was called, nobody came for it: it goes
	mark["withdrawn"] = h.s.Seq
	h.refold()

	for _, tc := range []struct {
		since string
		want  string
	}{
		{"start", "A001@1 A001@1+r A002@2"},
		{"issued", "A001@1 A001@1+r A002@2"},
		{"first call", "A001@1+r A002@2"},
		{"second call", ""},
		{"before withdrawal", ""},
		{"withdrawn", ""},
	} {
		t.Run(tc.since, func(t *testing.T) {
			got := h.s.CallsSince(mark[tc.since])
			if s := callsText(got); s != tc.want {
				t.Errorf("CallsSince(%d) = %q, want %q", mark[tc.since], s, tc.want)
			}
			for i, c := range got {
				if c.Seq <= mark[tc.since] || (i > 0 && c.Seq <= got[i-1].Seq) {
					t.Errorf("call %d has seq %d: not after %d and in order", i, c.Seq, mark[tc.since])
				}
			}
		})
	}

	// The answer is the device's own: changing it leaves the state alone.
	got := h.s.CallsSince(0)
	got[0].Number = "X999"
	if h.s.Calls[0].Number == "X999" {
		t.Error("CallsSince returned the state's own calls")
	}
	// The seq of the last call answered is the next question.
	if again := h.s.CallsSince(got[len(got)-1].Seq); len(again) != 0 {
		t.Errorf("asked again from the last answer: %q", callsText(again))
	}
	// A new day starts without calls.
	h.now = at("08:30", "2026-11-24")
	h.open(1)
	if calls := h.s.CallsSince(0); len(calls) != 0 {
		t.Errorf("the next morning: %q", callsText(calls))
	}
}

// A device that fell far behind hears of the newest calls the state
// keeps, not of all.
func TestCallsSinceFarBehind(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	for range 25 {
		h.issue("family")
		h.callNext(1)
		h.do(Finish{Counter: 1})
	}
	got := h.s.CallsSince(0)
	if len(got) != recentCallsKept || got[0].Number != "A006" || got[len(got)-1].Number != "A025" {
		t.Errorf("CallsSince(0) after 25 calls: %q, want A006 to A025", callsText(got))
	}
}

// allPartsScenario runs a day that has every kind of event, and its next
// morning, and returns the log.
func allPartsScenario(t *testing.T) *harness {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1, 2, 3)
	for range 4 {
		h.issue("family")
	}
	h.issue("docs")
	h.do(Book{ID: "r1", Service: "family", Slot: at("10:00"), Lang: "pl"})
	h.do(Book{ID: "r2", Service: "family", Slot: at("10:15"), Lang: "pl"})
	h.do(CancelReservation{ID: "r2"})
	h.advance(time.Minute)
	h.callNext(1)
	h.do(Recall{Counter: 1})
	h.do(Start{Counter: 1})
	h.advance(4 * time.Minute)
	h.do(Finish{Counter: 1})
	h.do(RateAtCounter{Counter: 1, Rating: RatingGood})
	h.callNext(2)
	h.do(MarkNoShow{Counter: 2})
	h.callNext(2)
	h.do(Transfer{Counter: 2, ToService: "docs"})
	h.callNext(3)
	h.do(Park{Counter: 3})
	h.do(CallTicket{Counter: 3, Ticket: "A004"})
	h.do(SetCounter{Counter: 2, Status: CounterPausedStatus})
	h.do(SetCounter{Counter: 1, Status: CounterClosedStatus})
	h.do(ReportFault{Device: "kiosk-1", Fault: "paper_out"})
	h.do(GrantLease{ID: "l1", Device: "tok", Service: "family", Count: 5})
	h.do(Issue{Service: "docs", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/k-1"})
	h.do(WithdrawRequest{RequestID: "tok/k-1"})
	h.advance(30 * time.Minute)
	h.do(CheckIn{Reservation: "r1", RequestID: "tok/k-2"})
	d := h.do(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk})
	h.do(CancelTicket{Ticket: d.Ticket, Reason: "left"})
	h.now = at("08:30", "2026-11-24")
	h.open(1)
	h.refold()
	return h
}

// PartsOf never leaves out a part an event changes: folding each event of
// a day with every kind, the parts it does not name are as they were. And
// the parts' own answers (ServiceViews, CounterView, RecentCalls) are
// what View says.
func TestPartsOf(t *testing.T) {
	h := allPartsScenario(t)
	s := NewState(h.s.Office)
	kinds := map[string]bool{}
	for _, e := range h.log {
		now := e.At.Add(time.Second)
		before := s.View(now)
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
		after := s.View(now)
		kinds[e.Body.Kind()] = true
		parts := PartsOf(e.Body)
		for _, p := range []struct {
			part Parts
			name string
			get  func(View) any
		}{
			{PartLines, "lines", func(v View) any { return []any{v.Services, v.Waiting, v.Parked} }},
			{PartCounters, "counters", func(v View) any { return v.Counters }},
			{PartCalls, "calls", func(v View) any { return v.Calls }},
			{PartFaults, "faults", func(v View) any { return v.Faults }},
		} {
			if parts&p.part == 0 && !reflect.DeepEqual(p.get(before), p.get(after)) {
				t.Errorf("event %d %s changed the %s, which PartsOf does not name", e.Seq, e.Body.Kind(), p.name)
			}
		}
		if got := s.ServiceViews(now); !reflect.DeepEqual(got, after.Services) {
			t.Errorf("after event %d: ServiceViews = %+v, View has %+v", e.Seq, got, after.Services)
		}
		for _, want := range after.Counters {
			if got, ok := s.CounterView(want.Number, now); !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("after event %d: CounterView(%d) = %+v, %v; View has %+v", e.Seq, want.Number, got, ok, want)
			}
		}
		if got := s.RecentCalls(); !reflect.DeepEqual(got, after.Calls) {
			t.Errorf("after event %d: RecentCalls = %q, View has %q", e.Seq, callsText(got), callsText(after.Calls))
		}
	}
	if _, ok := s.CounterView(9, h.now); ok {
		t.Error("CounterView of a counter the office does not have")
	}
	var missing []string
	for _, k := range allKinds {
		if !kinds[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Errorf("the scenario has no %v event: PartsOf is not checked for it", missing)
	}
}

// allKinds are the kinds newBody decodes.
var allKinds = []string{
	"DayRolledOver", "TicketIssued", "TicketCalled", "TicketRecalled", "ServiceStarted", "TicketFinished",
	"TicketNoShow", "TicketTransferred", "TicketParked", "TicketCancelled", "CounterOpened", "CounterPaused",
	"CounterClosed", "ReservationBooked", "ReservationCancelled", "ReservationCheckedIn", "RatingGiven",
	"DeviceFault", "LeaseGranted", "RequestWithdrawn",
}

// Every kind of event has its own answer in PartsOf, not the fallback.
func TestPartsOfKnowsEveryKind(t *testing.T) {
	for _, k := range allKinds {
		b, ok := newBody(k)
		if !ok {
			t.Fatalf("newBody does not know %s", k)
		}
		if got := PartsOf(deref(b)); got == AllParts && k != "DayRolledOver" {
			t.Errorf("PartsOf(%s) is the fallback (all parts)", k)
		}
	}
	if got := PartsOf(nil); got != AllParts {
		t.Errorf("PartsOf an unknown body = %b, want all parts", got)
	}
}
