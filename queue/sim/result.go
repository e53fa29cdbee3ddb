package sim

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/numerek/numerek/queue"
)

// Result is what a run measured.
type Result struct {
	Office string
	Name   string
	Seed   uint64
	// Days are the dates simulated, "2006-01-02".
	Days []string

	Issued    int
	Refused   int
	RefusedBy map[queue.Reason]int
	Served    int
	NoShows   int
	// Cancelled are tickets still waiting when the clerks went home.
	Cancelled int

	// Wait is over served tickets, from issue to call.
	Wait WaitStats
	// PriorityWait and RegularWait are the mean waits of served priority
	// and other tickets.
	PriorityWait, RegularWait time.Duration
	PriorityServed            int
	// ServiceMean is the mean time from start to finish of served tickets.
	ServiceMean time.Duration
	// WithinTarget is the share of served tickets called within Target, the
	// office's target wait (NaN when it sets none).
	Target       time.Duration
	WithinTarget float64
	// Utilisation is the share of the counters' open time spent with a
	// resident, from call to finish or no-show.
	Utilisation float64

	// Engine and Usual are the errors of the engine's forecast and of the
	// usual formula against the actual waits of the same called tickets.
	Engine, Usual ErrorStats

	Services []ServiceStats
	// Tickets are every issued ticket, in issue order.
	Tickets []Ticket
}

// WaitStats summarise waits.
type WaitStats struct {
	Mean, Median, P90, Max time.Duration
}

// ErrorStats summarise an estimate's errors, estimate minus actual wait.
type ErrorStats struct {
	// N is the number of tickets compared.
	N         int
	MedianAbs time.Duration
	MeanAbs   time.Duration
	// MeanSigned below zero means the estimate promised shorter waits than
	// residents had.
	MeanSigned time.Duration
}

// ServiceStats are one service's figures beside its configured and true
// times.
type ServiceStats struct {
	ID                  string
	Prefix              string
	Issued, Served      int
	MeanWait            time.Duration
	MeanService         time.Duration
	Configured          time.Duration
	TrueMean            time.Duration
	EngineMAE, UsualMAE time.Duration
}

func (r *recorder) result(o *queue.Office, p *Profile, seed uint64, days []string) *Result {
	res := &Result{
		Office: o.ID, Name: o.Name, Seed: seed, Days: days,
		RefusedBy: r.refusals, Target: o.Rules.TargetWait, Tickets: r.tickets,
		Issued: len(r.tickets), WithinTarget: math.NaN(),
	}
	for _, n := range r.refusals {
		res.Refused += n
	}
	var waits, prio, regular, service []time.Duration
	var busy time.Duration
	within := 0
	for _, t := range r.tickets {
		switch t.Outcome {
		case queue.Done:
			res.Served++
			w, _ := t.Wait()
			waits = append(waits, w)
			if t.Priority {
				prio = append(prio, w)
			} else {
				regular = append(regular, w)
			}
			if w <= res.Target {
				within++
			}
			if !t.StartedAt.IsZero() {
				service = append(service, t.EndedAt.Sub(t.StartedAt))
			}
			busy += t.EndedAt.Sub(t.CalledAt)
		case queue.NoShow:
			res.NoShows++
			busy += t.EndedAt.Sub(t.CalledAt)
		case queue.Cancelled:
			res.Cancelled++
		}
	}
	res.Wait = waitStats(waits)
	res.PriorityWait, res.RegularWait, res.PriorityServed = mean(prio), mean(regular), len(prio)
	res.ServiceMean = mean(service)
	if res.Target > 0 && res.Served > 0 {
		res.WithinTarget = float64(within) / float64(res.Served)
	}
	if r.openTime > 0 {
		res.Utilisation = float64(busy) / float64(r.openTime)
	}
	res.Engine, res.Usual = EstimateErrors(r.tickets)
	for _, svc := range o.Services {
		st := ServiceStats{ID: svc.ID, Prefix: svc.Prefix, Configured: svc.ServiceTime, TrueMean: p.Services[svc.ID].Service.Mean()}
		var ts []Ticket
		var w, s []time.Duration
		for _, t := range r.tickets {
			if t.Service != svc.ID {
				continue
			}
			ts = append(ts, t)
			st.Issued++
			if t.Outcome == queue.Done {
				st.Served++
				wait, _ := t.Wait()
				w = append(w, wait)
				if !t.StartedAt.IsZero() {
					s = append(s, t.EndedAt.Sub(t.StartedAt))
				}
			}
		}
		st.MeanWait, st.MeanService = mean(w), mean(s)
		e, u := EstimateErrors(ts)
		st.EngineMAE, st.UsualMAE = e.MedianAbs, u.MedianAbs
		res.Services = append(res.Services, st)
	}
	return res
}

// EstimateErrors compares the engine's and the usual formula's estimates
// with the actual waits, over the tickets that were called and that both
// estimated. Pool several runs' tickets to compare over all of them.
func EstimateErrors(tickets []Ticket) (engine, usual ErrorStats) {
	var e, u []time.Duration
	for _, t := range tickets {
		w, called := t.Wait()
		if !called || t.Estimate < 0 || t.Usual < 0 {
			continue
		}
		e = append(e, t.Estimate-w)
		u = append(u, t.Usual-w)
	}
	return errorStats(e), errorStats(u)
}

