package stats

import (
	"sort"
	"time"

	"github.com/numerek/numerek/queue"
)

// Bookings are the booked visits of a range, counted by the day of their
// slot. A visit counts once booked: a slot held for a contact never
// confirmed is not a booking.
type Bookings struct {
	// Booked counts every booking of the range, cancelled or not.
	Booked int
	// Cancelled by the resident or the office; CheckedIn at the kiosk or
	// by code; NoShows are the slots whose check-in window (the office's
	// check-in grace after the slot) closed without a check-in; Upcoming
	// are those whose window is still open.
	Cancelled, CheckedIn, NoShows, Upcoming int
	// Lateness is each check-in's time after its slot's start (negative:
	// early).
	Lateness []time.Duration
}

// NoShowRate is the share (0-1) of the visits due that nobody came to;
// -1 when none was due.
func (b Bookings) NoShowRate() float64 {
	due := b.CheckedIn + b.NoShows
	if due == 0 {
		return -1
	}
	return float64(b.NoShows) / float64(due)
}

// LateShare is the share (0-1) of check-ins after the slot's start; -1
// with none.
func (b Bookings) LateShare() float64 {
	if len(b.Lateness) == 0 {
		return -1
	}
	late := 0
	for _, d := range b.Lateness {
		if d > 0 {
			late++
		}
	}
	return float64(late) / float64(len(b.Lateness))
}

// LatenessMedian and LatenessP90 summarise how late residents checked in
// (negative: early); zero with none.
func (b Bookings) LatenessMedian() time.Duration { return percentile(b.Lateness, 50) }
func (b Bookings) LatenessP90() time.Duration    { return percentile(b.Lateness, 90) }

// BookingReport is the bookings of the range, overall and per service.
type BookingReport struct {
	Total Bookings
	// Services are sorted by service id.
	Services []BookingGroup
}

// BookingGroup is the bookings of one service.
type BookingGroup struct {
	Service string
	Bookings
}

// booking is what the fold remembers of one reservation.
type booking struct {
	service   string
	slot      time.Time
	booked    bool
	cancelled bool
	checkedIn time.Time
}

func (b *builder) addBooking(e queue.Event) {
	switch ev := e.Body.(type) {
	case queue.ReservationBooked:
		r := ev.Reservation
		b.bookings[r.ID] = &booking{service: r.Service, slot: r.Slot, booked: r.State == queue.Booked}
	case queue.ReservationConfirmed:
		if k := b.bookings[ev.Reservation]; k != nil {
			k.booked = true
		}
	case queue.ReservationRescheduled:
		if k := b.bookings[ev.Reservation]; k != nil {
			k.slot = ev.Slot
		}
	case queue.ReservationCancelled:
		if k := b.bookings[ev.Reservation]; k != nil {
			k.cancelled = true
		}
	case queue.ReservationCheckedIn:
		if k := b.bookings[ev.Reservation]; k != nil {
			k.checkedIn = e.At
		}
	}
}

func (b *builder) bookingReport() BookingReport {
	grace := b.office.Booking.CheckInGrace
	loc := b.location()
	var rep BookingReport
	per := map[string]*Bookings{}
	for _, k := range b.bookings {
		if !k.booked || !b.r.Contains(k.slot.In(loc).Format("2006-01-02")) {
			continue
		}
		g := per[k.service]
		if g == nil {
			g = &Bookings{}
			per[k.service] = g
		}
		for _, f := range []*Bookings{&rep.Total, g} {
			f.Booked++
			switch {
			case !k.checkedIn.IsZero():
				f.CheckedIn++
				f.Lateness = append(f.Lateness, k.checkedIn.Sub(k.slot))
			case k.cancelled:
				f.Cancelled++
			case b.now.After(k.slot.Add(grace)):
				f.NoShows++
			default:
				f.Upcoming++
			}
		}
	}
	ids := make([]string, 0, len(per))
	for id := range per {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rep.Services = append(rep.Services, BookingGroup{Service: id, Bookings: *per[id]})
	}
	return rep
}
