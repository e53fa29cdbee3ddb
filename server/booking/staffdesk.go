package booking

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// This file is the office's side of the desk: the day's visits as staff
// see them, booking for a resident who phones, moving and cancelling with
// the office's reason, and closing hours for booking.

// Status is where a visit stands, as staff see it.
type Status string

// The statuses of a visit on the staff's list.
const (
	StatusBooked    Status = "booked"
	StatusHeld      Status = "held"
	StatusCheckedIn Status = "checked-in"
	StatusCancelled Status = "cancelled"
	// StatusPast is a visit of a day the office has moved past: whether
	// it was checked in is in the statistics, not here.
	StatusPast Status = "past"
)

// Entry is one visit on the staff's list of a day.
type Entry struct {
	ID      string
	Service string
	Slot    time.Time
	Lang    string
	// Name and Contact are the resident's (empty once cancelled).
	Name, Contact string
	// Code is the booking code, to read to a caller.
	Code   string
	Status Status
	// Reason is the office's reason of a cancellation.
	Reason string
	// Counter is the counter expected to take the visit (0: none is
	// left for it), as the slot's capacity counts them.
	Counter int
	// Closed is the reason of a closure the visit falls in, if any: its
	// resident was told and may move it.
	Closed string
}

// Active reports whether the visit is booked and still to come: staff may
// move or cancel it and read its code to the resident. A hold is not yet
// a booking (its resident has not confirmed the contact).
func (e Entry) Active() bool { return e.Status == StatusBooked }

