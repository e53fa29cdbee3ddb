package queue

import (
	"encoding/json"
	"fmt"
	"time"
)

// RequestMemoryDays is how many days after the day it came an office
// still knows a device's request: a request of Monday gives its ticket
// again until the next Monday's day ends, and is forgotten when the day
// after that begins. A device retries within seconds or, after a crash or
// a night offline, within a day or two; a week covers a kiosk that stood
// switched off over a long holiday.
const RequestMemoryDays = 7

// Request is what an office remembers of a request a device made with its
// own request id (an issue, a check-in, a leased ticket handed in): the
// ticket it gave, so the same request again gives the same ticket,
// whichever day it comes.
type Request struct {
	// Ticket is the id of the ticket the request gave; empty for a request
	// withdrawn before it gave any.
	Ticket string `json:"ticket,omitempty"`
	// Day is the office day the request came on; it is forgotten
	// RequestMemoryDays later.
	Day string `json:"day"`
	// Ended is the ticket as it stood when its day ended, once State.Tickets
	// no longer holds it: left open, it ended cancelled.
	Ended *Ticket `json:"ended,omitempty"`
	// Expired: the ticket was of a day that had already ended when it came
	// (a leased ticket handed in late); it was kept for statistics and
	// never queued.
	Expired bool `json:"expired,omitempty"`
	// Withdrawn: the device printed nothing for this request, so the
	// ticket it gave, if any, was withdrawn, and the request gives no
	// ticket any more.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// UnmarshalJSON also reads the plain ticket id that snapshots written
// before requests were remembered for a week hold.
func (r *Request) UnmarshalJSON(b []byte) error {
	var id string
	if json.Unmarshal(b, &id) == nil {
		*r = Request{Ticket: id}
		return nil
	}
	type plain Request
	return json.Unmarshal(b, (*plain)(r))
}

// knownRequest returns what the office remembers of request id.
func (s *State) knownRequest(id string) (*Request, bool) {
	if id == "" {
		return nil, false
	}
	r, ok := s.Requests[id]
	return r, ok
}

// requestTicket is the ticket a remembered request gave: today's, or as
// it stood when its day ended; nil for none.
func (s *State) requestTicket(r *Request) *Ticket {
	if r.Ended != nil {
		return r.Ended
	}
	return s.Tickets[r.Ticket]
}

// remember records the ticket a request gave.
func (s *State) remember(requestID string, t Ticket) {
	r := &Request{Ticket: t.ID, Day: s.Day}
	if t.Day != s.Day {
		ended := t
		ended.State = Cancelled
		r.Ended, r.Expired = &ended, true
	}
	s.Requests[requestID] = r
}

// endRequests, as day begins, keeps the tickets of today's requests as
// they stand (State.Tickets is about to forget them) and forgets the
// requests older than RequestMemoryDays.
func (s *State) endRequests(day string) {
	cutoff := ""
	if d, err := time.Parse(time.DateOnly, day); err == nil {
		cutoff = d.AddDate(0, 0, -RequestMemoryDays).Format(time.DateOnly)
	}
	for id, r := range s.Requests {
		if r.Day < cutoff {
			delete(s.Requests, id)
			continue
		}
		if r.Ended != nil || r.Ticket == "" {
			continue
		}
		if t := s.Tickets[r.Ticket]; t != nil {
			ended := *t
			if !ended.State.Final() {
				ended.State = Cancelled
			}
			r.Ended = &ended
		}
	}
}

// endedTickets finds, among ids, tickets that remembered requests gave on
// days that have ended.
func (s *State) endedTickets(ids map[string]bool) map[string]*Ticket {
	out := map[string]*Ticket{}
	for _, r := range s.Requests {
		if r.Ended != nil && ids[r.Ticket] {
			out[r.Ticket] = r.Ended
		}
	}
	return out
}

// restoreRequests completes the requests of a snapshot written before
// requests carried their day: today's and yesterday's, as it kept them.
func (s *State) restoreRequests() {
	for _, r := range s.Requests {
		if r.Day == "" {
			r.Day = s.Day
		}
	}
	if len(s.PrevRequests) > 0 {
		prev := s.Day
		if d, err := time.Parse(time.DateOnly, s.Day); err == nil {
			prev = d.AddDate(0, 0, -1).Format(time.DateOnly)
		}
		for id, r := range s.PrevRequests {
			if _, ok := s.Requests[id]; !ok {
				r.Day = prev
				s.Requests[id] = r
			}
		}
	}
	s.PrevRequests = nil
}

// again is the decision of a request that comes again: the same ticket,
// unless its device withdrew it.
func (r *Request) again() (Decision, error) {
	if r.Withdrawn {
		return Decision{}, conflict("this request was withdrawn by its device, which printed nothing for it")
	}
	return Decision{Ticket: r.Ticket, Expired: r.Expired}, nil
}

// withdrawable reports whether nobody can have come to a counter for t
// yet: it waits, or is called and not started. Only such a ticket of the
// server's is withdrawn when its kiosk printed another, or none; one a
// clerk started, parked or finished stays as it is, since somebody stood
// at the counter with its number.
func withdrawable(t *Ticket) bool {
	return (t.State == Waiting || t.State == Called) && t.StartedAt.IsZero()
}

func (s *State) applyWithdrawn(b RequestWithdrawn, e Event) error {
	if b.RequestID == "" {
		return fmt.Errorf("a withdrawn request without its id")
	}
	if b.Ticket != "" {
		t, err := s.ticket(b.Ticket)
		if err != nil {
			return err
		}
		if !withdrawable(t) {
			return fmt.Errorf("ticket %s is %s and cannot be withdrawn", t.Number, t.State)
		}
		s.release(t, e.At)
		t.State, t.EndedAt = Cancelled, e.At
		if sv := s.service(t.Service); sv.Issued > 0 {
			sv.Issued--
		}
		// The hall lists calls until newer ones push them out; a withdrawn
		// ticket's number is not to be read there.
		calls := s.Calls[:0]
		for _, c := range s.Calls {
			if c.Ticket != t.ID {
				calls = append(calls, c)
			}
		}
		s.Calls = calls
	}
	r := s.Requests[b.RequestID]
	if r == nil {
		r = &Request{Ticket: b.Ticket, Day: s.Day}
		s.Requests[b.RequestID] = r
	}
	r.Withdrawn = true
	return nil
}

// WithdrawRequest is a kiosk's word that it printed nothing for one of
// its requests for a ticket: the answer did not come in time (or the kiosk
// stopped before it came) and no ticket from its lease was printed for the
// request either. The ticket the request gave, if nobody can have come
// for it yet (see withdrawable), is withdrawn, and the request gives no
// ticket from then on: should the request itself reach the server only
// now, it issues nothing. A request never seen is remembered as withdrawn
// for the same reason. The decision's Ticket is the request's ticket, if
// it gave one, as it stands after.
type WithdrawRequest struct {
	RequestID string
}

func (c WithdrawRequest) decide(s *State, now time.Time) (Decision, error) {
	if c.RequestID == "" {
		return Decision{}, invalid("request_id: missing; a withdrawal names the request it withdraws")
	}
	if len(c.RequestID) > 64 {
		return Decision{}, invalid("request_id: longer than 64 characters")
	}
	r, ok := s.knownRequest(c.RequestID)
	if !ok {
		return Decision{Events: []Body{RequestWithdrawn{RequestID: c.RequestID}}}, nil
	}
	if r.Withdrawn {
		return Decision{Ticket: r.Ticket}, nil
	}
	w := RequestWithdrawn{RequestID: c.RequestID}
	t := s.requestTicket(r)
	if t == nil {
		return Decision{Events: []Body{w}}, nil
	}
	switch {
	case t.Leased:
		return Decision{}, conflict("ticket %s of this request was printed from the kiosk's lease and stands", t.Number)
	case t.ReservationID != "":
		return Decision{}, conflict("ticket %s confirms a booked visit: it stays, and the code gives it again", t.Number)
	}
	if r.Ended == nil && withdrawable(t) {
		w.Ticket = t.ID
	}
	return Decision{Events: []Body{w}, Ticket: t.ID}, nil
}
