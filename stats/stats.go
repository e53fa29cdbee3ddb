// Package stats computes an office manager's statistics from an office's
// event log, for any date range: tickets issued by channel, served,
// no-shows, waiting and service times, the share served within the
// office's target wait and residents' ratings, per day, service and
// counter; arrivals and waits by weekday and hour of day (heat.go); each
// clerk's work (clerks.go); bookings kept, missed and how late residents
// checked in (bookings.go); what clerks recorded as handled per service
// (outcomes.go); the document lockers' deposits, pickups and how long
// documents waited (locker.go). It is pure, events in and tables out: it
// also draws them as SVG (svg.go, heatsvg.go) and writes them as CSV
// (csv.go).
package stats

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/numerek/numerek/queue"
)

// Range is a span of office-local dates, both ends included ("2006-01-02").
type Range struct {
	From, To string
}

// Contains reports whether day lies in the range.
func (r Range) Contains(day string) bool { return day >= r.From && day <= r.To }

// Channels lists the channels in the order tables show them.
var Channels = []queue.Channel{queue.ChannelKiosk, queue.ChannelPhone, queue.ChannelBooking, queue.ChannelAssistant}

// Figures are the counts and times of one group of tickets.
type Figures struct {
	Issued    int
	ByChannel map[queue.Channel]int
	Served    int
	NoShows   int
	Cancelled int
	// Waits are the times from issue to first call of the tickets called;
	// Services the times at the counter of those served.
	Waits    []time.Duration
	Services []time.Duration
	// WithinTarget counts the called tickets whose wait was within the
	// office's target.
	WithinTarget int
	Ratings      map[queue.Rating]int
}

func newFigures() *Figures {
	return &Figures{ByChannel: map[queue.Channel]int{}, Ratings: map[queue.Rating]int{}}
}

// Called is how many tickets were called at least once.
func (f *Figures) Called() int { return len(f.Waits) }

// WaitMean, WaitMedian and WaitP90 summarise the waits; zero with none.
func (f *Figures) WaitMean() time.Duration   { return mean(f.Waits) }
func (f *Figures) WaitMedian() time.Duration { return percentile(f.Waits, 50) }
func (f *Figures) WaitP90() time.Duration    { return percentile(f.Waits, 90) }

// ServiceMean and ServiceMedian summarise the times at the counter.
func (f *Figures) ServiceMean() time.Duration   { return mean(f.Services) }
func (f *Figures) ServiceMedian() time.Duration { return percentile(f.Services, 50) }

// WithinTargetShare is the share (0-1) of called tickets that waited no
// longer than the target; -1 when none was called.
func (f *Figures) WithinTargetShare() float64 {
	if len(f.Waits) == 0 {
		return -1
	}
	return float64(f.WithinTarget) / float64(len(f.Waits))
}

// Rated is how many tickets were rated.
func (f *Figures) Rated() int {
	return f.Ratings[queue.RatingGood] + f.Ratings[queue.RatingNeutral] + f.Ratings[queue.RatingBad]
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return (sum / time.Duration(len(ds))).Round(time.Second)
}

// percentile by the nearest-rank method, so every figure is a wait that
// really happened.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank-1, 0)].Round(time.Second)
}

// Group is the figures of one service or counter.
type Group struct {
	// Key is the service id or the counter number as text.
	Key string
	*Figures
}

// Day is one office-local day's figures.
type Day struct {
	Date  string
	Total *Figures
	// Services and Counters are sorted by service id and counter number.
	Services []Group
	Counters []Group
}

// Report is the statistics of a range.
type Report struct {
	Office     string
	Range      Range
	TargetWait time.Duration
	// Days lists every day of the range that had tickets, in order.
	Days     []Day
	Total    *Figures
	Services []Group
	Counters []Group
	// Heat is arrivals and waits by weekday and hour of day.
	Heat *Heat
	// Clerks are the staff (and counter devices) who finished or marked
	// no-show a ticket of the range, by actor.
	Clerks []Clerk
	// Bookings are the booked visits whose slot lies in the range.
	Bookings BookingReport
	// Outcomes are what clerks recorded as handled, per service.
	Outcomes []ServiceOutcomes
	// Lockers are the document lockers' deposits and pickups, by locker.
	Lockers []LockerReport
}

// ticket is what the fold remembers of one ticket.
type ticket struct {
	day      string
	service  string
	channel  queue.Channel
	issuedAt time.Time
	called   bool
	counter  int
	from     time.Time // service start, or the call when never started
	// current is the service the ticket is in now (after transfers).
	current string
	// finishedBy is the actor who finished it: its rating is theirs.
	finishedBy string
	// ended is how it last ended (a finish or a no-show), kept so that
	// an Undone seconds later takes exactly that back.
	ended *ending
	// weekday (Monday 0) and hour of its issue, office-local.
	weekday, hour int8
}

