package stats

import (
	"bytes"
	"encoding/csv"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
)

// logBook builds an office's event log by hand, so the statistics are
// checked against events whose every field the test chose (outcomes
// included, which the console's commands record).
type logBook struct {
	t      *testing.T
	o      *queue.Office
	events []queue.Event
}

func newLogBook(t *testing.T) *logBook {
	t.Helper()
	cfg, err := officeconfig.Load(filepath.Join("..", "examples", "offices", "starachowice.toml"))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	for i := range o.Services {
		if o.Services[i].ID == "family" {
			o.Services[i].Outcomes = []queue.Outcome{
				{ID: "id-card", Names: map[string]string{"pl": "wniosek o dowód", "en": "ID card application"}},
				{ID: "certificate", Names: map[string]string{"pl": "zaświadczenie", "en": "certificate"}},
				{ID: "registration", Names: map[string]string{"pl": "meldunek", "en": "registration"}},
			}
		}
	}
	return &logBook{t: t, o: o}
}

// at is an office-local time: "2026-11-23 09:05" (a Monday).
func (l *logBook) at(when string) time.Time {
	l.t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", when, l.o.Location)
	if err != nil {
		l.t.Fatal(err)
	}
	return tm
}

func (l *logBook) add(when, actor string, body queue.Body) {
	l.events = append(l.events, queue.Event{Seq: uint64(len(l.events) + 1), At: l.at(when), Actor: actor, Body: body})
}

// visit is one ticket's life: issued, called after wait, served for
// took by clerk (finished with outcomes), or a no-show when took is 0.
func (l *logBook) visit(id, service, issued string, wait, took time.Duration, clerk string, outcomes ...string) {
	l.t.Helper()
	at := l.at(issued)
	l.add(issued, "kiosk:lobby", queue.TicketIssued{Ticket: queue.Ticket{ID: id, Day: at.Format("2006-01-02"), Service: service,
		Channel: queue.ChannelKiosk, IssuedAt: at, Lang: "pl"}})
	minute := func(t time.Time) string { return t.Format("2006-01-02 15:04") }
	called := at.Add(wait)
	l.add(minute(called), clerk, queue.TicketCalled{Ticket: id, Counter: 1})
	if took == 0 {
		l.add(minute(called.Add(3*time.Minute)), clerk, queue.TicketNoShow{Ticket: id, Counter: 1})
		return
	}
	l.add(minute(called), clerk, queue.ServiceStarted{Ticket: id, Counter: 1})
	l.add(minute(called.Add(took)), clerk, queue.TicketFinished{Ticket: id, Counter: 1, Outcomes: outcomes})
}

func TestHeatMap(t *testing.T) {
	l := newLogBook(t)
	// Two Mondays and a Tuesday; Monday at 9 has 3 arrivals over 2 Mondays.
	l.visit("a1", "family", "2026-11-23 09:05", 10*time.Minute, 5*time.Minute, "clerk:anna")
	l.visit("a2", "family", "2026-11-23 09:40", 30*time.Minute, 5*time.Minute, "clerk:anna")
	l.visit("a3", "family", "2026-11-30 09:10", 20*time.Minute, 5*time.Minute, "clerk:anna")
	l.visit("a4", "family", "2026-11-30 13:00", 2*time.Minute, 5*time.Minute, "clerk:anna")
	l.visit("a5", "family", "2026-11-24 11:15", 4*time.Minute, 5*time.Minute, "clerk:anna")
	// Outside the range: not counted.
	l.visit("a6", "family", "2026-12-01 09:00", time.Minute, time.Minute, "clerk:anna")
	h := FromEvents(l.events, l.o, Range{From: "2026-11-23", To: "2026-11-30"}, l.at("2026-12-01 18:00")).Heat
	const mon, tue, wed = 0, 1, 2
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"Monday 9:00 arrivals", h.Arrivals[mon][9], 3},
		{"Mondays", h.Days[mon], 2},
		{"Monday 9:00 per Monday", h.MeanArrivals(mon, 9), 1.5},
		{"Monday 9:00 median wait", h.WaitMedian(mon, 9), 20 * time.Minute},
		{"Monday 13:00 per Monday", h.MeanArrivals(mon, 13), 0.5},
		{"Tuesday 11:00", h.Arrivals[tue][11], 1},
		{"Tuesdays", h.Days[tue], 1},
		{"Wednesday: none", h.MeanArrivals(wed, 9), 0.0},
		{"no wait where nobody came", h.WaitMedian(tue, 9), time.Duration(-1)},
		{"hours", len(h.Hours()), 5},
		{"first hour", h.FirstHour, 9},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// A day that crosses into summer time keeps arrivals in their local hour.