func errorStats(errs []time.Duration) ErrorStats {
	abs := make([]time.Duration, len(errs))
	for i, e := range errs {
		abs[i] = max(e, -e)
	}
	return ErrorStats{N: len(errs), MedianAbs: quantile(abs, 0.5), MeanAbs: mean(abs), MeanSigned: mean(errs)}
}

func waitStats(ws []time.Duration) WaitStats {
	if len(ws) == 0 {
		return WaitStats{}
	}
	return WaitStats{Mean: mean(ws), Median: quantile(ws, 0.5), P90: quantile(ws, 0.9), Max: slices.Max(ws)}
}

// quantile interpolates linearly between the order statistics around q.
func quantile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.SortFunc(s, cmp.Compare)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return s[lo] + time.Duration((pos-float64(lo))*float64(s[hi]-s[lo]))
}

// Improvement is how much smaller the engine's median absolute error is
// than the usual formula's, in percent.
func Improvement(engine, usual ErrorStats) float64 {
	if usual.MedianAbs <= 0 {
		return 0
	}
	return 100 * (1 - float64(engine.MedianAbs)/float64(usual.MedianAbs))
}

func minutes(d time.Duration) string { return fmt.Sprintf("%.1f min", d.Minutes()) }

// Report writes the result as a short text for people.
func (res *Result) Report(w io.Writer) error {
	var b strings.Builder
	days := ""
	if n := len(res.Days); n == 1 {
		days = "1 day, " + res.Days[0]
	} else if n > 1 {
		days = fmt.Sprintf("%d days, %s to %s", n, res.Days[0], res.Days[n-1])
	}
	fmt.Fprintf(&b, "%s (%s)\n%s, seed %d\n\n", res.Name, res.Office, days, res.Seed)

	var reasons []string
	for _, r := range slices.Sorted(maps.Keys(res.RefusedBy)) {
		reasons = append(reasons, fmt.Sprintf("%s %d", r, res.RefusedBy[r]))
	}
	refused := fmt.Sprint(res.Refused)
	if len(reasons) > 0 {
		refused += " (" + strings.Join(reasons, ", ") + ")"
	}
	fmt.Fprintf(&b, "Tickets      issued %d, refused %s\n", res.Issued, refused)
	fmt.Fprintf(&b, "             served %d, no-shows %d, unserved at day end %d\n", res.Served, res.NoShows, res.Cancelled)
	fmt.Fprintf(&b, "Wait         mean %s, median %s, p90 %s, max %s (served tickets, issue to call)\n",
		minutes(res.Wait.Mean), minutes(res.Wait.Median), minutes(res.Wait.P90), minutes(res.Wait.Max))
	fmt.Fprintf(&b, "Priority     %d served, mean wait %s (others %s)\n", res.PriorityServed, minutes(res.PriorityWait), minutes(res.RegularWait))
	if !math.IsNaN(res.WithinTarget) {
		fmt.Fprintf(&b, "Target       %.1f%% served within %s\n", 100*res.WithinTarget, minutes(res.Target))
	}
	fmt.Fprintf(&b, "Service      mean %s at the counter (start to finish)\n", minutes(res.ServiceMean))
	fmt.Fprintf(&b, "Counters     %.1f%% of open time with a resident\n\n", 100*res.Utilisation)

	fmt.Fprintf(&b, "Wait estimate at issue against the actual wait (%d tickets called):\n", res.Engine.N)
	fmt.Fprintf(&b, "  %-20s %18s %16s %12s\n", "", "median abs error", "mean abs error", "mean bias")
	for _, row := range []struct {
		name string
		e    ErrorStats
	}{{"engine forecast", res.Engine}, {"usual formula", res.Usual}} {
		fmt.Fprintf(&b, "  %-20s %18s %16s %12s\n", row.name, minutes(row.e.MedianAbs), minutes(row.e.MeanAbs), minutes(row.e.MeanSigned))
	}
	fmt.Fprintf(&b, "  the engine's median error is %.0f%% smaller\n", Improvement(res.Engine, res.Usual))
	fmt.Fprintf(&b, "  (usual formula: mean walk-up + service time the engine observed x people ahead / open counters serving the service)\n\n")

	fmt.Fprintf(&b, "  %-16s %6s %6s %10s %10s %10s %10s %10s %10s\n", "service", "issued", "served", "mean wait", "service", "configured", "true mean", "engine err", "usual err")
	for _, s := range res.Services {
		fmt.Fprintf(&b, "  %-16s %6d %6d %10s %10s %10s %10s %10s %10s\n", s.Prefix+" "+s.ID, s.Issued, s.Served,
			minutes(s.MeanWait), minutes(s.MeanService), minutes(s.Configured), minutes(s.TrueMean), minutes(s.EngineMAE), minutes(s.UsualMAE))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
