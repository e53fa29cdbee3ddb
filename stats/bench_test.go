package stats

import (
	"context"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/queue/sim"
	"github.com/numerek/numerek/store"
)

// yearDays is a year of a Polish office's working days.
const yearDays = 250

// BenchmarkYearOfStatistics is the manager asking for a whole year of a
// busy office: Częstochowa's example office simulated for 250 working
// days at the simulation's default load (queue/sim drives the real
// engine), its events written to a bbolt log on disk, then the full
// report (days, services, counters, heat map, clerks, bookings,
// outcomes) computed from the log, as /staff/stats does. The simulation
// runs once; each loop reads and folds the whole log again.
func BenchmarkYearOfStatistics(b *testing.B) {
	cfg, err := officeconfig.Load(filepath.Join("..", "examples", "offices", "czestochowa.toml"))
	if err != nil {
		b.Fatal(err)
	}
	o := cfg.Offices[0]
	log, err := store.OpenOfficeLog(filepath.Join(b.TempDir(), "office.db"), o.ID)
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	// The simulation's events are kept and written in large batches
	// afterwards: one bbolt commit (and sync) per engine decision would
	// time the disk, not the statistics.
	var all []queue.Event
	start, _ := time.ParseInLocation("2006-01-02", "2026-01-02", o.Location)
	res, err := sim.Run(context.Background(), sim.Config{Office: o, Seed: 14, Days: yearDays, Start: start,
		Events: func(batch []queue.Event) { all = append(all, batch...) }})
	if err != nil {
		b.Fatal(err)
	}
	for chunk := range slices.Chunk(all, 50_000) {
		if err := log.Append(chunk); err != nil {
			b.Fatal(err)
		}
	}
	events := len(all)
	all = nil
	whole := Range{From: res.Days[0], To: res.Days[len(res.Days)-1]}
	now := start.AddDate(1, 0, 0)
	var rep *Report
	cpu0 := cpuTime(b)
	for b.Loop() {
		rep, err = Compute(log.Scan, o, whole, now)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime(b) - cpu0
	if rep.Total.Issued != res.Issued || len(rep.Days) != yearDays {
		b.Fatalf("the report counts %d tickets over %d days; the simulation issued %d over %d", rep.Total.Issued, len(rep.Days), res.Issued, yearDays)
	}
	perReport := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(1000*perReport, "ms/report")
	// The builder is shared: the CPU a report takes (the GC's included)
	// says more of its cost than the wall clock does under load.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/report")
	b.ReportMetric(float64(events)/perReport, "events/s")
	b.ReportMetric(float64(events), "events")
	b.ReportMetric(float64(res.Issued), "tickets")
	b.ReportMetric(0, "ns/op")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
