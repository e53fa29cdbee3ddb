package queue

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// The remote rules (RemoteRules), for tickets taken on a phone away from
// the office:
//
//   - one holder (a browser, a contact) keeps one active phone ticket per
//     service: asking again gives the ticket it has (Decision.Held);
//   - at most MaxWaiting phone tickets of the office (and RemoteMaxWaiting
//     of a service) wait at once; past it a phone ticket is refused with
//     ReasonRemotePaused and only the kiosk issues;
//   - with PresenceAhead on, a phone ticket is asked to confirm once that
//     many or fewer are ahead of it; one still unconfirmed when the call
//     policy picks it is set aside (RemoteTicketParked) and the next one
//     is called in the same decision, costing the clerk nothing;
//   - a confirmation (PresenceConfirmed) puts a set-aside ticket back at
//     its own place in line: it was at the front, so it is called next,
//     before anyone who took a ticket after it, and with its recalls
//     untouched;
//   - a ticket set aside for longer than PresenceTimeout ends
//     (ParkedTicketExpired), found by Tick like a new day.

// MaxHolders is the most holder keys one phone ticket may carry, and
// MaxHolderLen the longest key.
const (
	MaxHolders   = 4
	MaxHolderLen = 64
)

func checkHolders(ch Channel, holders []string) error {
	if len(holders) == 0 {
		return nil
	}
	if !ch.Remote() {
		return invalid("holders: only a phone ticket has holders")
	}
	if len(holders) > MaxHolders {
		return invalid("holders: more than %d", MaxHolders)
	}
	for i, h := range holders {
		if h == "" || len(h) > MaxHolderLen {
			return invalid("holders[%d]: must be 1-%d characters", i, MaxHolderLen)
		}
	}
	return nil
}

// heldTicket is the active phone ticket of service that one of holders
// already has, or nil.
func (s *State) heldTicket(service string, holders []string) *Ticket {
	if len(holders) == 0 {
		return nil
	}
	var held *Ticket
	for _, t := range s.Tickets {
		if t.Service != service || !t.active() || !t.Channel.Remote() {
			continue
		}
		if slices.ContainsFunc(t.Holders, func(h string) bool { return slices.Contains(holders, h) }) {
			if held == nil || queueLess(t, held) {
				held = t
			}
		}
	}
	return held
}

// remoteWaiting counts the phone tickets not yet called (waiting or set
// aside): of the office, and by service.
func (s *State) remoteWaiting() (office int, byService map[string]int) {
	byService = map[string]int{}
	for _, t := range s.Tickets {
		if t.Channel.Remote() && (t.State == Waiting || t.State == ParkedAway) {
			office++
			byService[t.Service]++
		}
	}
	return office, byService
}

// remoteCaps is whether the office or any service caps phone tickets: if
// none does, nothing needs counting.
func (s *State) remoteCaps() bool {
	if s.Office.Remote.MaxWaiting > 0 {
		return true
	}
	for _, svc := range s.Office.Services {
		if svc.RemoteMaxWaiting > 0 {
			return true
		}
	}
	return false
}

// RemoteRefusal returns the refusal a phone ticket for svc gets now
// because of the office's cap on remote tickets, or nil if the cap allows
// one more.
func (s *State) RemoteRefusal(svc Service) *Error {
	if !s.remoteCaps() {
		return nil
	}
	office, byService := s.remoteWaiting()
	return s.remoteRefusal(svc, office, byService[svc.ID])
}

// remoteRefusal is RemoteRefusal with the phone tickets waiting counted.
func (s *State) remoteRefusal(svc Service, office, ofService int) *Error {
	limit, count := s.Office.Remote.MaxWaiting, office
	if svc.RemoteMaxWaiting > 0 && ofService >= svc.RemoteMaxWaiting {
		limit, count = svc.RemoteMaxWaiting, ofService
	} else if limit == 0 || office < limit {
		return nil
	}
	r := &Refusal{Reason: ReasonRemotePaused, Service: svc.ID}
	return r.err("%s: %d phone tickets wait (the cap is %d); only the kiosk issues now", svc.ID, count, limit)
}

