package queue

import (
	"testing"
	"time"
)

func TestSlots(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	today := h.s.Slots(h.now, "family", h.now)
	if len(today) == 0 || !today[0].Start.Equal(at("09:15")) {
		t.Fatalf("first slot today %v, want 09:15 (09:00 has begun)", today)
	}
	if last := today[len(today)-1]; !last.End.Equal(at("16:00")) {
		t.Errorf("last slot ends %s, want 16:00", last.End.In(warsaw))
	}
	wed := h.s.Slots(h.now, "family", at("10:00", "2026-11-25"))
	for _, sl := range wed {
		if m := minuteOf(sl.Start, warsaw); m >= 12*60 && m < 13*60 {
			t.Errorf("slot %s in the lunch break", sl.Start.In(warsaw))
		}
	}
	if got := h.s.Slots(h.now, "docs", h.now); got != nil {
		t.Errorf("docs takes no bookings, got %d slots", len(got))
	}
	if got := h.s.Slots(h.now, "family", at("10:00", "2027-01-20")); got != nil {
		t.Errorf("slots beyond the booking horizon: %d", len(got))
	}
	if got := h.s.Slots(h.now, "family", at("10:00", "2026-11-28")); got != nil {
		t.Errorf("slots on a Saturday: %d", len(got))
	}
}

func TestBookingLifecycle(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	slot := at("10:00")
	h.do(Book{ID: "r1", Service: "family", Slot: slot, Lang: "en"})
	if _, err := h.try(Book{ID: "r2", Service: "family", Slot: slot, Lang: "pl"}); refusal(err) != ReasonSlotFull {
		t.Errorf("second booking of a one-place slot: %v", err)
	}
	if _, err := h.try(Book{ID: "r3", Service: "family", Slot: at("10:07"), Lang: "pl"}); refusal(err) != ReasonSlotUnavailable {
		t.Errorf("booking off the slot grid: %v", err)
	}
	if _, err := h.try(Book{ID: "r4", Service: "docs", Slot: slot, Lang: "pl"}); errKind(err) != Invalid {
		t.Errorf("booking a service that takes none: %v", err)
	}

	// Check-in opens 30 minutes before the slot.
	h.now = at("09:20")
	_, err := h.try(CheckIn{Reservation: "r1", Device: "kiosk"})
	if refusal(err) != ReasonTooEarly {
		t.Fatalf("check-in at 09:20: %v", err)
	}
	if u := err.(*Error).Refusal.Until; !u.Equal(at("09:30")) {
		t.Errorf("too early: come back at %s, want 09:30", u.In(warsaw))
	}
	h.now = at("09:35")
	walkIn := h.issue("family")
	d := h.do(CheckIn{Reservation: "r1", Device: "kiosk", RequestID: "k-1"})
	booked := h.s.Tickets[d.Ticket]
	if booked.Channel != ChannelBooking || !booked.BookedFor.Equal(slot) || booked.Lang != "en" {
		t.Fatalf("booked ticket %+v", booked)
	}
	if again := h.do(CheckIn{Reservation: "r1", Device: "kiosk"}); again.Ticket != d.Ticket {
		t.Errorf("second check-in gave %s, want the same ticket %s", again.Ticket, d.Ticket)
	}
	// Before the slot the walk-in is called, never the booked visit.
	h.now = at("09:40")
	if got := h.callNext(1); got != walkIn.Number {
		t.Errorf("09:40 called %s, want the walk-in %s", got, walkIn.Number)
	}
	late := h.issue("family")
	if got := h.callNext(1); got != late.Number {
		t.Errorf("09:40 called %s, want walk-in %s: the booking is not due", got, late.Number)
	}
	h.issue("family")
	if _, err := h.try(CallTicket{Counter: 1, Ticket: booked.Number}); errKind(err) != Conflict {
		t.Errorf("calling a booked visit before its slot by hand: %v", err)
	}
	// At the slot it goes ahead of walk-ins who came earlier.
	h.now = at("10:00")
	if got := h.callNext(1); got != booked.Number {
		t.Errorf("10:00 called %s, want the booked %s", got, booked.Number)
	}
	h.refold()
}

