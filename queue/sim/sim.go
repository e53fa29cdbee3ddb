package sim

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/numerek/numerek/queue"
)

// Config is one simulation run.
type Config struct {
	Office *queue.Office
	// Profile is how residents and clerks behave; nil means
	// DefaultProfile(Office, 0).
	Profile *Profile
	// Seed makes the run: the same seed, office and profile give the same
	// result.
	Seed uint64
	// Days is how many days the office is open to simulate, closed days
	// skipped; 0 means 1.
	Days int
	// Start is the first date tried, office-local; zero means DefaultStart.
	Start time.Time
	// Events, when set, is given every batch of events the engine
	// decided, in order: the simulated office's log (statistics' tests
	// and benchmarks read it).
	Events func([]queue.Event)
}

// DefaultStart is the first date simulated unless told otherwise: Monday
// 2026-11-23, an ordinary week without holidays.
const DefaultStart = "2026-11-23"

// MaxDays bounds a run.
const MaxDays = 366

// Run simulates cfg.Days office days in a row, through one engine state, so
// what the engine learns carries from day to day as it does in an office.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	o := cfg.Office
	if o == nil {
		return nil, errors.New("simulating: no office given")
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("simulating office %s: %w", o.ID, err)
	}
	p := cfg.Profile
	if p == nil {
		p = DefaultProfile(o, 0)
	}
	if err := p.Validate(o); err != nil {
		return nil, fmt.Errorf("simulating office %s: %w", o.ID, err)
	}
	days := cfg.Days
	if days == 0 {
		days = 1
	}
	if days < 0 || days > MaxDays {
		return nil, fmt.Errorf("simulating office %s: days %d must be 1-%d", o.ID, days, MaxDays)
	}
	date := cfg.Start
	if date.IsZero() {
		date, _ = time.ParseInLocation("2006-01-02", DefaultStart, o.Location)
	}
	lt := date.In(o.Location)
	date = time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, o.Location)

	rec := newRecorder()
	rec.also = cfg.Events
	s := queue.NewState(o)
	var simulated []string
	for tries := 0; len(simulated) < days; tries++ {
		if tries > 2*MaxDays {
			return nil, fmt.Errorf("simulating office %s: it does not open on %d days within two years of %s",
				o.ID, days, cfg.Start.Format("2006-01-02"))
		}
		if ivs, _ := o.HoursOn(date); len(ivs) > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			d := newDay(o, p, s, rec, date, rand.New(rand.NewPCG(cfg.Seed, uint64(len(simulated)))))
			if err := d.run(); err != nil {
				return nil, fmt.Errorf("simulating office %s on %s: %w", o.ID, date.Format("2006-01-02"), err)
			}
			simulated = append(simulated, date.Format("2006-01-02"))
		}
		date = date.AddDate(0, 0, 1)
	}
	return rec.result(o, p, cfg.Seed, simulated), nil
}

// kind is what happens at a moment of the simulated day.
type kind int

const (
	arrival kind = iota
	counterOpens
	breakDue
	breakEnds
	doorsClose
	clerkReady // the clerk has wrapped up and may call the next
	residentArrives
	recallDue
	serviceEnds
)

type happening struct {
	at      time.Time
	seq     uint64
	kind    kind
	clerk   *clerk
	ticket  string
	service string
}

// agenda is the simulation's future, earliest first, in scheduling order
// among equal times.
type agenda []*happening

func (a agenda) Len() int { return len(a) }
func (a agenda) Less(i, j int) bool {
	if !a[i].at.Equal(a[j].at) {
		return a[i].at.Before(a[j].at)
	}
	return a[i].seq < a[j].seq
}
func (a agenda) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *agenda) Push(x any)   { *a = append(*a, x.(*happening)) }
func (a *agenda) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// clerk is the person at a counter; what the counter holds is the engine's.
type clerk struct {
	cfg      queue.Counter
	actor    string
	speed    float64
	wrapping bool
	// takeBreak is set when the break is due while the clerk is busy.
	takeBreak bool
	breakLen  time.Duration
}

// resident is what the engine cannot know about a ticket's holder.
type resident struct {
	absent   bool
	patience time.Duration
}

// day is one simulated office day.
type day struct {
	o         *queue.Office
	p         *Profile
	s         *queue.State
	rec       *recorder
	rng       *rand.Rand
	date      time.Time
	now       time.Time
	closing   time.Time
	agenda    agenda
	seq       uint64
	clerks    []*clerk
	residents map[string]resident
	requests  int
}