// parkUnconfirmed sets aside the tickets the call policy picks while
// their residents have not confirmed, and returns the events for them and
// the first ticket it may call, or nil.
func (s *State) parkUnconfirmed(l *lineup, c Counter, now time.Time) ([]Body, *Ticket) {
	var events []Body
	for {
		t := l.pick(s.Office, c, now)
		if t == nil || !s.mustConfirm(t) {
			return events, t
		}
		l.taken[t] = true
		events = append(events, RemoteTicketParked{Ticket: t.ID})
	}
}

// expiredAway returns the events that end tickets set aside unconfirmed
// for longer than the office's presence timeout at now.
func (s *State) expiredAway(now time.Time) []Body {
	timeout := s.Office.Remote.PresenceTimeout
	// Tick runs before every command: the tickets are looked through only
	// while some are set aside.
	if timeout <= 0 || s.away == 0 {
		return nil
	}
	var ids []string
	for _, t := range s.Tickets {
		if t.State == ParkedAway && !now.Before(t.AwayAt.Add(timeout)) {
			ids = append(ids, t.ID)
		}
	}
	sort.Strings(ids)
	events := make([]Body, len(ids))
	for i, id := range ids {
		events[i] = ParkedTicketExpired{Ticket: id}
	}
	return events
}

// ConfirmPresence records a resident's answer to "are you near?": here
// or on the way. A ticket set aside goes back to its place in line;
// confirming a ticket already called or confirmed the same way changes
// nothing.
type ConfirmPresence struct {
	Ticket   string
	Presence Presence
}

func (c ConfirmPresence) decide(s *State, now time.Time) (Decision, error) {
	if !c.Presence.Confirmed() {
		return Decision{}, invalid("presence: %q is not here or on-the-way", c.Presence)
	}
	t := s.findTicket(c.Ticket)
	if t == nil {
		return Decision{}, notFound("no ticket %q today", c.Ticket)
	}
	switch {
	case t.State.Final():
		return Decision{}, conflict("ticket %s has ended (%s)", t.Number, t.State)
	case t.Presence == "" || t.Presence == c.Presence || (t.State != Waiting && t.State != ParkedAway):
		// Not asked, said already, or called meanwhile: nothing to record.
		return Decision{Ticket: t.ID}, nil
	}
	return Decision{Events: []Body{PresenceConfirmed{Ticket: t.ID, Presence: c.Presence}}, Ticket: t.ID}, nil
}

func (s *State) applyParkedAway(b RemoteTicketParked, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	if t.State != Waiting {
		return fmt.Errorf("ticket %s is %s, not waiting", t.Number, t.State)
	}
	t.State, t.AwayAt = ParkedAway, e.At
	s.away++
	return nil
}

// applyPresence keeps the ticket's QueuedAt and Order: back from aside,
// it stands where it stood.
func (s *State) applyPresence(b PresenceConfirmed, _ Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	t.Presence = b.Presence
	if t.State == ParkedAway {
		t.State, t.AwayAt = Waiting, time.Time{}
		s.away--
	}
	return nil
}

func (s *State) applyAwayExpired(b ParkedTicketExpired, e Event) error {
	t, err := s.ticket(b.Ticket)
	if err != nil {
		return err
	}
	if t.State != ParkedAway {
		return fmt.Errorf("ticket %s is %s, not set aside", t.Number, t.State)
	}
	t.State, t.Presence, t.EndedAt = Cancelled, PresenceLapsed, e.At
	s.away--
	return nil
}

// asksPresence reports whether the ticket's page should ask its resident
// to confirm, with ahead people before it.
func (s *State) asksPresence(t *Ticket, ahead int) bool {
	k := s.Office.Remote.PresenceAhead
	switch {
	case !s.mustConfirm(t):
		return false
	case t.State == ParkedAway:
		return true
	}
	return t.State == Waiting && ahead <= k
}

// mustConfirm reports whether the ticket must be confirmed before it is
// called: asked at issue, not answered, and the office still asks.
func (s *State) mustConfirm(t *Ticket) bool {
	return t.Presence == PresenceNeeded && s.Office.Remote.PresenceAhead > 0
}