func TestCheckInTooLateAndCancel(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.do(Book{ID: "r1", Service: "family", Slot: at("09:30"), Lang: "pl"})
	h.do(Book{ID: "r2", Service: "family", Slot: at("09:45"), Lang: "pl"})
	h.now = at("09:41")
	if _, err := h.try(CheckIn{Reservation: "r1"}); refusal(err) != ReasonTooLate {
		t.Errorf("11 minutes late with 10 minutes grace: %v", err)
	}
	h.do(CancelReservation{ID: "r2"})
	if _, err := h.try(CheckIn{Reservation: "r2"}); refusal(err) != ReasonCancelled {
		t.Errorf("check-in of a cancelled booking: %v", err)
	}
	// The cancelled place can be booked again.
	h.now = at("09:00")
	h.do(Book{ID: "r3", Service: "family", Slot: at("09:45"), Lang: "pl"})
	if _, err := h.try(CheckIn{Reservation: "nope"}); errKind(err) != NotFound {
		t.Errorf("unknown booking: %v", err)
	}
}

func TestLeases(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.open(1)
	h.issue("family") // A001 online
	d := h.do(GrantLease{ID: "l1", Device: "kiosk-1", Service: "family", Count: 5})
	// Leases come from the top of the day's numbers, so online numbers go
	// on from 2 without a gap.
	if d.Lease.First != 995 || d.Lease.Last != 999 {
		t.Fatalf("lease %d-%d, want 995-999", d.Lease.First, d.Lease.Last)
	}
	if d2 := h.do(GrantLease{ID: "l2", Device: "kiosk-2", Service: "family", Count: 5}); d2.Lease.First != 990 || d2.Lease.Last != 994 {
		t.Fatalf("second lease %d-%d, want 990-994", d2.Lease.First, d2.Lease.Last)
	}
	h.now = at("09:10")
	if n := h.issue("family").Number; n != "A002" {
		t.Errorf("online issue after a lease gave %s, want A002", n)
	}
	// The kiosk went offline at 09:05 and issued A995 and A996; the server
	// gets them at 09:30 and places them by their issue time.
	h.now = at("09:30")
	leased := IssueLeased{RequestID: "kiosk-1-a", Device: "kiosk-1", Service: "family", Number: 995, IssuedAt: at("09:05"), Lang: "pl"}
	h.do(leased)
	h.do(IssueLeased{RequestID: "kiosk-1-b", Device: "kiosk-1", Service: "family", Number: 996, IssuedAt: at("09:06"), Lang: "ru"})
	if again := h.do(leased); again.Ticket != TicketID(h.s.Day, "A995") {
		t.Errorf("pushing the same leased ticket twice: %s", again.Ticket)
	}
	if _, err := h.try(IssueLeased{RequestID: "kiosk-1-c", Device: "kiosk-1", Service: "family", Number: 995, IssuedAt: at("09:07"), Lang: "pl"}); errKind(err) != Conflict {
		t.Errorf("a leased number used twice: %v", err)
	}
	if _, err := h.try(IssueLeased{RequestID: "kiosk-2-a", Device: "kiosk-2", Service: "family", Number: 997, IssuedAt: at("09:07"), Lang: "pl"}); errKind(err) != Conflict {
		t.Errorf("another device used kiosk-1's lease: %v", err)
	}
	want := []string{"A001", "A995", "A996", "A002"}
	for _, w := range want {
		if got := h.callNext(1); got != w {
			t.Errorf("called %s, want %s (by issue time)", got, w)
		}
	}
	h.refold()
}

// Online numbers stop below the leased ones: no number is ever given twice.
func TestOnlineNumbersStopBelowLeases(t *testing.T) {
	o := testOffice()
	h := newHarness(t, o, at("09:00"))
	h.do(GrantLease{ID: "l1", Device: "kiosk-1", Service: "docs", Count: 50})
	s := h.s.Services["docs"]
	s.NextNumber = 949 // as if 948 tickets had been issued
	if n := h.issue("docs").Number; n != "D949" {
		t.Fatalf("issued %s", n)
	}
	if _, err := h.try(Issue{Service: "docs", Lang: "pl", Channel: ChannelKiosk}); refusal(err) != ReasonDailyCap {
		t.Errorf("issuing into the leased numbers: %v", err)
	}
	if _, err := h.try(GrantLease{ID: "l2", Device: "kiosk-1", Service: "docs", Count: 5}); errKind(err) != Conflict {
		t.Errorf("a lease with no numbers left: %v", err)
	}
}

