package sim

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
)

// exampleOffices are the offices of examples/offices, by file name.
var exampleOffices = []string{"starachowice", "czestochowa"}

func loadOffice(t testing.TB, name string) *queue.Office {
	t.Helper()
	cfg, err := officeconfig.Load("../../examples/offices/" + name + ".toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Offices[0]
}

func run(t testing.TB, cfg Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func report(t testing.TB, res *Result) string {
	t.Helper()
	var b strings.Builder
	if err := res.Report(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestRunIsDeterministicForASeed(t *testing.T) {
	o := loadOffice(t, "starachowice")
	a := run(t, Config{Office: o, Seed: 7})
	b := run(t, Config{Office: o, Seed: 7})
	if !reflect.DeepEqual(a.Tickets, b.Tickets) || report(t, a) != report(t, b) {
		t.Fatalf("two runs with seed 7 differ:\n%s\n%s", report(t, a), report(t, b))
	}
	c := run(t, Config{Office: o, Seed: 8})
	if reflect.DeepEqual(a.Tickets, c.Tickets) {
		t.Errorf("seeds 7 and 8 gave the same day")
	}
}

func TestDaysAreSane(t *testing.T) {
	for _, name := range exampleOffices {
		t.Run(name, func(t *testing.T) {
			o := loadOffice(t, name)
			res := run(t, Config{Office: o, Seed: 3, Days: 2})
			t.Logf("\n%s", report(t, res))
			if res.Issued < 200 {
				t.Fatalf("only %d tickets issued in two days", res.Issued)
			}
			if got := res.Served + res.NoShows + res.Cancelled; got != res.Issued {
				t.Errorf("served %d + no-shows %d + cancelled %d = %d, issued %d: some tickets were left open",
					res.Served, res.NoShows, res.Cancelled, got, res.Issued)
			}
			if res.Cancelled != 0 {
				t.Errorf("%d tickets were still waiting when the clerks went home", res.Cancelled)
			}
			if res.Refused == 0 || res.RefusedBy[queue.ReasonCutOff] == 0 {
				t.Errorf("refused %v: residents arriving after the cut-off must be refused", res.RefusedBy)
			}
			for _, tk := range res.Tickets {
				checkTicket(t, o, tk)
			}
			if res.PriorityServed == 0 || res.PriorityWait >= res.RegularWait {
				t.Errorf("%d priority tickets waited %v on average, others %v: priority must wait less",
					res.PriorityServed, res.PriorityWait, res.RegularWait)
			}
			if res.Wait.Mean <= 0 || res.Wait.Median > res.Wait.P90 || res.Wait.P90 > res.Wait.Max {
				t.Errorf("wait figures out of order: %+v", res.Wait)
			}
			if res.Utilisation < 0.3 || res.Utilisation > 1 {
				t.Errorf("counter utilisation %.2f, want a share between 0.3 and 1", res.Utilisation)
			}
			if res.WithinTarget < 0 || res.WithinTarget > 1 {
				t.Errorf("share within target %v", res.WithinTarget)
			}
			if res.ServiceMean < time.Minute || res.ServiceMean > 30*time.Minute {
				t.Errorf("mean service %v", res.ServiceMean)
			}
		})
	}
}

// checkTicket checks one ticket's life as the engine's events told it.
func checkTicket(t *testing.T, o *queue.Office, tk Ticket) {
	t.Helper()
	if tk.Calls > 1 {
		t.Errorf("%s was called %d times", tk.ID, tk.Calls)
	}
	switch tk.Outcome {
	case queue.Done, queue.NoShow:
	default:
		t.Errorf("%s ended %s, want done or no-show", tk.ID, tk.Outcome)
		return
	}
	wait, called := tk.Wait()
	if !called || tk.Calls != 1 || wait < 0 {
		t.Errorf("%s: called %v (%d calls), wait %v", tk.ID, called, tk.Calls, wait)
	}
	if c, _ := o.Counter(tk.Counter); !c.Serves(tk.Service) {
		t.Errorf("%s (%s) was called to counter %d, which does not serve it", tk.ID, tk.Service, tk.Counter)
	}
	if tk.Estimate < 0 || tk.Usual < 0 {
		t.Errorf("%s has no estimate: engine %v, usual %v", tk.ID, tk.Estimate, tk.Usual)
	}
	switch tk.Outcome {
	case queue.Done:
		if tk.StartedAt.Before(tk.CalledAt) || !tk.EndedAt.After(tk.StartedAt) {
			t.Errorf("%s called %v, started %v, ended %v", tk.ID, tk.CalledAt, tk.StartedAt, tk.EndedAt)
		}
	case queue.NoShow:
		// The clerk recalls a minute apart; the engine ends it at the limit.
		limit := o.Rules.RecallLimit
		if tk.Recalls != limit || tk.EndedAt.Sub(tk.CalledAt) != time.Duration(limit+1)*time.Minute {
			t.Errorf("%s no-show after %d recalls and %v, want %d recalls and %d minutes",
				tk.ID, tk.Recalls, tk.EndedAt.Sub(tk.CalledAt), limit, limit+1)
		}
	}
}

func TestEstimateBeatsUsualFormula(t *testing.T) {
	var all []Ticket
	for _, name := range exampleOffices {
		o := loadOffice(t, name)
		res := run(t, Config{Office: o, Seed: 11, Days: 3})
		all = append(all, res.Tickets...)
		t.Logf("%s: engine %+v, usual %+v", name, res.Engine, res.Usual)
		if got := Improvement(res.Engine, res.Usual); got < 30 {
			t.Errorf("%s: the engine's median error %v is only %.0f%% below the usual formula's %v, want 30%% or more",
				name, res.Engine.MedianAbs, got, res.Usual.MedianAbs)
		}
		if abs(res.Engine.MeanSigned) >= abs(res.Usual.MeanSigned)/4 {
			t.Errorf("%s: the engine's mean bias %v is not under a quarter of the usual formula's %v", name, res.Engine.MeanSigned, res.Usual.MeanSigned)
		}
	}
	engine, usual := EstimateErrors(all)
	if got := Improvement(engine, usual); got < 40 {
		t.Errorf("over both offices the engine's median error %v is only %.0f%% below the usual formula's %v, want 40%% or more",
			engine.MedianAbs, got, usual.MedianAbs)
	}
}

func abs(d time.Duration) time.Duration { return max(d, -d) }

func TestClosedDaysAreSkipped(t *testing.T) {
	o := loadOffice(t, "starachowice")
	start := time.Date(2026, 12, 24, 0, 0, 0, 0, o.Location)
	res := run(t, Config{Office: o, Seed: 1, Days: 2, Start: start})
	// Christmas Eve, Christmas, the second day of Christmas and a Sunday.
	if want := []string{"2026-12-28", "2026-12-29"}; !reflect.DeepEqual(res.Days, want) {
		t.Errorf("days %v, want %v", res.Days, want)
	}
	for _, tk := range res.Tickets {
		if d := o.LocalDate(tk.IssuedAt); d != "2026-12-28" && d != "2026-12-29" {
			t.Fatalf("ticket %s issued on %s", tk.ID, d)
		}
	}
}

func TestReportShowsTheFigures(t *testing.T) {
	o := loadOffice(t, "czestochowa")
	res := run(t, Config{Office: o, Seed: 2})
	text := report(t, res)
	for _, want := range []string{
		o.Name, "1 day, " + DefaultStart + ", seed 2",
		"issued " + strconv.Itoa(res.Issued), "served " + strconv.Itoa(res.Served), "no-shows " + strconv.Itoa(res.NoShows),
		"median " + minutes(res.Wait.Median), "p90 " + minutes(res.Wait.P90),
		"engine forecast", "usual formula", "K licences",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	o := loadOffice(t, "starachowice")
	missing := DefaultProfile(o, 0)
	delete(missing.Services, "documents")
	negative := DefaultProfile(o, 0)
	negative.PriorityShare = -0.1
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		cfg  Config
		want string
	}{
		{"no office", context.Background(), Config{}, "no office"},
		{"days", context.Background(), Config{Office: o, Days: -1}, "days -1"},
		{"profile without a service", context.Background(), Config{Office: o, Profile: missing}, `service "documents"`},
		{"negative share", context.Background(), Config{Office: o, Profile: negative}, "priority_share -0.1"},
		{"cancelled", ctx, Config{Office: o}, context.Canceled.Error()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(c.ctx, c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
	if _, err := Run(ctx, Config{Office: o}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run: %v", err)
	}
}
