package queue

import (
	"encoding/json"
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
