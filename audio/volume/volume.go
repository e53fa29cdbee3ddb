// Package volume is the loudness of the hall's speaker by time of day: a
// schedule of steps such as quiet before the office opens, full in the
// morning rush, softer in the evening. It is apart from package audio so
// that a device configuration can check a schedule without linking the
// sound drivers.
package volume

import (
	"fmt"
	"sort"
	"time"
)

// Step sets the volume from a time of day until the next step.
type Step struct {
	// From is the local time of day the step starts, "HH:MM" (24-hour).
	From string `json:"from" toml:"from"`
	// Volume is the loudness from then on as a linear gain, 0 (mute) to 1
	// (the pack as recorded).
	Volume float64 `json:"volume" toml:"volume"`
}

// Schedule is a validated list of volume steps for the day, e.g. quiet
// before the office opens, full in the morning rush, softer in the evening.
type Schedule struct {
	steps []step // sorted by start
}

type step struct {
	start  time.Duration // since midnight
	volume float64
}

// NewSchedule checks steps and returns their schedule. No steps means
// full volume all day. Before the day's first step the last step of the
// previous day still holds, so "22:00 0.3" carries through the night.
func NewSchedule(steps []Step) (Schedule, error) {
	var s Schedule
	seen := map[time.Duration]string{}
	for i, st := range steps {
		start, err := parseClock(st.From)
		if err != nil {
			return Schedule{}, fmt.Errorf("volume step %d: from: %w", i+1, err)
		}
		if prev, dup := seen[start]; dup {
			return Schedule{}, fmt.Errorf("volume step %d: from %q repeats step at %q", i+1, st.From, prev)
		}
		seen[start] = st.From
		if st.Volume < 0 || st.Volume > 1 || st.Volume != st.Volume {
			return Schedule{}, fmt.Errorf("volume step %d (from %s): volume %v is outside 0-1", i+1, st.From, st.Volume)
		}
		s.steps = append(s.steps, step{start: start, volume: st.Volume})
	}
	sort.Slice(s.steps, func(i, j int) bool { return s.steps[i].start < s.steps[j].start })
	return s, nil
}

// At returns the volume at local time t.
func (s Schedule) At(t time.Time) float64 {
	if len(s.steps) == 0 {
		return 1
	}
	h, m, sec := t.Clock()
	now := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	v := s.steps[len(s.steps)-1].volume // yesterday's last step
	for _, st := range s.steps {
		if st.start > now {
			break
		}
		v = st.volume
	}
	return v
}

// parseClock reads "HH:MM" as a time since midnight.
func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time of day as HH:MM (e.g. 07:30)", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