func TestHeatMapLocalHours(t *testing.T) {
	l := newLogBook(t)
	l.visit("s1", "family", "2026-07-06 08:30", time.Minute, time.Minute, "clerk:anna")
	l.visit("w1", "family", "2026-11-23 08:30", time.Minute, time.Minute, "clerk:anna")
	h := FromEvents(l.events, l.o, Range{From: "2026-01-01", To: "2026-12-31"}, time.Time{}).Heat
	if h.Arrivals[0][8] != 2 {
		t.Errorf("08:30 in July and November: Monday 8:00 has %d arrivals, want 2 (hours are the office's)", h.Arrivals[0][8])
	}
}

func TestClerks(t *testing.T) {
	l := newLogBook(t)
	l.visit("a1", "family", "2026-11-23 09:00", 5*time.Minute, 10*time.Minute, "clerk:anna")
	l.visit("a2", "family", "2026-11-23 09:01", 5*time.Minute, 20*time.Minute, "clerk:anna")
	l.visit("a3", "family", "2026-11-23 09:02", 5*time.Minute, 0, "clerk:anna")
	l.visit("a4", "family", "2026-11-23 09:03", 5*time.Minute, 6*time.Minute, "clerk:bartek")
	l.visit("a5", "family", "2026-11-23 09:04", 5*time.Minute, 4*time.Minute, "counter:5")
	// The resident rates at the kiosk: the rating is Anna's, who finished.
	l.add("2026-11-23 09:40", "kiosk:lobby", queue.RatingGiven{Ticket: "a1", Rating: queue.RatingGood})
	l.add("2026-11-23 09:41", "web:eticket", queue.RatingGiven{Ticket: "a2", Rating: queue.RatingBad})
	l.add("2026-11-23 09:42", "kiosk:lobby", queue.RatingGiven{Ticket: "a4", Rating: queue.RatingNeutral})
	r := FromEvents(l.events, l.o, Range{From: "2026-11-23", To: "2026-11-23"}, time.Time{})
	want := []struct {
		actor, name        string
		served, noShows    int
		mean               time.Duration
		good, neutral, bad int
		clerk              bool
	}{
		{"clerk:anna", "anna", 2, 1, 15 * time.Minute, 1, 0, 1, true},
		{"clerk:bartek", "bartek", 1, 0, 6 * time.Minute, 0, 1, 0, true},
		{"counter:5", "counter:5", 1, 0, 4 * time.Minute, 0, 0, 0, false},
	}
	if len(r.Clerks) != len(want) {
		t.Fatalf("clerks %+v, want %d", r.Clerks, len(want))
	}
	for i, w := range want {
		c := r.Clerks[i]
		if c.Actor != w.actor || c.Name() != w.name || c.Served != w.served || c.NoShows != w.noShows || c.ServiceMean() != w.mean ||
			c.Ratings[queue.RatingGood] != w.good || c.Ratings[queue.RatingNeutral] != w.neutral || c.Ratings[queue.RatingBad] != w.bad || c.IsClerk() != w.clerk {
			t.Errorf("row %d: %s served %d, no-shows %d, mean %v, ratings %v; want %+v", i, c.Actor, c.Served, c.NoShows, c.ServiceMean(), c.Ratings, w)
		}
	}
}

