package queue

import (
	"encoding/json"
	"testing"
	"time"
)

// remoteOffice is the test office with the phone-ticket rules on: at most
// maxWaiting phone tickets waiting, confirmation asked two places ahead,
// ten minutes to confirm once set aside.
func remoteOffice(maxWaiting int) *Office {
	o := testOffice()
	o.Remote = RemoteRules{MaxWaiting: maxWaiting, PresenceAhead: 2, PresenceTimeout: 10 * time.Minute}
	return o
}

func (h *harness) phone(service string, holders ...string) Decision {
	h.t.Helper()
	return h.do(Issue{Service: service, Lang: "pl", Channel: ChannelPhone, Holders: holders})
}

func (h *harness) number(d Decision) string { return h.s.Tickets[d.Ticket].Number }

func TestRemoteCap(t *testing.T) {
	tests := []struct {
		name       string
		office     int // the office's cap
		service    int // family's own cap
		phones     int // phone tickets taken first
		wantPaused bool
	}{
		{"below the office's cap", 3, 0, 2, false},
		{"at the office's cap", 3, 0, 3, true},
		{"no cap", 0, 0, 30, false},
		{"at the service's cap", 10, 2, 2, true},
		{"below both", 10, 3, 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := remoteOffice(tc.office)
			o.Services[0].RemoteMaxWaiting = tc.service
			h := newHarness(t, o, at("09:00"))
			for range tc.phones {
				h.phone("family")
			}
			if v := h.s.View(h.now); v.Services[0].RemotePaused != tc.wantPaused || !v.Services[0].Open {
				t.Errorf("the view says open=%v remote_paused=%v, want open and %v", v.Services[0].Open, v.Services[0].RemotePaused, tc.wantPaused)
			}
			_, err := h.try(Issue{Service: "family", Lang: "pl", Channel: ChannelPhone})
			if got := refusal(err) == ReasonRemotePaused; got != tc.wantPaused {
				t.Fatalf("phone ticket after %d: paused=%v (%v), want %v", tc.phones, got, err, tc.wantPaused)
			}
			// The kiosk issues whatever the cap.
			if _, err := h.try(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk}); err != nil {
				t.Errorf("a kiosk ticket at the cap: %v", err)
			}
			h.refold()
		})
	}
}

// A phone ticket called (or set aside and then ended) no longer counts
// against the cap; one set aside still does.
func TestRemoteCapCountsOnlyThoseNotCalled(t *testing.T) {
	h := newHarness(t, remoteOffice(2), at("09:00"))
	h.open(1)
	first := h.phone("family")
	h.do(ConfirmPresence{Ticket: first.Ticket, Presence: PresenceHere})
	h.phone("family")
	if _, err := h.try(Issue{Service: "family", Lang: "pl", Channel: ChannelPhone}); refusal(err) != ReasonRemotePaused {
		t.Fatalf("third phone ticket with the cap at 2: %v", err)
	}
	if got := h.callNext(1); got != "A001" {
		t.Fatalf("called %q, want A001", got)
	}
	third := h.phone("family")
	// A002 is unconfirmed: the next call sets it aside, and it still counts.
	h.do(ConfirmPresence{Ticket: third.Ticket, Presence: PresenceOnTheWay})
	if got := h.callNext(1); got != "A003" {
		t.Fatalf("called %q, want A003 (A002 set aside)", got)
	}
	if _, err := h.try(Issue{Service: "family", Lang: "pl", Channel: ChannelPhone}); err != nil {
		t.Fatalf("one set aside and none waiting, cap 2: %v", err)
	}
	if _, err := h.try(Issue{Service: "family", Lang: "pl", Channel: ChannelPhone}); refusal(err) != ReasonRemotePaused {
		t.Fatalf("one set aside and one waiting, cap 2: %v", err)
	}
	h.refold()
}

