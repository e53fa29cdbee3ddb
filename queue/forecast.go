package queue

import (
	"container/heap"
	"math"
	"sort"
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
//
// Everything it expects is learned from the office's own events: service
// and walk-up times and the no-show share per service; how long a resident
// already at the counter is likely to stay, from the tail of recent service
// times; and the residents still to come, at the rate they came over the
// last hour, who take their share of counters shared with other services
// and, with priority, go first. queue/sim measures it against the usual
// formula on simulated office days.

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
	switch t.State {
	case Serving:
		// Service times have long tails: the longer a resident has been at
		// the counter, the longer they are likely to stay still. So the
		// rest expected is the mean rest of the recent services that lasted
		// longer than this one so far, beside one guess from the mean.
		elapsed := now.Sub(t.StartedAt)
		sum, n := max(e.service-elapsed, floor), 1
		for _, d := range s.service(t.Service).Durations {
			if d > elapsed {
				sum += d - elapsed
				n++
			}
		}
		return sum / time.Duration(n)
	case Called:
		return max(e.occupancy()-now.Sub(t.CalledAt), floor)
	}
	return 0
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
	// Every issue asks this, so today's tickets are gone through once for
	// both the waiting ones and the arrivals.
	seen := s.newArrivalCount(now)
	var waiting []*Ticket
	for _, t := range s.Tickets {
		seen.add(t)
		if t.State == Waiting {
			waiting = append(waiting, t)
		}
	}
	sort.Slice(waiting, func(i, j int) bool { return queueLess(waiting[i], waiting[j]) })
	waiting = append(waiting, &Ticket{
		ID: newTicketID, Service: service, State: Waiting, QueuedAt: now, IssuedAt: now, Order: math.MaxUint64,
	})
	call, ok := s.replayUntil(now, waiting, newTicketID, seen)[newTicketID]
	if !ok {
		return -1
	}
	return call.Sub(now)
}

func (s *State) replay(now time.Time, waiting []*Ticket) Forecast {
	seen := s.newArrivalCount(now)
	for _, t := range s.Tickets {
		seen.add(t)
	}
	return s.replayUntil(now, waiting, "", seen)
}

// replayUntil replays the call policy until every waiting ticket is called,
// or only until ticket stop is, when given; seen are today's arrivals.
func (s *State) replayUntil(now time.Time, waiting []*Ticket, stop string, seen *arrivalCount) Forecast {
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
	arrivals := s.expectedArrivals(now, seen, len(waiting)+8)
	left := len(waiting)
	for h.Len() > 0 && left > 0 {
		c := h[0]
		arrivals.join(l, c.free)
		t := l.pick(s.Office, c.cfg, c.free)
		if t == nil {
			due := l.nextDue(c.cfg, c.free)
			if next := arrivals.next(c.cfg); !next.IsZero() && (due.IsZero() || next.Before(due)) {
				due = next
			}
			if due.IsZero() {
				heap.Pop(&h)
				continue
			}
			c.free = due
			heap.Fix(&h, 0)
			continue
		}
		l.taken[t] = true
		if !expectedResident(t) {
			calls[t.ID] = c.free
			left--
			if t.ID == stop {
				break
			}
		}
		c.free = c.free.Add(exp(t.Service).occupancy())
		heap.Fix(&h, 0)
	}
	return calls
}

// arrivalWindow is how far back the forecast looks to learn how fast
// residents are coming; minArrivalWindow is the least span it divides by,
// so that a crowd at the door at opening is not taken for the day's rate.
const (
	arrivalWindow    = time.Hour
	minArrivalWindow = 30 * time.Minute
)

// stream is the residents of one service (priority or not) the forecast
// expects after now: one every interval from next, until the service stops
// issuing.
type stream struct {
	service  string
	priority bool
	every    time.Duration
	next     time.Time
	until    time.Time
}

// arrivals are the residents the forecast expects to come: without them a
// counter shared with a busy service would look free for this one, and a
// priority resident who comes later would not be expected to go first.
type arrivals struct {
	streams []*stream
	// soonest is the earliest next arrival of any stream, zero when none.
	soonest time.Time
	// left is how many more residents the replay may expect: a bound on its
	// work when a burst of tickets makes the rate look huge.
	left  int
	order uint64
	// pool holds the expected residents' tickets, allocated in blocks.
	pool []Ticket
}

// expectedResident reports whether t is a resident the forecast expects, not a
// ticket: only those have no id.
func expectedResident(t *Ticket) bool { return t.ID == "" }

// arrivalCount is what the forecast counts of today's arrivals: all
// tickets and the priority ones, and by service those of the last
// arrivalWindow of the current opening interval (at least
// minArrivalWindow). Services are told apart by their tickets' prefix
// letter, cheaper than by name on every forecast.
type arrivalCount struct {
	now, from        int64 // Unix nanoseconds
	closes           time.Time
	open             bool
	issued, priority int
	recent           [26]int
}