func TestBookings(t *testing.T) {
	l := newLogBook(t)
	book := func(id, slot string, state queue.ReservationState) {
		l.add("2026-11-20 12:00", "web:book", queue.ReservationBooked{Reservation: queue.Reservation{ID: id, Service: "family", Slot: l.at(slot), State: state, Lang: "pl"}})
	}
	book("early", "2026-11-23 09:00", queue.Booked)
	book("late", "2026-11-23 09:15", queue.Booked)
	book("missed", "2026-11-23 09:30", queue.Booked)
	book("cancelled", "2026-11-23 09:45", queue.Booked)
	book("confirmed", "2026-11-23 10:00", queue.Held)
	book("never-confirmed", "2026-11-23 10:15", queue.Held)
	book("moved-away", "2026-11-23 10:30", queue.Booked)
	book("later", "2026-11-23 16:00", queue.Booked)
	book("other-day", "2026-11-25 10:00", queue.Booked)
	l.add("2026-11-20 12:05", "web:book", queue.ReservationConfirmed{Reservation: "confirmed"})
	l.add("2026-11-21 08:00", "web:book", queue.ReservationCancelled{Reservation: "cancelled"})
	l.add("2026-11-21 08:00", "web:book", queue.ReservationRescheduled{Reservation: "moved-away", Slot: l.at("2026-11-26 10:30")})
	l.add("2026-11-23 08:50", "kiosk:lobby", queue.ReservationCheckedIn{Reservation: "early", Ticket: "x1"})
	l.add("2026-11-23 09:21", "kiosk:lobby", queue.ReservationCheckedIn{Reservation: "late", Ticket: "x2"})
	l.add("2026-11-23 10:04", "kiosk:lobby", queue.ReservationCheckedIn{Reservation: "confirmed", Ticket: "x3"})
	// 12:00: 09:30's window (10 min of grace) closed long ago, 16:00's is
	// still to come.
	b := FromEvents(l.events, l.o, Range{From: "2026-11-23", To: "2026-11-23"}, l.at("2026-11-23 12:00")).Bookings
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"booked", b.Total.Booked, 6},
		{"checked in", b.Total.CheckedIn, 3},
		{"no-shows", b.Total.NoShows, 1},
		{"cancelled", b.Total.Cancelled, 1},
		{"upcoming", b.Total.Upcoming, 1},
		{"no-show rate", b.Total.NoShowRate(), 0.25},
		{"late share", b.Total.LateShare(), 2.0 / 3},
		{"lateness median", b.Total.LatenessMedian(), 4 * time.Minute},
		{"lateness p90", b.Total.LatenessP90(), 6 * time.Minute},
		{"services", len(b.Services), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if b.Total.Lateness[0] >= 0 && b.Total.Lateness[1] >= 0 && b.Total.Lateness[2] >= 0 {
		t.Errorf("lateness %v: the check-in 10 min early is not negative", b.Total.Lateness)
	}
	// The same bookings a day before: nothing due yet, no rate to give.
	before := FromEvents(l.events, l.o, Range{From: "2026-11-23", To: "2026-11-23"}, l.at("2026-11-22 12:00")).Bookings
	if before.Total.Upcoming != 2 || before.Total.NoShows != 0 {
		t.Errorf("before the day: upcoming %d, no-shows %d; want the 2 not checked in upcoming", before.Total.Upcoming, before.Total.NoShows)
	}
}