func TestOneActiveRemoteTicketPerHolder(t *testing.T) {
	tests := []struct {
		name     string
		first    []string
		service  string
		second   []string
		endFirst bool
		wantHeld bool
	}{
		{"same browser, same matter", []string{"b1"}, "family", []string{"b1"}, false, true},
		{"same browser, other matter", []string{"b1"}, "docs", []string{"b1"}, false, false},
		{"other browser", []string{"b1"}, "family", []string{"b2"}, false, false},
		{"other browser, same contact", []string{"b1", "c1"}, "family", []string{"b2", "c1"}, false, true},
		{"the first has ended", []string{"b1"}, "family", []string{"b1"}, true, false},
		{"no holder given", nil, "family", nil, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, remoteOffice(0), at("09:00"))
			first := h.phone("family", tc.first...)
			if tc.endFirst {
				h.do(CancelTicket{Ticket: first.Ticket})
			}
			before := len(h.log)
			second := h.phone(tc.service, tc.second...)
			if second.Held != tc.wantHeld || (second.Ticket == first.Ticket) != tc.wantHeld {
				t.Fatalf("second ticket %s held=%v, first %s; want held=%v", second.Ticket, second.Held, first.Ticket, tc.wantHeld)
			}
			if tc.wantHeld && len(h.log) != before {
				t.Errorf("a held ticket appended %d events", len(h.log)-before)
			}
			h.refold()
		})
	}
}

func TestHoldersAreCheckedAndOnlyForPhones(t *testing.T) {
	h := newHarness(t, remoteOffice(0), at("09:00"))
	long := string(make([]byte, MaxHolderLen+1))
	for _, c := range []Issue{
		{Service: "family", Lang: "pl", Channel: ChannelKiosk, Holders: []string{"b1"}},
		{Service: "family", Lang: "pl", Channel: ChannelPhone, Holders: []string{""}},
		{Service: "family", Lang: "pl", Channel: ChannelPhone, Holders: []string{long}},
		{Service: "family", Lang: "pl", Channel: ChannelPhone, Holders: []string{"a", "b", "c", "d", "e"}},
	} {
		if _, err := h.try(c); errKind(err) != Invalid {
			t.Errorf("%s: %v, want invalid", String(c), err)
		}
	}
}

// The heart of the rule: an unconfirmed phone ticket at the front is set
// aside and the next one called in the same move; confirmed, it is called
// next; left alone, it ends after the timeout.
func TestUnconfirmedRemoteTicketIsSetAside(t *testing.T) {
	h := newHarness(t, remoteOffice(0), at("09:00"))
	h.open(1)
	away := h.phone("family")
	h.advance(time.Minute)
	h.issue("family") // A002, at the kiosk
	h.issue("family") // A003

	before := len(h.log)
	if got := h.callNext(1); got != "A002" {
		t.Fatalf("called %q, want A002 (A001 is not confirmed)", got)
	}
	kinds := []string{}
	for _, e := range h.log[before:] {
		kinds = append(kinds, e.Body.Kind())
	}
	if len(kinds) != 2 || kinds[0] != "RemoteTicketParked" || kinds[1] != "TicketCalled" {
		t.Errorf("the call gave %v, want [RemoteTicketParked TicketCalled]", kinds)
	}
	tk := h.s.Tickets[away.Ticket]
	if tk.State != ParkedAway || tk.Recalls != 0 || !tk.CalledAt.IsZero() {
		t.Fatalf("A001 is %s, recalls %d, called at %v; want parked-away, never called", tk.State, tk.Recalls, tk.CalledAt)
	}
	v := h.s.View(h.now)
	if len(v.Away) != 1 || v.Away[0].Number != "A001" || !v.Away[0].AskPresence {
		t.Errorf("view's away list: %+v", v.Away)
	}
	for _, w := range v.Waiting {
		if w.ID == away.Ticket {
			t.Errorf("a ticket set aside is in the waiting list")
		}
	}
	// Nor in the forecast: A003 is next, with nobody ahead.
	if a3, _ := h.s.TicketView("A003", h.now); a3.Ahead != 0 || v.Services[0].Waiting != 1 {
		t.Errorf("A003 has %d ahead and family %d waiting; the ticket set aside must not count", a3.Ahead, v.Services[0].Waiting)
	}

	h.advance(3 * time.Minute)
	h.do(ConfirmPresence{Ticket: away.Ticket, Presence: PresenceHere})
	if tk := h.s.Tickets[away.Ticket]; tk.State != Waiting || tk.Presence != PresenceHere {
		t.Fatalf("after confirming: %s, %s", tk.State, tk.Presence)
	}
	if got := h.callNext(1); got != "A001" {
		t.Errorf("after confirming, called %q; want A001 back at its place, the front", got)
	}
	h.refold()
}

