package volume

import (
	"strings"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	s, err := NewSchedule([]Step{
		{From: "22:00", Volume: 0.2},
		{From: "07:30", Volume: 1},
		{From: "16:00", Volume: 0.6},
	})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.Local)
	tests := []struct {
		at   string
		want float64
	}{
		{"00:00", 0.2}, // last night's step holds until the first of the day
		{"07:29", 0.2},
		{"07:30", 1},
		{"12:00", 1},
		{"15:59", 1},
		{"16:00", 0.6},
		{"21:59", 0.6},
		{"22:00", 0.2},
		{"23:59", 0.2},
	}
	for _, tt := range tests {
		d, _ := parseClock(tt.at)
		if got := s.At(day.Add(d)); got != tt.want {
			t.Errorf("At(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	var none Schedule
	if got := none.At(day); got != 1 {
		t.Errorf("empty schedule gives %v, want full volume", got)
	}
}

func TestScheduleErrors(t *testing.T) {
	tests := []struct {
		steps []Step
		want  string
	}{
		{[]Step{{From: "7:30", Volume: 1}}, `volume step 1: from: "7:30" is not a time of day as HH:MM`},
		{[]Step{{From: "24:00", Volume: 1}}, "not a time of day"},
		{[]Step{{From: "08:00", Volume: 1}, {From: "12:00", Volume: 1.5}}, "volume step 2 (from 12:00): volume 1.5 is outside 0-1"},
		{[]Step{{From: "08:00", Volume: -0.1}}, "outside 0-1"},
		{[]Step{{From: "08:00", Volume: 1}, {From: "08:00", Volume: 0.5}}, `volume step 2: from "08:00" repeats`},
	}
	for _, tt := range tests {
		_, err := NewSchedule(tt.steps)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSchedule(%v) error = %v, want it to say %q", tt.steps, err, tt.want)
		}
	}
}
