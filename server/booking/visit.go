package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// MaxConfirmTries is how many wrong confirmation codes one hold takes;
// then it can only expire (6 digits against 5 tries: 1 in 200,000).
const MaxConfirmTries = 5

// The refusals of a contact's confirmation, each said to the resident by
// the web.toml message its Error names.
var (
	ErrWrongCode    = errors.New("web.confirm.wrong")
	ErrHoldExpired  = errors.New("web.confirm.expired")
	ErrTooManyTries = errors.New("web.confirm.too_many")
	ErrNoBooking    = errors.New("web.booking.no_such")
)

// Confirm confirms the contact of a held booking with the short code it
// was sent (typed, or in the link): the hold becomes a booking and the
// resident is sent its code. Confirming a booking again changes nothing.
func (d *Desk) Confirm(ctx context.Context, a *actor.Actor, who, id, typed string) error {
	o := a.Office()
	d.mu.Lock()
	defer d.mu.Unlock()
	b, found, err := d.db.Booking(o.ID, id)
	switch {
	case err != nil:
		return err
	case !found || b.Cancelled:
		return ErrNoBooking
	case !b.Held():
		return nil
	case b.ConfirmTries >= MaxConfirmTries:
		return ErrTooManyTries
	case !d.clock().Before(b.HoldUntil):
		return ErrHoldExpired
	}
	if !d.links.CheckConfirmCode(o.ID, id, typed) {
		b, _, err := d.db.UpdateBooking(o.ID, id, func(b *store.Booking) { b.ConfirmTries++ })
		if err != nil {
			return err
		}
		if b.ConfirmTries >= MaxConfirmTries {
			return ErrTooManyTries
		}
		return ErrWrongCode
	}
	if res := a.Do(ctx, who, queue.ConfirmReservation{ID: id}); res.Err != nil {
		var qe *queue.Error
		if errors.As(res.Err, &qe) && qe.Refusal != nil {
			return ErrHoldExpired
		}
		return res.Err
	}
	b, _, err = d.db.UpdateBooking(o.ID, id, func(b *store.Booking) {
		b.Confirmed, b.HoldUntil, b.PurgeAt = true, time.Time{}, b.Slot.Add(o.Booking.Retention)
	})
	if err != nil {
		return err
	}
	d.notifyBooked(ctx, o, b)
	return nil
}

// Reschedule moves a booking to another slot of its service: one event
// frees the old slot and takes the new one, so there is no moment with
// both or neither; if the new slot went meanwhile, nothing changes (a
// refusal, queue.ReasonSlotFull). The code stays the same.
func (d *Desk) Reschedule(ctx context.Context, a *actor.Actor, who, id string, slot time.Time) error {
	return d.reschedule(ctx, a, who, id, slot, "")
}

// reschedule moves the booking; reason is the office's, said in the
// notice, when staff moved it.
func (d *Desk) reschedule(ctx context.Context, a *actor.Actor, who, id string, slot time.Time, reason string) error {
	o := a.Office()
	d.mu.Lock()
	defer d.mu.Unlock()
	b, found, err := d.db.Booking(o.ID, id)
	switch {
	case err != nil:
		return err
	case !found || b.Cancelled || b.Held():
		return ErrNoBooking
	case b.Slot.Equal(slot):
		return nil
	}
	if err := d.checkLimit(o, b.ContactKey, b.Service, slot, id); err != nil {
		return err
	}
	if res := a.Do(ctx, who, queue.Reschedule{ID: id, Slot: slot}); res.Err != nil {
		return res.Err
	}
	b, _, err = d.db.UpdateBooking(o.ID, id, func(b *store.Booking) {
		b.Slot, b.PurgeAt = slot, slot.Add(o.Booking.Retention)
		b.Moves++
	})
	if err != nil {
		return err
	}
	// Keyed by the move's number: moving back and forth sends each move.
	d.notify(ctx, o, b, notice.Rescheduled, fmt.Sprintf("rescheduled/%s/%d", id, b.Moves), func(n *notice.Notice) { n.Reason = reason })
	return nil
}