func TestSetAsideTicketEndsAfterTheTimeout(t *testing.T) {
	h := newHarness(t, remoteOffice(0), at("09:00"))
	h.open(1)
	away := h.phone("family")
	h.issue("family")
	h.callNext(1)
	tests := []struct {
		after time.Duration
		want  TicketState
	}{
		{9*time.Minute + 59*time.Second, ParkedAway},
		{10 * time.Minute, Cancelled},
	}
	start := h.now
	for _, tc := range tests {
		h.now = start.Add(tc.after)
		if _, err := h.try(idle{}); err != nil {
			t.Fatal(err)
		}
		if got := h.s.Tickets[away.Ticket].State; got != tc.want {
			t.Errorf("%v after being set aside: %s, want %s", tc.after, got, tc.want)
		}
	}
	if p := h.s.Tickets[away.Ticket].Presence; p != PresenceLapsed {
		t.Errorf("presence %q, want lapsed", p)
	}
	if _, err := h.try(ConfirmPresence{Ticket: away.Ticket, Presence: PresenceHere}); errKind(err) != Conflict {
		t.Errorf("confirming an ended ticket: %v", err)
	}
}

// A ticket set aside still ends after the timeout in a state restored
// from a snapshot (a server restarted meanwhile).
func TestSetAsideTicketEndsAfterARestore(t *testing.T) {
	h := newHarness(t, remoteOffice(0), at("09:00"))
	h.open(1)
	away := h.phone("family")
	h.issue("family")
	h.callNext(1)
	snapshot, err := json.Marshal(h.s)
	if err != nil {
		t.Fatal(err)
	}
	var restored State
	if err := json.Unmarshal(snapshot, &restored); err != nil {
		t.Fatal(err)
	}
	restored.Restore(h.s.Office)
	events := restored.Tick(h.now.Add(10 * time.Minute))
	if len(events) != 1 || events[0] != (ParkedTicketExpired{Ticket: away.Ticket}) {
		t.Errorf("after a restore, the timeout gives %v, want the set-aside ticket ended", events)
	}
}

func TestPresenceRules(t *testing.T) {
	tests := []struct {
		name        string
		ahead       int // PresenceAhead
		kioskBefore int // kiosk tickets ahead of the phone ticket
		confirm     Presence
		wantAsk     bool
		wantCalled  bool // called at the first call that reaches it
	}{
		{"off: today's behaviour", 0, 0, "", false, true},
		{"asked at once with nobody ahead", 2, 0, "", true, false},
		{"asked with two ahead", 2, 2, "", true, false},
		{"not asked with three ahead", 2, 3, "", false, false},
		{"confirmed here", 2, 0, PresenceHere, false, true},
		{"confirmed on the way", 2, 1, PresenceOnTheWay, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := remoteOffice(0)
			o.Remote.PresenceAhead = tc.ahead
			h := newHarness(t, o, at("09:00"))
			h.open(1)
			for range tc.kioskBefore {
				h.issue("family")
				h.advance(time.Second)
			}
			d := h.phone("family")
			if tc.confirm != "" {
				h.do(ConfirmPresence{Ticket: d.Ticket, Presence: tc.confirm})
			}
			tv, _ := h.s.TicketView(d.Ticket, h.now)
			if tv.AskPresence != tc.wantAsk {
				t.Errorf("ask=%v with %d ahead, want %v", tv.AskPresence, tv.Ahead, tc.wantAsk)
			}
			for range tc.kioskBefore {
				h.callNext(1)
			}
			called := h.callNext(1) == h.number(d)
			if called != tc.wantCalled {
				t.Errorf("called=%v at the front, want %v (state %s)", called, tc.wantCalled, h.s.Tickets[d.Ticket].State)
			}
			h.refold()
		})
	}
}

