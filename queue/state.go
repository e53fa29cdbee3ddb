package queue

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"time"
)

// CounterStatus is whether a counter takes residents.
type CounterStatus string

// The statuses of a counter.
const (
	CounterClosedStatus CounterStatus = "closed"
	CounterOpenStatus   CounterStatus = "open"
	CounterPausedStatus CounterStatus = "paused"
)

// CounterState is a counter's live state.
type CounterState struct {
	Number int           `json:"number"`
	Status CounterStatus `json:"status"`
	// Current is the ticket called to or served at the counter, if any.
	Current string    `json:"current,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	// LastEnd is the counter's latest no-show, finish or close, for Undo.
	LastEnd *LastEnd `json:"last_end,omitempty"`
}

// ServiceState is a service's live numbering and what the office has
// learned of its service times.
type ServiceState struct {
	// NextNumber is the next number to give today, from 1.
	NextNumber int `json:"next_number"`
	// LeaseFloor is the lowest number leased to kiosks today, 0 for none.
	// Leases are cut from the top of the day's numbers down, so that the
	// numbers residents see grow from 1 without the gaps unused leases
	// would leave.
	LeaseFloor int `json:"lease_floor,omitempty"`
	// Issued counts today's tickets against the daily cap.
	Issued int `json:"issued"`
	// Durations are the most recent service times (call or start to
	// finish), oldest first, at most recentDurations of them.
	Durations []time.Duration `json:"durations,omitempty"`
	// Walkups are recent times from call to start.
	Walkups []time.Duration `json:"walkups,omitempty"`
	// Calls and NoShows weigh the recent share of no-shows, decaying.
	Calls   float64 `json:"calls"`
	NoShows float64 `json:"no_shows"`
}

const (
	recentDurations = 30
	// noShowMemory is how many calls the no-show rate remembers, roughly.
	noShowMemory = 50.0
	// recentCallsKept is how many calls the hall display can list.
	recentCallsKept = 20
)

// ceiling is the first number not free for issuing at the server today:
// the lowest leased number, or past the last three-digit number.
func (sv *ServiceState) ceiling() int {
	if sv.LeaseFloor > 0 {
		return sv.LeaseFloor
	}
	return MaxNumber + 1
}

// ReservationState is where a booked visit is.
type ReservationState string

// The states of a booked visit.
const (
	Booked ReservationState = "booked"
	// Held keeps a slot for a booking whose contact is not yet confirmed;
	// it stops counting at HoldUntil by itself (no event needed), so an
	// abandoned hold frees its slot even across a restart.
	Held            ReservationState = "held"
	CheckedIn       ReservationState = "checked-in"
	ReservationDrop ReservationState = "cancelled"
)

// Reservation is a visit booked online for a slot.
type Reservation struct {
	ID       string           `json:"id"`
	Service  string           `json:"service"`
	Slot     time.Time        `json:"slot"`
	Lang     string           `json:"lang"`
	State    ReservationState `json:"state"`
	Ticket   string           `json:"ticket,omitempty"`
	BookedAt time.Time        `json:"booked_at"`
	// HoldUntil is when a Held reservation lets its slot go.
	HoldUntil time.Time `json:"hold_until,omitzero"`
	// Reason says why the office cancelled it (empty: the resident did).
	Reason string `json:"reason,omitempty"`
}

// Active reports whether the reservation takes its slot at now: booked,
// or held and not yet expired.
func (r *Reservation) Active(now time.Time) bool {
	switch r.State {
	case Booked:
		return true
	case Held:
		return now.Before(r.HoldUntil)
	}
	return false
}

// Lease is a block of numbers a kiosk may issue while offline.
type Lease struct {
	ID        string    `json:"id"`
	Device    string    `json:"device"`
	Service   string    `json:"service"`
	Day       string    `json:"day"`
	First     int       `json:"first"`
	Last      int       `json:"last"`
	GrantedAt time.Time `json:"granted_at"`
}

// Covers reports whether the lease includes number n.
func (l Lease) Covers(n int) bool { return n >= l.First && n <= l.Last }

// RecentCall is a call as the hall display lists it.
type RecentCall struct {
	Ticket  string    `json:"ticket"`
	Number  string    `json:"number"`
	Service string    `json:"service"`
	Counter int       `json:"counter"`
	Lang    string    `json:"lang"`
	At      time.Time `json:"at"`
	Recall  bool      `json:"recall,omitempty"`
	// Seq is the event's seq, so a display can tell new calls from old.
	Seq uint64 `json:"seq"`
}

// State is an office's queues: the fold of its events.
type State struct {
	Office *Office `json:"-"`
	Seq    uint64  `json:"seq"`
	// Day is the office-local date whose numbering is current.
	Day      string                   `json:"day"`
	Tickets  map[string]*Ticket       `json:"tickets"`
	Counters map[int]*CounterState    `json:"counters"`
	Services map[string]*ServiceState `json:"services"`
	// Reservations are booked visits not yet past.
	Reservations map[string]*Reservation `json:"reservations"`
	// Requests remembers, by request id, what each device's request gave,
	// for RequestMemoryDays, so a retried request gives the same ticket
	// whichever day it comes (see Request).
	Requests map[string]*Request `json:"requests"`
	// PrevRequests is only read, from snapshots written before Requests
	// held a week (it held yesterday's); Restore moves it into Requests.
	PrevRequests map[string]*Request `json:"prev_requests,omitempty"`
	Leases       []Lease             `json:"leases,omitempty"`
	// Faults are devices' open troubles, by device.
	Faults map[string]DeviceFault `json:"faults,omitempty"`
	// Calls are the latest calls, newest last.
	Calls []RecentCall `json:"calls,omitempty"`
	// Closures are the times closed for booking, by id, until they end.
	Closures map[string]*Closure `json:"closures,omitempty"`
	// Deposits are the lockers' deposits by id: the live ones, and those
	// ended today (dropped at the day's rollover; statistics read the log).
	Deposits map[string]*Deposit `json:"deposits,omitempty"`

	// lastGrowth is the seq of the last event other than a new ticket that
	// can lengthen the wait (see lengthens), and waitMemo the last forecast
	// wait of a new ticket per service: see boundedWait. Neither is part of
	// the state proper.
	lastGrowth uint64
	waitMemo   map[string]waitMemo
	// away counts the tickets set aside (ParkedAway), at least: Tick looks
	// for expired ones only while there may be some. A ticket leaving
	// that state other than by confirming or expiring (a clerk's cancel)
	// is not subtracted, which costs only a look.
	away int
}

// NewState returns the empty state of an office before its first event.
func NewState(o *Office) *State {
	s := &State{Office: o}
	s.init()
	return s
}

// init makes the maps of a state and adds counters and services of the
// configuration that the state does not know yet (after a restore).
func (s *State) init() {
	if s.Tickets == nil {
		s.Tickets = map[string]*Ticket{}
	}
	s.away = 0
	for _, t := range s.Tickets {
		if t.State == ParkedAway {
			s.away++
		}
	}
	if s.Counters == nil {
		s.Counters = map[int]*CounterState{}
	}
	if s.Services == nil {
		s.Services = map[string]*ServiceState{}
	}
	if s.Reservations == nil {
		s.Reservations = map[string]*Reservation{}
	}
	if s.Requests == nil {
		s.Requests = map[string]*Request{}
	}
	if s.Faults == nil {
		s.Faults = map[string]DeviceFault{}
	}
	if s.Closures == nil {
		s.Closures = map[string]*Closure{}
	}
	if s.Deposits == nil {
		s.Deposits = map[string]*Deposit{}
	}
	for _, c := range s.Office.Counters {
		if s.Counters[c.Number] == nil {
			s.Counters[c.Number] = &CounterState{Number: c.Number, Status: CounterClosedStatus}
		}
	}
	for _, sv := range s.Office.Services {
		if s.Services[sv.ID] == nil {
			s.Services[sv.ID] = &ServiceState{NextNumber: 1}
		}
	}
}

// Restore attaches a state decoded from a snapshot to its office.
func (s *State) Restore(o *Office) {
	s.Office = o
	s.init()
	s.restoreRequests()
}

// ApplyAll folds events into the state in order.
func (s *State) ApplyAll(events []Event) error {
	for _, e := range events {
		if err := s.Apply(e); err != nil {
			return err
		}
	}
	return nil
}

// Apply folds one event into the state. Events must come in seq order
// without gaps; an event that does not fit the state is an error, which for
// a device means it must resynchronise.
func (s *State) Apply(e Event) error {
	if e.Seq != s.Seq+1 {
		return fmt.Errorf("event %d (%s) does not follow %d", e.Seq, kindOf(e.Body), s.Seq)
	}
	if err := s.apply(e); err != nil {
		return fmt.Errorf("applying event %d (%s): %w", e.Seq, kindOf(e.Body), err)
	}
	if lengthens(e.Body) {
		s.lastGrowth = e.Seq
	}
	s.Seq = e.Seq
	return nil
}

func kindOf(b Body) string {
	if b == nil {
		return "no body"
	}
	return b.Kind()
}

func (s *State) ticket(id string) (*Ticket, error) {
	t := s.Tickets[id]
	if t == nil {
		return nil, fmt.Errorf("no ticket %s", id)
	}
	return t, nil
}

func (s *State) counter(n int) (*CounterState, error) {
	c := s.Counters[n]
	if c == nil {
		return nil, fmt.Errorf("no counter %d", n)
	}
	return c, nil
}

func (s *State) service(id string) *ServiceState {
	sv := s.Services[id]
	if sv == nil {
		sv = &ServiceState{NextNumber: 1}
		s.Services[id] = sv
	}
	return sv
}

// release frees the counter that holds ticket t.
func (s *State) release(t *Ticket, at time.Time) {
	if c := s.Counters[t.Counter]; c != nil && c.Current == t.ID {
		c.Current = ""
		c.Since = at
	}
}

// apply folds one event into the state by the method its kind names in
// eventKinds.
func (s *State) apply(e Event) error {
	k, ok := eventKinds.byType[reflect.TypeOf(e.Body)]
	if !ok {
		return fmt.Errorf("unknown event body %T", e.Body)
	}
	return k.apply(s, e)
}

func (s *State) applyRolledOver(b DayRolledOver, e Event) error {
	s.rollOver(b.Day, e.At)
	return nil
}

// applyCalled sends the ticket to a counter that holds no other ticket
// still open, and counts the call towards the service's no-show rate.
func (s *State) applyCalled(b TicketCalled, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	c, err := s.counter(b.Counter)
	if err != nil {
		return err
	}
	if prev := s.Tickets[c.Current]; prev != nil && prev.ID != t.ID && !prev.State.Final() {
		return fmt.Errorf("counter %d still holds %s", c.Number, prev.Number)
	}
	t.State, t.Counter, t.CalledAt, t.Recalls, t.TargetCounter = Called, b.Counter, e.At, 0, 0
	c.Current, c.Since = t.ID, e.At
	sv := s.service(t.Service)
	sv.Calls = sv.Calls*(1-1/noShowMemory) + 1
	s.addCall(t, b.Counter, e, false)
	return nil
}

func (s *State) applyRecalled(b TicketRecalled, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	t.Recalls++
	s.addCall(t, b.Counter, e, true)
	return nil
}

func (s *State) applyStarted(b ServiceStarted, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	t.State, t.StartedAt = Serving, e.At
	sv := s.service(t.Service)
	sv.Walkups = pushRecent(sv.Walkups, e.At.Sub(t.CalledAt))
	return nil
}

// applyFinished learns the service time from the start, or from the call
// when the clerk never marked the start.
func (s *State) applyFinished(b TicketFinished, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	from := t.StartedAt
	if from.IsZero() {
		from = t.CalledAt
	}
	remember := s.rememberEnd(t, b.Counter)
	t.State, t.EndedAt = Done, e.At
	s.release(t, e.At)
	sv := s.service(t.Service)
	d := max(e.At.Sub(from), 0)
	sv.Durations = pushRecent(sv.Durations, d)
	remember(e, d)
	return nil
}

func (s *State) applyNoShow(b TicketNoShow, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	remember := s.rememberEnd(t, b.Counter)
	t.State, t.EndedAt = NoShow, e.At
	s.release(t, e.At)
	sv := s.service(t.Service)
	sv.NoShows = sv.NoShows*(1-1/noShowMemory) + 1
	remember(e, 0)
	return nil
}

// applyTransferred puts the ticket back in line for its new service or
// counter, at the back unless it keeps its place.
func (s *State) applyTransferred(b TicketTransferred, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	s.release(t, e.At)
	t.State, t.Service, t.TargetCounter, t.Recalls = Waiting, b.ToService, b.ToCounter, 0
	t.CalledAt, t.StartedAt = time.Time{}, time.Time{}
	if b.Note != "" {
		t.Note = b.Note
	}
	if !b.KeepPlace {
		t.QueuedAt, t.Order = e.At, e.Seq
	}
	return nil
}

func (s *State) applyParked(b TicketParked, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	s.release(t, e.At)
	t.State, t.Counter = Parked, b.Counter
	return nil
}

func (s *State) applyCancelled(b TicketCancelled, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	s.release(t, e.At)
	t.State, t.EndedAt = Cancelled, e.At
	return nil
}

func (s *State) applyCounterOpened(b CounterOpened, e Event) error {
	return s.setCounter(b.Counter, CounterOpenStatus, e.At)
}

func (s *State) applyCounterPaused(b CounterPaused, e Event) error {
	return s.setCounter(b.Counter, CounterPausedStatus, e.At)
}

func (s *State) applyCounterClosed(b CounterClosed, e Event) error {
	c, err := s.counter(b.Counter)
	if err != nil {
		return err
	}
	status, since := c.Status, c.Since
	c.Status, c.Since = CounterClosedStatus, e.At
	c.remember(e, nil, "", status, since, 0)
	return nil
}

func (s *State) applyBooked(b ReservationBooked, _ Event) error {
	r := b.Reservation
	s.Reservations[r.ID] = &r
	return nil
}

func (s *State) applyBookingCancelled(b ReservationCancelled, _ Event) error {
	r := s.Reservations[b.Reservation]
	if r == nil {
		return fmt.Errorf("no reservation %s", b.Reservation)
	}
	r.State, r.Reason = ReservationDrop, b.Reason
	return nil
}

func (s *State) applyConfirmed(b ReservationConfirmed, _ Event) error {
	r := s.Reservations[b.Reservation]
	if r == nil {
		return fmt.Errorf("no reservation %s", b.Reservation)
	}
	r.State, r.HoldUntil = Booked, time.Time{}
	return nil
}

func (s *State) applyRescheduled(b ReservationRescheduled, _ Event) error {
	r := s.Reservations[b.Reservation]
	if r == nil {
		return fmt.Errorf("no reservation %s", b.Reservation)
	}
	r.Slot = b.Slot
	return nil
}

func (s *State) applyCheckedIn(b ReservationCheckedIn, _ Event) error {
	r := s.Reservations[b.Reservation]
	if r == nil {
		return fmt.Errorf("no reservation %s", b.Reservation)
	}
	r.State, r.Ticket = CheckedIn, b.Ticket
	return nil
}

func (s *State) applyRating(b RatingGiven, _ Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	t.Rating = b.Rating
	return nil
}

// applyFault opens a device's trouble, or closes it when Fault is empty.
func (s *State) applyFault(b DeviceFault, _ Event) error {
	if b.Fault == "" {
		delete(s.Faults, b.Device)
	} else {
		s.Faults[b.Device] = b
	}
	return nil
}

// applyLease keeps the lease and, for today's, lowers the service's lease
// floor: the server issues below it.
func (s *State) applyLease(b LeaseGranted, _ Event) error {
	l := b.Lease
	s.Leases = append(s.Leases, l)
	sv := s.service(l.Service)
	if l.Day == s.Day && (sv.LeaseFloor == 0 || l.First < sv.LeaseFloor) {
		sv.LeaseFloor = l.First
	}
	return nil
}

func (s *State) applyIssued(b TicketIssued, e Event) error {
	t := b.Ticket
	n, err := parseNumber(t.Number)
	if err != nil || t.ID == "" {
		return fmt.Errorf("ticket %q: %v", t.ID, err)
	}
	if b.RequestID != "" {
		s.remember(b.RequestID, t)
	}
	if t.Day != s.Day {
		// A ticket issued offline on a day that has ended: it is kept in the
		// log for statistics, but nobody can be called for it any more.
		return nil
	}
	if _, dup := s.Tickets[t.ID]; dup {
		return fmt.Errorf("ticket %s issued twice", t.ID)
	}
	t.Order = e.Seq
	s.Tickets[t.ID] = &t
	sv := s.service(t.Service)
	sv.Issued++
	if !t.Leased && n >= sv.NextNumber {
		sv.NextNumber = n + 1
	}
	return nil
}

func (s *State) setCounter(n int, status CounterStatus, at time.Time) error {
	c, err := s.counter(n)
	if err != nil {
		return err
	}
	c.Status, c.Since = status, at
	return nil
}

func (s *State) addCall(t *Ticket, counter int, e Event, recall bool) {
	s.Calls = append(s.Calls, RecentCall{
		Ticket: t.ID, Number: t.Number, Service: t.Service, Counter: counter,
		Lang: t.Lang, At: e.At, Recall: recall, Seq: e.Seq,
	})
	if over := len(s.Calls) - recentCallsKept; over > 0 {
		n := copy(s.Calls, s.Calls[over:])
		s.Calls = s.Calls[:n]
	}
}

// rollOver starts day: what was left open the day before is cancelled and
// forgotten (the log keeps it, and the requests that gave tickets keep
// them as they ended, for a week), numbering restarts, counters close.
func (s *State) rollOver(day string, at time.Time) {
	prev := s.Day
	s.endRequests(day)
	s.Day = day
	s.Tickets = map[string]*Ticket{}
	for _, c := range s.Counters {
		c.Status, c.Current, c.Since, c.LastEnd = CounterClosedStatus, "", at, nil
	}
	for _, sv := range s.Services {
		sv.NextNumber, sv.Issued, sv.LeaseFloor = 1, 0, 0
	}
	// Yesterday's leases stay so a kiosk that was offline over midnight can
	// still hand in what it issued.
	var kept []Lease
	for _, l := range s.Leases {
		if l.Day == prev {
			kept = append(kept, l)
		}
	}
	s.Leases = kept
	s.Calls = nil
	for id, r := range s.Reservations {
		if s.Office.LocalDate(r.Slot) < day {
			delete(s.Reservations, id)
		}
	}
	s.dropPastClosures(at)
	s.dropEndedDeposits()
}

// lengthens reports whether an event, other than a new ticket, can make
// residents wait longer: work added to a line, fewer counters, a new day.
// Calls, starts, finishes, no-shows and cancellations move or remove work.
func lengthens(b Body) bool {
	switch b.(type) {
	case TicketTransferred, CounterPaused, CounterClosed, ReservationCheckedIn, DayRolledOver:
		return true
	}
	return false
}

// parseNumber reads the number part of a ticket number like "A123".
func parseNumber(number string) (int, error) {
	if len(number) != 4 || number[0] < 'A' || number[0] > 'Z' {
		return 0, fmt.Errorf("ticket number %q is not a letter and three digits", number)
	}
	n, err := strconv.Atoi(number[1:])
	if err != nil || n < 1 {
		return 0, fmt.Errorf("ticket number %q is not a letter and three digits", number)
	}
	return n, nil
}

func pushRecent(xs []time.Duration, d time.Duration) []time.Duration {
	if d < 0 {
		d = 0
	}
	xs = append(xs, d)
	if len(xs) > recentDurations {
		xs = append(xs[:0:0], xs[len(xs)-recentDurations:]...)
	}
	return xs
}

// WaitingTickets returns the waiting tickets in queue order (priority first,
// then by place in line).
func (s *State) WaitingTickets() []*Ticket {
	var out []*Ticket
	for _, t := range s.Tickets {
		if t.State == Waiting {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return queueLess(out[i], out[j]) })
	return out
}

// queueLess orders two tickets by place in line.
func queueLess(a, b *Ticket) bool {
	if a.Priority != b.Priority {
		return a.Priority
	}
	if !a.QueuedAt.Equal(b.QueuedAt) {
		return a.QueuedAt.Before(b.QueuedAt)
	}
	return a.Order < b.Order
}