// ending is what a finish or a no-show added to the figures.
type ending struct {
	seq      uint64
	noShow   bool
	actor    string
	took     time.Duration
	service  string
	outcomes []string
}

// builder folds events into figures.
type builder struct {
	r        Range
	office   *queue.Office
	now      time.Time
	target   time.Duration
	tickets  map[string]*ticket
	days     map[string]*dayAcc
	total    *Figures
	svc      map[string]*Figures
	ctr      map[int]*Figures
	heat     *Heat
	clerks   map[string]*Clerk
	bookings map[string]*booking
	outcomes map[string]*ServiceOutcomes
	// lockers are each locker's figures by office-local day; deposits
	// the deposits not yet ended.
	lockers  map[string]map[string]*LockerFigures
	deposits map[string]*lockerDeposit
}

type dayAcc struct {
	total *Figures
	svc   map[string]*Figures
	ctr   map[int]*Figures
}

func newBuilder(r Range, o *queue.Office, now time.Time) *builder {
	return &builder{r: r, office: o, now: now, target: o.Rules.TargetWait, tickets: map[string]*ticket{}, days: map[string]*dayAcc{},
		total: newFigures(), svc: map[string]*Figures{}, ctr: map[int]*Figures{},
		heat: newHeat(), clerks: map[string]*Clerk{}, bookings: map[string]*booking{}, outcomes: map[string]*ServiceOutcomes{},
		lockers: map[string]map[string]*LockerFigures{}, deposits: map[string]*lockerDeposit{}}
}

// location is the office's time zone, for hours of the day.
func (b *builder) location() *time.Location {
	if b.office.Location != nil {
		return b.office.Location
	}
	return time.UTC
}

func figuresOf[K comparable](m map[K]*Figures, k K) *Figures {
	f := m[k]
	if f == nil {
		f = newFigures()
		m[k] = f
	}
	return f
}

// each calls fn for every group a ticket's figure counts in: the day, the
// range, its service (at issue), and its counter when it has one.
func (b *builder) each(t *ticket, withCounter bool, fn func(*Figures)) {
	d := b.days[t.day]
	if d == nil {
		d = &dayAcc{total: newFigures(), svc: map[string]*Figures{}, ctr: map[int]*Figures{}}
		b.days[t.day] = d
	}
	fn(d.total)
	fn(b.total)
	fn(figuresOf(d.svc, t.service))
	fn(figuresOf(b.svc, t.service))
	if withCounter && t.counter != 0 {
		fn(figuresOf(d.ctr, t.counter))
		fn(figuresOf(b.ctr, t.counter))
	}
}

// takeBack removes the ticket's last ending from the figures.
func (b *builder) takeBack(t *ticket) {
	end := t.ended
	t.ended = nil
	if end.noShow {
		b.each(t, true, func(f *Figures) { f.NoShows-- })
		b.clerk(end.actor).NoShows--
		return
	}
	b.each(t, true, func(f *Figures) { f.Served--; f.Services = dropOne(f.Services, end.took) })
	c := b.clerk(end.actor)
	c.Served--
	c.Services = dropOne(c.Services, end.took)
	b.finishedWith(end.service, end.outcomes, -1)
	t.finishedBy = ""
}

// dropOne removes the last d from ds.
func dropOne(ds []time.Duration, d time.Duration) []time.Duration {
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i] == d {
			return append(ds[:i], ds[i+1:]...)
		}
	}
	return ds
}