func (s *State) newArrivalCount(now time.Time) *arrivalCount {
	opened, closes, open := s.Office.OpenInterval(now)
	from := now.Add(-min(max(now.Sub(opened), minArrivalWindow), arrivalWindow))
	return &arrivalCount{now: now.UnixNano(), from: from.UnixNano(), closes: closes, open: open}
}

func (c *arrivalCount) add(t *Ticket) {
	issued := t.IssuedAt.UnixNano()
	if t.Leased || issued > c.now {
		return
	}
	c.issued++
	if t.Priority {
		c.priority++
	}
	if issued > c.from && len(t.Number) > 0 && t.Number[0] >= 'A' && t.Number[0] <= 'Z' {
		c.recent[t.Number[0]-'A']++
	}
}

// expectedArrivals expects each service's residents to keep coming at the
// rate seen came lately, a share of them with priority as today, until the
// service stops issuing today; limit of them at most. Nobody is expected
// while the office is closed.
func (s *State) expectedArrivals(now time.Time, seen *arrivalCount, limit int) *arrivals {
	a := &arrivals{order: math.MaxUint64 / 2, left: limit}
	if !seen.open {
		return a
	}
	span := time.Duration(seen.now - seen.from)
	// The priority share is learned over the whole day, with a prior of
	// none in ten, as such residents are few.
	prioShare := float64(seen.priority) / float64(seen.issued+10)
	closing, _ := s.Office.ClosingToday(now)
	for _, svc := range s.Office.Services {
		if len(svc.Prefix) != 1 || svc.Prefix[0] < 'A' || svc.Prefix[0] > 'Z' {
			continue
		}
		n := seen.recent[svc.Prefix[0]-'A']
		if n == 0 {
			continue
		}
		until := closing.Add(-svc.CutOff)
		if seen.closes.Before(until) {
			until = seen.closes
		}
		rate := float64(n) / float64(span) // residents per nanosecond
		for _, prio := range []bool{false, true} {
			share := 1 - prioShare
			if prio {
				share = prioShare
			}
			if share <= 0 {
				continue
			}
			every := time.Duration(1 / (rate * share))
			st := &stream{service: svc.ID, priority: prio, every: every, next: now.Add(every / 2), until: until}
			if st.next.Before(until) {
				a.streams = append(a.streams, st)
			}
		}
	}
	a.soonest = a.earliest()
	return a
}

// join adds to the lineup the expected residents who have come by t.
func (a *arrivals) join(l *lineup, t time.Time) {
	if a.soonest.IsZero() || a.soonest.After(t) {
		return
	}
	for _, st := range a.streams {
		for !st.next.After(t) && st.next.Before(st.until) && a.left > 0 {
			a.left--
			a.order++
			if len(a.pool) == cap(a.pool) {
				a.pool = make([]Ticket, 0, max(8, 2*cap(a.pool)))
			}
			a.pool = append(a.pool, Ticket{Service: st.service, Priority: st.priority, State: Waiting, IssuedAt: st.next, QueuedAt: st.next, Order: a.order})
			l.add(&a.pool[len(a.pool)-1])
			st.next = st.next.Add(st.every)
		}
	}
	a.soonest = a.earliest()
}

// earliest is the earliest next arrival of any stream, zero when none.
func (a *arrivals) earliest() time.Time {
	var soonest time.Time
	if a.left <= 0 {
		return soonest
	}
	for _, st := range a.streams {
		if st.next.Before(st.until) && (soonest.IsZero() || st.next.Before(soonest)) {
			soonest = st.next
		}
	}
	return soonest
}

// next is when the next expected resident counter c may call comes, or
// zero if none will.
func (a *arrivals) next(c Counter) time.Time {
	var next time.Time
	if a.left <= 0 {
		return next
	}
	for _, st := range a.streams {
		if c.Serves(st.service) && st.next.Before(st.until) && (next.IsZero() || st.next.Before(next)) {
			next = st.next
		}
	}
	return next
}

// add puts a ticket that came after every ticket in the lineup at the back
// of its line.
func (l *lineup) add(t *Ticket) {
	if t.Priority {
		l.priority.tickets = append(l.priority.tickets, t)
		return
	}
	q := l.regular[t.Service]
	if q == nil {
		q = &line{}
		l.regular[t.Service] = q
		i := sort.SearchStrings(l.services, t.Service)
		l.services = append(l.services, "")
		copy(l.services[i+1:], l.services[i:])
		l.services[i] = t.Service
	}
	q.tickets = append(q.tickets, t)
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