// FuzzRemoteCalls runs random days of kiosk and phone tickets,
// confirmations, calls and time passing, and checks what a clerk and a
// resident rely on: no ticket is called twice, none is lost (each is
// waiting, set aside, at its counter or ended), a ticket set aside is
// never called until confirmed, and the log folds to the same state.
func FuzzRemoteCalls(f *testing.F) {
	f.Add([]byte{1, 0, 1, 3, 3, 2, 3, 5, 5, 3})
	f.Add([]byte{1, 1, 1, 1, 3, 3, 3, 3, 2, 2, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 3})
	f.Add([]byte{0, 1, 9, 17, 3, 11, 19, 4, 12, 2, 10, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 200 {
			ops = ops[:200]
		}
		h := newHarness(t, remoteOffice(5), at("09:00"))
		h.open(1, 2, 3)
		called := map[string]int{}
		services := []string{"family", "docs"}
		for _, op := range ops {
			arg := int(op >> 3)
			switch op & 7 {
			case 0:
				_, _ = h.try(Issue{Service: services[arg%2], Lang: "pl", Channel: ChannelKiosk})
			case 1:
				_, _ = h.try(Issue{Service: services[arg%2], Lang: "pl", Channel: ChannelPhone, Holders: []string{string(rune('a' + arg%4))}})
			case 2:
				for _, tk := range h.s.sortedTickets(ParkedAway) {
					_, _ = h.try(ConfirmPresence{Ticket: tk.ID, Presence: PresenceHere})
					break
				}
				for _, tk := range h.s.WaitingTickets() {
					if tk.Presence == PresenceNeeded && arg%2 == 0 {
						_, _ = h.try(ConfirmPresence{Ticket: tk.ID, Presence: PresenceOnTheWay})
						break
					}
				}
			case 3, 6:
				_, _ = h.try(CallNext{Counter: 1 + arg%3})
			case 4:
				_, _ = h.try(MarkNoShow{Counter: 1 + arg%3})
			case 5, 7:
				h.advance(time.Duration(1+arg) * time.Minute)
				_, _ = h.try(idle{})
			}
		}
		parkedSince := map[string]bool{}
		for _, e := range h.log {
			switch b := e.Body.(type) {
			case TicketCalled:
				if parkedSince[b.Ticket] {
					t.Fatalf("%s was called while set aside", b.Ticket)
				}
				called[b.Ticket]++
				if called[b.Ticket] > 1 {
					t.Fatalf("%s was called twice", b.Ticket)
				}
			case RemoteTicketParked:
				parkedSince[b.Ticket] = true
			case PresenceConfirmed, ParkedTicketExpired:
				delete(parkedSince, ticketOf(b))
			}
		}
		for id, tk := range h.s.Tickets {
			switch tk.State {
			case Waiting, ParkedAway, Done, NoShow, Cancelled:
			case Called, Serving:
				if c := h.s.Counters[tk.Counter]; c == nil || c.Current != id {
					t.Fatalf("%s is %s but no counter holds it", tk.Number, tk.State)
				}
			default:
				t.Fatalf("%s is %s", tk.Number, tk.State)
			}
			if tk.State == ParkedAway && tk.Presence != PresenceNeeded {
				t.Fatalf("%s is set aside though confirmed (%s)", tk.Number, tk.Presence)
			}
		}
		h.refold()
	})
}

func ticketOf(b Body) string {
	switch b := b.(type) {
	case PresenceConfirmed:
		return b.Ticket
	case ParkedTicketExpired:
		return b.Ticket
	}
	return ""
}
