package display

import (
	"fmt"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
)

var warsaw = func() *time.Location {
	l, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		panic(err)
	}
	return l
}()

// at is a Warsaw wall-clock time on Monday 23 November 2026.
func at(hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-23 "+hhmm, warsaw)
	if err != nil {
		panic(err)
	}
	return t
}

// office is a real office: the example configuration of the Starachowice
// social services centre, six services at six counters.
type office struct {
	st  *queue.State
	req int
}

func newOffice() *office {
	cfg, err := officeconfig.Load("../examples/offices/starachowice.toml")
	if err != nil {
		panic(err)
	}
	o := cfg.Offices[0]
	// A daily cap on document submission, so that one service is refused.
	for i := range o.Services {
		if o.Services[i].ID == "documents" {
			o.Services[i].DailyCap = 2
		}
	}
	return &office{st: queue.NewState(o)}
}

func (o *office) do(now time.Time, cmd queue.Command) queue.Decision {
	_, d, err := o.st.Execute(now, "test", cmd)
	if err != nil {
		panic(fmt.Sprintf("%T at %s: %v", cmd, now.Format("15:04"), err))
	}
	return d
}

func (o *office) issue(now time.Time, service string, n int) {
	for range n {
		o.req++
		o.do(now, queue.Issue{Service: service, Lang: "pl", Channel: queue.ChannelKiosk, RequestID: fmt.Sprintf("req-%d", o.req)})
	}
}

// busyOffice is the office on a Monday morning, to be viewed at 10:12:
// counters 1-4 open and serving, 5 on a break, 6 closed; people wait; the
// day's tickets for document submission are all given.
func busyOffice() *office {
	o := newOffice()
	for c := 1; c <= 5; c++ {
		o.do(at("08:00"), queue.SetCounter{Counter: c, Status: queue.CounterOpenStatus})
	}
	o.issue(at("09:30"), "family", 6)
	o.issue(at("09:35"), "maintenance", 3)
	o.issue(at("09:40"), "child800", 4)
	o.issue(at("09:45"), "documents", 2)
	o.issue(at("09:50"), "care", 2)
	o.issue(at("09:55"), "good-start", 1)
	for i, c := range []int{5, 1, 2, 3, 4} {
		t := at("10:00").Add(time.Duration(i) * 2 * time.Minute)
		o.do(t, queue.CallNext{Counter: c})
		if c == 5 {
			o.do(t.Add(time.Minute), queue.Finish{Counter: 5})
			o.do(t.Add(time.Minute), queue.SetCounter{Counter: 5, Status: queue.CounterPausedStatus})
		}
	}
	return o
}

// view is the office's view at now, with the estimated waits fixed so
// that the golden screenshots do not move with the forecast's tuning.
func (o *office) view(now time.Time) queue.View {
	v := o.st.View(now)
	for i := range v.Services {
		v.Services[i].EstimatedWaitS = int64(12+5*i) * 60
	}
	return v
}
