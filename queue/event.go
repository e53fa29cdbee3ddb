package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Event is one change of an office's queues, as appended to its log.
type Event struct {
	// Seq numbers the office's events from 1, without gaps.
	Seq uint64
	At  time.Time
	// Actor says who caused the event ("counter:5", "kiosk:lobby",
	// "clerk:anna", "system"), for the audit trail.
	Actor string
	Body  Body
}

// Body is the content of an event; each kind is its own type.
type Body interface {
	// Kind is the event's name on the wire and in the log.
	Kind() string
}

// The kinds of events.
type (
	// DayRolledOver starts a new office-local day: numbers restart, tickets
	// left from the day before are cancelled and counters close.
	DayRolledOver struct {
		Day string `json:"day"`
	}
	// TicketIssued adds a ticket to a queue.
	TicketIssued struct {
		Ticket    Ticket `json:"ticket"`
		RequestID string `json:"request_id,omitempty"`
	}
	// TicketCalled sends a ticket to a counter.
	TicketCalled struct {
		Ticket  string `json:"ticket"`
		Counter int    `json:"counter"`
		// Specific is set when the clerk chose the ticket out of order.
		Specific bool `json:"specific,omitempty"`
		// Returned is set when a parked ticket was called back.
		Returned bool `json:"returned,omitempty"`
	}
	// TicketRecalled calls the same ticket again.
	TicketRecalled struct {
		Ticket  string `json:"ticket"`
		Counter int    `json:"counter"`
	}
	// ServiceStarted marks that the resident came to the counter.
	ServiceStarted struct {
		Ticket  string `json:"ticket"`
		Counter int    `json:"counter"`
	}
	// TicketFinished ends a served ticket.
	TicketFinished struct {
		Ticket  string `json:"ticket"`
		Counter int    `json:"counter"`
		// Outcomes are the ids of the service's outcomes the clerk
		// recorded as handled.
		Outcomes []string `json:"outcomes,omitempty"`
	}
	// TicketNoShow ends a called ticket whose resident did not come.
	TicketNoShow struct {
		Ticket  string `json:"ticket"`
		Counter int    `json:"counter"`
		// AfterRecalls is set when the recall limit made it a no-show.
		AfterRecalls bool `json:"after_recalls,omitempty"`
	}
	// TicketTransferred moves a ticket to another service or counter.
	TicketTransferred struct {
		Ticket      string `json:"ticket"`
		FromCounter int    `json:"from_counter,omitempty"`
		ToService   string `json:"to_service"`
		ToCounter   int    `json:"to_counter,omitempty"`
		// KeepPlace keeps the ticket's place in line; otherwise it goes to
		// the back of the new queue.
		KeepPlace bool   `json:"keep_place,omitempty"`
		Note      string `json:"note,omitempty"`
	}
	// TicketParked sets a ticket aside (the resident went to fetch a
	// document) until its counter calls it back.
	TicketParked struct {
		Ticket  string `json:"ticket"`
		Counter int    `json:"counter"`
	}
	// TicketCancelled ends a ticket that was not served.
	TicketCancelled struct {
		Ticket string `json:"ticket"`
		Reason string `json:"reason"`
	}
	// CounterOpened, CounterPaused and CounterClosed change a counter.
	CounterOpened struct {
		Counter int `json:"counter"`
	}
	CounterPaused struct {
		Counter int `json:"counter"`
	}
	CounterClosed struct {
		Counter int `json:"counter"`
	}
	// ReservationBooked books a visit for a slot. Personal data is not in
	// the event: the server keeps it apart so it can be purged.
	ReservationBooked struct {
		Reservation Reservation `json:"reservation"`
	}
	// ReservationCancelled cancels a booked visit; Reason is the
	// office's (a day or hours closed after it was booked), empty when
	// the resident cancelled.
	ReservationCancelled struct {
		Reservation string `json:"reservation"`
		Reason      string `json:"reason,omitempty"`
	}
	// ReservationConfirmed turns a held slot into a booking: the
	// resident confirmed their contact in time.
	ReservationConfirmed struct {
		Reservation string `json:"reservation"`
	}
	// ReservationRescheduled moves a booking to another slot of its
	// service, freeing the old one in the same step.
	ReservationRescheduled struct {
		Reservation string    `json:"reservation"`
		Slot        time.Time `json:"slot"`
	}
	// ReservationCheckedIn confirms a booked visit at the kiosk; a
	// TicketIssued for its ticket follows in the same batch.
	ReservationCheckedIn struct {
		Reservation string `json:"reservation"`
		Ticket      string `json:"ticket"`
	}
	// RatingGiven records a resident's rating of a finished service.
	RatingGiven struct {
		Ticket string `json:"ticket"`
		Rating Rating `json:"rating"`
	}
	// DeviceFault reports a device's trouble (printer out of paper) so staff
	// see it, or its end when Fault is empty.
	DeviceFault struct {
		Device string `json:"device"`
		Fault  string `json:"fault,omitempty"`
		Detail string `json:"detail,omitempty"`
	}
	// LeaseGranted reserves a block of numbers for a kiosk to issue from
	// while it cannot reach the server.
	LeaseGranted struct {
		Lease Lease `json:"lease"`
	}
	// RequestWithdrawn says that the kiosk that made a request printed no
	// ticket of the server's for it: the answer came too late or never, and
	// the kiosk printed a ticket from its lease instead (a TicketIssued
	// with the same request id follows in the same batch) or nothing at
	// all. The server's ticket for the request, if it issued one, is
	// withdrawn: nobody holds it, so nobody may be called for it.
	RequestWithdrawn struct {
		RequestID string `json:"request_id"`
		// Ticket is the ticket withdrawn; empty when there was none still
		// waiting to be called (see WithdrawRequest).
		Ticket string `json:"ticket,omitempty"`
	}
	// RemoteTicketParked sets a phone ticket aside instead of calling it:
	// it reached the front of its line and its resident has not confirmed
	// being near (RemoteRules.PresenceAhead).
	RemoteTicketParked struct {
		Ticket string `json:"ticket"`
	}
	// PresenceConfirmed records a resident's "I'm here" or "I'm on my
	// way"; a ticket set aside goes back to its place in line.
	PresenceConfirmed struct {
		Ticket   string   `json:"ticket"`
		Presence Presence `json:"presence"`
	}
	// Undone takes back a counter's no-show, finish or close (event Seq,
	// of kind Undid) seconds after it: the ticket is at the counter
	// again as it was, or the counter has its status back. Statistics
	// count the undone event as never having happened.
	Undone struct {
		Counter int    `json:"counter"`
		Seq     uint64 `json:"seq"`
		Undid   string `json:"undid"`
		Ticket  string `json:"ticket,omitempty"`
	}
	// ParkedTicketExpired ends a ticket set aside unconfirmed for longer
	// than RemoteRules.PresenceTimeout.
	ParkedTicketExpired struct {
		Ticket string `json:"ticket"`
	}
	// BookingClosed closes some hours for booking (Closure); the visits
	// already booked there stand.
	BookingClosed struct {
		Closure Closure `json:"closure"`
	}
	// BookingReopened lifts a closure by its id.
	BookingReopened struct {
		Closure string `json:"closure"`
	}
	// DepositReserved holds a locker's compartment for a document and
	// issues its codes (hashed: no plain code is ever in the log).
	DepositReserved struct {
		Deposit Deposit `json:"deposit"`
	}
	// DepositStored: the door closed on the document; the deadline runs.
	DepositStored struct {
		Deposit string    `json:"deposit"`
		At      time.Time `json:"at"`
	}
	// DepositPickedUp: the resident took the document; Offline when the
	// locker could not reach the server then.
	DepositPickedUp struct {
		Deposit string    `json:"deposit"`
		At      time.Time `json:"at"`
		Offline bool      `json:"offline,omitempty"`
	}
	// DepositExpired: the deadline passed with the document inside.
	DepositExpired struct {
		Deposit string `json:"deposit"`
	}
	// DepositRetrieved: staff took the document back out.
	DepositRetrieved struct {
		Deposit string    `json:"deposit"`
		At      time.Time `json:"at"`
	}
	// DepositCancelled withdraws a reservation before the document went in.
	DepositCancelled struct {
		Deposit string `json:"deposit"`
		Reason  string `json:"reason,omitempty"`
	}
	// LockerCodeReplaced gives a deposit a new clerk or pickup code (the
	// old one no longer opens); Until is the clerk code's end.
	LockerCodeReplaced struct {
		Deposit string    `json:"deposit"`
		Which   string    `json:"which"`
		Code    CodeHash  `json:"code"`
		Until   time.Time `json:"until,omitzero"`
	}
)