func newDay(o *queue.Office, p *Profile, s *queue.State, rec *recorder, date time.Time, rng *rand.Rand) *day {
	d := &day{o: o, p: p, s: s, rec: rec, rng: rng, date: date, now: date, residents: map[string]resident{}}
	d.closing, _ = o.ClosingToday(date)
	for _, c := range o.Counters {
		speed := p.Speed[c.Number]
		if speed == 0 {
			speed = 1
		}
		d.clerks = append(d.clerks, &clerk{cfg: c, actor: fmt.Sprintf("counter:%d", c.Number), speed: speed})
	}
	return d
}

func (d *day) schedule(t time.Time, k kind, c *clerk, ticket string) {
	d.seq++
	heap.Push(&d.agenda, &happening{at: t, seq: d.seq, kind: k, clerk: c, ticket: ticket})
}

func (d *day) run() error {
	d.plan()
	for d.agenda.Len() > 0 {
		h := heap.Pop(&d.agenda).(*happening)
		d.now = h.at
		if err := d.handle(h); err != nil {
			return fmt.Errorf("at %s: %w", d.now.In(d.o.Location).Format("15:04:05"), err)
		}
	}
	return d.endDay()
}

// plan schedules the day: arrivals, counters opening (some late), breaks
// and closing.
func (d *day) plan() {
	ivs, _ := d.o.HoursOn(d.date)
	opening := d.clock(ivs[0].Open)
	for _, c := range d.clerks {
		late := time.Duration(0)
		if d.p.MaxLate >= time.Minute && d.rng.Float64() < d.p.LateShare {
			late = time.Minute + time.Duration(d.rng.Int64N(int64(d.p.MaxLate-time.Minute)+1)).Round(time.Second)
		}
		d.schedule(opening.Add(late), counterOpens, c, "")
		if d.p.BreakMax > 0 {
			from, to := d.clock(d.p.BreakFrom), d.clock(d.p.BreakTo)
			start := from.Add(time.Duration(d.rng.Int64N(int64(to.Sub(from)) + 1))).Round(time.Second)
			c.breakLen = d.p.BreakMin + time.Duration(d.rng.Int64N(int64(d.p.BreakMax-d.p.BreakMin)+1)).Round(time.Second)
			if start.After(opening) && start.Add(c.breakLen).Before(d.closing) {
				d.schedule(start, breakDue, c, "")
			}
		}
	}
	d.schedule(d.closing, doorsClose, nil, "")

	open := openMinutesByHour(ivs)
	var total float64
	share := make([]float64, len(d.o.Services))
	for i, svc := range d.o.Services {
		sp := d.p.Services[svc.ID]
		for h, m := range open {
			share[i] += sp.PerHour[h] * m / 60
		}
		total += share[i]
	}
	for i, svc := range d.o.Services {
		sp := d.p.Services[svc.ID]
		for h := range open {
			if sp.PerHour[h] <= 0 {
				continue
			}
			for _, iv := range ivs {
				from := d.clock(queue.Minute(max(int(iv.Open), h*60)))
				to := d.clock(queue.Minute(min(int(iv.Close), (h+1)*60)))
				perMinute := sp.PerHour[h] / 60
				for t := from; ; {
					t = t.Add(time.Duration(d.rng.ExpFloat64() / perMinute * float64(time.Minute)).Round(time.Second))
					if !t.Before(to) {
						break
					}
					d.arrive(t, svc.ID)
				}
			}
		}
		// Those waiting at the door come in over the first five minutes.
		if total > 0 {
			for range poisson(d.rng, d.p.DoorCrowd*share[i]/total) {
				d.arrive(opening.Add(time.Duration(d.rng.Int64N(int64(5*time.Minute))).Round(time.Second)), svc.ID)
			}
		}
	}
}

func (d *day) arrive(t time.Time, service string) {
	d.seq++
	heap.Push(&d.agenda, &happening{at: t, seq: d.seq, kind: arrival, service: service})
}

// clock is minute m of the simulated date as an instant.
func (d *day) clock(m queue.Minute) time.Time {
	return time.Date(d.date.Year(), d.date.Month(), d.date.Day(), int(m)/60, int(m)%60, 0, 0, d.o.Location)
}

// poisson draws a Poisson count with the given mean (Knuth's method, fine
// for the small means here).
func poisson(r *rand.Rand, mean float64) int {
	if mean <= 0 {
		return 0
	}
	limit, n, p := math.Exp(-mean), 0, r.Float64()
	for p > limit {
		n++
		p *= r.Float64()
	}
	return n
}

