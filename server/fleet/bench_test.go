package fleet

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/store"
)

// BenchmarkFleetFlush is the batched write of 1,000 devices' last reports
// and last-seen times to fleet.db (one transaction, one sync), which Run
// does every FlushEvery (2 min): flush-ms is one write, cpu-% its share
// of one core over the 2 min (wall time taken as CPU, an upper bound).
func BenchmarkFleetFlush(b *testing.B) {
	db, err := store.OpenFleetDB(filepath.Join(b.TempDir(), "fleet.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	clock := testclock.New(t0)
	h, err := NewHealth(HealthOptions{Clock: clock.Now, Store: db})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	every := 2 * time.Minute
	var took time.Duration
	flushes := 0
	for b.Loop() {
		b.StopTimer()
		for i := range 1000 {
			r := healthy()
			r.Name = fmt.Sprintf("device-%04d", i)
			if err := h.Ingest(ctx, Reporter{ID: r.Name, Office: "cus", Role: "ticket"}, r); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		if err := h.Flush(); err != nil {
			b.Fatal(err)
		}
		took += time.Since(start)
		flushes++
	}
	ms := float64(took) / float64(flushes) / float64(time.Millisecond)
	b.ReportMetric(ms, "flush-ms")
	b.ReportMetric(ms/float64(every.Milliseconds())*100, "cpu-%")
	b.ReportMetric(0, "ns/op")
}