func (b *builder) add(e queue.Event) {
	switch ev := e.Body.(type) {
	case queue.TicketIssued:
		if !b.r.Contains(ev.Ticket.Day) {
			return
		}
		local := ev.Ticket.IssuedAt.In(b.location())
		t := &ticket{day: ev.Ticket.Day, service: ev.Ticket.Service, current: ev.Ticket.Service, channel: ev.Ticket.Channel,
			issuedAt: ev.Ticket.IssuedAt, weekday: int8(mondayFirst(local.Weekday())), hour: int8(local.Hour())}
		b.tickets[ev.Ticket.ID] = t
		b.each(t, false, func(f *Figures) { f.Issued++; f.ByChannel[ev.Ticket.Channel]++ })
		b.heat.arrived(t)
	case queue.TicketCalled:
		t := b.tickets[ev.Ticket]
		if t == nil {
			return
		}
		t.counter, t.from = ev.Counter, e.At
		if t.called {
			return
		}
		t.called = true
		wait := max(e.At.Sub(t.issuedAt), 0)
		b.each(t, true, func(f *Figures) {
			f.Waits = append(f.Waits, wait)
			if wait <= b.target {
				f.WithinTarget++
			}
		})
		b.heat.waited(t, wait)
	case queue.ServiceStarted:
		if t := b.tickets[ev.Ticket]; t != nil {
			t.from = e.At
		}
	case queue.TicketFinished:
		if t := b.tickets[ev.Ticket]; t != nil {
			took := max(e.At.Sub(t.from), 0)
			b.each(t, true, func(f *Figures) { f.Served++; f.Services = append(f.Services, took) })
			t.finishedBy = e.Actor
			c := b.clerk(e.Actor)
			c.Served++
			c.Services = append(c.Services, took)
			b.finishedWith(t.current, ev.Outcomes, 1)
			t.ended = &ending{seq: e.Seq, actor: e.Actor, took: took, service: t.current, outcomes: ev.Outcomes}
		}
	case queue.TicketNoShow:
		if t := b.tickets[ev.Ticket]; t != nil {
			b.each(t, true, func(f *Figures) { f.NoShows++ })
			b.clerk(e.Actor).NoShows++
			t.ended = &ending{seq: e.Seq, noShow: true, actor: e.Actor}
		}
	case queue.Undone:
		// A finish or no-show taken back at the counter: it did not
		// happen; the ticket's real end comes later.
		if t := b.tickets[ev.Ticket]; t != nil && t.ended != nil && t.ended.seq == ev.Seq {
			b.takeBack(t)
		}
	case queue.TicketCancelled:
		if t := b.tickets[ev.Ticket]; t != nil {
			b.each(t, false, func(f *Figures) { f.Cancelled++ })
		}
	case queue.RequestWithdrawn:
		// A ticket nobody held (its kiosk printed another, or none) was
		// never a resident's: it is not counted as issued.
		if t := b.tickets[ev.Ticket]; t != nil {
			b.each(t, false, func(f *Figures) { f.Issued--; f.ByChannel[t.channel]-- })
			delete(b.tickets, ev.Ticket)
		}
	case queue.TicketTransferred:
		if t := b.tickets[ev.Ticket]; t != nil {
			// Served by another counter now: the service time restarts at
			// the next call.
			t.counter = 0
			t.current = ev.ToService
		}
	case queue.RatingGiven:
		if t := b.tickets[ev.Ticket]; t != nil {
			b.each(t, true, func(f *Figures) { f.Ratings[ev.Rating]++ })
			if t.finishedBy != "" {
				b.clerk(t.finishedBy).Ratings[ev.Rating]++
			}
		}
	default:
		b.addBooking(e)
		b.addLocker(e)
	}
}

func groups[K comparable](m map[K]*Figures, key func(K) string, less func(a, b K) bool) []Group {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
	out := make([]Group, len(keys))
	for i, k := range keys {
		out[i] = Group{Key: key(k), Figures: m[k]}
	}
	return out
}

func (b *builder) report(office string) *Report {
	svcKey := func(s string) string { return s }
	ctrKey := strconv.Itoa
	rep := &Report{Office: office, Range: b.r, TargetWait: b.target, Total: b.total,
		Heat: b.heat.finish(), Clerks: b.clerkList(), Bookings: b.bookingReport(), Outcomes: b.outcomeList(),
		Lockers:  b.lockerReports(),
		Services: groups(b.svc, svcKey, func(a, c string) bool { return a < c }),
		Counters: groups(b.ctr, ctrKey, func(a, c int) bool { return a < c }),
	}
	dates := make([]string, 0, len(b.days))
	for d := range b.days {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	for _, d := range dates {
		acc := b.days[d]
		rep.Days = append(rep.Days, Day{Date: d, Total: acc.total,
			Services: groups(acc.svc, svcKey, func(a, c string) bool { return a < c }),
			Counters: groups(acc.ctr, ctrKey, func(a, c int) bool { return a < c }),
		})
	}
	return rep
}

// Scanner walks an office's event log in order (store.OfficeLog.Scan).
type Scanner func(after uint64, fn func(queue.Event) bool) error

// Compute reads the whole log through scan and reports on the range, with
// the office's target wait; now tells booked visits still to come from
// those missed.
func Compute(scan Scanner, o *queue.Office, r Range, now time.Time) (*Report, error) {
	b := newBuilder(r, o, now)
	if err := scan(0, func(e queue.Event) bool { b.add(e); return true }); err != nil {
		return nil, fmt.Errorf("reading office %s's events for statistics: %w", o.ID, err)
	}
	return b.report(o.ID), nil
}

// FromEvents reports on events already in memory (tests, small logs).
func FromEvents(events []queue.Event, o *queue.Office, r Range, now time.Time) *Report {
	b := newBuilder(r, o, now)
	for _, e := range events {
		b.add(e)
	}
	return b.report(o.ID)
}
