package queue

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Command is a request to change an office's queues. Commands are decided
// one at a time against the current state by the office's owner.
type Command interface {
	decide(s *State, now time.Time) (Decision, error)
}

// Decision is what a command decided: the events to append, in order, and
// what it concerns.
type Decision struct {
	Events []Body
	// Ticket is the ticket issued, called or acted on, if any.
	Ticket string
	// Reservation is the booking made or checked in, if any.
	Reservation string
	// Lease is the lease granted, if any.
	Lease *Lease
	// Expired is set when Ticket is a leased ticket of a day that had
	// ended when it was handed in: kept for statistics, in no queue.
	Expired bool
	// Held is set when an Issue gave no new ticket because a holder it
	// names already has Ticket, active, for the same service.
	Held bool
	// Deposit and Compartment are the locker deposit acted on and the
	// compartment it holds, if any.
	Deposit     string
	Compartment string
}

// Decide validates cmd against the state at now. It does not change the
// state: the caller applies the returned events (Tick first, so that the
// day is current).
func (s *State) Decide(now time.Time, cmd Command) (Decision, error) {
	return cmd.decide(s, now)
}

// Execute brings the state to now (Tick), decides cmd and applies the
// resulting events, numbering them after the state's seq. It returns every
// event it applied, even when cmd itself fails (a new day still begins), so
// the caller must persist them either way.
func (s *State) Execute(now time.Time, actor string, cmd Command) ([]Event, Decision, error) {
	var applied []Event
	apply := func(bodies []Body) error {
		for _, b := range bodies {
			e := Event{Seq: s.Seq + 1, At: now, Actor: actor, Body: b}
			if err := s.Apply(e); err != nil {
				return err
			}
			applied = append(applied, e)
		}
		return nil
	}
	if err := apply(s.Tick(now)); err != nil {
		return applied, Decision{}, err
	}
	d, err := s.Decide(now, cmd)
	if err != nil {
		return applied, d, err
	}
	if err := apply(d.Events); err != nil {
		return applied, d, err
	}
	return applied, d, nil
}

// Advance applies what time alone causes at now (see Tick) and returns the
// events applied.
func (s *State) Advance(now time.Time, actor string) ([]Event, error) {
	events, _, err := s.Execute(now, actor, idle{})
	return events, err
}

// idle is a command that decides nothing.
type idle struct{}

func (idle) decide(*State, time.Time) (Decision, error) { return Decision{}, nil }

// Tick returns the events that time alone causes at now: a new day, or
// the end of tickets set aside unconfirmed for too long.
func (s *State) Tick(now time.Time) []Body {
	if day := s.Office.LocalDate(now); day != s.Day {
		return []Body{DayRolledOver{Day: day}}
	}
	return s.expiredAway(now)
}

// MaxNote is the longest note a clerk or assistant may attach to a ticket.
const MaxNote = 200

// Issue draws a new ticket for a service.
type Issue struct {
	Service  string
	Lang     string
	Priority bool
	Channel  Channel
	// RequestID, chosen by the device, makes the issue idempotent.
	RequestID string
	Device    string
	Note      string
	// Holders, for a phone ticket, are opaque keys of who asks (see
	// Ticket.Holders): while one of them holds an active ticket of the
	// service, the decision is that ticket (Decision.Held), not a new one.
	Holders []string
}

func (c Issue) decide(s *State, now time.Time) (Decision, error) {
	if r, ok := s.knownRequest(c.RequestID); ok {
		return r.again()
	}
	svc, ok := s.Office.Service(c.Service)
	if !ok {
		return Decision{}, notFound("no service %q in office %s", c.Service, s.Office.ID)
	}
	if err := checkIssueFields(c.Lang, c.Channel, c.RequestID, c.Note); err != nil {
		return Decision{}, err
	}
	if err := checkHolders(c.Channel, c.Holders); err != nil {
		return Decision{}, err
	}
	if held := s.heldTicket(svc.ID, c.Holders); held != nil {
		return Decision{Ticket: held.ID, Held: true}, nil
	}
	if err := s.CanIssue(now, svc.ID); err != nil {
		return Decision{}, err
	}
	if c.Channel.Remote() {
		if err := s.RemoteRefusal(svc); err != nil {
			return Decision{}, err
		}
	}
	sv := s.service(svc.ID)
	t := Ticket{
		Day: s.Day, Number: FormatNumber(svc.Prefix, sv.NextNumber), Service: svc.ID,
		Channel: c.Channel, Lang: c.Lang, Priority: c.Priority, State: Waiting,
		IssuedAt: now, QueuedAt: now, Device: c.Device, Note: c.Note, Holders: c.Holders,
	}
	if c.Channel.Remote() && s.Office.Remote.PresenceAhead > 0 {
		t.Presence = PresenceNeeded
	}
	t.ID = TicketID(s.Day, t.Number)
	return Decision{Events: []Body{TicketIssued{Ticket: t, RequestID: c.RequestID}}, Ticket: t.ID}, nil
}

