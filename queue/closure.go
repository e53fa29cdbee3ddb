package queue

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Closure is a time the office takes no bookings: a day or some hours
// closed for a staff training or a national system that is down. Slots
// inside it are not offered; visits already booked there stand until the
// office or the resident moves or cancels them (the booking desk tells
// them). It is part of the domain, not the web store, because the same
// decision that books a slot must see it.
type Closure struct {
	ID     string    `json:"id"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
	// ClosedAt is when it was decided; who decided is the event's actor.
	ClosedAt time.Time `json:"closed_at"`
}

// Overlaps reports whether the closure covers any part of [start, end).
func (c Closure) Overlaps(start, end time.Time) bool {
	return c.From.Before(end) && start.Before(c.To)
}

// MaxClosureReason bounds a closure's reason, which residents are told.
const MaxClosureReason = 200

// CloseBooking closes [From, To) for bookings, with a reason residents
// are told. The caller picks the ID.
type CloseBooking struct {
	ID       string
	From, To time.Time
	Reason   string
}

func (c CloseBooking) decide(s *State, now time.Time) (Decision, error) {
	reason := strings.Join(strings.Fields(c.Reason), " ")
	switch {
	case c.ID == "":
		return Decision{}, invalid("id: a closure needs an id")
	case s.Closures[c.ID] != nil:
		return Decision{}, conflict("closure %s already exists", c.ID)
	case c.From.IsZero() || c.To.IsZero():
		return Decision{}, invalid("from, to: a closure needs a start and an end")
	case !c.To.After(c.From):
		return Decision{}, invalid("to: the end (%s) must be after the start (%s)", fmtTime(c.To, s.Office), fmtTime(c.From, s.Office))
	case !c.To.After(now):
		return Decision{}, invalid("to: %s has already passed", fmtTime(c.To, s.Office))
	case reason == "":
		return Decision{}, invalid("reason: say why bookings are closed; residents are told")
	case utf8.RuneCountInString(reason) > MaxClosureReason:
		return Decision{}, invalid("reason: at most %d characters", MaxClosureReason)
	}
	cl := Closure{ID: c.ID, From: c.From.UTC(), To: c.To.UTC(), Reason: reason, ClosedAt: now.UTC()}
	return Decision{Events: []Body{BookingClosed{Closure: cl}}}, nil
}

// ReopenBooking lifts a closure: its slots are offered again.
type ReopenBooking struct{ ID string }

func (c ReopenBooking) decide(s *State, _ time.Time) (Decision, error) {
	if s.Closures[c.ID] == nil {
		return Decision{}, notFound("no closure %q", c.ID)
	}
	return Decision{Events: []Body{BookingReopened{Closure: c.ID}}}, nil
}

func (s *State) applyBookingClosed(b BookingClosed, _ Event) error {
	cl := b.Closure
	s.Closures[cl.ID] = &cl
	return nil
}

func (s *State) applyBookingReopened(b BookingReopened, _ Event) error {
	delete(s.Closures, b.Closure)
	return nil
}

// ClosureList is the closures not yet over at now, earliest first.
func (s *State) ClosureList(now time.Time) []Closure {
	var out []Closure
	for _, c := range s.Closures {
		if c.To.After(now) {
			out = append(out, *c)
		}
	}
	sortByTime(out, func(c Closure) (time.Time, string) { return c.From, c.ID })
	return out
}

// closedFor returns a closure covering part of [start, end), if any.
func (s *State) closedFor(start, end time.Time) (Closure, bool) {
	for _, c := range s.Closures {
		if c.Overlaps(start, end) {
			return *c, true
		}
	}
	return Closure{}, false
}

// ClosedOn reports whether a closure covers some of the office's hours on
// the office-local date of day: a day whose slots all went to closures
// shows as closed, not as missing.
func (s *State) ClosedOn(day time.Time) bool {
	ivs, _ := s.Office.HoursOn(day)
	for _, iv := range ivs {
		if _, closed := s.closedFor(s.Office.at(day, iv.Open), s.Office.at(day, iv.Close)); closed {
			return true
		}
	}
	return false
}

// InClosure lists the visits still booked (or held) at now whose slot a
// closure covers: the residents to tell.
func (s *State) InClosure(now time.Time, c Closure) []Reservation {
	var out []Reservation
	for _, r := range s.Reservations {
		if r.Active(now) && c.Overlaps(r.Slot, r.Slot.Add(s.Office.Booking.SlotLength)) {
			out = append(out, *r)
		}
	}
	sortByTime(out, func(r Reservation) (time.Time, string) { return r.Slot, r.ID })
	return out
}

// sortByTime sorts by the time key gives, then by its id, so that a list
// built from a map comes out the same every time.
func sortByTime[T any](s []T, key func(T) (time.Time, string)) {
	slices.SortFunc(s, func(a, b T) int {
		at, aid := key(a)
		bt, bid := key(b)
		if n := at.Compare(bt); n != 0 {
			return n
		}
		return strings.Compare(aid, bid)
	})
}

// dropPastClosures forgets closures over before at (a new day).
func (s *State) dropPastClosures(at time.Time) {
	for id, c := range s.Closures {
		if !c.To.After(at) {
			delete(s.Closures, id)
		}
	}
}
