package stats

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
)

// lockerWeek drives the real engine through a locker's week: on Monday
// two documents go in (d1 at 10:05, d2 at 11:00) and a reservation is
// cancelled; on Tuesday d3 goes in and d1 is collected (26 h after); on
// Wednesday d2 is collected while the locker was offline (46 h after, by
// the locker's clock) and reported two hours later; d3 expires on
// Thursday and is taken back by staff on Friday.
func lockerWeek(t *testing.T) (*queue.Office, []queue.Event) {
	t.Helper()
	cfg, err := officeconfig.Load(filepath.Join("..", "examples", "offices", "starachowice.toml"))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	o.Lockers = []queue.Locker{{
		ID: "hall", Names: map[string]string{"pl": "Urzędomat w holu"},
		Compartments: []queue.Compartment{{ID: "1", Size: "M"}, {ID: "2", Size: "M"}, {ID: "3", Size: "M"}},
		Deadline:     48 * time.Hour,
		Documents:    []queue.LockerDocument{{ID: "passport", Names: map[string]string{"pl": "paszport"}}},
	}}
	s := queue.NewState(o)
	var events []queue.Event
	at := func(day, hhmm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", day+" "+hhmm, o.Location)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	do := func(when time.Time, cmd queue.Command) {
		t.Helper()
		evs, _, err := s.Execute(when, "test", cmd)
		if err != nil {
			t.Fatalf("%s at %s: %v", queue.String(cmd), when, err)
		}
		events = append(events, evs...)
	}
	reserve := func(when time.Time, id string) {
		t.Helper()
		_, clerk, err := queue.NewLockerCode(nil, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		_, pickup, err := queue.NewLockerCode(nil, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		do(when, queue.ReserveCompartment{Deposit: id, Locker: "hall", Document: "passport", Size: "M", ClerkCode: clerk, PickupCode: pickup})
	}
	const mon, tue, wed, thu, fri = "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"
	reserve(at(mon, "10:00"), "d1")
	do(at(mon, "10:05"), queue.StoreDeposit{Deposit: "d1", At: at(mon, "10:05")})
	reserve(at(mon, "10:50"), "d2")
	do(at(mon, "11:00"), queue.StoreDeposit{Deposit: "d2", At: at(mon, "11:00")})
	reserve(at(mon, "12:00"), "d4")
	do(at(mon, "12:10"), queue.CancelDeposit{Deposit: "d4", Reason: "wrong size"})
	reserve(at(tue, "09:00"), "d3")
	do(at(tue, "09:30"), queue.StoreDeposit{Deposit: "d3", At: at(tue, "09:30")})
	do(at(tue, "12:05"), queue.PickUpDeposit{Deposit: "d1", At: at(tue, "12:05")})
	do(at(wed, "11:00"), queue.PickUpDeposit{Deposit: "d2", At: at(wed, "09:00"), Offline: true})
	do(at(thu, "10:00"), queue.ExpireDeposits{})
	do(at(fri, "08:00"), queue.RetrieveDeposit{Deposit: "d3", At: at(fri, "08:00")})
	return o, events
}

// Per locker and day: documents put in, collected (offline ones
// counted), the time each waited, expired and taken back; each on the day
// it happened, and only days in the range.
func TestLockerFigures(t *testing.T) {
	o, events := lockerWeek(t)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, o.Location)
	tests := []struct {
		name  string
		rg    Range
		days  []LockerDay
		total LockerFigures
	}{
		{"Monday to Thursday", Range{"2026-11-23", "2026-11-26"}, []LockerDay{
			{"2026-11-23", LockerFigures{Deposits: 2}},
			{"2026-11-24", LockerFigures{Deposits: 1, Pickups: 1, PickupTimes: []time.Duration{26 * time.Hour}}},
			{"2026-11-25", LockerFigures{Pickups: 1, OfflinePickups: 1, PickupTimes: []time.Duration{46 * time.Hour}}},
			{"2026-11-26", LockerFigures{Expired: 1}},
		}, LockerFigures{Deposits: 3, Pickups: 2, OfflinePickups: 1, Expired: 1, PickupTimes: []time.Duration{26 * time.Hour, 46 * time.Hour}}},
		{"Friday alone", Range{"2026-11-27", "2026-11-27"}, []LockerDay{
			{"2026-11-27", LockerFigures{Retrieved: 1}},
		}, LockerFigures{Retrieved: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := FromEvents(events, o, tt.rg, now)
			if len(rep.Lockers) != 1 || rep.Lockers[0].Locker != "hall" {
				t.Fatalf("lockers %+v, want hall alone", rep.Lockers)
			}
			l := rep.Lockers[0]
			if !reflect.DeepEqual(l.Days, tt.days) {
				t.Errorf("days\n%+v\nwant\n%+v", l.Days, tt.days)
			}
			if !reflect.DeepEqual(l.Total, tt.total) {
				t.Errorf("total %+v, want %+v", l.Total, tt.total)
			}
		})
	}
	if rep := FromEvents(events, o, Range{"2026-11-28", "2026-11-30"}, now); len(rep.Lockers) != 0 {
		t.Errorf("a quiet range lists %+v", rep.Lockers)
	}
}

// The lockers' CSV: a row per locker and day, then the range's, with the
// median and 90th percentile of the time to collection in seconds.
func TestLockerCSV(t *testing.T) {
	o, events := lockerWeek(t)
	rep := FromEvents(events, o, Range{"2026-11-23", "2026-11-26"}, time.Date(2026, 11, 28, 12, 0, 0, 0, o.Location))
	var buf bytes.Buffer
	if err := WriteTable(&buf, rep, "lockers"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"date", "locker", "deposits", "pickups", "offline_pickups", "pickup_median_s", "pickup_p90_s", "expired", "retrieved"},
		{"2026-11-23", "hall", "2", "0", "0", "0", "0", "0", "0"},
		{"2026-11-24", "hall", "1", "1", "0", "93600", "93600", "0", "0"},
		{"2026-11-25", "hall", "0", "1", "1", "165600", "165600", "0", "0"},
		{"2026-11-26", "hall", "0", "0", "0", "0", "0", "1", "0"},
		{"2026-11-23..2026-11-26", "hall", "3", "2", "1", "93600", "165600", "1", "0"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("CSV\n%v\nwant\n%v", rows, want)
	}
}
