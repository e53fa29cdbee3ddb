package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/numerek/numerek/queue"
)

// Lognormal is a random positive duration whose logarithm is normal: the
// usual shape of service times, most short and a long tail of hard cases.
type Lognormal struct {
	Median time.Duration
	// Sigma is the standard deviation of the logarithm; 0 gives Median
	// every time.
	Sigma float64
}

// Mean is the distribution's expected value, exp(sigma^2/2) above the
// median.
func (l Lognormal) Mean() time.Duration {
	return time.Duration(float64(l.Median) * math.Exp(l.Sigma*l.Sigma/2))
}

func (l Lognormal) sample(r *rand.Rand) time.Duration {
	return time.Duration(float64(l.Median) * math.Exp(l.Sigma*r.NormFloat64())).Round(time.Second)
}

func (l Lognormal) check(path string) error {
	if l.Median <= 0 || l.Sigma < 0 || l.Sigma > 3 {
		return fmt.Errorf("%s: median %v must be above 0 and sigma %v within 0-3", path, l.Median, l.Sigma)
	}
	return nil
}

// ServiceProfile is how one service's residents behave.
type ServiceProfile struct {
	// PerHour is the mean number of residents arriving in each office-local
	// hour of the day (index 0-23); arrivals are Poisson within an hour.
	PerHour [24]float64
	// Service is the true time at the counter, from start to finish, with a
	// clerk of speed 1.
	Service Lognormal
}

// Profile is the simulated office's hidden truth: what the engine must
// learn from events. DefaultProfile builds a plausible one for any office.
type Profile struct {
	// Services by service id; every service of the office needs one.
	Services map[string]ServiceProfile
	// Speed multiplies service times at a counter (1.2: a clerk 20% slower),
	// by counter number; a counter absent here has speed 1.
	Speed map[int]float64
	// DoorCrowd is the mean number of residents waiting at the door at
	// opening, taking tickets in its first minutes, spread over the
	// services in proportion to their arrivals.
	DoorCrowd float64
	// PriorityShare is the share of residents entitled to priority
	// (pregnant, disabled).
	PriorityShare float64
	// AbsentShare is the share of residents who take a ticket and are gone
	// when called whatever the wait; others leave when their wait exceeds
	// their Patience. Both end as no-shows after the clerk's recalls.
	AbsentShare float64
	Patience    Lognormal
	// Walkup is the time from the call to the resident reaching the counter.
	Walkup Lognormal
	// WrapUp is the clerk's time between finishing one resident and calling
	// the next.
	WrapUp Lognormal
	// LateShare is the chance a counter opens late on a given day, by a
	// uniform 1 minute to MaxLate.
	LateShare float64
	MaxLate   time.Duration
	// Each counter takes one break a day of BreakMin-BreakMax, starting at a
	// uniform time between BreakFrom and BreakTo (office-local), once its
	// current resident is done.
	BreakMin, BreakMax time.Duration
	BreakFrom, BreakTo queue.Minute
}

// Validate checks the profile against the office it is to simulate.
func (p *Profile) Validate(o *queue.Office) error {
	for _, svc := range o.Services {
		sp, ok := p.Services[svc.ID]
		if !ok {
			return fmt.Errorf("profile: no arrivals and service times for service %q", svc.ID)
		}
		if err := sp.Service.check("profile: service " + svc.ID); err != nil {
			return err
		}
		for h, r := range sp.PerHour {
			if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
				return fmt.Errorf("profile: service %s: arrivals at %02d:00 are %v, want a rate of 0 or more", svc.ID, h, r)
			}
		}
	}
	ids := make([]string, 0, len(p.Services))
	for id := range p.Services {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, ok := o.Service(id); !ok {
			return fmt.Errorf("profile: service %q is not one of office %s's", id, o.ID)
		}
	}
	for n, v := range p.Speed {
		if _, ok := o.Counter(n); !ok {
			return fmt.Errorf("profile: speed for counter %d, which office %s does not have", n, o.ID)
		}
		if v <= 0 || v > 10 {
			return fmt.Errorf("profile: counter %d speed %v must be above 0 and at most 10", n, v)
		}
	}
	shares := []struct {
		name string
		v    float64
	}{{"priority_share", p.PriorityShare}, {"absent_share", p.AbsentShare}, {"late_share", p.LateShare}}
	for _, s := range shares {
		if s.v < 0 || s.v > 1 || math.IsNaN(s.v) {
			return fmt.Errorf("profile: %s %v must be between 0 and 1", s.name, s.v)
		}
	}
	for _, l := range []struct {
		name string
		d    Lognormal
	}{{"patience", p.Patience}, {"walkup", p.Walkup}, {"wrap-up", p.WrapUp}} {
		if err := l.d.check("profile: " + l.name); err != nil {
			return err
		}
	}
	if p.DoorCrowd < 0 || p.MaxLate < 0 || p.BreakMin < 0 || p.BreakMax < p.BreakMin || p.BreakTo < p.BreakFrom {
		return fmt.Errorf("profile: door crowd, lateness and breaks must not be negative or inverted")
	}
	return nil
}