func (d *day) exec(actor string, cmd queue.Command) (queue.Decision, error) {
	events, dec, err := d.s.Execute(d.now, actor, cmd)
	d.rec.observe(events)
	return dec, err
}

// clerkDoes runs a clerk's command, which must succeed: a refusal means the
// simulation and the engine disagree about the state.
func (d *day) clerkDoes(c *clerk, cmd queue.Command) (queue.Decision, error) {
	dec, err := d.exec(c.actor, cmd)
	if err != nil {
		return dec, fmt.Errorf("%s: %w", queue.String(cmd), err)
	}
	return dec, nil
}

func (d *day) handle(h *happening) error {
	c := h.clerk
	switch h.kind {
	case arrival:
		return d.issue(h.service)
	case counterOpens, breakEnds:
		if _, err := d.clerkDoes(c, queue.SetCounter{Counter: c.cfg.Number, Status: queue.CounterOpenStatus}); err != nil {
			return err
		}
		return d.next(c)
	case breakDue:
		if d.status(c) != queue.CounterOpenStatus {
			return nil
		}
		if d.busy(c) {
			c.takeBreak = true
			return nil
		}
		return d.pause(c)
	case doorsClose:
		for _, c := range d.clerks {
			if d.status(c) == queue.CounterOpenStatus && !d.busy(c) {
				if _, err := d.clerkDoes(c, queue.SetCounter{Counter: c.cfg.Number, Status: queue.CounterClosedStatus}); err != nil {
					return err
				}
			}
		}
	case clerkReady:
		c.wrapping = false
		return d.next(c)
	case residentArrives:
		if !d.stillCalled(c, h.ticket) {
			return nil // too late: already a no-show
		}
		if _, err := d.clerkDoes(c, queue.Start{Counter: c.cfg.Number}); err != nil {
			return err
		}
		service := d.p.Services[d.s.Tickets[h.ticket].Service].Service.sample(d.rng)
		d.schedule(d.now.Add(max(time.Duration(float64(service)*c.speed), 30*time.Second).Round(time.Second)), serviceEnds, c, h.ticket)
	case recallDue:
		if !d.stillCalled(c, h.ticket) {
			return nil
		}
		if _, err := d.clerkDoes(c, queue.Recall{Counter: c.cfg.Number}); err != nil {
			return err
		}
		if d.s.Tickets[h.ticket].State == queue.NoShow {
			return d.wrapUp(c)
		}
		d.schedule(d.now.Add(time.Minute), recallDue, c, h.ticket)
	case serviceEnds:
		if _, err := d.clerkDoes(c, queue.Finish{Counter: c.cfg.Number}); err != nil {
			return err
		}
		return d.wrapUp(c)
	}
	return nil
}

func (d *day) status(c *clerk) queue.CounterStatus { return d.s.Counters[c.cfg.Number].Status }

// holding reports whether the engine has a ticket at the counter.
func (d *day) holding(c *clerk) bool {
	t := d.s.Tickets[d.s.Counters[c.cfg.Number].Current]
	return t != nil && !t.State.Final()
}

func (d *day) busy(c *clerk) bool { return c.wrapping || d.holding(c) }

func (d *day) stillCalled(c *clerk, ticket string) bool {
	t := d.s.Tickets[ticket]
	return t != nil && t.State == queue.Called && d.s.Counters[c.cfg.Number].Current == ticket
}

func (d *day) wrapUp(c *clerk) error {
	c.wrapping = true
	d.schedule(d.now.Add(d.p.WrapUp.sample(d.rng)), clerkReady, c, "")
	return nil
}

func (d *day) pause(c *clerk) error {
	c.takeBreak = false
	if _, err := d.clerkDoes(c, queue.SetCounter{Counter: c.cfg.Number, Status: queue.CounterPausedStatus}); err != nil {
		return err
	}
	d.schedule(d.now.Add(c.breakLen), breakEnds, c, "")
	return nil
}

// next is what a free clerk does: the break if it is due, else call the
// next resident; with nobody to call after closing, close the counter.
func (d *day) next(c *clerk) error {
	if d.status(c) != queue.CounterOpenStatus || d.busy(c) {
		return nil
	}
	if c.takeBreak {
		if d.now.Before(d.closing) {
			return d.pause(c)
		}
		c.takeBreak = false
	}
	dec, err := d.clerkDoes(c, queue.CallNext{Counter: c.cfg.Number})
	if err != nil {
		return err
	}
	if dec.Ticket != "" {
		d.called(c, dec.Ticket)
		return nil
	}
	if !d.now.Before(d.closing) {
		_, err := d.clerkDoes(c, queue.SetCounter{Counter: c.cfg.Number, Status: queue.CounterClosedStatus})
		return err
	}
	return nil
}

