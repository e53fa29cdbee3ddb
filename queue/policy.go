package queue

import (
	"sort"
	"time"
)

// The call policy, shared by CallNext and by the wait forecast so that the
// forecast expects exactly the order clerks will see:
//
//  1. priority tickets (pregnant, disabled: Polish offices serve them
//     first), in line order;
//  2. booked visits whose slot has come, by slot;
//  3. the head of each service's line, scored by service priority x the
//     counter's weight for the service x time waited, so a light service
//     still rises as its residents wait and no service starves.
//
// Within a service the line is first come, first served. A ticket
// transferred to a counter is called only by that counter.

// agingFloor keeps a just-issued ticket's score above zero so weights still
// decide between fresh lines.
const agingFloor = time.Minute

// line is one ordered list of waiting tickets with a cursor past the
// tickets already taken from its front.
type line struct {
	tickets []*Ticket
	head    int
	// targets holds the counters some ticket in the line was transferred
	// to, so a counter can skip lines it neither serves nor is named in.
	targets map[int]bool
}

// lineup is the waiting tickets arranged for the call policy.
type lineup struct {
	priority line
	booked   line
	regular  map[string]*line
	services []string // sorted keys of regular, for a deterministic scan
	taken    map[*Ticket]bool
	// weights caches each service's priority weight from the office.
	weights map[string]float64
}

// newLineup arranges tickets given in queue order (see WaitingTickets).
func newLineup(waiting []*Ticket) *lineup {
	l := &lineup{regular: map[string]*line{}, taken: map[*Ticket]bool{}}
	for _, t := range waiting {
		switch {
		case t.Priority:
			l.priority.tickets = append(l.priority.tickets, t)
		case !t.BookedFor.IsZero():
			l.booked.tickets = append(l.booked.tickets, t)
		default:
			q := l.regular[t.Service]
			if q == nil {
				q = &line{}
				l.regular[t.Service] = q
				l.services = append(l.services, t.Service)
			}
			q.tickets = append(q.tickets, t)
			if t.TargetCounter != 0 {
				if q.targets == nil {
					q.targets = map[int]bool{}
				}
				q.targets[t.TargetCounter] = true
			}
		}
	}
	sort.Strings(l.services)
	sort.SliceStable(l.booked.tickets, func(i, j int) bool {
		return l.booked.tickets[i].BookedFor.Before(l.booked.tickets[j].BookedFor)
	})
	return l
}

func eligible(t *Ticket, c Counter) bool {
	if t.TargetCounter != 0 {
		return t.TargetCounter == c.Number
	}
	return c.Serves(t.Service)
}

// first returns the first ticket of q that counter c may call at now.
func (l *lineup) first(q *line, c Counter, now time.Time) *Ticket {
	for q.head < len(q.tickets) && l.taken[q.tickets[q.head]] {
		q.head++
	}
	for _, t := range q.tickets[q.head:] {
		if l.taken[t] || !eligible(t, c) {
			continue
		}
		if t.callableAt(now) {
			return t
		}
		if q == &l.booked {
			// The booked line is in slot order: later ones are not due either.
			return nil
		}
	}
	return nil
}

// pick chooses the ticket counter c calls at now, or nil if none may be
// called.
func (l *lineup) pick(o *Office, c Counter, now time.Time) *Ticket {
	if t := l.first(&l.priority, c, now); t != nil {
		return t
	}
	if t := l.first(&l.booked, c, now); t != nil {
		return t
	}
	var best *Ticket
	var bestScore float64
	for _, svcID := range l.services {
		q := l.regular[svcID]
		w := c.Weights[svcID]
		if w <= 0 && !q.targets[c.Number] {
			continue
		}
		t := l.first(q, c, now)
		if t == nil {
			continue
		}
		if t.TargetCounter == c.Number && w < 1 {
			w = 1
		}
		score := l.servicePriority(o, svcID) * w * (now.Sub(t.QueuedAt) + agingFloor).Seconds()
		if best == nil || score > bestScore || (score == bestScore && queueLess(t, best)) {
			best, bestScore = t, score
		}
	}
	return best
}

// servicePriority is the office's priority weight of a service, 1 for one
// it no longer has.
func (l *lineup) servicePriority(o *Office, id string) float64 {
	if l.weights == nil {
		l.weights = make(map[string]float64, len(o.Services))
		for _, svc := range o.Services {
			l.weights[svc.ID] = svc.Priority
		}
	}
	if p, ok := l.weights[id]; ok {
		return p
	}
	return 1
}

// nextDue is the earliest time after now at which a booked ticket that c
// may call becomes due, or zero if none.
func (l *lineup) nextDue(c Counter, now time.Time) time.Time {
	var due time.Time
	for _, q := range []*line{&l.priority, &l.booked} {
		for _, t := range q.tickets[q.head:] {
			if l.taken[t] || !eligible(t, c) || t.BookedFor.IsZero() || !t.BookedFor.After(now) {
				continue
			}
			if due.IsZero() || t.BookedFor.Before(due) {
				due = t.BookedFor
			}
		}
	}
	return due
}