// Kind implementations name each event type on the wire.
func (DayRolledOver) Kind() string          { return "DayRolledOver" }
func (TicketIssued) Kind() string           { return "TicketIssued" }
func (TicketCalled) Kind() string           { return "TicketCalled" }
func (TicketRecalled) Kind() string         { return "TicketRecalled" }
func (ServiceStarted) Kind() string         { return "ServiceStarted" }
func (TicketFinished) Kind() string         { return "TicketFinished" }
func (TicketNoShow) Kind() string           { return "TicketNoShow" }
func (TicketTransferred) Kind() string      { return "TicketTransferred" }
func (TicketParked) Kind() string           { return "TicketParked" }
func (TicketCancelled) Kind() string        { return "TicketCancelled" }
func (CounterOpened) Kind() string          { return "CounterOpened" }
func (CounterPaused) Kind() string          { return "CounterPaused" }
func (CounterClosed) Kind() string          { return "CounterClosed" }
func (ReservationBooked) Kind() string      { return "ReservationBooked" }
func (ReservationCancelled) Kind() string   { return "ReservationCancelled" }
func (ReservationCheckedIn) Kind() string   { return "ReservationCheckedIn" }
func (ReservationConfirmed) Kind() string   { return "ReservationConfirmed" }
func (ReservationRescheduled) Kind() string { return "ReservationRescheduled" }
func (RatingGiven) Kind() string            { return "RatingGiven" }
func (DeviceFault) Kind() string            { return "DeviceFault" }
func (LeaseGranted) Kind() string           { return "LeaseGranted" }
func (RequestWithdrawn) Kind() string       { return "RequestWithdrawn" }
func (RemoteTicketParked) Kind() string     { return "RemoteTicketParked" }
func (PresenceConfirmed) Kind() string      { return "PresenceConfirmed" }
func (ParkedTicketExpired) Kind() string    { return "ParkedTicketExpired" }
func (BookingClosed) Kind() string          { return "BookingClosed" }
func (BookingReopened) Kind() string        { return "BookingReopened" }
func (Undone) Kind() string                 { return "Undone" }
func (DepositReserved) Kind() string        { return "DepositReserved" }
func (DepositStored) Kind() string          { return "DepositStored" }
func (DepositPickedUp) Kind() string        { return "DepositPickedUp" }
func (DepositExpired) Kind() string         { return "DepositExpired" }
func (DepositRetrieved) Kind() string       { return "DepositRetrieved" }
func (DepositCancelled) Kind() string       { return "DepositCancelled" }
func (LockerCodeReplaced) Kind() string     { return "LockerCodeReplaced" }

