package sim

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

// BenchmarkWaitEstimate runs 4 seeds x 5 days of both example offices and
// reports the median absolute error of the engine's wait estimate and of
// the usual formula over every called ticket, in minutes, and how much
// smaller the engine's is.
func BenchmarkWaitEstimate(b *testing.B) {
	var offices = make([]Config, 0, len(exampleOffices))
	for _, name := range exampleOffices {
		offices = append(offices, Config{Office: loadOffice(b, name), Days: 5})
	}
	var engine, usual ErrorStats
	for b.Loop() {
		var all []Ticket
		for _, cfg := range offices {
			for seed := uint64(1); seed <= 4; seed++ {
				cfg.Seed = seed
				res, err := Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, res.Tickets...)
			}
		}
		engine, usual = EstimateErrors(all)
	}
	b.ReportMetric(engine.MedianAbs.Minutes(), "estimate-mae-min")
	b.ReportMetric(usual.MedianAbs.Minutes(), "usual-mae-min")
	b.ReportMetric(Improvement(engine, usual), "improvement-%")
	b.ReportMetric(float64(engine.N), "tickets")
}

// BenchmarkForecastAtPeak measures one wait forecast for a new ticket (what
// every issue and every state view computes) in the Częstochowa office at
// 10:30 on a simulated day, when its lines are longest.
func BenchmarkForecastAtPeak(b *testing.B) {
	o := loadOffice(b, "czestochowa")
	date := time.Date(2026, 11, 23, 0, 0, 0, 0, o.Location)
	s := queue.NewState(o)
	d := newDay(o, DefaultProfile(o, 0), s, newRecorder(), date, rand.New(rand.NewPCG(1, 0)))
	d.plan()
	peak := date.Add(10*time.Hour + 30*time.Minute)
	for d.agenda.Len() > 0 && d.agenda[0].at.Before(peak) {
		h := heap.Pop(&d.agenda).(*happening)
		d.now = h.at
		if err := d.handle(h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s.WaitForNew(peak, "id-cards")
	}
	b.ReportMetric(float64(len(s.WaitingTickets())), "waiting")
	b.ReportMetric(float64(len(s.Tickets)), "tickets-today")
}
