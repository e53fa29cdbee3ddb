package web

import (
	"strings"
	"testing"
	"time"
)

// The desk's forms come from outside: a slot choice and a closure's day
// and hours are read without trusting them.
func FuzzDeskSlot(f *testing.F) {
	for _, seed := range []string{"family|2026-11-23T10:00:00+01:00", "family|", "|2026-11-23T10:00:00Z", "x|y|z", "", "family|2026-11-23 10:00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		service, start, ok := deskSlot(v)
		if !ok {
			return
		}
		if !strings.HasPrefix(v, service+"|") {
			t.Errorf("%q read as service %q", v, service)
		}
		again, at, ok := deskSlot(service + "|" + start.Format(time.RFC3339Nano))
		if !ok || again != service || !at.Equal(start) {
			t.Errorf("%q read as %s %v, written back and read as %s %v", v, service, start, again, at)
		}
	})
}

func FuzzDeskHours(f *testing.F) {
	for _, seed := range [][3]string{{"2026-11-24", "", ""}, {"2026-11-24", "09:00", "10:30"}, {"2026-11-24", "9", ""}, {"24.11.2026", "", ""}, {"2026-11-24", "25:00", ""}, {"2026-03-29", "02:30", "03:00"}} {
		f.Add(seed[0], seed[1], seed[2])
	}
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, day, from, to string) {
		start, end, ok := deskHours(loc, day, from, to)
		if !ok {
			return
		}
		d, err := time.ParseInLocation(dayKey, day, loc)
		if err != nil {
			t.Fatalf("%q accepted as a day: %v", day, err)
		}
		next := d.AddDate(0, 0, 1)
		if start.Before(d) || !start.Before(next) {
			t.Errorf("%q %q: the start %v is not on that day", day, from, start)
		}
		if end.Before(d) || end.After(next) {
			t.Errorf("%q %q: the end %v is not on that day", day, to, end)
		}
	})
}