func TestLeasedTicketAfterMidnight(t *testing.T) {
	h := newHarness(t, testOffice(), at("15:00"))
	h.do(GrantLease{ID: "l1", Device: "kiosk-1", Service: "family", Count: 3})
	h.now = at("08:10", "2026-11-24")
	h.issue("family")
	d := h.do(IssueLeased{RequestID: "old", Device: "kiosk-1", Service: "family", Number: 997, IssuedAt: at("15:30"), Lang: "pl"})
	if d.Ticket != "2026-11-23-A997" {
		t.Errorf("yesterday's leased ticket id %s", d.Ticket)
	}
	if _, ok := h.s.Tickets[d.Ticket]; ok {
		t.Errorf("yesterday's ticket entered today's queue")
	}
	if again := h.do(IssueLeased{RequestID: "old", Device: "kiosk-1", Service: "family", Number: 997, IssuedAt: at("15:30"), Lang: "pl"}); again.Ticket != d.Ticket {
		t.Errorf("not idempotent after midnight")
	}
	h.refold()
}

// A hold keeps its slot until it expires, by the clock alone, and only a
// confirmation in time makes it a booking.
func TestHoldExpiresAndConfirms(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	slot := at("10:00")
	free := func() int {
		if sl, ok := h.s.Slot(h.now, "family", slot); ok {
			return sl.Free
		}
		return -1
	}
	h.do(Book{ID: "held", Service: "family", Slot: slot, Lang: "en", Hold: 15 * time.Minute})
	if free() != 0 {
		t.Fatalf("a fresh hold leaves %d places", free())
	}
	if _, err := h.try(CheckIn{Reservation: "held", Device: "kiosk"}); errKind(err) != NotFound {
		t.Errorf("check-in of an unconfirmed hold: %v", err)
	}
	h.now = at("09:15")
	if free() != 1 {
		t.Fatalf("an expired hold still takes its slot (%d free)", free())
	}
	if _, err := h.try(ConfirmReservation{ID: "held"}); refusal(err) != ReasonSlotUnavailable {
		t.Errorf("confirming an expired hold: %v", err)
	}
	h.do(Book{ID: "second", Service: "family", Slot: slot, Lang: "pl", Hold: 15 * time.Minute})
	h.now = at("09:20")
	h.do(ConfirmReservation{ID: "second"})
	if r := h.s.Reservations["second"]; r.State != Booked {
		t.Fatalf("confirmed hold is %s", r.State)
	}
	h.now = at("09:50")
	if free() != 0 {
		t.Errorf("a confirmed booking lets its slot go after the hold time")
	}
}

func TestRescheduleMovesInOneStep(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.do(Book{ID: "a", Service: "family", Slot: at("10:00"), Lang: "en"})
	h.do(Book{ID: "b", Service: "family", Slot: at("11:00"), Lang: "en"})
	if _, err := h.try(Reschedule{ID: "a", Slot: at("11:00")}); refusal(err) != ReasonSlotFull {
		t.Fatalf("moving onto a full slot: %v", err)
	}
	if got := h.s.Reservations["a"].Slot; !got.Equal(at("10:00")) {
		t.Fatalf("a refused move moved the booking to %s", got)
	}
	h.do(Reschedule{ID: "a", Slot: at("11:15")})
	if _, err := h.try(Book{ID: "c", Service: "family", Slot: at("10:00"), Lang: "en"}); err != nil {
		t.Errorf("the old slot is not free after the move: %v", err)
	}
	if _, err := h.try(Book{ID: "d", Service: "family", Slot: at("11:15"), Lang: "en"}); refusal(err) != ReasonSlotFull {
		t.Errorf("the new slot is not taken after the move: %v", err)
	}
}

func TestOutsideHoursAfterTheOfficeCloses(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	h.do(Book{ID: "morning", Service: "family", Slot: at("10:00"), Lang: "en"})
	h.do(Book{ID: "afternoon", Service: "family", Slot: at("14:00"), Lang: "en"})
	h.do(Book{ID: "gone", Service: "family", Slot: at("14:30"), Lang: "en"})
	h.do(CancelReservation{ID: "gone"})
	if got := h.s.OutsideHours(h.now); len(got) != 0 {
		t.Fatalf("nothing closed yet, got %v", got)
	}
	h.s.Office.Exceptions = map[string]DayException{"2026-11-23": {Name: "closed afternoon", Hours: []Interval{{Open: 8 * 60, Close: 12 * 60}}}}
	got := h.s.OutsideHours(h.now)
	if len(got) != 1 || got[0].ID != "afternoon" {
		t.Fatalf("outside the new hours: %+v, want the 14:00 booking only", got)
	}
}