// eventKinds holds every kind of event with the State method that folds it
// in: a new kind is a type with a Kind method and a line here.
var eventKinds = newKindTable(
	newEventKind((*State).applyRolledOver),
	newEventKind((*State).applyIssued),
	newEventKind((*State).applyCalled),
	newEventKind((*State).applyRecalled),
	newEventKind((*State).applyStarted),
	newEventKind((*State).applyFinished),
	newEventKind((*State).applyNoShow),
	newEventKind((*State).applyTransferred),
	newEventKind((*State).applyParked),
	newEventKind((*State).applyCancelled),
	newEventKind((*State).applyCounterOpened),
	newEventKind((*State).applyCounterPaused),
	newEventKind((*State).applyCounterClosed),
	newEventKind((*State).applyBooked),
	newEventKind((*State).applyBookingCancelled),
	newEventKind((*State).applyCheckedIn),
	newEventKind((*State).applyRating),
	newEventKind((*State).applyFault),
	newEventKind((*State).applyLease),
	newEventKind((*State).applyWithdrawn),
	newEventKind((*State).applyConfirmed),
	newEventKind((*State).applyRescheduled),
	newEventKind((*State).applyParkedAway),
	newEventKind((*State).applyPresence),
	newEventKind((*State).applyAwayExpired),
	newEventKind((*State).applyBookingClosed),
	newEventKind((*State).applyBookingReopened),
	newEventKind((*State).applyUndone),
	newEventKind((*State).applyDepositReserved),
	newEventKind((*State).applyDepositStored),
	newEventKind((*State).applyDepositPickedUp),
	newEventKind((*State).applyDepositExpired),
	newEventKind((*State).applyDepositRetrieved),
	newEventKind((*State).applyDepositCancelled),
	newEventKind((*State).applyLockerCodeReplaced),
)