// called plays the resident's part after a call: walk up to the counter,
// or be gone (never came back, or gave up waiting), so the clerk recalls a
// minute apart until the engine marks the no-show.
func (d *day) called(c *clerk, ticket string) {
	r := d.residents[ticket]
	t := d.s.Tickets[ticket]
	if r.absent || d.now.Sub(t.IssuedAt) > r.patience {
		d.schedule(d.now.Add(time.Minute), recallDue, c, ticket)
		return
	}
	walk := max(d.p.Walkup.sample(d.rng), 5*time.Second)
	d.schedule(d.now.Add(walk), residentArrives, c, ticket)
	if walk > time.Minute {
		d.schedule(d.now.Add(time.Minute), recallDue, c, ticket)
	}
}

// issue is a resident taking a ticket at the kiosk; a refusal sends them
// home.
func (d *day) issue(service string) error {
	d.requests++
	cmd := queue.Issue{
		Service:   service,
		Lang:      d.language(),
		Priority:  d.rng.Float64() < d.p.PriorityShare,
		Channel:   queue.ChannelKiosk,
		RequestID: fmt.Sprintf("sim-%s-%d", d.date.Format("20060102"), d.requests),
		Device:    "kiosk:sim",
	}
	if d.rng.Float64() < 0.15 {
		cmd.Channel = queue.ChannelPhone
	}
	r := resident{absent: d.rng.Float64() < d.p.AbsentShare, patience: d.p.Patience.sample(d.rng)}
	dec, err := d.exec(cmd.Device, cmd)
	if err != nil {
		var qe *queue.Error
		if errors.As(err, &qe) && qe.Refusal != nil {
			d.rec.refused(qe.Refusal.Reason)
			return nil
		}
		return fmt.Errorf("%s: %w", queue.String(cmd), err)
	}
	d.residents[dec.Ticket] = r
	if d.s.Tickets[dec.Ticket].Presence == queue.PresenceNeeded {
		// The simulated resident took the phone ticket in the hall and
		// says so at once, so the office's presence rule (docs/
		// phone-tickets.md) never sets them aside: the simulation measures
		// the forecast, not who forgets to answer.
		if _, err := d.exec(cmd.Device, queue.ConfirmPresence{Ticket: dec.Ticket, Presence: queue.PresenceHere}); err != nil {
			return fmt.Errorf("confirming %s: %w", dec.Ticket, err)
		}
	}
	tv, ok := d.s.TicketView(dec.Ticket, d.now)
	if !ok {
		return fmt.Errorf("ticket %s issued but not found", dec.Ticket)
	}
	engine := time.Duration(-1)
	if tv.EstimatedWaitS >= 0 {
		engine = time.Duration(tv.EstimatedWaitS) * time.Second
	}
	d.rec.estimated(dec.Ticket, engine, UsualEstimate(d.s, tv))

	// Free clerks see the new ticket on their screens; who presses "next"
	// first is chance.
	for _, i := range d.rng.Perm(len(d.clerks)) {
		if d.s.Tickets[dec.Ticket].State != queue.Waiting {
			break
		}
		if err := d.next(d.clerks[i]); err != nil {
			return err
		}
	}
	return nil
}

func (d *day) language() string {
	langs := d.o.Languages
	if len(langs) < 2 || d.rng.Float64() < 0.85 {
		return d.o.DefaultLanguage()
	}
	return langs[1+d.rng.IntN(len(langs)-1)]
}

// endDay withdraws what is left once the clerks have gone home, and closes
// any counter still open, so the next day starts clean.
func (d *day) endDay() error {
	for _, t := range d.s.WaitingTickets() {
		if _, err := d.exec("system", queue.CancelTicket{Ticket: t.ID, Reason: "not served by the end of the day"}); err != nil {
			return err
		}
	}
	for _, c := range d.clerks {
		if d.status(c) != queue.CounterClosedStatus {
			if _, err := d.clerkDoes(c, queue.SetCounter{Counter: c.cfg.Number, Status: queue.CounterClosedStatus}); err != nil {
				return err
			}
		}
	}
	return nil
}