func checkIssueFields(lang string, ch Channel, requestID, note string) error {
	if lang == "" {
		return invalid("lang: missing")
	}
	if len(lang) != 2 || strings.ToLower(lang) != lang {
		return invalid("lang: %q is not a two-letter language code", lang)
	}
	if !ch.Valid() {
		return invalid("channel: %q is not one of kiosk, phone, booking, assistant", ch)
	}
	if len(requestID) > 64 {
		return invalid("request_id: longer than 64 characters")
	}
	if utf8.RuneCountInString(note) > MaxNote {
		return invalid("note: longer than %d characters", MaxNote)
	}
	return nil
}

// CanIssue returns nil if service takes new tickets at now, else an *Error
// whose Refusal says why and until when.
func (s *State) CanIssue(now time.Time, service string) error {
	svc, ok := s.Office.Service(service)
	if !ok {
		return notFound("no service %q in office %s", service, s.Office.ID)
	}
	closing, _ := s.Office.ClosingToday(now)
	return s.checkIssue(now, svc, func() time.Duration { return s.boundedWait(now, svc.ID, closing) })
}

// waitMemo is a forecast wait of a new ticket and what it was made from.
type waitMemo struct {
	at         time.Time
	lastGrowth uint64
	tickets    int
	wait       time.Duration
	// occupancy is the longest any service keeps a counter, at the time.
	occupancy time.Duration
}

// memoFor is how long a remembered wait may stand in for a forecast.
const memoFor = time.Minute

// boundedWait is the expected wait of a new ticket of service, or an upper
// bound of it when that bound is still before closing, which is all that
// issuing needs to know. A rush of residents at the kiosk then costs one
// forecast, not one each: while nothing that lengthens waits but new tickets
// has happened since the last forecast (at most a minute ago), each new
// ticket can have added at most one service's time, and time itself at most
// the time passed.
func (s *State) boundedWait(now time.Time, service string, closing time.Time) time.Duration {
	m, ok := s.waitMemo[service]
	if ok && m.lastGrowth == s.lastGrowth && !now.Before(m.at) && now.Sub(m.at) < memoFor && m.wait >= 0 {
		bound := m.wait + time.Duration(len(s.Tickets)-m.tickets)*m.occupancy + now.Sub(m.at)
		if !now.Add(bound).After(closing) {
			return bound
		}
	}
	wait := s.WaitForNew(now, service)
	longest := time.Duration(0)
	for _, svc := range s.Office.Services {
		longest = max(longest, s.expect(svc.ID).occupancy())
	}
	if s.waitMemo == nil {
		s.waitMemo = map[string]waitMemo{}
	}
	s.waitMemo[service] = waitMemo{at: now, lastGrowth: s.lastGrowth, tickets: len(s.Tickets), wait: wait, occupancy: longest}
	return wait
}

