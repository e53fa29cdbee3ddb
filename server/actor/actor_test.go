package actor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// benchOffice is open round the clock with many services and counters, so
// a long run of commands is never refused for hours, caps or closing.
func benchOffice() *queue.Office {
	loc, _ := time.LoadLocation("Europe/Warsaw")
	o := &queue.Office{ID: "bench", Name: "Bench", Location: loc, Languages: []string{"pl"},
		Rules: queue.Rules{RecallLimit: 2}}
	for d := range o.Hours {
		o.Hours[d] = []queue.Interval{{Open: 0, Close: 24 * 60}}
	}
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("s%02d", i)
		o.Services = append(o.Services, queue.Service{ID: id, Prefix: string(rune('A' + i)),
			Names: map[string]string{"pl": id}, Priority: 1, ServiceTime: 5 * time.Minute})
	}
	for n := 1; n <= 20; n++ {
		w := map[string]float64{}
		for _, s := range o.Services {
			w[s.ID] = 1
		}
		o.Counters = append(o.Counters, queue.Counter{Number: n, Name: fmt.Sprint(n), Weights: w})
	}
	return o
}

type harness struct {
	a    *Actor
	log  *store.OfficeLog
	stop func()
}

func start(t testing.TB, o *queue.Office, dir string, clock Clock, opts Options) *harness {
	t.Helper()
	l, err := store.OpenOfficeLog(filepath.Join(dir, o.ID+".db"), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(o, l, clock, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	return &harness{a: a, log: l, stop: func() { cancel(); <-done; l.Close() }}
}

func fixedClock(t time.Time) Clock { return func() time.Time { return t } }

func TestConcurrentNextNeverSharesATicket(t *testing.T) {
	o := benchOffice()
	h := start(t, o, t.TempDir(), fixedClock(time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)), Options{})
	defer h.stop()
	ctx := context.Background()
	for n := 1; n <= 20; n++ {
		if r := h.a.Do(ctx, "t", queue.SetCounter{Counter: n, Status: queue.CounterOpenStatus}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	for i := 0; i < 100; i++ {
		if r := h.a.Do(ctx, "t", queue.Issue{Service: "s00", Lang: "pl", Channel: queue.ChannelKiosk}); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	// Twenty clerks press "next" at once, five times each.
	var mu sync.Mutex
	called := map[string]int{}
	var wg sync.WaitGroup
	for n := 1; n <= 20; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				r := h.a.Do(ctx, "t", queue.CallNext{Counter: n})
				if r.Err != nil || r.Ticket == nil {
					t.Errorf("counter %d: %v", n, r.Err)
					return
				}
				mu.Lock()
				called[r.Ticket.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(called) != 100 {
		t.Errorf("100 calls reached %d different tickets", len(called))
	}
	for id, n := range called {
		if n > 1 {
			t.Errorf("ticket %s called %d times", id, n)
		}
	}
}

func TestRestartRestoresAcknowledgedState(t *testing.T) {
	o := benchOffice()
	dir := t.TempDir()
	clock := fixedClock(time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location))
	h := start(t, o, dir, clock, Options{SnapshotEvery: 7})
	ctx := context.Background()
	h.a.Do(ctx, "t", queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	for i := 0; i < 30; i++ {
		h.a.Do(ctx, "t", queue.Issue{Service: fmt.Sprintf("s%02d", i%3), Lang: "pl", Channel: queue.ChannelKiosk})
		if i%4 == 0 {
			h.a.Do(ctx, "t", queue.CallNext{Counter: 1})
		}
	}
	before, _ := h.a.View(ctx)
	h.stop()
	h = start(t, o, dir, clock, Options{})
	defer h.stop()
	after, _ := h.a.View(ctx)
	if after.Seq != before.Seq || len(after.Waiting) != len(before.Waiting) || after.Counters[0].Current.Number != before.Counters[0].Current.Number {
		t.Errorf("after restart seq %d, %d waiting; before %d, %d", after.Seq, len(after.Waiting), before.Seq, len(before.Waiting))
	}
}

func TestFailedWriteIsNotAcknowledged(t *testing.T) {
	o := benchOffice()
	h := start(t, o, t.TempDir(), fixedClock(time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)), Options{})
	ctx := context.Background()
	if r := h.a.Do(ctx, "t", queue.Issue{Service: "s00", Lang: "pl", Channel: queue.ChannelKiosk}); r.Err != nil {
		t.Fatal(r.Err)
	}
	seq := h.a.Seq()
	// The disk goes away under the actor.
	h.log.Close()
	r := h.a.Do(ctx, "t", queue.Issue{Service: "s00", Lang: "pl", Channel: queue.ChannelKiosk})
	if r.Err == nil {
		t.Fatal("a ticket was acknowledged although it could not be stored")
	}
	if h.a.Seq() != seq {
		t.Errorf("the published seq moved to %d without a durable event", h.a.Seq())
	}
	h.stop()
}

// runLoad has clients alternate issuing a ticket and calling the next one at
// their counter, until total commands are done, and returns commands/s.
func runLoad(t testing.TB, opts Options, clients, total int) float64 {
	o := benchOffice()
	h := start(t, o, t.TempDir(), fixedClock(time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)), opts)
	defer h.stop()
	ctx := context.Background()
	for n := 1; n <= 20; n++ {
		h.a.Do(ctx, "t", queue.SetCounter{Counter: n, Status: queue.CounterOpenStatus})
	}
	per := total / clients
	began := time.Now()
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				var cmd queue.Command = queue.Issue{Service: fmt.Sprintf("s%02d", (c+i)%20), Lang: "pl", Channel: queue.ChannelKiosk}
				if i%2 == 1 {
					cmd = queue.CallNext{Counter: 1 + c%20}
				}
				if r := h.a.Do(ctx, "t", cmd); r.Err != nil {
					var qe *queue.Error
					if !errors.As(r.Err, &qe) {
						mu.Lock()
						failed = r.Err
						mu.Unlock()
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		t.Fatal(failed)
	}
	return float64(per*clients) / time.Since(began).Seconds()
}

// BenchmarkDurableCommands measures commands made durable per second with
// group commit, beside one sync per command, in the same run.
func BenchmarkDurableCommands(b *testing.B) {
	grouped := runLoad(b, Options{}, 64, 6400)
	single := runLoad(b, Options{MaxBatch: 1}, 64, 640)
	for i := 0; i < b.N; i++ {
	}
	b.ReportMetric(grouped, "cmds/s")
	b.ReportMetric(single, "cmds/s-1sync")
	b.ReportMetric(grouped/single, "speedup-x")
}
