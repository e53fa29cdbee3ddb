package queue

import (
	"testing"
	"time"
)

func TestClosureHidesSlotsAndRefusesBookings(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.do(Book{ID: "before", Service: "family", Slot: at("11:00"), Lang: "uk"})
	h.do(CloseBooking{ID: "training", From: at("10:30"), To: at("12:00"), Reason: "  Staff   training "})

	for _, sl := range h.s.Slots(h.now, "family", h.now) {
		if sl.Start.Before(at("12:00")) && sl.End.After(at("10:30")) {
			t.Errorf("slot %s offered inside the closure", sl.Start.In(warsaw).Format("15:04"))
		}
	}
	if _, ok := h.s.Slot(h.now, "family", at("10:15")); !ok {
		t.Errorf("10:15 ends as the closure starts: it should still be offered")
	}
	if _, err := h.try(Book{ID: "late", Service: "family", Slot: at("11:15"), Lang: "pl"}); refusal(err) != ReasonSlotUnavailable {
		t.Errorf("booking inside the closure: %v, want refused as unavailable", err)
	}
	cl := h.s.ClosureList(h.now)
	if len(cl) != 1 || cl[0].Reason != "Staff training" {
		t.Fatalf("closures %+v, want the training with its reason tidied", cl)
	}
	in := h.s.InClosure(h.now, cl[0])
	if len(in) != 1 || in[0].ID != "before" {
		t.Errorf("visits booked in the closure %+v, want the 11:00 one", in)
	}
	h.refold()

	h.do(ReopenBooking{ID: "training"})
	if _, ok := h.s.Slot(h.now, "family", at("11:15")); !ok {
		t.Errorf("11:15 not offered after reopening")
	}
	if _, err := h.try(ReopenBooking{ID: "training"}); errKind(err) != NotFound {
		t.Errorf("reopening twice: %v, want not found", err)
	}
	h.refold()
}

func TestCloseBookingRefusesBadInput(t *testing.T) {
	cases := []struct {
		name string
		cmd  CloseBooking
		want ErrorKind
	}{
		{"no id", CloseBooking{From: at("10:00"), To: at("11:00"), Reason: "x"}, Invalid},
		{"no reason", CloseBooking{ID: "c", From: at("10:00"), To: at("11:00"), Reason: "  "}, Invalid},
		{"end before start", CloseBooking{ID: "c", From: at("11:00"), To: at("10:00"), Reason: "x"}, Invalid},
		{"in the past", CloseBooking{ID: "c", From: at("07:00"), To: at("08:00"), Reason: "x"}, Invalid},
		{"reason too long", CloseBooking{ID: "c", From: at("10:00"), To: at("11:00"), Reason: string(make([]rune, 201))}, Invalid},
		{"a zero start", CloseBooking{ID: "c", To: at("11:00"), Reason: "x"}, Invalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, testOffice(), at("09:00"))
			if _, err := h.try(c.cmd); errKind(err) != c.want {
				t.Errorf("%+v: %v, want kind %v", c.cmd, err, c.want)
			}
		})
	}
	h := newHarness(t, testOffice(), at("09:00"))
	h.do(CloseBooking{ID: "c", From: at("10:00"), To: at("11:00"), Reason: "x"})
	if _, err := h.try(CloseBooking{ID: "c", From: at("13:00"), To: at("14:00"), Reason: "y"}); errKind(err) != Conflict {
		t.Errorf("a second closure with the same id: %v, want a conflict", err)
	}
}

