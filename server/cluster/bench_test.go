package cluster

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

// forwardLoad has clients issue and call at on until total commands are
// done, and returns commands/s and the 99th percentile of their latency.
func forwardLoad(b *testing.B, on *node, clients, total int) (perSecond float64, p99 time.Duration) {
	per := total / clients
	took := make([]time.Duration, 0, per*clients)
	var mu sync.Mutex
	var wg sync.WaitGroup
	began := time.Now()
	for c := range clients {
		wg.Go(func() {
			for i := range per {
				var cmd queue.Command = issue
				if i%2 == 1 {
					cmd = queue.CallNext{Counter: 1 + c%4}
				}
				start := time.Now()
				r := on.do(b, cmd)
				d := time.Since(start)
				if _, refused := r.Err.(*queue.Error); r.Err != nil && !refused {
					b.Error(r.Err)
					return
				}
				mu.Lock()
				took = append(took, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	perSecond = float64(len(took)) / time.Since(began).Seconds()
	slices.Sort(took)
	return perSecond, took[len(took)*99/100]
}

// BenchmarkForwardedCommands measures commands sent to a follower, which
// forwards them over HTTP to the leader and answers once its replica has
// caught up, beside the same load on the leader itself in the same run.
func BenchmarkForwardedCommands(b *testing.B) {
	f := newOffice(b)
	leader := f.startLeader("a")
	follower := f.start("b", nodeOptions{})
	for n := 1; n <= 4; n++ {
		leader.mustDo(b, queue.SetCounter{Counter: n, Status: queue.CounterOpenStatus})
	}
	direct, directP99 := forwardLoad(b, leader, 16, 1600)
	forwarded, p99 := forwardLoad(b, follower, 16, 1600)
	for b.Loop() {
	}
	b.ReportMetric(forwarded, "cmds/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(forwarded/direct, "forwarded-x")
	b.ReportMetric(float64(directP99.Microseconds())/1000, "leader-p99-ms")
}
