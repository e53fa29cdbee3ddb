package queue

import (
	"slices"
	"time"
)

// Slot is a bookable time and how many places it has left.
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Free  int       `json:"free"`
}

// Slots lists the bookable slots of service on the office-local date of
// day, as seen at now. Past slots, days that do not take bookings and days
// too far ahead give none.
func (s *State) Slots(now time.Time, service string, day time.Time) []Slot {
	svc, ok := s.Office.Service(service)
	if !ok || !svc.Bookable {
		return nil
	}
	b := s.Office.Booking
	if !s.bookableDay(now, day) {
		return nil
	}
	// The visits of every service in each slot: a counter serving two
	// matters is one counter between them (Office.Room).
	visits := map[time.Time][]string{}
	for _, r := range s.Reservations {
		if r.State == CheckedIn || r.Active(now) {
			visits[r.Slot.UTC()] = append(visits[r.Slot.UTC()], r.Service)
		}
	}
	ivs, _ := s.Office.HoursOn(day)
	var out []Slot
	for _, iv := range ivs {
		for m := iv.Open; m+Minute(b.SlotLength/time.Minute) <= iv.Close; m += Minute(b.SlotLength / time.Minute) {
			start := s.Office.at(day, m)
			end := start.Add(b.SlotLength)
			if !start.After(now) {
				continue
			}
			if _, closed := s.closedFor(start, end); closed {
				continue
			}
			out = append(out, Slot{Start: start, End: end, Free: s.Office.Room(service, visits[start.UTC()])})
		}
	}
	return out
}

func (s *State) bookableDay(now, day time.Time) bool {
	b := s.Office.Booking
	localDay := s.Office.LocalDate(day)
	if localDay < s.Office.LocalDate(now) || day.After(now.Add(b.Ahead)) {
		return false
	}
	if len(b.Days) > 0 && !slices.Contains(b.Days, day.In(s.Office.Location).Weekday()) {
		return false
	}
	return true
}

// Book books a visit for a slot. The caller picks an unguessable ID and
// keeps personal data apart from the event log. With Hold set, the slot is
// only held that long, until ConfirmReservation makes it a booking.
type Book struct {
	ID      string
	Service string
	Slot    time.Time
	Lang    string
	Hold    time.Duration
}

func (c Book) decide(s *State, now time.Time) (Decision, error) {
	svc, ok := s.Office.Service(c.Service)
	if !ok {
		return Decision{}, notFound("no service %q in office %s", c.Service, s.Office.ID)
	}
	if !svc.Bookable {
		return Decision{}, invalid("service: %q does not take bookings", c.Service)
	}
	if c.ID == "" {
		return Decision{}, invalid("id: a booking needs an id")
	}
	if _, dup := s.Reservations[c.ID]; dup {
		return Decision{}, conflict("booking %s already exists", c.ID)
	}
	if err := checkIssueFields(c.Lang, ChannelBooking, "", ""); err != nil {
		return Decision{}, err
	}
	if err := s.placeFree(now, svc.ID, c.Slot); err != nil {
		return Decision{}, err
	}
	res := Reservation{ID: c.ID, Service: svc.ID, Slot: c.Slot, Lang: c.Lang, State: Booked, BookedAt: now}
	if c.Hold > 0 {
		res.State, res.HoldUntil = Held, now.Add(c.Hold)
	}
	return Decision{Events: []Body{ReservationBooked{Reservation: res}}, Reservation: c.ID}, nil
}

// CancelReservation cancels a booked visit not yet checked in. Reason is
// set when the office cancels (closed time), empty when the resident does.
type CancelReservation struct {
	ID     string
	Reason string
}

func (c CancelReservation) decide(s *State, now time.Time) (Decision, error) {
	r := s.Reservations[c.ID]
	if r == nil {
		return Decision{}, notFound("no booking %q", c.ID)
	}
	switch r.State {
	case ReservationDrop:
		return Decision{Reservation: r.ID}, nil
	case CheckedIn:
		return Decision{}, conflict("booking %s is already confirmed at the kiosk", c.ID)
	}
	return Decision{Events: []Body{ReservationCancelled{Reservation: r.ID, Reason: c.Reason}}, Reservation: r.ID}, nil
}

// ConfirmReservation makes a held slot a booking, if the hold has not
// expired; confirming a booking again changes nothing.
type ConfirmReservation struct{ ID string }

func (c ConfirmReservation) decide(s *State, now time.Time) (Decision, error) {
	r := s.Reservations[c.ID]
	if r == nil {
		return Decision{}, notFound("no booking %q", c.ID)
	}
	switch {
	case r.State == Booked || r.State == CheckedIn:
		return Decision{Reservation: r.ID}, nil
	case r.State != Held || !r.Active(now):
		ref := &Refusal{Reason: ReasonSlotUnavailable, Service: r.Service}
		return Decision{}, ref.err("the hold of booking %s has expired", r.ID)
	}
	return Decision{Events: []Body{ReservationConfirmed{Reservation: r.ID}}, Reservation: r.ID}, nil
}

// Reschedule moves a booking to another free slot of its service in one
// event: the old slot is freed as the new one is taken, and if the new
// one is full nothing changes.
type Reschedule struct {
	ID   string
	Slot time.Time
}