// Forget deletes a booking's personal data at the resident's request,
// cancelling the visit first if it is still to come.
func (d *Desk) Forget(ctx context.Context, a *actor.Actor, who, id string) error {
	o := a.Office()
	b, found, err := d.db.Booking(o.ID, id)
	if err != nil || !found {
		return err
	}
	if b.Active(d.clock()) && b.Slot.After(d.clock()) {
		err := d.cancelVisit(ctx, a, who, id, "")
		var qe *queue.Error
		// Checked in already: the ticket stands, the data still goes.
		if err != nil && (!errors.As(err, &qe) || qe.Kind != queue.Conflict) {
			return err
		}
	}
	return d.db.DeleteBooking(o.ID, id)
}

// CancelOutsideHours cancels the bookings the office's hours no longer
// cover (a holiday or closed hours added after they were booked), tells
// each resident (CancelledByOffice) and returns them for staff.
func (d *Desk) CancelOutsideHours(ctx context.Context, a *actor.Actor) ([]store.Booking, error) {
	o := a.Office()
	now := d.clock()
	var closed []queue.Reservation
	if err := a.Query(ctx, func(s *queue.State) { closed = s.OutsideHours(now) }); err != nil {
		return nil, err
	}
	var out []store.Booking
	for _, r := range closed {
		reason := "closed"
		if _, ex := o.HoursOn(r.Slot); ex != nil {
			reason = ex.Name
			if n := ex.Names[r.Lang]; n != "" {
				reason = n
			}
		}
		if err := d.cancelVisit(ctx, a, "office:hours", r.ID, reason); err != nil {
			return out, err
		}
		before, found, err := d.db.Booking(o.ID, r.ID)
		if err != nil {
			return out, err
		}
		after, _, err := d.db.UpdateBooking(o.ID, r.ID, func(b *store.Booking) {
			b.Cancelled, b.CancelReason = true, reason
			b.Name, b.Contact, b.ContactKey = "", "", ""
		})
		if err != nil {
			return out, err
		}
		if found && !before.Held() {
			d.notify(ctx, o, before, notice.CancelledByOffice, "cancelled-by-office/"+r.ID, func(n *notice.Notice) {
				n.Reason = reason
				n.Links.Manage = d.links.URL("/book/" + o.ID + "?service=" + r.Service)
			})
		}
		if found {
			out = append(out, after)
		}
	}
	if len(out) > 0 {
		d.log.Warn("bookings cancelled: the office's hours no longer cover them", "office", o.ID, "bookings", len(out))
	}
	return out, nil
}

func (d *Desk) notifyBooked(ctx context.Context, o *queue.Office, b store.Booking) {
	d.notify(ctx, o, b, notice.Booked, "booked/"+b.ID+"/"+b.Slot.UTC().Format(time.RFC3339), nil)
}

// notify hands a notice about booking b to the outbox and notes it on the
// booking; a failure is logged (without personal data) and changes
// nothing else: the booking stands.
func (d *Desk) notify(ctx context.Context, o *queue.Office, b store.Booking, kind notice.Kind, key string, adjust func(*notice.Notice)) {
	if d.Notices == nil || b.Contact == "" {
		return
	}
	n := notice.Notice{
		Kind: kind, Office: o.ID, Lang: b.Lang, Name: b.Name, Contact: b.Contact, Service: b.Service,
		Booking: links.FormatCode(d.links.BookingCode(o.ID, b.ID)), Slot: b.Slot, Key: key,
		Links: notice.Links{Manage: d.links.URL(d.links.BookingPath(o.ID, b.ID))},
	}
	if adjust != nil {
		adjust(&n)
	}
	if err := d.Notices.Send(ctx, n); err != nil {
		d.log.Error("handing a notice to the outbox", "office", o.ID, "booking", b.ID, "kind", kind, "err", err)
		return
	}
	at := d.clock()
	if _, _, err := d.db.UpdateBooking(o.ID, b.ID, func(b *store.Booking) {
		b.Sent = append(b.Sent, store.SentNotice{Kind: string(kind), At: at})
	}); err != nil {
		d.log.Error("noting a notice on its booking", "office", o.ID, "booking", b.ID, "err", err)
	}
}