// checkIssue is CanIssue with the new ticket's expected wait computed only
// if the other checks pass, by wait.
func (s *State) checkIssue(now time.Time, svc Service, wait func() time.Duration) error {
	next, _ := s.Office.NextOpening(now)
	if _, _, open := s.Office.OpenInterval(now); !open {
		ivs, ex := s.Office.HoursOn(now)
		if ex != nil && len(ivs) == 0 {
			r := &Refusal{Reason: ReasonHoliday, Service: svc.ID, Until: next, Holiday: ex.Name, HolidayNames: ex.Names}
			return r.err("office closed today (%s); opens %s", ex.Name, fmtTime(next, s.Office))
		}
		r := &Refusal{Reason: ReasonClosed, Service: svc.ID, Until: next}
		return r.err("office closed now; opens %s", fmtTime(next, s.Office))
	}
	closing, _ := s.Office.ClosingToday(now)
	if svc.CutOff > 0 && !now.Before(closing.Add(-svc.CutOff)) {
		r := &Refusal{Reason: ReasonCutOff, Service: svc.ID, Until: next, Closing: closing}
		return r.err("%s stopped issuing at %s, %v before closing; opens %s", svc.ID,
			fmtTime(closing.Add(-svc.CutOff), s.Office), svc.CutOff, fmtTime(next, s.Office))
	}
	sv := s.service(svc.ID)
	limit := svc.DailyCap
	if limit == 0 || limit > MaxNumber {
		limit = MaxNumber
	}
	if sv.Issued >= limit || sv.NextNumber >= sv.ceiling() {
		tomorrow, _ := s.Office.NextOpening(closing)
		r := &Refusal{Reason: ReasonDailyCap, Service: svc.ID, Until: tomorrow}
		return r.err("%s has issued all %d tickets for today; opens %s", svc.ID, limit, fmtTime(tomorrow, s.Office))
	}
	if wait := wait(); wait >= 0 && now.Add(wait).After(closing) {
		r := &Refusal{Reason: ReasonPastClosing, Service: svc.ID, Until: next, Closing: closing}
		return r.err("%s: a new ticket would wait about %v, past closing at %s; opens %s", svc.ID,
			wait.Round(time.Minute), fmtTime(closing, s.Office), fmtTime(next, s.Office))
	}
	return nil
}

func fmtTime(t time.Time, o *Office) string {
	if t.IsZero() {
		return "never"
	}
	return t.In(o.Location).Format("Mon 2006-01-02 15:04")
}

// IssueLeased accepts a ticket a kiosk issued from its lease while offline.
// The kiosk hands it in under the request id of the online request it
// replaced, if it had asked the server first: when that request did give
// a ticket (the answer came too late), that ticket is withdrawn in the
// same batch (RequestWithdrawn), if nobody can have come for it yet, so
// only the printed ticket counts.
type IssueLeased struct {
	RequestID string
	Device    string
	Service   string
	Number    int
	IssuedAt  time.Time
	Lang      string
	Priority  bool
}

func (c IssueLeased) decide(s *State, now time.Time) (Decision, error) {
	if c.RequestID == "" {
		return Decision{}, invalid("request_id: missing; a leased ticket needs one so it is accepted once")
	}
	// replaced is the server's ticket for the same request, whose answer
	// reached the kiosk too late: the kiosk printed this leased ticket
	// instead, and the ticket printed is the one that counts.
	var replaced *Ticket
	if r, ok := s.knownRequest(c.RequestID); ok {
		t := s.requestTicket(r)
		switch {
		case r.Withdrawn:
			return Decision{}, conflict("this request was withdrawn by its device, which printed nothing for it")
		case t == nil || t.Leased:
			return r.again()
		case t.ReservationID != "":
			return Decision{}, conflict("this request confirmed a booked visit; it gives no leased ticket")
		case r.Ended == nil:
			replaced = t
		}
	}
	svc, ok := s.Office.Service(c.Service)
	if !ok {
		return Decision{}, notFound("no service %q in office %s", c.Service, s.Office.ID)
	}
	if err := checkIssueFields(c.Lang, ChannelKiosk, c.RequestID, ""); err != nil {
		return Decision{}, err
	}
	if c.IssuedAt.IsZero() {
		return Decision{}, invalid("issued_at: missing")
	}
	day := s.Office.LocalDate(c.IssuedAt)
	lease := s.leaseOf(c.Device, c.Service, day, c.Number)
	if lease == nil {
		return Decision{}, conflict("number %s on %s is not in a lease granted to device %q",
			FormatNumber(svc.Prefix, c.Number), day, c.Device)
	}
	number := FormatNumber(svc.Prefix, c.Number)
	id := TicketID(day, number)
	if _, dup := s.Tickets[id]; dup {
		return Decision{}, conflict("ticket %s already exists under another request", number)
	}
	queued := leasedQueuedAt(c.IssuedAt, *lease, now)
	t := Ticket{
		ID: id, Day: day, Number: number, Service: svc.ID, Channel: ChannelKiosk, Lang: c.Lang,
		Priority: c.Priority, State: Waiting, IssuedAt: c.IssuedAt, QueuedAt: queued,
		Device: c.Device, Leased: true,
	}
	var events []Body
	if replaced != nil && withdrawable(replaced) {
		events = append(events, RequestWithdrawn{RequestID: c.RequestID, Ticket: replaced.ID})
	}
	events = append(events, TicketIssued{Ticket: t, RequestID: c.RequestID})
	return Decision{Events: events, Ticket: id, Expired: day != s.Day}, nil
}

