package actor_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/metrics"
)

// BenchmarkDurableCommandsObserved is BenchmarkDurableCommands's group
// commit with queue-server's metrics counting every command and commit
// (actor.Options.Observer), beside the same load without them in the same
// run: what counting costs the actor (observed-x near 1: nothing).
func BenchmarkDurableCommandsObserved(b *testing.B) {
	plain := actor.RunLoad(b, actor.Options{}, 64, 6400)
	meter := metrics.New(prometheus.NewRegistry(), nil)
	observed := actor.RunLoad(b, actor.Options{Observer: meter.Office("bench")}, 64, 6400)
	for i := 0; i < b.N; i++ {
	}
	b.ReportMetric(observed, "cmds/s")
	b.ReportMetric(observed/plain, "observed-x")
}
