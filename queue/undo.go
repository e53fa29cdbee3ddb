package queue

import (
	"fmt"
	"slices"
	"time"
)

// A clerk's hasty no-show, finish or close can be taken back for a few
// seconds. The undo is a command like any other, recorded as an Undone
// event, so every replica and the statistics see both the move and its
// reversal; it holds only while nothing else has touched the counter or
// the ticket since (a new call, a rating, a day rolled over), which the
// counter's own Since and the ticket's end time tell.

// UndoWindow is how long after a no-show, finish or close the counter
// may take it back.
const UndoWindow = 10 * time.Second

// LastEnd is a counter's latest undoable move and what it changed.
type LastEnd struct {
	// Seq and Kind name the event: TicketFinished, TicketNoShow or
	// CounterClosed.
	Seq  uint64    `json:"seq"`
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`
	// Ticket is the ticket ended, and Was its state before (called or
	// serving); empty for a close.
	Ticket string      `json:"ticket,omitempty"`
	Was    TicketState `json:"was,omitempty"`
	// Status and Since are the counter's before the move.
	Status CounterStatus `json:"status"`
	Since  time.Time     `json:"since,omitzero"`
	// Duration is the service time a finish taught the forecast.
	Duration time.Duration `json:"duration,omitempty"`
}

// UndoAction names the move a LastEnd would undo as the counter's
// actions do ("finish", "no-show", "close").
func (l LastEnd) UndoAction() string {
	switch l.Kind {
	case TicketFinished{}.Kind():
		return "finish"
	case TicketNoShow{}.Kind():
		return "no-show"
	}
	return "close"
}

// Undo takes back the counter's latest no-show, finish or close, within
// UndoWindow and while nothing else touched the counter or the ticket.
type Undo struct{ Counter int }

func (c Undo) decide(s *State, now time.Time) (Decision, error) {
	ctr := s.Counters[c.Counter]
	if ctr == nil {
		return Decision{}, notFound("no counter %d in office %s", c.Counter, s.Office.ID)
	}
	u, ok := s.undoable(ctr, now)
	if !ok {
		return Decision{}, conflict("counter %d has nothing to undo from the last %d seconds", c.Counter, int(UndoWindow/time.Second))
	}
	return Decision{Events: []Body{Undone{Counter: c.Counter, Seq: u.Seq, Undid: u.Kind, Ticket: u.Ticket}}, Ticket: u.Ticket}, nil
}

// undoable is the counter's last end if it may still be undone at now.
func (s *State) undoable(c *CounterState, now time.Time) (*LastEnd, bool) {
	u := c.LastEnd
	if u == nil || now.Sub(u.At) > UndoWindow || !c.Since.Equal(u.At) {
		return nil, false
	}
	if u.Ticket == "" {
		return u, c.Status == CounterClosedStatus
	}
	t := s.Tickets[u.Ticket]
	ended := map[string]TicketState{TicketFinished{}.Kind(): Done, TicketNoShow{}.Kind(): NoShow}[u.Kind]
	if t == nil || c.Current != "" || c.Status != u.Status || t.State != ended || !t.EndedAt.Equal(u.At) || t.Rating != "" {
		return nil, false
	}
	return u, true
}

// UndoUntil says what counter n could undo at now and until when; ok is
// false when nothing.
func (s *State) UndoUntil(n int, now time.Time) (action string, until time.Time, ok bool) {
	c := s.Counters[n]
	if c == nil {
		return "", time.Time{}, false
	}
	u, ok := s.undoable(c, now)
	if !ok {
		return "", time.Time{}, false
	}
	return u.UndoAction(), u.At.Add(UndoWindow), true
}

// rememberEnd notes ticket t and its counter as they are before t ends
// at counter n, and returns what keeps them on the counter once the end
// is applied: Undo puts them back. An end at a counter that does not hold
// the ticket is not undoable.
func (s *State) rememberEnd(t *Ticket, n int) func(e Event, d time.Duration) {
	c := s.Counters[t.Counter]
	if c == nil || c.Number != n {
		return func(Event, time.Duration) {}
	}
	was, status, since := t.State, c.Status, c.Since
	return func(e Event, d time.Duration) {
		if c.Current == "" {
			c.remember(e, t, was, status, since, d)
		}
	}
}

// remember keeps what an undoable event at counter c changed.
func (c *CounterState) remember(e Event, t *Ticket, was TicketState, status CounterStatus, since time.Time, d time.Duration) {
	u := &LastEnd{Seq: e.Seq, Kind: e.Body.Kind(), At: e.At, Status: status, Since: since, Duration: d}
	if t != nil {
		u.Ticket, u.Was = t.ID, was
	}
	c.LastEnd = u
}

// applyUndone puts back what the counter's last end changed: the ticket
// at the counter as it was, or the counter's status; and takes the end
// out of what the forecast learned.
func (s *State) applyUndone(b Undone, e Event) error {
	c, err := s.counter(b.Counter)
	if err != nil {
		return err
	}
	u := c.LastEnd
	if u == nil || u.Seq != b.Seq {
		return fmt.Errorf("counter %d's last end is not event %d", b.Counter, b.Seq)
	}
	c.LastEnd = nil
	if u.Ticket == "" {
		c.Status, c.Since = u.Status, u.Since
		return nil
	}
	t, err := s.ticket(u.Ticket)
	if err != nil {
		return err
	}
	t.State, t.EndedAt = u.Was, time.Time{}
	c.Current, c.Since = t.ID, u.Since
	sv := s.service(t.Service)
	switch u.Kind {
	case TicketFinished{}.Kind():
		// The latest equal one: the finish is recent.
		for i := len(sv.Durations) - 1; i >= 0; i-- {
			if sv.Durations[i] == u.Duration {
				sv.Durations = slices.Delete(sv.Durations, i, i+1)
				break
			}
		}
	case TicketNoShow{}.Kind():
		sv.NoShows = max(0, (sv.NoShows-1)/(1-1/noShowMemory))
	}
	return nil
}