// leaseOf finds the lease granted to device that holds number of service
// on day; the latest, should two hold it.
func (s *State) leaseOf(device, service, day string, number int) *Lease {
	var lease *Lease
	for i := range s.Leases {
		l := &s.Leases[i]
		if l.Device == device && l.Service == service && l.Day == day && l.Covers(number) {
			lease = l
		}
	}
	return lease
}

// leasedQueuedAt is when a leased ticket joins the line: when it was
// issued, but not before its lease was granted nor after now, whatever the
// kiosk's clock said.
func leasedQueuedAt(issued time.Time, l Lease, now time.Time) time.Time {
	queued := issued
	if queued.Before(l.GrantedAt) {
		queued = l.GrantedAt
	}
	if queued.After(now) {
		queued = now
	}
	return queued
}

// GrantLease reserves numbers for a kiosk to issue while offline.
type GrantLease struct {
	ID      string
	Device  string
	Service string
	Count   int
}

// MaxLease is the most numbers one lease may hold.
const MaxLease = 50

func (c GrantLease) decide(s *State, now time.Time) (Decision, error) {
	svc, ok := s.Office.Service(c.Service)
	if !ok {
		return Decision{}, notFound("no service %q in office %s", c.Service, s.Office.ID)
	}
	if c.Device == "" || c.ID == "" {
		return Decision{}, invalid("device: a lease needs a device and an id")
	}
	if c.Count < 1 || c.Count > MaxLease {
		return Decision{}, invalid("count: %d must be 1-%d", c.Count, MaxLease)
	}
	sv := s.service(svc.ID)
	last := sv.ceiling() - 1
	first := max(last-c.Count+1, sv.NextNumber)
	if first > last {
		return Decision{}, conflict("service %s has no numbers left today", svc.ID)
	}
	l := Lease{ID: c.ID, Device: c.Device, Service: svc.ID, Day: s.Day, First: first, Last: last, GrantedAt: now}
	return Decision{Events: []Body{LeaseGranted{Lease: l}}, Lease: &l}, nil
}

// counterCommand finds the counter a clerk command is for and checks it is
// not closed.
func (s *State) openCounter(n int) (*CounterState, error) {
	c := s.Counters[n]
	if c == nil {
		return nil, notFound("no counter %d in office %s", n, s.Office.ID)
	}
	if c.Status == CounterClosedStatus {
		return nil, conflict("counter %d is closed: open it first", n)
	}
	return c, nil
}

// atCounter returns the ticket an open counter holds, or an error saying
// why there is none.
func (s *State) atCounter(n int) (*Ticket, error) {
	ctr, err := s.openCounter(n)
	if err != nil {
		return nil, err
	}
	return s.current(ctr)
}

// current returns the ticket a counter holds, or an error saying it holds none.
func (s *State) current(c *CounterState) (*Ticket, error) {
	t := s.Tickets[c.Current]
	if t == nil || t.State.Final() {
		return nil, conflict("counter %d has no current ticket", c.Number)
	}
	return t, nil
}

// CallNext finishes the counter's current ticket, if any, and calls the
// next one by the call policy. A decision without a ticket means nobody
// waits.
type CallNext struct{ Counter int }

