package queue

import (
	"encoding/json"
	"testing"
	"time"
)

// A request that comes again gives the ticket it gave, whichever day it
// comes, for a week: an issue, a check-in and a leased ticket handed in
// alike. On the eighth day it is forgotten, and the same id is a new
// request. Snapshots (encoded and restored as the server and the devices
// do) remember as much as the log does.
func TestRequestsAreRememberedForAWeek(t *testing.T) {
	const monday = "2026-11-23"
	kinds := []struct {
		name string
		// first makes the request on Monday and returns its command, to be
		// sent again later.
		first func(h *harness) Command
	}{
		{"issue", func(h *harness) Command {
			return Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/k-1", Device: "kiosk"}
		}},
		{"check-in", func(h *harness) Command {
			h.do(Book{ID: "r1", Service: "family", Slot: at("09:15"), Lang: "en"})
			return CheckIn{Reservation: "r1", RequestID: "tok/k-1", Device: "kiosk", Channel: ChannelBooking}
		}},
		{"leased ticket", func(h *harness) Command {
			h.do(GrantLease{ID: "l1", Device: "tok", Service: "family", Count: 5})
			return IssueLeased{RequestID: "tok/k-1", Device: "tok", Service: "family", Number: 995, IssuedAt: at("08:55"), Lang: "pl"}
		}},
	}
	later := []struct {
		day        string
		remembered bool
	}{
		{"2026-11-24", true},  // the next day
		{"2026-11-30", true},  // a week later
		{"2026-12-01", false}, // the eighth day
	}
	for _, k := range kinds {
		for _, l := range later {
			t.Run(k.name+" on "+l.day, func(t *testing.T) {
				h := newHarness(t, testOffice(), at("09:00"))
				cmd := k.first(h)
				first := h.do(cmd)
				want := *h.s.Tickets[first.Ticket]
				if want.Day != monday {
					t.Fatalf("first ticket %+v", want)
				}
				// A busy day in between, and a restart from a snapshot.
				h.now = at("09:00", "2026-11-24")
				h.issue("family")
				h.s = restored(t, h.s)
				h.now = at("09:05", l.day)
				h.issue("docs")
				again, err := h.try(cmd)
				if !l.remembered {
					if k.name == "issue" && (err != nil || again.Ticket == first.Ticket || len(again.Events) == 0) {
						t.Errorf("a forgotten request: %+v, %v; want a new ticket", again, err)
					}
					if _, ok := h.s.Requests["tok/k-1"]; ok && k.name != "issue" {
						t.Errorf("a request of %s still remembered on %s", monday, l.day)
					}
					return
				}
				if err != nil || again.Ticket != first.Ticket || len(again.Events) != 0 || again.Expired {
					t.Fatalf("the request again on %s: %+v, %v; want ticket %s and no events", l.day, again, err, first.Ticket)
				}
				views := h.s.TicketViews(h.now, []string{again.Ticket})
				got, ok := views[again.Ticket]
				if !ok {
					t.Fatalf("no view of %s on %s", again.Ticket, l.day)
				}
				if got.Number != want.Number || got.Service != want.Service || !got.IssuedAt.Equal(want.IssuedAt) ||
					got.Lang != want.Lang || got.Channel != want.Channel || !got.BookedFor.Equal(want.BookedFor) {
					t.Errorf("the ticket again %+v, want %+v", got, want)
				}
				if got.State != Cancelled {
					t.Errorf("a ticket whose day ended unserved is %s, want cancelled", got.State)
				}
				h.refold()
			})
		}
	}
}

// restored is s encoded and decoded as a snapshot is.
func restored(t *testing.T, s *State) *State {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	r := &State{}
	if err := json.Unmarshal(data, r); err != nil {
		t.Fatal(err)
	}
	r.Restore(s.Office)
	return r
}

