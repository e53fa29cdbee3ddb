package sim

import (
	"time"

	"github.com/numerek/numerek/queue"
)

// UsualEstimate is the wait most queue systems print on a ticket: average
// service time x people ahead / open counters. It is fed what the engine
// knows at the same moment, so the comparison is about the method only:
//
//   - people ahead: tv.Ahead, the waiting tickets of the ticket's service
//     to be called before it (the number the ticket prints);
//   - average service time: the mean time a counter spends on one resident
//     of the service as the engine has recorded it, walk-up (call to start)
//     plus service (start to finish), over the engine's recent observations
//     of that service (State.Services[id].Walkups and .Durations); for a
//     service not yet observed, over all services' observations; before
//     any observation, the service's configured time;
//   - open counters: counters open now (not on a break, not closed) that
//     serve the service; when none is, those configured to serve it, as
//     they are about to open.
func UsualEstimate(s *queue.State, tv queue.TicketView) time.Duration {
	var served int
	var open int
	for _, c := range s.Office.Counters {
		if !c.Serves(tv.Service) {
			continue
		}
		served++
		if st := s.Counters[c.Number]; st != nil && st.Status == queue.CounterOpenStatus {
			open++
		}
	}
	if open == 0 {
		open = served
	}
	if open == 0 {
		return -1
	}
	return time.Duration(float64(averageHandling(s, tv.Service)) * float64(tv.Ahead) / float64(open))
}

// averageHandling is the mean walk-up plus service time the engine has
// observed for service, else for all services, else the configured time.
func averageHandling(s *queue.State, service string) time.Duration {
	if sv := s.Services[service]; sv != nil && len(sv.Durations) > 0 {
		return mean(sv.Durations) + mean(sv.Walkups)
	}
	var durations, walkups []time.Duration
	for _, svc := range s.Office.Services {
		if sv := s.Services[svc.ID]; sv != nil {
			durations = append(durations, sv.Durations...)
			walkups = append(walkups, sv.Walkups...)
		}
	}
	if len(durations) > 0 {
		return mean(durations) + mean(walkups)
	}
	cfg, _ := s.Office.Service(service)
	return cfg.ServiceTime
}

func mean(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	var sum time.Duration
	for _, x := range xs {
		sum += x
	}
	return sum / time.Duration(len(xs))
}
