package stats

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// day drives the real engine through a small office day and returns its
// events: A001 (kiosk) served by counter 1 after 10 min, A002 (phone) a
// no-show at counter 1 after 19 min, F001 (assistant) served by counter 3
// after 38 min; the next day one more ticket.
func day(t *testing.T) (*queue.Office, []queue.Event) {
	t.Helper()
	cfg, err := officeconfig.Load(filepath.Join("..", "examples", "offices", "starachowice.toml"))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	s := queue.NewState(o)
	var events []queue.Event
	at := func(hhmm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-23 "+hhmm, o.Location)
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
	do(at("08:59"), queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	do(at("08:59"), queue.SetCounter{Counter: 3, Status: queue.CounterOpenStatus})
	do(at("09:00"), queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	do(at("09:01"), queue.Issue{Service: "family", Lang: "en", Channel: queue.ChannelPhone})
	// The office asks a phone ticket near the front to confirm presence.
	do(at("09:05"), queue.ConfirmPresence{Ticket: "A002", Presence: queue.PresenceOnTheWay})
	do(at("09:02"), queue.Issue{Service: "maintenance", Lang: "pl", Channel: queue.ChannelAssistant})
	do(at("09:10"), queue.CallNext{Counter: 1})
	do(at("09:11"), queue.Start{Counter: 1})
	do(at("09:20"), queue.Finish{Counter: 1})
	do(at("09:21"), queue.Rate{Ticket: "A001", Rating: queue.RatingGood})
	do(at("09:20"), queue.CallNext{Counter: 1})
	do(at("09:25"), queue.MarkNoShow{Counter: 1})
	do(at("09:40"), queue.CallNext{Counter: 3})
	do(at("09:50"), queue.Finish{Counter: 3})
	next := at("09:00").AddDate(0, 0, 1)
	do(next, queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	return o, events
}

func TestFiguresOfADay(t *testing.T) {
	o, events := day(t)
	r := FromEvents(events, o, Range{From: "2026-11-23", To: "2026-11-23"}, time.Time{})
	f := r.Total
	checks := []struct {
		name      string
		got, want any
	}{
		{"issued", f.Issued, 3},
		{"kiosk", f.ByChannel[queue.ChannelKiosk], 1},
		{"phone", f.ByChannel[queue.ChannelPhone], 1},
		{"assistant", f.ByChannel[queue.ChannelAssistant], 1},
		{"served", f.Served, 2},
		{"no-shows", f.NoShows, 1},
		{"wait mean", f.WaitMean(), (10*time.Minute + 19*time.Minute + 38*time.Minute) / 3},
		{"wait median", f.WaitMedian(), 19 * time.Minute},
		{"wait p90", f.WaitP90(), 38 * time.Minute},
		{"service mean", f.ServiceMean(), 9*time.Minute + 30*time.Second},
		{"within target", f.WithinTarget, 2},
		{"good ratings", f.Ratings[queue.RatingGood], 1},
		{"days", len(r.Days), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	var c1 *Figures
	for _, g := range r.Counters {
		if g.Key == "1" {
			c1 = g.Figures
		}
	}
	if c1 == nil || c1.Served != 1 || c1.NoShows != 1 || c1.WaitMedian() != 10*time.Minute && c1.WaitMedian() != 19*time.Minute {
		t.Errorf("counter 1: %+v", c1)
	}
	if len(r.Services) != 2 || r.Services[0].Key != "family" || r.Services[0].Issued != 2 {
		t.Errorf("services: %+v", r.Services)
	}
	two := FromEvents(events, o, Range{From: "2026-11-23", To: "2026-11-24"}, time.Time{})
	if two.Total.Issued != 4 || len(two.Days) != 2 {
		t.Errorf("two days: issued %d over %d days, want 4 over 2", two.Total.Issued, len(two.Days))
	}
}

// Compute reads the same figures from a real bbolt log.
func TestComputeFromLog(t *testing.T) {
	o, events := day(t)
	log, err := store.OpenOfficeLog(filepath.Join(t.TempDir(), "o.db"), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	if err := log.Append(events); err != nil {
		t.Fatal(err)
	}
	r, err := Compute(log.Scan, o, Range{From: "2026-11-23", To: "2026-11-23"}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.Served != 2 || r.Total.WaitP90() != 38*time.Minute {
		t.Errorf("from the log: served %d, p90 %v", r.Total.Served, r.Total.WaitP90())
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not read back: %v", err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Errorf("header %v", rows[0])
	}
	want := "2026-11-23,day,all,3,1,1,0,1,2,1,0,3,1340,1140,2280,570,66.7,1,0,0"
	if got := strings.Join(rows[1], ","); got != want {
		t.Errorf("day row\n got %s\nwant %s", got, want)
	}
	last := rows[len(rows)-1]
	if last[0] != "2026-11-23..2026-11-23" || last[1] != "counter" {
		t.Errorf("last row %v, want the range's counter rows at the end", last)
	}
}

func TestChartSVG(t *testing.T) {
	c := Chart{Title: "Tickets per day", Desc: "by channel", Labels: []string{"23.11", "24.11"}, Stacked: true,
		Series: []Series{{Name: "kiosk", Color: "#1d4ed8", Values: []float64{3, 5}}, {Name: "phone <b>", Color: "#0f766e", Values: []float64{1, 0}}},
		Line:   4, LineLabel: "target"}
	svg := c.SVG()
	for _, want := range []string{`role="img"`, "<title", "Tickets per day", "phone &lt;b&gt;", "stroke-dasharray", "23.11, kiosk: 3"} {
		if !strings.Contains(svg, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, "<b>") {
		t.Error("a series name is not escaped")
	}
	if got := niceCeil(7); got != 10 {
		t.Errorf("niceCeil(7) = %v", got)
	}
}

// A kiosk's online ticket withdrawn for the leased ticket it printed
// instead counts once: the ticket a resident held.
func TestReplacedTicketCountsOnce(t *testing.T) {
	cfg, err := officeconfig.Load(filepath.Join("..", "examples", "offices", "starachowice.toml"))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	s := queue.NewState(o)
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)
	var events []queue.Event
	for _, cmd := range []queue.Command{
		queue.GrantLease{ID: "l1", Device: "tok", Service: "family", Count: 5},
		queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk, RequestID: "tok/k-1"},
		queue.IssueLeased{RequestID: "tok/k-1", Device: "tok", Service: "family", Number: 995, IssuedAt: now, Lang: "pl"},
	} {
		evs, _, err := s.Execute(now, "test", cmd)
		if err != nil {
			t.Fatalf("%s: %v", queue.String(cmd), err)
		}
		events = append(events, evs...)
	}
	r := FromEvents(events, o, Range{From: "2026-11-23", To: "2026-11-23"}, time.Time{})
	if r.Total.Issued != 1 || r.Total.ByChannel[queue.ChannelKiosk] != 1 || r.Total.Cancelled != 0 {
		t.Errorf("issued %d (kiosk %d, cancelled %d), want the one printed", r.Total.Issued, r.Total.ByChannel[queue.ChannelKiosk], r.Total.Cancelled)
	}
}