// A ticket served on its day is given again as served.
func TestRequestGivesTheTicketAsItEnded(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	cmd := Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/k-1"}
	first := h.do(cmd)
	h.callNext(1)
	h.advance(5 * time.Minute)
	h.do(Finish{Counter: 1})
	h.now = at("09:00", "2026-11-24")
	again := h.do(cmd)
	if tv := h.s.TicketViews(h.now, []string{again.Ticket})[first.Ticket]; tv.State != Done || tv.Counter != 1 {
		t.Errorf("the served ticket again: %+v", tv)
	}
}

// A leased ticket handed in after its day is expired, and stays so when
// handed in again.
func TestExpiredLeasedTicketStaysExpired(t *testing.T) {
	h := newHarness(t, testOffice(), at("15:00"))
	h.do(GrantLease{ID: "l1", Device: "tok", Service: "family", Count: 3})
	cmd := IssueLeased{RequestID: "tok/k-9", Device: "tok", Service: "family", Number: 997, IssuedAt: at("15:30"), Lang: "pl"}
	h.now = at("08:10", "2026-11-24")
	if d := h.do(cmd); !d.Expired {
		t.Errorf("a ticket of yesterday handed in today: %+v, want expired", d)
	}
	h.now = at("08:10", "2026-11-25")
	if d := h.do(cmd); !d.Expired || d.Ticket != "2026-11-23-A997" || len(d.Events) != 0 {
		t.Errorf("handed in again a day later: %+v", d)
	}
	h.refold()
}

// Snapshots written before requests carried their day still restore:
// today's and yesterday's requests give their tickets.
func TestRequestsFromAnOldSnapshot(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	d := h.do(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk})
	data, err := json.Marshal(h.s)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	raw["requests"] = map[string]string{"tok/today": d.Ticket}
	raw["prev_requests"] = map[string]string{"tok/yesterday": "2026-11-22-A001"}
	old, _ := json.Marshal(raw)
	s := &State{}
	if err := json.Unmarshal(old, s); err != nil {
		t.Fatalf("reading an old snapshot: %v", err)
	}
	s.Restore(h.s.Office)
	if r := s.Requests["tok/today"]; r == nil || r.Ticket != d.Ticket || r.Day != "2026-11-23" {
		t.Errorf("today's request from an old snapshot: %+v", r)
	}
	if r := s.Requests["tok/yesterday"]; r == nil || r.Day != "2026-11-22" {
		t.Errorf("yesterday's request from an old snapshot: %+v", r)
	}
	if s.PrevRequests != nil {
		t.Errorf("prev_requests kept: %v", s.PrevRequests)
	}
	again, err := s.Decide(at("09:01"), Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/today"})
	if err != nil || again.Ticket != d.Ticket {
		t.Errorf("today's request again: %+v, %v", again, err)
	}
}

// A kiosk whose online answer came too late prints from its lease and
// hands that ticket in under the same request id: the server's ticket for
// the request is withdrawn, unless somebody may already have come to a
// counter with its number, and the printed ticket is the one that counts.
func TestLeasedTicketReplacesTheLateOnlineOne(t *testing.T) {
	cases := []struct {
		name string
		// before moves the online ticket on before the hand-in.
		before    func(h *harness)
		withdrawn bool
		// waiting is how many family tickets wait after the hand-in.
		waiting int
	}{
		{"waiting", func(h *harness) {}, true, 1},
		{"called", func(h *harness) { h.callNext(1) }, true, 1},
		{"recalled", func(h *harness) { h.callNext(1); h.do(Recall{Counter: 1}) }, true, 1},
		{"being served", func(h *harness) { h.callNext(1); h.do(Start{Counter: 1}) }, false, 1},
		{"a no-show", func(h *harness) { h.callNext(1); h.do(MarkNoShow{Counter: 1}) }, false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, testOffice(), at("09:00"))
			h.open(1)
			h.do(GrantLease{ID: "l1", Device: "tok", Service: "family", Count: 5})
			online := h.do(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/k-1", Device: "tok"})
			c.before(h)
			stateBefore := h.s.Tickets[online.Ticket].State
			h.advance(time.Minute)
			handIn := IssueLeased{RequestID: "tok/k-1", Device: "tok", Service: "family", Number: 995, IssuedAt: at("09:00"), Lang: "pl"}
			d := h.do(handIn)
			leased := h.s.Tickets[d.Ticket]
			if leased == nil || !leased.Leased || leased.State != Waiting {
				t.Fatalf("the leased ticket %+v", leased)
			}
			old := h.s.Tickets[online.Ticket]
			if c.withdrawn != (old.State == Cancelled) || (!c.withdrawn && old.State != stateBefore) {
				t.Errorf("the online ticket is %s, want withdrawn=%v", old.State, c.withdrawn)
			}
			if c.withdrawn {
				if h.s.Counters[1].Current == online.Ticket {
					t.Error("the counter still holds the withdrawn ticket")
				}
				for _, call := range h.s.View(h.now).Calls {
					if call.Ticket == online.Ticket {
						t.Error("the hall still lists a call of the withdrawn ticket")
					}
				}
			}
			if n := h.s.View(h.now).Services[0].Waiting; n != c.waiting {
				t.Errorf("%d family tickets wait, want %d", n, c.waiting)
			}
			// Handed in again, or the online request coming again: the
			// leased ticket, and nothing new.
			for _, cmd := range []Command{handIn, Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/k-1"}} {
				if again := h.do(cmd); again.Ticket != d.Ticket || len(again.Events) != 0 {
					t.Errorf("%s again: %+v", String(cmd), again)
				}
			}
			h.refold()
		})
	}
}