// eventKind is one kind of event: its name on the wire, an empty body to
// decode into, and how it changes a State.
type eventKind struct {
	name  string
	typ   reflect.Type
	empty func() Body
	apply func(*State, Event) error
}

// newEventKind makes the kind of body type B from the State method that
// folds a B in.
func newEventKind[B Body](fold func(*State, B, Event) error) eventKind {
	var zero B
	return eventKind{
		name:  zero.Kind(),
		typ:   reflect.TypeFor[B](),
		empty: func() Body { return any(new(B)).(Body) },
		apply: func(s *State, e Event) error { return fold(s, e.Body.(B), e) },
	}
}

// kindTable finds a kind by its name, when decoding, and by its Go type,
// when encoding or applying: a value of any other type (a pointer, one
// defined elsewhere) is not of the table. Events and commands each have
// one.
type kindTable[K interface{ key() (string, reflect.Type) }] struct {
	byName map[string]K
	byType map[reflect.Type]K
}

func newKindTable[K interface{ key() (string, reflect.Type) }](kinds ...K) kindTable[K] {
	t := kindTable[K]{byName: map[string]K{}, byType: map[reflect.Type]K{}}
	for _, k := range kinds {
		name, typ := k.key()
		t.byName[name] = k
		t.byType[typ] = k
	}
	return t
}

func (k eventKind) key() (string, reflect.Type) { return k.name, k.typ }

// newBody returns an empty body of the named kind to decode into.
func newBody(kind string) (Body, bool) {
	k, ok := eventKinds.byName[kind]
	if !ok {
		return nil, false
	}
	return k.empty(), true
}

type wireEvent struct {
	Seq   uint64          `json:"seq"`
	At    time.Time       `json:"at"`
	Actor string          `json:"actor,omitempty"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data"`
}

// MarshalJSON writes {"seq","at","actor","type","data"}.
func (e Event) MarshalJSON() ([]byte, error) {
	if e.Body == nil {
		return nil, fmt.Errorf("event %d has no body", e.Seq)
	}
	data, err := json.Marshal(e.Body)
	if err != nil {
		return nil, fmt.Errorf("encoding %s event: %w", e.Body.Kind(), err)
	}
	return json.Marshal(wireEvent{Seq: e.Seq, At: e.At, Actor: e.Actor, Type: e.Body.Kind(), Data: data})
}

// ErrUnknownKind is wrapped by UnmarshalJSON's error for an event of a kind
// this build does not know (a newer server's): a follower cannot fold it
// and must take a snapshot instead, which carries its effect.
var ErrUnknownKind = errors.New("unknown kind of event")

// UnmarshalJSON reads what MarshalJSON writes and refuses unknown kinds.
func (e *Event) UnmarshalJSON(b []byte) error {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decoding event: %w", err)
	}
	body, ok := newBody(w.Type)
	if !ok {
		return fmt.Errorf("decoding event %d of type %q: %w", w.Seq, w.Type, ErrUnknownKind)
	}
	if len(w.Data) == 0 {
		return fmt.Errorf("decoding %s event %d: no data", w.Type, w.Seq)
	}
	if err := json.Unmarshal(w.Data, body); err != nil {
		return fmt.Errorf("decoding %s event %d: %w", w.Type, w.Seq, err)
	}
	*e = Event{Seq: w.Seq, At: w.At, Actor: w.Actor, Body: deref(body)}
	return nil
}

// deref turns the decoding pointer back into the value type Apply switches on.
func deref(b Body) Body {
	return reflect.ValueOf(b).Elem().Interface().(Body)
}
