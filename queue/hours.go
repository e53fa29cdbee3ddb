package queue

import (
	"fmt"
	"strings"
	"time"
)

// Minute is a time of day in minutes after midnight, office-local.
type Minute int

// ParseMinute reads "HH:MM".
func ParseMinute(s string) (Minute, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("time %q is not HH:MM", s)
	}
	return Minute(h*60 + m), nil
}

func (m Minute) String() string { return fmt.Sprintf("%02d:%02d", int(m)/60, int(m)%60) }

// Interval is an opening interval of a day, [Open, Close).
type Interval struct {
	Open  Minute `json:"open"`
	Close Minute `json:"close"`
}

// ParseInterval reads "07:30-15:30".
func ParseInterval(s string) (Interval, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Interval{}, fmt.Errorf("interval %q is not HH:MM-HH:MM", s)
	}
	open, err := ParseMinute(strings.TrimSpace(a))
	if err != nil {
		return Interval{}, err
	}
	cl, err := ParseMinute(strings.TrimSpace(b))
	if err != nil {
		return Interval{}, err
	}
	if open >= cl {
		return Interval{}, fmt.Errorf("interval %q closes before it opens", s)
	}
	return Interval{open, cl}, nil
}

func (iv Interval) String() string { return iv.Open.String() + "-" + iv.Close.String() }

// WeekHours are the regular opening intervals, indexed by time.Weekday.
type WeekHours [7][]Interval

// DayException replaces the weekly hours on one date.
type DayException struct {
	// Name is the day's name in the office's first language, or the only
	// name given.
	Name string `json:"name"`
	// Names maps a language to the day's name in it.
	Names map[string]string `json:"names,omitempty"`
	Hours []Interval        `json:"hours"`
}

// Title is the day's name in lang, falling back to Name.
func (d DayException) Title(lang string) string {
	if n := d.Names[lang]; n != "" {
		return n
	}
	return d.Name
}

func weekdayKey(d time.Weekday) string {
	return [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[d]
}

// LocalDate is the office-local date of t as "2006-01-02".
func (o *Office) LocalDate(t time.Time) string {
	return t.In(o.Location).Format("2006-01-02")
}

// HoursOn returns the opening intervals on the office-local date of t and
// the exception that set them, if any.
func (o *Office) HoursOn(t time.Time) ([]Interval, *DayException) {
	lt := t.In(o.Location)
	if ex, ok := o.Exceptions[lt.Format("2006-01-02")]; ok {
		return ex.Hours, &ex
	}
	return o.Hours[lt.Weekday()], nil
}

// at returns the instant of minute m on the office-local date of day.
func (o *Office) at(day time.Time, m Minute) time.Time {
	lt := day.In(o.Location)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), int(m)/60, int(m)%60, 0, 0, o.Location)
}

func minuteOf(t time.Time, loc *time.Location) Minute {
	lt := t.In(loc)
	return Minute(lt.Hour()*60 + lt.Minute())
}

// OpenInterval returns the interval that contains now, with its start and end
// as instants, or ok=false when the office is closed at now.
func (o *Office) OpenInterval(now time.Time) (open, close time.Time, ok bool) {
	ivs, _ := o.HoursOn(now)
	m := minuteOf(now, o.Location)
	for _, iv := range ivs {
		if m >= iv.Open && m < iv.Close {
			return o.at(now, iv.Open), o.at(now, iv.Close), true
		}
	}
	return time.Time{}, time.Time{}, false
}

// NextOpening returns the first opening strictly after now, looking up to a
// year ahead; ok=false if the office never opens again.
func (o *Office) NextOpening(now time.Time) (time.Time, bool) {
	day := now.In(o.Location)
	for i := 0; i < 366; i++ {
		d := day.AddDate(0, 0, i)
		ivs, _ := o.HoursOn(d)
		for _, iv := range ivs {
			t := o.at(d, iv.Open)
			if t.After(now) {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// ClosingToday is the end of the last interval on the office-local date of
// t, or ok=false when the office does not open that day.
func (o *Office) ClosingToday(t time.Time) (time.Time, bool) {
	ivs, _ := o.HoursOn(t)
	if len(ivs) == 0 {
		return time.Time{}, false
	}
	return o.at(t, ivs[len(ivs)-1].Close), true
}

// covers reports whether the office is open all the way from start to end
// (the same office-local day).
func (o *Office) covers(start, end time.Time) bool {
	ivs, _ := o.HoursOn(start)
	from, to := minuteOf(start, o.Location), minuteOf(end, o.Location)
	if o.LocalDate(start) != o.LocalDate(end) {
		return false
	}
	for _, iv := range ivs {
		if iv.Open <= from && to <= iv.Close {
			return true
		}
	}
	return false
}