func TestOutcomes(t *testing.T) {
	l := newLogBook(t)
	l.visit("a1", "family", "2026-11-23 09:00", time.Minute, time.Minute, "clerk:anna", "id-card")
	l.visit("a2", "family", "2026-11-23 09:01", time.Minute, time.Minute, "clerk:anna", "id-card", "certificate")
	l.visit("a3", "family", "2026-11-23 09:02", time.Minute, time.Minute, "clerk:anna")
	l.visit("a4", "family", "2026-11-23 09:03", time.Minute, time.Minute, "clerk:anna", "passport") // no longer configured
	l.visit("a5", "family", "2026-11-23 09:04", time.Minute, 0, "clerk:anna")                       // a no-show: not finished
	// Transferred from maintenance to family and finished there.
	at := l.at("2026-11-23 09:05")
	l.add("2026-11-23 09:05", "kiosk:lobby", queue.TicketIssued{Ticket: queue.Ticket{ID: "f1", Day: "2026-11-23", Service: "maintenance", Channel: queue.ChannelKiosk, IssuedAt: at}})
	l.add("2026-11-23 09:06", "clerk:anna", queue.TicketCalled{Ticket: "f1", Counter: 1})
	l.add("2026-11-23 09:07", "clerk:anna", queue.TicketTransferred{Ticket: "f1", FromCounter: 1, ToService: "family"})
	l.add("2026-11-23 09:08", "clerk:bartek", queue.TicketCalled{Ticket: "f1", Counter: 2})
	l.add("2026-11-23 09:09", "clerk:bartek", queue.TicketFinished{Ticket: "f1", Counter: 2, Outcomes: []string{"registration"}})
	r := FromEvents(l.events, l.o, Range{From: "2026-11-23", To: "2026-11-23"}, time.Time{})
	// Every service that records outcomes is listed, family first (the
	// configuration's order); the others finished nothing here.
	if len(r.Outcomes) == 0 || r.Outcomes[0].Service != "family" {
		t.Fatalf("outcomes %+v, want family's first", r.Outcomes)
	}
	for _, other := range r.Outcomes[1:] {
		if other.Finished != 0 {
			t.Errorf("%s finished %d tickets, want none", other.Service, other.Finished)
		}
	}
	s := r.Outcomes[0]
	var got []string
	for _, o := range s.Outcomes {
		got = append(got, o.ID+"="+strconv.Itoa(o.Count))
	}
	if want := "id-card=2 certificate=1 registration=1 passport=1"; strings.Join(got, " ") != want {
		t.Errorf("family's outcomes %s, want %s (configured order, then the unknown)", strings.Join(got, " "), want)
	}
	if s.Finished != 5 || s.WithNone != 1 {
		t.Errorf("family finished %d with none %d, want 5 and 1", s.Finished, s.WithNone)
	}
	if share := s.Share(s.Outcomes[0]); share != 0.4 {
		t.Errorf("id-card's share %v, want 0.4", share)
	}
}

// Every table's CSV reads back with its header and the figures above.
func TestTablesCSV(t *testing.T) {
	l := newLogBook(t)
	l.visit("a1", "family", "2026-11-23 09:05", 10*time.Minute, 5*time.Minute, "clerk:anna", "id-card")
	l.add("2026-11-20 12:00", "web:book", queue.ReservationBooked{Reservation: queue.Reservation{ID: "r1", Service: "family", Slot: l.at("2026-11-23 09:00"), State: queue.Booked}})
	r := FromEvents(l.events, l.o, Range{From: "2026-11-23", To: "2026-11-23"}, l.at("2026-11-23 18:00"))
	for _, c := range []struct {
		table, header, row string
	}{
		{"days", "date,group,key,issued", "2026-11-23,day,all,1,1,0,0,0,1,0,0,1,600,600,600,300,100.0,0,0,0"},
		{"heatmap", "weekday,hour,days,arrivals,arrivals_per_day,called,wait_median_s", "1,9,1,1,1.00,1,600"},
		{"clerks", "actor,served,no_shows,service_mean_s", "clerk:anna,1,0,300,0,0,0"},
		{"bookings", "service,booked,cancelled,checked_in,no_shows", "all,1,0,0,1,0,100.0,,0,0"},
		{"outcomes", "service,outcome,count,finished,share_pct", "family,id-card,1,1,100.0"},
	} {
		var buf bytes.Buffer
		if err := WriteTable(&buf, r, c.table); err != nil {
			t.Fatalf("%s: %v", c.table, err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%s does not read back: %v", c.table, err)
		}
		if len(rows) < 2 || !strings.HasPrefix(strings.Join(rows[0], ","), c.header) || strings.Join(rows[1], ",") != c.row {
			t.Errorf("%s:\n got %v\nwant header %s and first row %s", c.table, rows, c.header, c.row)
		}
	}
	if err := WriteTable(&bytes.Buffer{}, r, "salaries"); err == nil || !strings.Contains(err.Error(), "salaries") {
		t.Errorf("an unknown table: %v", err)
	}
}

func TestHeatMapSVG(t *testing.T) {
	m := HeatMap{Title: "Arrivals <per hour>", Desc: "by weekday", Rows: []string{"Mon", "Tue"}, Cols: []string{"9", "10"},
		Values: [][]float64{{4, 1.5}, {-1, 0}}, Decimals: 1}
	svg := m.SVG()
	for _, want := range []string{`role="img"`, "Arrivals &lt;per hour&gt;", "Mon, 9: 4.0", ">1.5<", `fill="#0b3d91"`, `fill="#ffffff">4.0<`} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, "Tue, 9:") {
		t.Error("a cell without data is drawn with a figure")
	}
	// Every figure keeps WCAG AA contrast (4.5:1) on its cell, all the
	// way along the ramp.
	if c := contrast("#000000", "#ffffff"); math.Abs(c-21) > 0.01 {
		t.Fatalf("black on white: contrast %.2f, want 21", c)
	}
	for i := 0; i <= 20; i++ {
		fill := ramp(float64(i) / 20)
		ink := inkOn(fill)
		if c := contrast(fill, ink); c < 4.5 {
			t.Errorf("%s on %s: contrast %.2f", ink, fill, c)
		}
	}
}