func (c Reschedule) decide(s *State, now time.Time) (Decision, error) {
	r := s.Reservations[c.ID]
	if r == nil {
		return Decision{}, notFound("no booking %q", c.ID)
	}
	switch r.State {
	case CheckedIn:
		return Decision{}, conflict("booking %s is already confirmed at the kiosk", c.ID)
	case Held, ReservationDrop:
		return Decision{}, notFound("no booking %q", c.ID)
	}
	if r.Slot.Equal(c.Slot) {
		return Decision{Reservation: r.ID}, nil
	}
	if err := s.placeFree(now, r.Service, c.Slot); err != nil {
		return Decision{}, err
	}
	return Decision{Events: []Body{ReservationRescheduled{Reservation: r.ID, Slot: c.Slot}}, Reservation: r.ID}, nil
}

// Slot is the slot of service that starts at start, as Slots gives it at
// now; ok=false if it is none of them.
func (s *State) Slot(now time.Time, service string, start time.Time) (Slot, bool) {
	for _, sl := range s.Slots(now, service, start) {
		if sl.Start.Equal(start) {
			return sl, true
		}
	}
	return Slot{}, false
}

// placeFree refuses a booking (or a move) to start unless it is a
// bookable slot of service with a place free at now.
func (s *State) placeFree(now time.Time, service string, start time.Time) error {
	sl, ok := s.Slot(now, service, start)
	switch {
	case !ok:
		r := &Refusal{Reason: ReasonSlotUnavailable, Service: service}
		return r.err("%s is not a bookable slot of %s", fmtTime(start, s.Office), service)
	case sl.Free == 0:
		r := &Refusal{Reason: ReasonSlotFull, Service: service}
		return r.err("the slot at %s is fully booked", fmtTime(start, s.Office))
	}
	return nil
}

// OutsideHours lists the reservations that still take a slot at now but
// whose slot the office's hours no longer cover: a holiday or closed
// hours added to the configuration after they were booked.
func (s *State) OutsideHours(now time.Time) []Reservation {
	var out []Reservation
	for _, r := range s.Reservations {
		if !r.Active(now) || !r.Slot.After(now) {
			continue
		}
		if !s.Office.covers(r.Slot, r.Slot.Add(s.Office.Booking.SlotLength)) {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b Reservation) int { return a.Slot.Compare(b.Slot) })
	return out
}

// CheckIn confirms a booked visit at the kiosk (or on a phone) and issues
// its ticket, which is called when the slot comes, ahead of walk-ins, and
// never before. Confirming twice gives the same ticket.
type CheckIn struct {
	Reservation string
	RequestID   string
	Device      string
	Channel     Channel
	Lang        string
}

func (c CheckIn) decide(s *State, now time.Time) (Decision, error) {
	if r, ok := s.knownRequest(c.RequestID); ok {
		d, err := r.again()
		d.Reservation = c.Reservation
		return d, err
	}
	r := s.Reservations[c.Reservation]
	if r == nil {
		return Decision{}, notFound("no booking %q", c.Reservation)
	}
	switch r.State {
	case CheckedIn:
		return Decision{Ticket: r.Ticket, Reservation: r.ID}, nil
	case ReservationDrop:
		ref := &Refusal{Reason: ReasonCancelled, Service: r.Service}
		return Decision{}, ref.err("booking %s was cancelled", r.ID)
	case Held:
		// Not a booking until its contact is confirmed.
		return Decision{}, notFound("no booking %q", c.Reservation)
	}
	b := s.Office.Booking
	if opens := r.Slot.Add(-b.CheckInBefore); now.Before(opens) {
		ref := &Refusal{Reason: ReasonTooEarly, Service: r.Service, Until: opens}
		return Decision{}, ref.err("booking %s can be confirmed from %s", r.ID, fmtTime(opens, s.Office))
	}
	if ends := r.Slot.Add(b.CheckInGrace); now.After(ends) {
		ref := &Refusal{Reason: ReasonTooLate, Service: r.Service, Closing: ends}
		return Decision{}, ref.err("booking %s could be confirmed until %s", r.ID, fmtTime(ends, s.Office))
	}
	svc, ok := s.Office.Service(r.Service)
	if !ok {
		return Decision{}, notFound("service %q of booking %s is no longer offered", r.Service, r.ID)
	}
	ch := c.Channel
	if ch == "" {
		ch = ChannelBooking
	}
	lang := c.Lang
	if lang == "" {
		lang = r.Lang
	}
	if err := checkIssueFields(lang, ch, c.RequestID, ""); err != nil {
		return Decision{}, err
	}
	sv := s.service(svc.ID)
	if sv.NextNumber >= sv.ceiling() {
		return Decision{}, conflict("service %s has no numbers left today", svc.ID)
	}
	t := Ticket{
		Day: s.Day, Number: FormatNumber(svc.Prefix, sv.NextNumber), Service: svc.ID, Channel: ch,
		Lang: lang, State: Waiting, IssuedAt: now, QueuedAt: now, Device: c.Device,
		ReservationID: r.ID, BookedFor: r.Slot,
	}
	t.ID = TicketID(s.Day, t.Number)
	return Decision{Events: []Body{
		ReservationCheckedIn{Reservation: r.ID, Ticket: t.ID},
		TicketIssued{Ticket: t, RequestID: c.RequestID},
	}, Ticket: t.ID, Reservation: r.ID}, nil
}
