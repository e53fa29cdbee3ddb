package stats

import "time"

// Heat is when residents come and how long they wait, by weekday (Monday
// first, as offices plan their week) and office-local hour of the day: the
// manager's day × hour heat map, to plan how many counters to open when.
type Heat struct {
	// Arrivals counts the tickets issued in each weekday's hour over the
	// whole range.
	Arrivals [7][24]int
	// Waits are the waits of the tickets issued in that hour and called.
	Waits [7][24][]time.Duration
	// Days counts the dates of each weekday on which the office issued
	// tickets: the arrivals of a cell are spread over them.
	Days [7]int
	// FirstHour and LastHour bound the hours in which any ticket was
	// issued; FirstHour > LastHour when none was.
	FirstHour, LastHour int

	dates map[string]int
}

func newHeat() *Heat { return &Heat{dates: map[string]int{}, FirstHour: 24, LastHour: -1} }

// mondayFirst numbers the days of the week from Monday (0) to Sunday (6).
func mondayFirst(d time.Weekday) int { return (int(d) + 6) % 7 }

func (h *Heat) arrived(t *ticket) {
	h.Arrivals[t.weekday][t.hour]++
	h.dates[t.day] = int(t.weekday)
	h.FirstHour = min(h.FirstHour, int(t.hour))
	h.LastHour = max(h.LastHour, int(t.hour))
}

func (h *Heat) waited(t *ticket, wait time.Duration) {
	h.Waits[t.weekday][t.hour] = append(h.Waits[t.weekday][t.hour], wait)
}

// finish counts the days of each weekday once every ticket is in. A
// ticket withdrawn after issue stays in Arrivals: it was someone at the
// kiosk at that hour.
func (h *Heat) finish() *Heat {
	h.Days = [7]int{}
	for _, wd := range h.dates {
		h.Days[wd]++
	}
	return h
}

// MeanArrivals is how many tickets an average such weekday issued in that
// hour; zero when the office issued none on that weekday.
func (h *Heat) MeanArrivals(weekday, hour int) float64 {
	if h.Days[weekday] == 0 {
		return 0
	}
	return float64(h.Arrivals[weekday][hour]) / float64(h.Days[weekday])
}

// WaitMedian is the median wait of the tickets issued in that hour of
// that weekday; -1 when none was called.
func (h *Heat) WaitMedian(weekday, hour int) time.Duration {
	if len(h.Waits[weekday][hour]) == 0 {
		return -1
	}
	return percentile(h.Waits[weekday][hour], 50)
}

// Hours lists the hours from the first to the last in which tickets were
// issued: the heat map's columns.
func (h *Heat) Hours() []int {
	var out []int
	for x := h.FirstHour; x <= h.LastHour; x++ {
		out = append(out, x)
	}
	return out
}
