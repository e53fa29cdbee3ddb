package queue

import (
	"sort"
	"time"
)

// Parts names the parts of an office's View that events change, so that a
// device told which events it has folded in recomputes, and redraws, only
// the parts it shows. Time changes some parts too, whatever the events:
// the waits (PartLines) and whether the office is open.
type Parts uint8

const (
	// PartLines is who waits for which service, and so the services'
	// waits and whether they issue tickets: View.Services, Waiting and
	// Parked.
	PartLines Parts = 1 << iota
	// PartCounters is a counter's state or the ticket it serves:
	// View.Counters.
	PartCounters
	// PartCalls is the list of calls: View.Calls (see State.CallsSince).
	PartCalls
	// PartFaults is the devices' troubles: View.Faults.
	PartFaults

	// AllParts is every part: a new day, or a state replaced wholesale.
	AllParts = PartLines | PartCounters | PartCalls | PartFaults
)

// PartsOf is what an event of body b can change in the View (beyond its
// Seq). It errs on the side of more: a part named may turn out the same,
// a part not named does not change.
func PartsOf(b Body) Parts {
	switch b.(type) {
	case DayRolledOver:
		return AllParts
	case TicketIssued, ReservationBooked, ReservationCancelled, ReservationCheckedIn, ReservationConfirmed, ReservationRescheduled, LeaseGranted:
		// Bookings are expected arrivals in the forecast; a lease moves
		// the numbering a daily cap counts.
		return PartLines
	case TicketCalled, TicketRecalled, RequestWithdrawn:
		// A withdrawn ticket leaves the line, and the calls if it had been
		// called.
		return PartLines | PartCounters | PartCalls
	case ServiceStarted, TicketFinished, TicketNoShow, TicketTransferred, TicketParked, TicketCancelled,
		CounterOpened, CounterPaused, CounterClosed:
		// A counter's work and state are in every forecast.
		return PartLines | PartCounters
	case RatingGiven:
		// Only a served ticket is rated, and no view lists served tickets.
		return 0
	case BookingClosed, BookingReopened:
		// Closures change which slots are offered; no view shows slots.
		return 0
	case DeviceFault:
		return PartFaults
	}
	return AllParts // a kind this switch does not know yet: assume the worst
}

// ServiceViews are the services' lines at now, as View.Services has them,
// without the forecast of every waiting ticket that View makes: what a
// kiosk or a hall shows.
func (s *State) ServiceViews(now time.Time) []ServiceView {
	perService := map[string]int{}
	for _, t := range s.Tickets {
		if t.State == Waiting {
			perService[t.Service]++
		}
	}
	return s.serviceViews(now, perService)
}

func (s *State) serviceViews(now time.Time, perService map[string]int) []ServiceView {
	var out []ServiceView
	capped := s.remoteCaps()
	var remoteOffice int
	var remoteByService map[string]int
	if capped {
		remoteOffice, remoteByService = s.remoteWaiting()
	}
	for _, svc := range s.Office.Services {
		sv := ServiceView{ID: svc.ID, Prefix: svc.Prefix, Names: svc.Names, ShortNames: svc.ShortNames, Waiting: perService[svc.ID], Bookable: svc.Bookable}
		wait := s.WaitForNew(now, svc.ID)
		sv.EstimatedWaitS = seconds(wait)
		if err := s.checkIssue(now, svc, func() time.Duration { return wait }); err != nil {
			if qe, ok := err.(*Error); ok {
				sv.Refusal = qe.Refusal
			}
		} else {
			sv.Open = true
			sv.RemotePaused = capped && s.remoteRefusal(svc, remoteOffice, remoteByService[svc.ID]) != nil
		}
		out = append(out, sv)
	}
	return out
}

// CounterView is counter n at now, as View.Counters has it, or ok=false
// when the office has no such counter: what a counter's display shows,
// without the forecast of the waiting tickets.
func (s *State) CounterView(n int, now time.Time) (CounterView, bool) {
	for _, cfg := range s.Office.Counters {
		if cfg.Number != n {
			continue
		}
		var f Forecast
		var ahead map[string]int
		if t := s.Tickets[s.counterState(n).Current]; t != nil && t.State == Waiting {
			// Not a state the events leave (a counter's ticket has been
			// called), but its view would need the forecast.
			waiting := s.WaitingTickets()
			f = s.replay(now, waiting)
			ahead = aheadCounts(waiting, f)
		}
		return s.counterView(cfg, now, f, ahead), true
	}
	return CounterView{}, false
}

// counterState is counter n's state; a counter not yet seen is closed.
func (s *State) counterState(n int) *CounterState {
	if st := s.Counters[n]; st != nil {
		return st
	}
	return &CounterState{Number: n, Status: CounterClosedStatus}
}

func (s *State) counterView(cfg Counter, now time.Time, f Forecast, ahead map[string]int) CounterView {
	st := s.counterState(cfg.Number)
	cv := CounterView{Number: cfg.Number, Name: cfg.Name, Status: st.Status, Since: st.Since}
	for svc, w := range cfg.Weights {
		if w > 0 {
			cv.Services = append(cv.Services, svc)
		}
	}
	sort.Strings(cv.Services)
	if t := s.Tickets[st.Current]; t != nil && !t.State.Final() {
		tv := s.ticketView(t, now, f, ahead)
		cv.Current = &tv
	}
	return cv
}