func TestClosureSurvivesUntilItEnds(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.do(CloseBooking{ID: "today", From: at("13:00"), To: at("14:00"), Reason: "x"})
	h.do(CloseBooking{ID: "week", From: at("00:00", "2026-11-25"), To: at("00:00", "2026-11-27"), Reason: "system down"})
	h.now = at("08:00", "2026-11-25")
	h.do(Issue{Service: "family", Lang: "pl", Channel: ChannelKiosk}) // rolls the day over
	if h.s.Closures["today"] != nil {
		t.Errorf("yesterday's closure kept after the day rolled over")
	}
	if h.s.Closures["week"] == nil {
		t.Errorf("a closure still running was dropped at the new day")
	}
	if got := h.s.Slots(h.now, "family", at("10:00", "2026-11-26")); len(got) != 0 {
		t.Errorf("%d slots on a closed day", len(got))
	}
	if !h.s.ClosedOn(at("10:00", "2026-11-26")) || h.s.ClosedOn(at("10:00", "2026-11-27")) {
		t.Errorf("ClosedOn: Thursday %v (closed), Friday %v (open)", h.s.ClosedOn(at("10:00", "2026-11-26")), h.s.ClosedOn(at("10:00", "2026-11-27")))
	}
	h.refold()
}

func TestRoomFollowsTheCounters(t *testing.T) {
	o := testOffice()
	o.Booking.PerSlot = 0
	// family: counters 1 and 2; docs: counters 2 and 3.
	cases := []struct {
		name    string
		service string
		visits  []string
		want    int
	}{
		{"empty slot", "family", nil, 2},
		{"one family visit", "family", []string{"family"}, 1},
		{"both family counters taken", "family", []string{"family", "family"}, 0},
		{"a docs visit can go to counter 3", "family", []string{"docs"}, 2},
		{"two docs visits take counter 2", "family", []string{"docs", "docs"}, 1},
		{"three visits fill the office", "docs", []string{"family", "family", "docs"}, 0},
		{"over-booked already", "docs", []string{"family", "family", "family"}, 0},
		{"a matter no counter serves", "nobody", nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := o.Room(c.service, c.visits); got != c.want {
				t.Errorf("Room(%s, %v) = %d, want %d", c.service, c.visits, got, c.want)
			}
		})
	}
	visits := []string{"docs", "family", "family", "docs"}
	got := o.Assign(visits)
	used, none := map[int]bool{}, 0
	for i, n := range got {
		c, ok := o.Counter(n)
		switch {
		case n == 0:
			none++
		case !ok || !c.Serves(visits[i]) || used[n]:
			t.Errorf("Assign = %v: visit %d (%s) at counter %d", got, i, visits[i], n)
		}
		used[n] = true
	}
	if none != 1 {
		t.Errorf("Assign = %v: three counters take three of the four visits", got)
	}
	o.Booking.PerSlot = 1
	if got := o.Room("family", nil); got != 1 {
		t.Errorf("per_slot 1 caps an empty slot at %d, want 1", got)
	}
}

func TestSlotsFreeFollowsTheCounters(t *testing.T) {
	o := testOffice()
	o.Booking.PerSlot = 0
	h := newHarness(t, o, at("09:00"))
	slot := at("10:00")
	free := func() int {
		sl, ok := h.s.Slot(h.now, "family", slot)
		if !ok {
			t.Fatalf("10:00 not offered")
		}
		return sl.Free
	}
	if got := free(); got != 2 {
		t.Fatalf("an empty 10:00 has %d places, want 2 (counters 1 and 2 serve family)", got)
	}
	h.do(Book{ID: "a", Service: "family", Slot: slot, Lang: "pl"})
	h.do(Book{ID: "b", Service: "family", Slot: slot, Lang: "pl", Hold: 10 * time.Minute})
	if got := free(); got != 0 {
		t.Errorf("after a booking and a hold 10:00 has %d places, want 0", got)
	}
	if _, err := h.try(Book{ID: "c", Service: "family", Slot: slot, Lang: "pl"}); refusal(err) != ReasonSlotFull {
		t.Errorf("a third visit with two counters: %v, want full", err)
	}
	h.advance(11 * time.Minute) // the hold expires
	if got := free(); got != 1 {
		t.Errorf("after the hold expired 10:00 has %d places, want 1", got)
	}
}
