package outbox

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// Bookings lists the stored bookings (store.WebDB).
type Bookings interface {
	EachBooking(fn func(store.Booking) error) error
}

// Reminders sends each booked visit a Reminder the day before, once a
// day at a set hour in each office's time zone. Each reminder's key names
// the booking and its slot, so it goes once, also across restarts, and a
// visit moved to another day is reminded again.
type Reminders struct {
	Bookings Bookings
	// Links derive each booking's code and management address.
	Links   *links.Signer
	Offices []*queue.Office
	Sender  notice.Sender
	// At is the time of day of the reminders (time since midnight).
	At    time.Duration
	Clock func() time.Time
	Log   *slog.Logger
	// Active, if set, says whether the office still holds the visit (not
	// cancelled by it, not checked in); nil trusts the stored booking.
	Active func(ctx context.Context, office, id string, slot time.Time) bool
}

// ReminderKey is the key that makes a booking's reminder once-only.
func ReminderKey(office, id string, slot time.Time) string {
	return "reminder/" + office + "/" + id + "/" + slot.UTC().Format(time.RFC3339)
}

// moment is the reminder time on the office-local day of t.
func (r *Reminders) moment(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	// By the clock on the wall: on the days the clocks change, midnight
	// plus 16 hours is not 16:00.
	return time.Date(lt.Year(), lt.Month(), lt.Day(), int(r.At/time.Hour), int(r.At%time.Hour/time.Minute), 0, 0, loc)
}

// RemindDue sends the reminders due at now: in each office where the
// reminder hour has come today, one for every active booking of the next
// day made before that hour (a visit booked later was just confirmed).
// It says how many it handed on.
func (r *Reminders) RemindDue(ctx context.Context, now time.Time) (int, error) {
	type window struct {
		office       *queue.Office
		from, to, at time.Time
	}
	windows := map[string]window{}
	for _, o := range r.Offices {
		loc := o.Location
		if loc == nil {
			loc = time.UTC
		}
		at := r.moment(now, loc)
		if now.Before(at) {
			continue
		}
		lt := now.In(loc)
		from := time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
		windows[o.ID] = window{office: o, from: from, to: from.AddDate(0, 0, 1), at: at}
	}
	if len(windows) == 0 {
		return 0, nil
	}
	var due []store.Booking
	err := r.Bookings.EachBooking(func(b store.Booking) error {
		w, ok := windows[b.Office]
		if ok && !b.Cancelled && !b.Held() && b.Contact != "" && !b.Slot.Before(w.from) && b.Slot.Before(w.to) && b.BookedAt.Before(w.at) {
			due = append(due, b)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading tomorrow's bookings: %w", err)
	}
	sent := 0
	for _, b := range due {
		if r.Active != nil && !r.Active(ctx, b.Office, b.ID, b.Slot) {
			continue
		}
		n := notice.Notice{
			Kind: notice.Reminder, Office: b.Office, Lang: b.Lang, Name: b.Name, Contact: b.Contact,
			Service: b.Service, Booking: r.Links.BookingCode(b.Office, b.ID), Slot: b.Slot,
			Links: notice.Links{Manage: r.Links.BookingURL(b.Office, b.ID)},
			Key:   ReminderKey(b.Office, b.ID, b.Slot),
		}
		if err := r.Sender.Send(ctx, n); err != nil {
			return sent, fmt.Errorf("handing on a reminder: %w", err)
		}
		sent++
	}
	return sent, nil
}

// next is the first reminder moment of any office after now.
func (r *Reminders) next(now time.Time) time.Time {
	var best time.Time
	for _, o := range r.Offices {
		loc := o.Location
		if loc == nil {
			loc = time.UTC
		}
		at := r.moment(now, loc)
		if !at.After(now) {
			lt := now.In(loc)
			at = r.moment(time.Date(lt.Year(), lt.Month(), lt.Day()+1, 12, 0, 0, 0, loc), loc)
		}
		if best.IsZero() || at.Before(best) {
			best = at
		}
	}
	return best
}

// Run sends what is due now (a server started after the hour catches
// up), then at each office's reminder hour, until ctx ends.
func (r *Reminders) Run(ctx context.Context) {
	clock := r.Clock
	if clock == nil {
		clock = time.Now
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	for {
		now := clock()
		n, err := r.RemindDue(ctx, now)
		if err != nil {
			r.Log.Error("sending reminders", "err", err)
		} else if n > 0 {
			r.Log.Info("reminders of tomorrow's visits handed to the outbox", "bookings", n)
		}
		wait := r.next(now).Sub(now)
		if err != nil {
			wait = min(wait, 10*time.Minute)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
