package metrics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/metrics"
)

// The observer runs on an office's actor goroutine for every command: once
// a command kind has been seen, counting it allocates nothing, whatever
// its outcome.
func TestObserverAllocatesNothingPerCommand(t *testing.T) {
	obs := metrics.New(prometheus.NewRegistry(), nil).Office("o")
	refused := &queue.Error{Kind: queue.Conflict, Message: "counter 2 is closed"}
	failed := errors.New("disk full")
	cases := []struct {
		name string
		cmd  queue.Command
		err  error
	}{
		{"ok", queue.Issue{Service: "s"}, nil},
		{"refused", queue.CallNext{Counter: 2}, refused},
		{"failed", queue.Finish{Counter: 1}, failed},
	}
	for _, c := range cases {
		obs.Command(c.cmd, c.err) // the kind's first sight makes its counters
		if n := testing.AllocsPerRun(100, func() { obs.Command(c.cmd, c.err) }); n != 0 {
			t.Errorf("%s: %v allocations per command", c.name, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { obs.Committed(3, time.Millisecond) }); n != 0 {
		t.Errorf("%v allocations per commit", n)
	}
}

// BenchmarkObserverCommand is the observer's cost per command on the
// actor's goroutine.
func BenchmarkObserverCommand(b *testing.B) {
	obs := metrics.New(prometheus.NewRegistry(), nil).Office("o")
	cmd := queue.Issue{Service: "s"}
	obs.Command(cmd, nil)
	allocs := testing.AllocsPerRun(1000, func() { obs.Command(cmd, nil) })
	began := time.Now()
	n := 0
	for b.Loop() {
		obs.Command(cmd, nil)
		n++
	}
	b.ReportMetric(float64(time.Since(began).Nanoseconds())/float64(n), "ns/cmd")
	b.ReportMetric(allocs, "allocs/cmd")
}
