package queue

import (
	"container/heap"
	"math"
	"time"
)

// The wait forecast replays the call policy forward in time: each counter
// that is open (or on a break) becomes free when its current resident is
// expected to leave, calls the next ticket exactly as CallNext would, and is
// busy for that service's expected time. A ticket's expected wait is when
// the replay calls it. Unlike "average time x position / open counters" it
// knows which counters serve which services and with what weight, how long
// each service takes lately, how far along each current resident is,
// priority tickets, booked visits and no-shows.

const (
	// priorWeight is how many observed services the configured service time
	// counts as, so a few quick services early in the day do not swing the
	// forecast.
	priorWeight = 3.0
	// defaultWalkup is the expected time from a call to the resident
	// arriving at the counter, until learned.
	defaultWalkup = 30 * time.Second
	// pausedFor is how long a counter on a break is expected to stay away.
	pausedFor = 15 * time.Minute
	// minRemaining is the least share of a service time a resident already
	// at the counter is expected to still need.
	minRemaining = 0.2
)

// expectation is what the office has learned of a service's times.
type expectation struct {
	service, walkup, noShowCost time.Duration
	noShowRate                  float64
}

// occupancy is how long a call of the service keeps a counter busy, on average.
func (e expectation) occupancy() time.Duration {
	return e.walkup + time.Duration((1-e.noShowRate)*float64(e.service)+e.noShowRate*float64(e.noShowCost))
}

func blendMean(xs []time.Duration, prior time.Duration) time.Duration {
	sum := priorWeight * float64(prior)
	for _, x := range xs {
		sum += float64(x)
	}
	return time.Duration(sum / (priorWeight + float64(len(xs))))
}

func (s *State) expect(service string) expectation {
	cfg, _ := s.Office.Service(service)
	prior := cfg.ServiceTime
	if prior <= 0 {
		prior = 5 * time.Minute
	}
	sv := s.service(service)
	return expectation{
		service:    blendMean(sv.Durations, prior),
		walkup:     blendMean(sv.Walkups, defaultWalkup),
		noShowRate: (sv.NoShows + 0.1) / (sv.Calls + 2),
		noShowCost: time.Duration(s.Office.Rules.RecallLimit+1) * time.Minute,
	}
}

// remaining is how long counter st is expected to stay busy with its
// current ticket, if any.
func (s *State) remaining(st *CounterState, now time.Time, exp func(string) expectation) time.Duration {
	t := s.Tickets[st.Current]
	if t == nil || t.State.Final() {
		return 0
	}
	e := exp(t.Service)
	floor := time.Duration(minRemaining * float64(e.service))
	var left time.Duration
	switch t.State {
	case Serving:
		left = e.service - now.Sub(t.StartedAt)
	case Called:
		left = e.occupancy() - now.Sub(t.CalledAt)
	}
	return max(left, floor)
}

// simCounter is a counter in the replay, free from a time on.
type simCounter struct {
	cfg  Counter
	free time.Time
}

type counterHeap []*simCounter

func (h counterHeap) Len() int { return len(h) }
func (h counterHeap) Less(i, j int) bool {
	if !h[i].free.Equal(h[j].free) {
		return h[i].free.Before(h[j].free)
	}
	return h[i].cfg.Number < h[j].cfg.Number
}
func (h counterHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *counterHeap) Push(x any)   { *h = append(*h, x.(*simCounter)) }
func (h *counterHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Forecast is the expected call time of each waiting ticket, by id. A
// ticket no counter can serve is absent.
type Forecast map[string]time.Time

// Forecast replays the call policy from now.
func (s *State) Forecast(now time.Time) Forecast {
	return s.replay(now, s.WaitingTickets())
}

// newTicketID marks the would-be ticket WaitForNew asks about.
const newTicketID = "\x00new"

// WaitForNew is the expected wait of a ticket for service issued now. When
// no counter can serve the service it returns a negative duration.
func (s *State) WaitForNew(now time.Time, service string) time.Duration {
	waiting := append(s.WaitingTickets(), &Ticket{
		ID: newTicketID, Service: service, State: Waiting, QueuedAt: now, IssuedAt: now, Order: math.MaxUint64,
	})
	call, ok := s.replay(now, waiting)[newTicketID]
	if !ok {
		return -1
	}
	return call.Sub(now)
}

func (s *State) replay(now time.Time, waiting []*Ticket) Forecast {
	calls := make(Forecast, len(waiting))
	if len(waiting) == 0 {
		return calls
	}
	cache := map[string]expectation{}
	exp := func(svc string) expectation {
		e, ok := cache[svc]
		if !ok {
			e = s.expect(svc)
			cache[svc] = e
		}
		return e
	}
	counters := s.replayCounters(now, exp)
	h := counterHeap(counters)
	heap.Init(&h)
	l := newLineup(waiting)
	left := len(waiting)
	for h.Len() > 0 && left > 0 {
		c := h[0]
		t := l.pick(s.Office, c.cfg, c.free)
		if t == nil {
			due := l.nextDue(c.cfg, c.free)
			if due.IsZero() {
				heap.Pop(&h)
				continue
			}
			c.free = due
			heap.Fix(&h, 0)
			continue
		}
		l.taken[t] = true
		calls[t.ID] = c.free
		left--
		c.free = c.free.Add(exp(t.Service).occupancy())
		heap.Fix(&h, 0)
	}
	return calls
}

// replayCounters are the counters the replay uses: those open or on a break;
// and for services none of those serves, the counters configured for them,
// from now or the next opening, as clerks will open them.
func (s *State) replayCounters(now time.Time, exp func(string) expectation) []*simCounter {
	var out []*simCounter
	covered := map[string]bool{}
	for _, cfg := range s.Office.Counters {
		st := s.Counters[cfg.Number]
		if st == nil || st.Status == CounterClosedStatus {
			continue
		}
		free := now.Add(s.remaining(st, now, exp))
		if st.Status == CounterPausedStatus {
			free = free.Add(pausedFor)
		}
		out = append(out, &simCounter{cfg: cfg, free: free})
		for svc, w := range cfg.Weights {
			if w > 0 {
				covered[svc] = true
			}
		}
	}
	start := now
	if _, _, open := s.Office.OpenInterval(now); !open {
		if next, ok := s.Office.NextOpening(now); ok {
			start = next
		}
	}
	for _, cfg := range s.Office.Counters {
		if st := s.Counters[cfg.Number]; st != nil && st.Status != CounterClosedStatus {
			continue
		}
		only := map[string]float64{}
		for svc, w := range cfg.Weights {
			if w > 0 && !covered[svc] {
				only[svc] = w
			}
		}
		if len(only) > 0 {
			out = append(out, &simCounter{cfg: Counter{Number: cfg.Number, Name: cfg.Name, Weights: only}, free: start})
		}
	}
	return out
}