// A kiosk that printed nothing for a request withdraws it: the server's
// ticket for it goes, and the request gives no ticket afterwards, even if
// it only reaches the server now. Tickets a resident holds (leased,
// booked) are not withdrawn.
func TestWithdrawRequest(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	d := h.do(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/k-1"})
	w := h.do(WithdrawRequest{RequestID: "tok/k-1"})
	if w.Ticket != d.Ticket || h.s.Tickets[d.Ticket].State != Cancelled {
		t.Errorf("withdrawing an answered request: %+v, ticket %s", w, h.s.Tickets[d.Ticket].State)
	}
	if again := h.do(WithdrawRequest{RequestID: "tok/k-1"}); len(again.Events) != 0 || again.Ticket != d.Ticket {
		t.Errorf("withdrawing twice: %+v", again)
	}
	// Withdrawn before it came: it never issues.
	h.do(WithdrawRequest{RequestID: "tok/k-2"})
	if _, err := h.try(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk, RequestID: "tok/k-2"}); errKind(err) != Conflict {
		t.Errorf("a withdrawn request arriving late: %v, want a conflict", err)
	}
	h.do(GrantLease{ID: "l1", Device: "tok", Service: "family", Count: 5})
	if _, err := h.try(IssueLeased{RequestID: "tok/k-2", Device: "tok", Service: "family", Number: 995, IssuedAt: at("09:00"), Lang: "pl"}); errKind(err) != Conflict {
		t.Errorf("a leased ticket for a withdrawn request: %v, want a conflict", err)
	}
	h.do(IssueLeased{RequestID: "tok/k-3", Device: "tok", Service: "family", Number: 996, IssuedAt: at("09:00"), Lang: "pl"})
	if _, err := h.try(WithdrawRequest{RequestID: "tok/k-3"}); errKind(err) != Conflict {
		t.Errorf("withdrawing a leased ticket: %v, want a conflict", err)
	}
	h.do(Book{ID: "r1", Service: "family", Slot: at("09:15"), Lang: "pl"})
	h.do(CheckIn{Reservation: "r1", RequestID: "tok/k-4"})
	if _, err := h.try(WithdrawRequest{RequestID: "tok/k-4"}); errKind(err) != Conflict {
		t.Errorf("withdrawing a booked visit's ticket: %v, want a conflict", err)
	}
	waiting := 0
	for _, tk := range h.s.WaitingTickets() {
		waiting++
		if tk.ID == d.Ticket {
			t.Error("the withdrawn ticket still waits")
		}
	}
	if waiting != 2 {
		t.Errorf("%d tickets wait, want the leased and the booked one", waiting)
	}
	h.refold()
}
