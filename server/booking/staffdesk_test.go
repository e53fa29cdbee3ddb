package booking

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/notice"
)

func (e *deskEnv) bookForCaller(hhmm, contact, lang string) Booked {
	e.t.Helper()
	b, err := e.desk.BookForCaller(context.Background(), e.actor, "clerk:ewa", Request{
		Service: "family", Slot: at(e.office, hhmm), Lang: lang, Name: "Olena Kovalenko", Contact: contact, Terms: true,
	})
	if err != nil {
		e.t.Fatalf("booking %s for a caller: %v", hhmm, err)
	}
	return b
}

func (e *deskEnv) day() []Entry {
	e.t.Helper()
	got, err := e.desk.Day(context.Background(), e.actor, "2026-11-23")
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func TestBookForCallerHoldsAtOnceAndIsListed(t *testing.T) {
	// The office confirms contacts; its slots take as many visits as
	// counters serve the matter.
	e := newDesk(t, func(o *queue.Office) { o.Booking.PerSlot = 0 })
	b := e.bookForCaller("10:00", "olena@example.ua", "uk")
	if b.Held {
		t.Fatalf("a visit booked by staff is held until confirmed: %+v", b)
	}
	if got := e.out.kinds(); len(got) != 1 || got[0] != notice.Booked {
		t.Fatalf("notices %v, want one booked", got)
	}
	if n := e.out.last(); n.Lang != "uk" || n.Contact != "olena@example.ua" || n.Booking == "" {
		t.Errorf("booked notice %+v: in Ukrainian, to the caller's address, with the code", n)
	}
	if _, err := e.book("10:00", "jan@example.pl"); err != nil { // a resident's own hold of another place
		t.Fatal(err)
	}

	list := e.day()
	if len(list) != 2 {
		t.Fatalf("the day lists %d visits, want 2: %+v", len(list), list)
	}
	var caller Entry
	for _, x := range list {
		if x.ID == b.ID {
			caller = x
		}
	}
	if caller.Name != "Olena Kovalenko" || caller.Lang != "uk" || caller.Status != StatusBooked || strings.ReplaceAll(caller.Code, "-", "") != b.Code {
		t.Errorf("caller's entry %+v", caller)
	}
	held := list[0]
	if held.ID == b.ID {
		held = list[1]
	}
	if held.Status != StatusHeld || held.Active() {
		t.Errorf("the resident's own unconfirmed booking is listed as %+v, want held and not to be acted on", held)
	}
	if list[0].Counter == 0 || list[1].Counter == 0 || list[0].Counter == list[1].Counter {
		t.Errorf("two visits at 10:00 expected at counters %d and %d: each needs its own", list[0].Counter, list[1].Counter)
	}
}

func TestOfficeMovesAndCancelsWithAReason(t *testing.T) {
	e := newDesk(t, func(o *queue.Office) { o.Booking.ConfirmContact = false })
	ctx := context.Background()
	b := e.bookForCaller("10:00", "600100200", "ru")

	if err := e.desk.MoveForOffice(ctx, e.actor, "clerk:ewa", b.ID, at(e.office, "11:00"), "  "); !errors.Is(err, ErrNoReason) {
		t.Errorf("moving without a reason: %v, want ErrNoReason", err)
	}
	if err := e.desk.MoveForOffice(ctx, e.actor, "clerk:ewa", b.ID, at(e.office, "11:00"), "Counter 1 is closed that hour"); err != nil {
		t.Fatal(err)
	}
	if n := e.out.last(); n.Kind != notice.Rescheduled || n.Reason != "Counter 1 is closed that hour" || !n.Slot.Equal(at(e.office, "11:00")) || n.Lang != "ru" {
		t.Errorf("move notice %+v: rescheduled to 11:00 in Russian with the reason", n)
	}
	if e.free("10:00") != 1 || e.free("11:00") != 0 {
		t.Errorf("after the move 10:00 has %d places, 11:00 %d; want 1 and 0", e.free("10:00"), e.free("11:00"))
	}

	if err := e.desk.CancelForOffice(ctx, e.actor, "clerk:ewa", b.ID, ""); !errors.Is(err, ErrNoReason) {
		t.Errorf("cancelling without a reason: %v, want ErrNoReason", err)
	}
	if err := e.desk.CancelForOffice(ctx, e.actor, "clerk:ewa", b.ID, "The clerk for this matter is ill"); err != nil {
		t.Fatal(err)
	}
	n := e.out.last()
	if n.Kind != notice.CancelledByOffice || n.Reason != "The clerk for this matter is ill" || n.Contact != "600100200" {
		t.Errorf("cancel notice %+v", n)
	}
	if !strings.Contains(n.Links.Manage, "/book/"+e.office.ID) {
		t.Errorf("the cancel notice offers %q, want the booking page to book again", n.Links.Manage)
	}
	list := e.day()
	if len(list) != 1 || list[0].Status != StatusCancelled || list[0].Reason != "The clerk for this matter is ill" || list[0].Name != "" || list[0].Contact != "" {
		t.Errorf("after the cancel the day lists %+v: cancelled with the reason, personal data gone", list)
	}
	if e.free("11:00") != 1 {
		t.Errorf("the cancelled visit's slot has %d places, want 1", e.free("11:00"))
	}
	if err := e.desk.CancelForOffice(ctx, e.actor, "clerk:ewa", b.ID, "again"); !errors.Is(err, ErrNoBooking) {
		t.Errorf("cancelling twice: %v, want ErrNoBooking", err)
	}
}

func TestCloseHoursTellsTheBookedAndSurvivesARestart(t *testing.T) {
	e := newDesk(t, func(o *queue.Office) { o.Booking.ConfirmContact = false })
	ctx := context.Background()
	inside := e.bookForCaller("11:00", "olena@example.ua", "uk")
	outside := e.bookForCaller("13:00", "600100200", "pl")

	if _, err := e.desk.Close(ctx, e.actor, "clerk:ewa", at(e.office, "10:30"), at(e.office, "12:00"), ""); !errors.Is(err, ErrNoReason) {
		t.Errorf("closing without a reason: %v", err)
	}
	closed, err := e.desk.Close(ctx, e.actor, "manager:iza", at(e.office, "10:30"), at(e.office, "12:00"), "Szkolenie pracowników")
	if err != nil {
		t.Fatal(err)
	}
	if closed.Told != 1 {
		t.Errorf("told %d residents, want the one booked at 11:00", closed.Told)
	}
	n := e.out.last()
	if n.Kind != notice.HoursClosed || n.Reason != "Szkolenie pracowników" || n.Lang != "uk" || n.Contact != "olena@example.ua" {
		t.Errorf("closure notice %+v: hours-closed, in Ukrainian, with the reason", n)
	}
	if want := e.desk.Links().BookingPath(e.office.ID, inside.ID) + "/move"; !strings.HasSuffix(n.Links.Manage, want) {
		t.Errorf("the closure notice links %q, want the visit's move page %s", n.Links.Manage, want)
	}
	if e.free("11:15") != -1 {
		t.Errorf("11:15 is still offered inside the closure")
	}
	if _, err := e.book("11:15", "jan@example.pl"); refusalOf(err) != queue.ReasonSlotUnavailable {
		t.Errorf("a resident booking inside the closure: %v, want unavailable", err)
	}
	for _, x := range e.day() {
		if x.ID == inside.ID && x.Closed != "Szkolenie pracowników" {
			t.Errorf("the visit in the closure is listed without it: %+v", x)
		}
		if x.ID == outside.ID && x.Closed != "" {
			t.Errorf("the 13:00 visit is listed as closed: %+v", x)
		}
	}

	// The closure is in the office's log: a restart keeps it.
	e.stop()
	e.start(e.office)
	list, err := e.desk.Closures(ctx, e.actor)
	if err != nil || len(list) != 1 || list[0].Reason != "Szkolenie pracowników" {
		t.Fatalf("closures after a restart: %+v %v", list, err)
	}
	if e.free("11:15") != -1 {
		t.Errorf("11:15 offered again after a restart")
	}
	if err := e.desk.Reopen(ctx, e.actor, "manager:iza", list[0].ID); err != nil {
		t.Fatal(err)
	}
	if e.free("11:15") != 1 {
		t.Errorf("after reopening 11:15 has %d places, want 1", e.free("11:15"))
	}
}

func TestDayShowsCheckIn(t *testing.T) {
	e := newDesk(t, func(o *queue.Office) { o.Booking.ConfirmContact = false })
	b := e.bookForCaller("10:00", "olena@example.ua", "uk")
	e.clock.Set(at(e.office, "09:45"))
	if _, err := e.desk.CheckIn(context.Background(), e.actor, Source{Device: "kiosk"}, b.Code, queue.CheckIn{Device: "kiosk"}, "kiosk:lobby"); err != nil {
		t.Fatal(err)
	}
	if list := e.day(); len(list) != 1 || list[0].Status != StatusCheckedIn {
		t.Errorf("after check-in the day lists %+v", list)
	}
	// The next day the office has forgotten the visit; the record stays
	// until its retention ends, as a visit of a past day.
	e.clock.Set(at(e.office, "09:00").AddDate(0, 0, 1))
	if res := e.actor.Do(context.Background(), "kiosk:lobby", queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk}); res.Err != nil {
		t.Fatal(res.Err)
	}
	if list := e.day(); len(list) != 1 || list[0].Status != StatusPast || list[0].Active() {
		t.Errorf("a day later the day lists %+v, want the visit as past", list)
	}
}

func refusalOf(err error) queue.Reason {
	var qe *queue.Error
	if errors.As(err, &qe) && qe.Refusal != nil {
		return qe.Refusal.Reason
	}
	return ""
}
