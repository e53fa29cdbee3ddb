package queue

import (
	"sort"
	"time"
)

// View is an office's queues as screens, clerks and the API show them at a
// moment: derived from State, never stored.
type View struct {
	Office string    `json:"office"`
	Name   string    `json:"name"`
	Day    string    `json:"day"`
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	// Open says whether the office is open at At; Closing is today's
	// closing time and NextOpening the next opening after At.
	Open        bool          `json:"open"`
	Closing     time.Time     `json:"closing,omitzero"`
	NextOpening time.Time     `json:"next_opening,omitzero"`
	Services    []ServiceView `json:"services"`
	Counters    []CounterView `json:"counters"`
	Waiting     []TicketView  `json:"waiting"`
	Parked      []TicketView  `json:"parked"`
	// Away are phone tickets set aside unconfirmed (ParkedAway), in line
	// order.
	Away []TicketView `json:"away,omitempty"`
	// Calls are the latest calls, newest first.
	Calls  []RecentCall  `json:"calls"`
	Faults []DeviceFault `json:"faults"`
}

// ServiceView is one service's line.
type ServiceView struct {
	ID     string            `json:"id"`
	Prefix string            `json:"prefix"`
	Names  map[string]string `json:"names"`
	// ShortNames are the office's shorter names, for screens where the
	// full name does not fit.
	ShortNames map[string]string `json:"short_names,omitempty"`
	Waiting    int               `json:"waiting"`
	Bookable   bool              `json:"bookable"`
	// EstimatedWaitS is the expected wait of a ticket taken now, in
	// seconds; -1 when no counter can serve the service.
	EstimatedWaitS int64 `json:"estimated_wait_s"`
	// Open says whether the service issues tickets now; Refusal says why
	// not.
	Open    bool     `json:"open"`
	Refusal *Refusal `json:"refusal,omitempty"`
	// RemotePaused says that, though open, the service gives no phone
	// tickets now: the office's cap on remote tickets is reached.
	RemotePaused bool `json:"remote_paused,omitempty"`
}

// CounterView is one counter.
type CounterView struct {
	Number   int           `json:"number"`
	Name     string        `json:"name"`
	Status   CounterStatus `json:"status"`
	Services []string      `json:"services"`
	Current  *TicketView   `json:"current,omitempty"`
	Since    time.Time     `json:"since,omitzero"`
}

// TicketView is one ticket as shown to staff and to its resident.
type TicketView struct {
	ID            string      `json:"id"`
	Number        string      `json:"number"`
	Service       string      `json:"service"`
	State         TicketState `json:"state"`
	Channel       Channel     `json:"channel"`
	Lang          string      `json:"lang"`
	Priority      bool        `json:"priority,omitempty"`
	IssuedAt      time.Time   `json:"issued_at"`
	Counter       int         `json:"counter,omitempty"`
	TargetCounter int         `json:"target_counter,omitempty"`
	CalledAt      time.Time   `json:"called_at,omitzero"`
	StartedAt     time.Time   `json:"started_at,omitzero"`
	BookedFor     time.Time   `json:"booked_for,omitzero"`
	// ReservationID is the booked visit the ticket checked in for.
	ReservationID string `json:"reservation_id,omitempty"`
	Recalls       int    `json:"recalls,omitempty"`
	Note          string `json:"note,omitempty"`
	Rating        Rating `json:"rating,omitempty"`
	// Ahead is how many of the same service are expected to be called
	// first; EstimatedWaitS the expected seconds until the call (-1 unknown).
	Ahead          int   `json:"ahead"`
	EstimatedWaitS int64 `json:"estimated_wait_s"`
	// Presence is a phone ticket's answer to the office's "are you
	// near?"; AskPresence says its page should ask now (few are ahead, or
	// it was set aside since AwayAt).
	Presence    Presence  `json:"presence,omitempty"`
	AskPresence bool      `json:"ask_presence,omitempty"`
	AwayAt      time.Time `json:"away_at,omitzero"`
}

// View derives what the office looks like at now.
func (s *State) View(now time.Time) View {
	o := s.Office
	v := View{Office: o.ID, Name: o.Name, Day: s.Day, Seq: s.Seq, At: now}
	_, _, v.Open = o.OpenInterval(now)
	v.Closing, _ = o.ClosingToday(now)
	v.NextOpening, _ = o.NextOpening(now)

	waiting := s.WaitingTickets()
	forecast := s.replay(now, waiting)
	ahead := aheadCounts(waiting, forecast)
	perService := map[string]int{}
	for _, t := range waiting {
		perService[t.Service]++
		v.Waiting = append(v.Waiting, s.ticketView(t, now, forecast, ahead))
	}
	v.Services = s.serviceViews(now, perService)
	for _, cfg := range o.Counters {
		v.Counters = append(v.Counters, s.counterView(cfg, now, forecast, ahead))
	}
	for _, t := range s.sortedTickets(Parked) {
		v.Parked = append(v.Parked, s.ticketView(t, now, forecast, ahead))
	}
	for _, t := range s.sortedTickets(ParkedAway) {
		v.Away = append(v.Away, s.ticketView(t, now, forecast, ahead))
	}
	v.Calls = s.RecentCalls()
	devices := make([]string, 0, len(s.Faults))
	for d := range s.Faults {
		devices = append(devices, d)
	}
	sort.Strings(devices)
	for _, d := range devices {
		v.Faults = append(v.Faults, s.Faults[d])
	}
	return v
}