// Day lists the visits of the office-local date day ("2006-01-02") by
// time and service, with their residents' names and contacts.
func (d *Desk) Day(ctx context.Context, a *actor.Actor, day string) ([]Entry, error) {
	o := a.Office()
	start, err := time.ParseInLocation("2006-01-02", day, o.Location)
	if err != nil {
		return nil, fmt.Errorf("reading the day %q: %w", day, err)
	}
	recs, err := d.db.BookingsBetween(o.ID, start, start.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	var (
		states   = map[string]queue.Reservation{}
		closures []queue.Closure
		today    string
	)
	now := d.clock()
	if err := a.Query(ctx, func(s *queue.State) {
		for id, r := range s.Reservations {
			states[id] = *r
		}
		closures = s.ClosureList(now)
		today = s.Day
	}); err != nil {
		return nil, fmt.Errorf("reading office %s's bookings: %w", o.ID, err)
	}
	out := make([]Entry, 0, len(recs))
	for _, b := range recs {
		if b.Held() && !b.Active(now) {
			continue // a hold nobody confirmed: never a visit
		}
		e := Entry{ID: b.ID, Service: b.Service, Slot: b.Slot, Lang: b.Lang, Name: b.Name, Contact: b.Contact,
			Code: links.FormatCode(d.links.BookingCode(o.ID, b.ID)), Status: StatusBooked, Reason: b.CancelReason}
		r, known := states[b.ID]
		switch {
		case b.Cancelled || (known && r.State == queue.ReservationDrop):
			e.Status = StatusCancelled
			if e.Reason == "" && known {
				e.Reason = r.Reason
			}
		case known && r.State == queue.CheckedIn:
			e.Status = StatusCheckedIn
		case b.Held():
			e.Status = StatusHeld
		case !known && day < today:
			e.Status = StatusPast
		}
		if e.Active() {
			for _, c := range closures {
				if c.Overlaps(b.Slot, b.Slot.Add(o.Booking.SlotLength)) {
					e.Closed = c.Reason
				}
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y Entry) int {
		if n := x.Slot.Compare(y.Slot); n != 0 {
			return n
		}
		if n := strings.Compare(x.Service, y.Service); n != 0 {
			return n
		}
		return strings.Compare(x.ID, y.ID)
	})
	assignCounters(o, out)
	return out, nil
}

// assignCounters gives each visit that takes its slot the counter the
// slot's capacity counts it at (entries sorted by slot).
func assignCounters(o *queue.Office, entries []Entry) {
	for i := 0; i < len(entries); {
		j := i
		var idx []int
		var visits []string
		for ; j < len(entries) && entries[j].Slot.Equal(entries[i].Slot); j++ {
			if entries[j].Status != StatusCancelled {
				idx, visits = append(idx, j), append(visits, entries[j].Service)
			}
		}
		for k, n := range o.Assign(visits) {
			entries[idx[k]].Counter = n
		}
		i = j
	}
}

// BookForCaller books a visit for a resident who phones the office: the
// same checks as a resident's own booking, except that the contact is
// not asked to confirm itself (staff heard it), so the visit holds at
// once and the resident is sent its code. The caller has agreed to the
// terms read to them (req.Terms).
func (d *Desk) BookForCaller(ctx context.Context, a *actor.Actor, who string, req Request) (Booked, error) {
	return d.book(ctx, a, who, req, false)
}

// ErrNoReason: the office's change to a visit, or a closure, needs a
// reason the resident is told. Its text is the web.toml message id.
var ErrNoReason = &FieldError{Field: "reason", Key: "web.desk.error.reason"}

// errReasonLong: a reason longer than residents' messages take.
var errReasonLong = &FieldError{Field: "reason", Key: "web.desk.error.reason_long"}

// officeReason tidies the reason staff give, which the resident is told.
func officeReason(reason string) (string, error) {
	r := strings.Join(strings.Fields(reason), " ")
	switch {
	case r == "":
		return "", ErrNoReason
	case utf8.RuneCountInString(r) > queue.MaxClosureReason:
		return "", errReasonLong
	}
	return r, nil
}

// MoveForOffice moves a visit to another slot of its service at the
// office's initiative: the resident is told the new time and the reason,
// in their language.
func (d *Desk) MoveForOffice(ctx context.Context, a *actor.Actor, who, id string, slot time.Time, reason string) error {
	r, err := officeReason(reason)
	if err != nil {
		return err
	}
	return d.reschedule(ctx, a, who, id, slot, r)
}

// CancelForOffice cancels a visit at the office's initiative: the
// resident is told the reason and offered to book again; the personal
// data goes at once, as with a resident's own cancellation.
func (d *Desk) CancelForOffice(ctx context.Context, a *actor.Actor, who, id, reason string) error {
	r, err := officeReason(reason)
	if err != nil {
		return err
	}
	o := a.Office()
	before, found, err := d.db.Booking(o.ID, id)
	switch {
	case err != nil:
		return err
	case !found || before.Cancelled:
		return ErrNoBooking
	}
	if err := d.cancelVisit(ctx, a, who, id, r); err != nil {
		return err
	}
	if _, _, err := d.db.UpdateBooking(o.ID, id, func(b *store.Booking) {
		b.Cancelled, b.CancelReason = true, r
		b.Name, b.Contact, b.ContactKey = "", "", ""
	}); err != nil {
		return err
	}
	if !before.Held() {
		d.notify(ctx, o, before, notice.CancelledByOffice, "cancelled-by-office/"+id, func(n *notice.Notice) {
			n.Reason = r
			n.Links.Manage = d.links.URL("/book/" + o.ID + "?service=" + before.Service)
		})
	}
	return nil
}

// Closed is a closure made and the residents told of it.
type Closed struct {
	Closure queue.Closure
	// Told counts the visits booked in it whose residents were sent a
	// message with their move link.
	Told int
}

// Close closes [from, to) for booking: no new visit is booked there, and
// each resident already booked there is told why and sent the link to
// move their visit (the visit stands until they do).
func (d *Desk) Close(ctx context.Context, a *actor.Actor, who string, from, to time.Time, reason string) (Closed, error) {
	r, err := officeReason(reason)
	if err != nil {
		return Closed{}, err
	}
	id, err := newClosureID()
	if err != nil {
		return Closed{}, err
	}
	if res := a.Do(ctx, who, queue.CloseBooking{ID: id, From: from, To: to, Reason: r}); res.Err != nil {
		return Closed{}, res.Err
	}
	o := a.Office()
	var c queue.Closure
	var affected []queue.Reservation
	now := d.clock()
	if err := a.Query(ctx, func(s *queue.State) {
		if p := s.Closures[id]; p != nil {
			c = *p
			affected = s.InClosure(now, c)
		}
	}); err != nil {
		return Closed{}, fmt.Errorf("reading the visits in closure %s: %w", id, err)
	}
	out := Closed{Closure: c}
	for _, v := range affected {
		b, found, err := d.db.Booking(o.ID, v.ID)
		if err != nil {
			return out, err
		}
		if !found || b.Held() || b.Cancelled {
			continue
		}
		d.notify(ctx, o, b, notice.HoursClosed, "hours-closed/"+id+"/"+v.ID, func(n *notice.Notice) {
			n.Reason = r
			n.Links.Manage = d.links.URL(d.links.BookingPath(o.ID, v.ID) + "/move")
		})
		out.Told++
	}
	return out, nil
}

// Reopen lifts a closure: its slots are offered again.
func (d *Desk) Reopen(ctx context.Context, a *actor.Actor, who, id string) error {
	return a.Do(ctx, who, queue.ReopenBooking{ID: id}).Err
}

// Closures lists the office's closures not yet over.
func (d *Desk) Closures(ctx context.Context, a *actor.Actor) ([]queue.Closure, error) {
	var out []queue.Closure
	now := d.clock()
	if err := a.Query(ctx, func(s *queue.State) { out = s.ClosureList(now) }); err != nil {
		return nil, fmt.Errorf("reading office %s's closures: %w", a.Office().ID, err)
	}
	return out, nil
}

func newClosureID() (string, error) {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a closure id: %w", err)
	}
	return strings.ToLower(idEncoding.EncodeToString(b)), nil
}
