package sim

import (
	"time"

	"github.com/numerek/numerek/queue"
)

// Ticket is one issued ticket's life, as the engine's events told it.
type Ticket struct {
	ID       string
	Number   string
	Service  string
	Priority bool
	IssuedAt time.Time
	// CalledAt is the first call; zero if never called.
	CalledAt  time.Time
	StartedAt time.Time
	EndedAt   time.Time
	// Outcome is done, no-show or cancelled once the day is over.
	Outcome queue.TicketState
	Counter int
	// Calls counts the TicketCalled events for the ticket (recalls apart):
	// the engine must call a ticket once.
	Calls   int
	Recalls int
	// Estimate is the engine's expected wait at issue, negative when it had
	// none; Usual is UsualEstimate's at the same moment.
	Estimate time.Duration
	Usual    time.Duration
}

// Wait is the actual wait, from issue to the first call, and whether the
// ticket was called at all.
func (t Ticket) Wait() (time.Duration, bool) {
	if t.CalledAt.IsZero() {
		return 0, false
	}
	return t.CalledAt.Sub(t.IssuedAt), true
}

// recorder follows the engine's events into ticket records and counter
// time.
type recorder struct {
	tickets   []Ticket
	index     map[string]int
	refusals  map[queue.Reason]int
	openSince map[int]time.Time
	openTime  time.Duration
	// also is Config.Events.
	also func([]queue.Event)
}

func newRecorder() *recorder {
	return &recorder{index: map[string]int{}, refusals: map[queue.Reason]int{}, openSince: map[int]time.Time{}}
}

func (r *recorder) ticket(id string) *Ticket {
	if i, ok := r.index[id]; ok {
		return &r.tickets[i]
	}
	return nil
}

func (r *recorder) refused(reason queue.Reason) { r.refusals[reason]++ }

func (r *recorder) estimated(id string, engine, usual time.Duration) {
	if t := r.ticket(id); t != nil {
		t.Estimate, t.Usual = engine, usual
	}
}

func (r *recorder) observe(events []queue.Event) {
	if r.also != nil && len(events) > 0 {
		r.also(events)
	}
	for _, e := range events {
		switch b := e.Body.(type) {
		case queue.TicketIssued:
			t := b.Ticket
			r.index[t.ID] = len(r.tickets)
			r.tickets = append(r.tickets, Ticket{
				ID: t.ID, Number: t.Number, Service: t.Service, Priority: t.Priority,
				IssuedAt: t.IssuedAt, Outcome: queue.Waiting, Estimate: -1, Usual: -1,
			})
		case queue.TicketCalled:
			if t := r.ticket(b.Ticket); t != nil {
				if t.CalledAt.IsZero() {
					t.CalledAt = e.At
				}
				t.Calls++
				t.Counter = b.Counter
				t.Outcome = queue.Called
			}
		case queue.TicketRecalled:
			if t := r.ticket(b.Ticket); t != nil {
				t.Recalls++
			}
		case queue.ServiceStarted:
			if t := r.ticket(b.Ticket); t != nil {
				t.StartedAt, t.Outcome = e.At, queue.Serving
			}
		case queue.TicketFinished:
			if t := r.ticket(b.Ticket); t != nil {
				t.EndedAt, t.Outcome = e.At, queue.Done
			}
		case queue.TicketNoShow:
			if t := r.ticket(b.Ticket); t != nil {
				t.EndedAt, t.Outcome = e.At, queue.NoShow
			}
		case queue.TicketCancelled:
			if t := r.ticket(b.Ticket); t != nil {
				t.EndedAt, t.Outcome = e.At, queue.Cancelled
			}
		case queue.CounterOpened:
			if _, open := r.openSince[b.Counter]; !open {
				r.openSince[b.Counter] = e.At
			}
		case queue.CounterPaused:
			r.counterShut(b.Counter, e.At)
		case queue.CounterClosed:
			r.counterShut(b.Counter, e.At)
		}
	}
}

func (r *recorder) counterShut(n int, at time.Time) {
	if since, open := r.openSince[n]; open {
		r.openTime += at.Sub(since)
		delete(r.openSince, n)
	}
}