func (c CallNext) decide(s *State, now time.Time) (Decision, error) {
	ctr, err := s.openCounter(c.Counter)
	if err != nil {
		return Decision{}, err
	}
	if ctr.Status == CounterPausedStatus {
		return Decision{}, conflict("counter %d is on a break: resume it first", c.Counter)
	}
	var events []Body
	if cur, err := s.current(ctr); err == nil {
		events = append(events, TicketFinished{Ticket: cur.ID, Counter: c.Counter})
	}
	cfg, _ := s.Office.Counter(c.Counter)
	parked, next := s.parkUnconfirmed(newLineup(s.WaitingTickets()), cfg, now)
	events = append(events, parked...)
	if next == nil {
		return Decision{Events: events}, nil
	}
	events = append(events, TicketCalled{Ticket: next.ID, Counter: c.Counter})
	return Decision{Events: events, Ticket: next.ID}, nil
}

// CallTicket calls a chosen waiting ticket out of order (when the office
// allows it), or calls back a ticket this counter parked.
type CallTicket struct {
	Counter int
	Ticket  string
}

func (c CallTicket) decide(s *State, now time.Time) (Decision, error) {
	ctr, err := s.openCounter(c.Counter)
	if err != nil {
		return Decision{}, err
	}
	t := s.findTicket(c.Ticket)
	if t == nil {
		return Decision{}, notFound("no ticket %q today", c.Ticket)
	}
	returned := t.State == Parked
	switch {
	case returned && t.Counter != c.Counter:
		return Decision{}, conflict("ticket %s is parked at counter %d", t.Number, t.Counter)
	case !returned && t.State != Waiting:
		return Decision{}, conflict("ticket %s is %s, not waiting", t.Number, t.State)
	case !returned && !s.Office.Rules.AllowCallSpecific:
		return Decision{}, conflict("this office does not allow calling a ticket out of order")
	case !returned && !t.BookedFor.IsZero() && now.Before(t.BookedFor):
		return Decision{}, conflict("ticket %s is booked for %s and cannot be called before", t.Number, t.BookedFor.In(s.Office.Location).Format("15:04"))
	}
	var events []Body
	if cur, err := s.current(ctr); err == nil {
		events = append(events, TicketFinished{Ticket: cur.ID, Counter: c.Counter})
	}
	events = append(events, TicketCalled{Ticket: t.ID, Counter: c.Counter, Specific: !returned, Returned: returned})
	return Decision{Events: events, Ticket: t.ID}, nil
}

// findTicket finds today's ticket by id or by number ("A012").
func (s *State) findTicket(ref string) *Ticket {
	if t := s.Tickets[ref]; t != nil {
		return t
	}
	return s.Tickets[TicketID(s.Day, strings.ToUpper(ref))]
}

// Recall calls the counter's current ticket again; past the office's recall
// limit the ticket becomes a no-show instead.
type Recall struct{ Counter int }

func (c Recall) decide(s *State, now time.Time) (Decision, error) {
	t, err := s.atCounter(c.Counter)
	if err != nil {
		return Decision{}, err
	}
	if t.State != Called {
		return Decision{}, conflict("ticket %s is already being served", t.Number)
	}
	if t.Recalls >= s.Office.Rules.RecallLimit {
		return Decision{Events: []Body{TicketNoShow{Ticket: t.ID, Counter: c.Counter, AfterRecalls: true}}, Ticket: t.ID}, nil
	}
	return Decision{Events: []Body{TicketRecalled{Ticket: t.ID, Counter: c.Counter}}, Ticket: t.ID}, nil
}

// Start marks that the called resident came to the counter.
type Start struct{ Counter int }

func (c Start) decide(s *State, now time.Time) (Decision, error) {
	t, err := s.atCounter(c.Counter)
	if err != nil {
		return Decision{}, err
	}
	if t.State != Called {
		return Decision{}, conflict("ticket %s is already being served", t.Number)
	}
	return Decision{Events: []Body{ServiceStarted{Ticket: t.ID, Counter: c.Counter}}, Ticket: t.ID}, nil
}

// Finish ends the counter's current ticket as served.
type Finish struct {
	Counter int
	// Outcomes are what was handled: ids of the service's Outcomes.
	Outcomes []string
}

