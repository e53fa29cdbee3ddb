package sim

import (
	"math"
	"time"

	"github.com/numerek/numerek/queue"
)

// DefaultLoad is the share of the counters' time that residents' services
// fill over a typical day: with the morning peak it overloads the counters
// until late morning and leaves slack in the afternoon, as in the seed
// offices.
const DefaultLoad = 0.85

// hourShape weighs arrivals by office-local hour: a crowd early in the
// morning thinning through the afternoon, as public offices report.
func hourShape() [24]float64 {
	return [24]float64{7: 1.5, 8: 1.7, 9: 1.6, 10: 1.4, 11: 1.2, 12: 1.0, 13: 0.85, 14: 0.7, 15: 0.55, 16: 0.45, 17: 0.35, 18: 0.3}
}

// DefaultProfile builds a plausible profile for office o at load (0 or
// less means DefaultLoad): services' true mean times are their configured
// times scaled by 0.7-1.4, with lognormal spread; arrivals follow a morning
// peak, scaled so that each service fills load of the counter time its
// counters give it by weight on a typical weekday.
func DefaultProfile(o *queue.Office, load float64) *Profile {
	if load <= 0 {
		load = DefaultLoad
	}
	// The true service times differ from the configured guesses, by service
	// in turn, so the engine has to learn them; clerks differ in speed.
	serviceTimeFactors := [...]float64{1.3, 0.8, 1.15, 0.7, 1.4, 0.9}
	serviceTimeSigmas := [...]float64{0.5, 0.6, 0.45, 0.55}
	clerkSpeeds := [...]float64{1.0, 1.15, 0.9, 1.1, 0.95, 1.25, 0.85, 1.05, 1.0}
	p := &Profile{
		Services:      map[string]ServiceProfile{},
		Speed:         map[int]float64{},
		DoorCrowd:     1.5 * float64(len(o.Counters)),
		PriorityShare: 0.04,
		AbsentShare:   0.04,
		Patience:      Lognormal{Median: 80 * time.Minute, Sigma: 0.5},
		Walkup:        Lognormal{Median: 35 * time.Second, Sigma: 0.5},
		WrapUp:        Lognormal{Median: 15 * time.Second, Sigma: 0.6},
		LateShare:     0.2,
		MaxLate:       15 * time.Minute,
		BreakMin:      15 * time.Minute,
		BreakMax:      25 * time.Minute,
		BreakFrom:     10*60 + 30,
		BreakTo:       13 * 60,
	}
	for i, c := range o.Counters {
		p.Speed[c.Number] = clerkSpeeds[i%len(clerkSpeeds)]
	}
	truth := map[string]Lognormal{}
	for i, svc := range o.Services {
		sigma := serviceTimeSigmas[i%len(serviceTimeSigmas)]
		mean := float64(svc.ServiceTime) * serviceTimeFactors[i%len(serviceTimeFactors)]
		truth[svc.ID] = Lognormal{Median: time.Duration(mean / math.Exp(sigma*sigma/2)).Round(time.Second), Sigma: sigma}
	}

	open := typicalHours(o)
	var openMinutes float64
	var shapeSum float64
	shape := hourShape()
	for h, m := range open {
		openMinutes += m
		shapeSum += shape[h] * m / 60
	}
	// Each counter gives its time to its services in proportion to its
	// weights; a service's counter time over its mean occupancy is how many
	// residents it can take.
	capacity := map[string]float64{}
	speed := map[string]float64{}
	for _, c := range o.Counters {
		var total float64
		for _, svc := range o.Services {
			total += c.Weights[svc.ID]
		}
		for _, svc := range o.Services {
			if w := c.Weights[svc.ID]; w > 0 {
				share := openMinutes * w / total
				capacity[svc.ID] += share
				speed[svc.ID] += share * p.Speed[c.Number]
			}
		}
	}
	overhead := p.Walkup.Mean() + p.WrapUp.Mean()
	for _, svc := range o.Services {
		sp := ServiceProfile{Service: truth[svc.ID]}
		if c := capacity[svc.ID]; c > 0 && shapeSum > 0 {
			occupancy := float64(truth[svc.ID].Mean())*speed[svc.ID]/c + float64(overhead)
			daily := load * c * float64(time.Minute) / occupancy
			for h := range sp.PerHour {
				sp.PerHour[h] = daily * shape[h] / shapeSum
			}
		}
		p.Services[svc.ID] = sp
	}
	return p
}

// typicalHours is the open minutes in each hour of the office's most common
// weekday hours (Monday to Friday, the earliest weekday on a tie).
func typicalHours(o *queue.Office) [24]float64 {
	var best []queue.Interval
	bestCount := 0
	for d := time.Monday; d <= time.Friday; d++ {
		count := 0
		for e := time.Monday; e <= time.Friday; e++ {
			if sameIntervals(o.Hours[d], o.Hours[e]) {
				count++
			}
		}
		if len(o.Hours[d]) > 0 && count > bestCount {
			best, bestCount = o.Hours[d], count
		}
	}
	if best == nil {
		for d := range o.Hours {
			if len(o.Hours[d]) > 0 {
				best = o.Hours[d]
				break
			}
		}
	}
	return openMinutesByHour(best)
}

func sameIntervals(a, b []queue.Interval) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// openMinutesByHour is how many minutes of each hour of the day fall in ivs.
func openMinutesByHour(ivs []queue.Interval) [24]float64 {
	var out [24]float64
	for _, iv := range ivs {
		for h := range out {
			from := max(int(iv.Open), h*60)
			to := min(int(iv.Close), (h+1)*60)
			if to > from {
				out[h] += float64(to - from)
			}
		}
	}
	return out
}
