package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/server/actor"
)

// BenchmarkCallToSubscribers measures the time from a clerk's "next" to its
// TicketCalled event reaching each of 100 stream subscribers on loopback.
func BenchmarkCallToSubscribers(b *testing.B) {
	const subscribers, calls = 100, 60
	e := newEnv(b, actor.Options{})
	e.must(http.StatusOK, "admin", "POST", e.path("/counters/5/open"), "")
	for i := 0; i < calls; i++ {
		e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":"b%d"}`, i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type arrival struct {
		seq uint64
		at  time.Time
	}
	arrivals := make(chan arrival, subscribers*calls)
	var ready sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: subscribers}}
	for i := 0; i < subscribers; i++ {
		ready.Add(1)
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", e.path("/events"), nil)
			req.Header.Set("Authorization", "Bearer "+e.tokens["hall"])
			req.Header.Set("Last-Event-ID", fmt.Sprint(e.seq()))
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				ready.Done()
				return
			}
			defer resp.Body.Close()
			ready.Done()
			_ = sse.Read(bufio.NewReader(resp.Body), func(m sse.Message) error {
				if m.Event == "TicketCalled" {
					seq, _ := m.Seq()
					arrivals <- arrival{seq, time.Now()}
				}
				return nil
			})
		}()
	}
	ready.Wait()
	time.Sleep(200 * time.Millisecond) // every stream has passed its start
	var latencies []time.Duration
	for i := 0; i < calls; i++ {
		sent := time.Now()
		body := e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/next"), "")
		if !strings.Contains(string(body), `"state":"called"`) {
			b.Fatalf("next: %s", body)
		}
		for got := 0; got < subscribers; got++ {
			select {
			case a := <-arrivals:
				latencies = append(latencies, a.at.Sub(sent))
			case <-time.After(5 * time.Second):
				b.Fatalf("call %d reached only %d of %d subscribers", i, got, subscribers)
			}
		}
	}
	for i := 0; i < b.N; i++ {
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