func (c Finish) decide(s *State, now time.Time) (Decision, error) {
	t, err := s.atCounter(c.Counter)
	if err != nil {
		return Decision{}, err
	}
	outcomes := cleanOutcomes(c.Outcomes)
	if len(outcomes) > 0 {
		svc, _ := s.Office.Service(t.Service)
		for _, id := range outcomes {
			if _, ok := svc.Outcome(id); !ok {
				return Decision{}, invalid("outcomes: %q is not an outcome of service %s", id, t.Service)
			}
		}
	}
	return Decision{Events: []Body{TicketFinished{Ticket: t.ID, Counter: c.Counter, Outcomes: outcomes}}, Ticket: t.ID}, nil
}

// MarkNoShow ends the counter's called ticket: the resident did not come.
type MarkNoShow struct{ Counter int }

func (c MarkNoShow) decide(s *State, now time.Time) (Decision, error) {
	t, err := s.atCounter(c.Counter)
	if err != nil {
		return Decision{}, err
	}
	if t.State != Called {
		return Decision{}, conflict("ticket %s is being served: finish it instead", t.Number)
	}
	return Decision{Events: []Body{TicketNoShow{Ticket: t.ID, Counter: c.Counter}}, Ticket: t.ID}, nil
}

// Transfer moves a ticket to another service or counter: the counter's
// current ticket when Counter is set, else the waiting ticket Ticket (the
// hall assistant's move).
type Transfer struct {
	Counter   int
	Ticket    string
	ToService string
	ToCounter int
	KeepPlace bool
	Note      string
}

func (c Transfer) decide(s *State, now time.Time) (Decision, error) {
	var t *Ticket
	if c.Counter != 0 {
		ctr, err := s.openCounter(c.Counter)
		if err != nil {
			return Decision{}, err
		}
		if t, err = s.current(ctr); err != nil {
			return Decision{}, err
		}
	} else {
		if t = s.findTicket(c.Ticket); t == nil {
			return Decision{}, notFound("no ticket %q today", c.Ticket)
		}
		if t.State != Waiting {
			return Decision{}, conflict("ticket %s is %s: only a waiting ticket can be moved here", t.Number, t.State)
		}
	}
	if utf8.RuneCountInString(c.Note) > MaxNote {
		return Decision{}, invalid("note: longer than %d characters", MaxNote)
	}
	to := c.ToService
	if to == "" {
		to = t.Service
	}
	if _, ok := s.Office.Service(to); !ok {
		return Decision{}, notFound("no service %q in office %s", to, s.Office.ID)
	}
	if c.ToCounter != 0 {
		if _, ok := s.Office.Counter(c.ToCounter); !ok {
			return Decision{}, notFound("no counter %d in office %s", c.ToCounter, s.Office.ID)
		}
		if c.ToCounter == c.Counter {
			return Decision{}, invalid("to_counter: the ticket is already at counter %d", c.Counter)
		}
	} else if to == t.Service {
		return Decision{}, invalid("to_service: give another service or a counter to transfer to")
	}
	return Decision{Events: []Body{TicketTransferred{
		Ticket: t.ID, FromCounter: c.Counter, ToService: to, ToCounter: c.ToCounter,
		KeepPlace: c.KeepPlace, Note: c.Note,
	}}, Ticket: t.ID}, nil
}

// Park sets the counter's current ticket aside; the counter calls it back
// later with CallTicket.
type Park struct{ Counter int }

func (c Park) decide(s *State, now time.Time) (Decision, error) {
	t, err := s.atCounter(c.Counter)
	if err != nil {
		return Decision{}, err
	}
	return Decision{Events: []Body{TicketParked{Ticket: t.ID, Counter: c.Counter}}, Ticket: t.ID}, nil
}

// CancelTicket withdraws a waiting or parked ticket (the resident left).
type CancelTicket struct {
	Ticket string
	Reason string
}

func (c CancelTicket) decide(s *State, now time.Time) (Decision, error) {
	t := s.findTicket(c.Ticket)
	if t == nil {
		return Decision{}, notFound("no ticket %q today", c.Ticket)
	}
	if t.State != Waiting && t.State != Parked && t.State != ParkedAway {
		return Decision{}, conflict("ticket %s is %s and cannot be cancelled", t.Number, t.State)
	}
	reason := c.Reason
	if reason == "" {
		reason = "withdrawn"
	}
	return Decision{Events: []Body{TicketCancelled{Ticket: t.ID, Reason: reason}}, Ticket: t.ID}, nil
}