// A finish or a no-show taken back at the counter (queue.Undone) did not
// happen: the ticket counts once, as it really ended, with the outcomes
// and the clerk of that end.
func TestUndoneEndsDoNotCount(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		undo                         func(l *logBook)
		served, noShows, annaNoShows int
		outcomes                     string
	}{
		{"a finish undone, finished again", func(l *logBook) {
			l.add("2026-11-23 09:10", "clerk:anna", queue.TicketFinished{Ticket: "u1", Counter: 1, Outcomes: []string{"id-card"}})
			l.add("2026-11-23 09:10", "clerk:anna", queue.Undone{Counter: 1, Seq: uint64(len(l.events)), Undid: "TicketFinished", Ticket: "u1"})
			l.add("2026-11-23 09:14", "clerk:anna", queue.TicketFinished{Ticket: "u1", Counter: 1, Outcomes: []string{"certificate"}})
		}, 1, 0, 0, "id-card=0 certificate=1"},
		{"a no-show undone, then served", func(l *logBook) {
			l.add("2026-11-23 09:10", "clerk:anna", queue.TicketNoShow{Ticket: "u1", Counter: 1})
			l.add("2026-11-23 09:10", "clerk:anna", queue.Undone{Counter: 1, Seq: uint64(len(l.events)), Undid: "TicketNoShow", Ticket: "u1"})
			l.add("2026-11-23 09:14", "clerk:anna", queue.TicketFinished{Ticket: "u1", Counter: 1, Outcomes: []string{"certificate"}})
		}, 1, 0, 0, "id-card=0 certificate=1"},
		{"an undo naming another event changes nothing", func(l *logBook) {
			l.add("2026-11-23 09:10", "clerk:anna", queue.TicketNoShow{Ticket: "u1", Counter: 1})
			l.add("2026-11-23 09:10", "clerk:anna", queue.Undone{Counter: 1, Seq: 1, Undid: "TicketNoShow", Ticket: "u1"})
		}, 0, 1, 1, "id-card=0 certificate=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLogBook(t)
			l.add("2026-11-23 09:00", "kiosk:lobby", queue.TicketIssued{Ticket: queue.Ticket{ID: "u1", Day: "2026-11-23", Service: "family",
				Channel: queue.ChannelKiosk, IssuedAt: l.at("2026-11-23 09:00"), Lang: "pl"}})
			l.add("2026-11-23 09:05", "clerk:anna", queue.TicketCalled{Ticket: "u1", Counter: 1})
			tc.undo(l)
			r := FromEvents(l.events, l.o, Range{From: "2026-11-23", To: "2026-11-23"}, time.Time{})
			if r.Total.Served != tc.served || r.Total.NoShows != tc.noShows {
				t.Errorf("served %d, no-shows %d; want %d, %d", r.Total.Served, r.Total.NoShows, tc.served, tc.noShows)
			}
			if len(r.Total.Services) != tc.served {
				t.Errorf("%d service times, want %d", len(r.Total.Services), tc.served)
			}
			var anna *Clerk
			for i := range r.Clerks {
				if r.Clerks[i].Actor == "clerk:anna" {
					anna = &r.Clerks[i]
				}
			}
			if anna == nil || anna.Served != tc.served || anna.NoShows != tc.annaNoShows {
				t.Errorf("anna: %+v, want served %d, no-shows %d", anna, tc.served, tc.annaNoShows)
			}
			var got []string
			for _, o := range r.Outcomes[0].Outcomes {
				got = append(got, o.ID+"="+strconv.Itoa(o.Count))
			}
			if g := strings.Join(got, " "); !strings.HasPrefix(g, tc.outcomes) {
				t.Errorf("outcomes %s, want %s", g, tc.outcomes)
			}
		})
	}
}