// TicketViews describes several tickets at now with one forecast: today's,
// and those of ended days that remembered requests gave (as they ended),
// which is what a request that comes again is answered with. Unknown ids
// are left out.
func (s *State) TicketViews(now time.Time, ids []string) map[string]TicketView {
	out := make(map[string]TicketView, len(ids))
	if len(ids) == 0 {
		return out
	}
	waiting := s.WaitingTickets()
	forecast := s.replay(now, waiting)
	ahead := aheadCounts(waiting, forecast)
	past := map[string]bool{}
	for _, id := range ids {
		if t := s.findTicket(id); t != nil {
			out[id] = s.ticketView(t, now, forecast, ahead)
		} else {
			past[id] = true
		}
	}
	if len(past) > 0 {
		for id, t := range s.endedTickets(past) {
			out[id] = s.ticketView(t, now, nil, nil)
		}
	}
	return out
}

// TicketView describes one ticket of today at now, or ok=false.
func (s *State) TicketView(id string, now time.Time) (TicketView, bool) {
	t := s.findTicket(id)
	if t == nil {
		return TicketView{}, false
	}
	waiting := s.WaitingTickets()
	forecast := s.replay(now, waiting)
	return s.ticketView(t, now, forecast, aheadCounts(waiting, forecast)), true
}

func (s *State) ticketView(t *Ticket, now time.Time, f Forecast, ahead map[string]int) TicketView {
	tv := TicketView{
		ID: t.ID, Number: t.Number, Service: t.Service, State: t.State, Channel: t.Channel,
		Lang: t.Lang, Priority: t.Priority, IssuedAt: t.IssuedAt, Counter: t.Counter,
		TargetCounter: t.TargetCounter, CalledAt: t.CalledAt, StartedAt: t.StartedAt,
		BookedFor: t.BookedFor, ReservationID: t.ReservationID, Recalls: t.Recalls, Note: t.Note, Rating: t.Rating,
		EstimatedWaitS: -1, Presence: t.Presence, AwayAt: t.AwayAt,
	}
	tv.AskPresence = s.asksPresence(t, ahead[t.ID])
	if t.State == Waiting {
		tv.Ahead = ahead[t.ID]
		if call, ok := f[t.ID]; ok {
			tv.EstimatedWaitS = seconds(max(call.Sub(now), 0))
		}
	} else {
		tv.EstimatedWaitS = 0
	}
	return tv
}

// aheadCounts counts, for each waiting ticket, the tickets of its service
// expected to be called before it: the forecast order where it knows one,
// else the line order.
func aheadCounts(waiting []*Ticket, f Forecast) map[string]int {
	byService := map[string][]*Ticket{}
	for _, t := range waiting {
		byService[t.Service] = append(byService[t.Service], t)
	}
	out := make(map[string]int, len(waiting))
	for _, ts := range byService {
		sort.SliceStable(ts, func(i, j int) bool {
			ci, iok := f[ts[i].ID]
			cj, jok := f[ts[j].ID]
			if iok && jok && !ci.Equal(cj) {
				return ci.Before(cj)
			}
			if iok != jok {
				return iok
			}
			return false
		})
		for i, t := range ts {
			out[t.ID] = i
		}
	}
	return out
}

func (s *State) sortedTickets(state TicketState) []*Ticket {
	var out []*Ticket
	for _, t := range s.Tickets {
		if t.State == state {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return queueLess(out[i], out[j]) })
	return out
}

func seconds(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return int64(d.Round(time.Second) / time.Second)
}

// AheadOfNew is how many people a ticket for service issued now would have
// ahead of it: the tickets of that service still waiting, since a new
// ticket joins the end of its service's line. A kiosk that cannot reach
// the server prints it on a ticket issued from its lease, where the server
// would have answered with the issued ticket's TicketView.Ahead.
func (s *State) AheadOfNew(service string) int {
	n := 0
	for _, t := range s.Tickets {
		if t.Service == service && t.State == Waiting {
			n++
		}
	}
	return n
}