// SetCounter opens, pauses or closes a counter. A counter with a ticket at
// it cannot pause or close until the ticket is dealt with.
type SetCounter struct {
	Counter int
	Status  CounterStatus
}

func (c SetCounter) decide(s *State, now time.Time) (Decision, error) {
	ctr := s.Counters[c.Counter]
	if ctr == nil {
		return Decision{}, notFound("no counter %d in office %s", c.Counter, s.Office.ID)
	}
	if ctr.Status == c.Status {
		return Decision{}, nil
	}
	if c.Status != CounterOpenStatus {
		if t, err := s.current(ctr); err == nil {
			return Decision{}, conflict("counter %d has ticket %s: finish, transfer or park it first", c.Counter, t.Number)
		}
	}
	switch c.Status {
	case CounterOpenStatus:
		return Decision{Events: []Body{CounterOpened{Counter: c.Counter}}}, nil
	case CounterPausedStatus:
		return Decision{Events: []Body{CounterPaused{Counter: c.Counter}}}, nil
	case CounterClosedStatus:
		return Decision{Events: []Body{CounterClosed{Counter: c.Counter}}}, nil
	}
	return Decision{}, invalid("status: %q is not open, paused or closed", c.Status)
}

// Rate records a resident's rating of a finished ticket, once.
type Rate struct {
	Ticket string
	Rating Rating
}

func (c Rate) decide(s *State, now time.Time) (Decision, error) {
	if !c.Rating.Valid() {
		return Decision{}, invalid("rating: %q is not good, neutral or bad", c.Rating)
	}
	t := s.findTicket(c.Ticket)
	if t == nil {
		return Decision{}, notFound("no ticket %q today", c.Ticket)
	}
	return rate(t, c.Rating)
}

func rate(t *Ticket, r Rating) (Decision, error) {
	if t.State != Done {
		return Decision{}, conflict("ticket %s is %s: only a served ticket can be rated", t.Number, t.State)
	}
	if t.Rating != "" {
		return Decision{}, conflict("ticket %s is already rated", t.Number)
	}
	return Decision{Events: []Body{RatingGiven{Ticket: t.ID, Rating: r}}, Ticket: t.ID}, nil
}

// RateAtCounter records the rating given with a counter's buttons: it
// belongs to the ticket the counter finished last, within RateWindow.
type RateAtCounter struct {
	Counter int
	Rating  Rating
}

// RateWindow is how long after a service its counter's buttons rate it.
const RateWindow = 10 * time.Minute

func (c RateAtCounter) decide(s *State, now time.Time) (Decision, error) {
	if !c.Rating.Valid() {
		return Decision{}, invalid("rating: %q is not good, neutral or bad", c.Rating)
	}
	if s.Counters[c.Counter] == nil {
		return Decision{}, notFound("no counter %d in office %s", c.Counter, s.Office.ID)
	}
	var last *Ticket
	for _, t := range s.Tickets {
		if t.Counter == c.Counter && t.State == Done && (last == nil || t.EndedAt.After(last.EndedAt)) {
			last = t
		}
	}
	if last == nil || now.Sub(last.EndedAt) > RateWindow {
		return Decision{}, conflict("counter %d finished no ticket in the last %v", c.Counter, RateWindow)
	}
	return rate(last, c.Rating)
}

// ReportFault records a device's trouble, or its end with an empty Fault.
// Reporting what is already known changes nothing.
type ReportFault struct {
	Device string
	Fault  string
	Detail string
}

func (c ReportFault) decide(s *State, now time.Time) (Decision, error) {
	if c.Device == "" {
		return Decision{}, invalid("device: missing")
	}
	if len(c.Fault) > 64 || utf8.RuneCountInString(c.Detail) > MaxNote {
		return Decision{}, invalid("fault: too long")
	}
	old, had := s.Faults[c.Device]
	if (c.Fault == "" && !had) || (had && old.Fault == c.Fault && old.Detail == c.Detail) {
		return Decision{}, nil
	}
	return Decision{Events: []Body{DeviceFault(c)}}, nil
}

// String helps logs and test failures name a command.
func String(c Command) string { return fmt.Sprintf("%T%+v", c, c) }
