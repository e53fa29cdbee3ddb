// Package streamload holds thousands of idle subscribers of an office's
// event stream on raw connections, for the fan-out benchmarks, and times
// each call's TicketCalled event at every one of them.
package streamload

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/procstat"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
)

// Target is where subscriber i connects and the request it sends.
type Target func(i int) (addr, request string)

// Request is a stream's GET with a bearer token, resuming after seq.
func Request(office, host, token string, seq uint64) string {
	return fmt.Sprintf("GET /api/v1/offices/%s/events HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nLast-Event-ID: %d\r\n\r\n",
		office, host, token, seq)
}

// Load is the subscribers and what they read.
type Load struct {
	subscribers int
	// arrivals[k*subscribers+i] is when subscriber i read the k-th call;
	// reached[k] is closed by the last subscriber to read it.
	arrivals []time.Time
	reached  []chan struct{}
	counts   []atomic.Int32
	// beats[i] counts the heartbeats subscriber i has read.
	beats []atomic.Int32
	ended chan error
	conns []net.Conn
}

// Connect opens the streams of n subscribers, 64 at a time, each
// expecting up to calls calls.
func Connect(n, calls int, target Target) (*Load, error) {
	l := &Load{subscribers: n, arrivals: make([]time.Time, calls*n), reached: make([]chan struct{}, calls),
		counts: make([]atomic.Int32, calls), beats: make([]atomic.Int32, n), ended: make(chan error, n), conns: make([]net.Conn, n)}
	for k := range l.reached {
		l.reached[k] = make(chan struct{})
	}
	var wg sync.WaitGroup
	var next atomic.Int32
	errs := make(chan error, 64)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := l.subscribe(i, target); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		l.Close()
		return nil, fmt.Errorf("connecting the subscribers: %w", err)
	}
	return l, nil
}

// subscribe reads subscriber i's stream's lines until it ends, marking
// each TicketCalled event's arrival.
func (l *Load) subscribe(i int, target Target) error {
	addr, request := target(i)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	l.conns[i] = conn
	if _, err := io.WriteString(conn, request); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 1024), nil)
	if err != nil {
		return fmt.Errorf("subscriber %d at %s: %w", i, addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("subscriber %d at %s: %s", i, addr, resp.Status)
	}
	go func() {
		lines := bufio.NewReaderSize(resp.Body, 1024)
		k := 0
		for {
			line, err := lines.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				continue // a long data line: only event names matter here
			}
			if err != nil {
				l.ended <- fmt.Errorf("subscriber %d at %s after %d calls: %w", i, addr, k, err)
				return
			}
			if string(line) == ": heartbeat\n" {
				l.beats[i].Add(1)
				continue
			}
			if string(line) == "event: TicketCalled\n" && k < len(l.reached) {
				l.arrivals[k*l.subscribers+i] = time.Now()
				if l.counts[k].Add(1) == int32(l.subscribers) {
					close(l.reached[k])
				}
				k++
			}
		}
	}()
	return nil
}

// Heartbeats is the fewest heartbeats any subscriber has read.
func (l *Load) Heartbeats() int {
	fewest := int32(math.MaxInt32)
	for i := range l.beats {
		fewest = min(fewest, l.beats[i].Load())
	}
	return int(fewest)
}

// Await waits for the k-th call to reach every subscriber, sent at sent,
// and returns the time from sent to its last subscriber, and from its
// first subscriber to its last.
func (l *Load) Await(k int, sent time.Time, within time.Duration) (last, spread time.Duration, err error) {
	select {
	case <-l.reached[k]:
	case err := <-l.ended:
		return 0, 0, err
	case <-time.After(within):
		return 0, 0, fmt.Errorf("call %d reached only %d of %d subscribers in %v", k, l.counts[k].Load(), l.subscribers, within)
	}
	arrivals := l.arrivals[k*l.subscribers : (k+1)*l.subscribers]
	earliest, latest := arrivals[0], sent
	for _, at := range arrivals {
		if at.Before(earliest) {
			earliest = at
		}
		if at.After(latest) {
			latest = at
		}
	}
	return latest.Sub(sent), latest.Sub(earliest), nil
}

// Close closes every connection.
func (l *Load) Close() {
	for _, c := range l.conns {
		if c != nil {
			c.Close()
		}
	}
}

// IdleRate is the share of a core the idle streams cost: cpuTicks (a
// process's CPU time in procstat.Hz ticks) read over two heartbeats of
// every stream, once each has had one.
func (l *Load) IdleRate(tb testing.TB, cpuTicks func() int64) float64 {
	tb.Helper()
	waitfor.Until(tb, "a heartbeat on every stream", 3*protocol.Heartbeat, func() bool { return l.Heartbeats() >= 1 })
	beats := l.Heartbeats()
	from, ticks := time.Now(), cpuTicks()
	waitfor.Until(tb, "two more heartbeats on every stream", 4*protocol.Heartbeat, func() bool { return l.Heartbeats() >= beats+2 })
	return float64(cpuTicks()-ticks) / procstat.Hz / time.Since(from).Seconds()
}

// PerDelivery is the CPU seconds one delivery of a call to one subscriber
// took: ticks spent over a run of calls lasting took, less what the idle
// streams (idleRate) took meanwhile, over the deliveries.
func PerDelivery(ticks int64, took time.Duration, idleRate float64, deliveries int) float64 {
	return (float64(ticks)/procstat.Hz - idleRate*took.Seconds()) / float64(deliveries)
}

// Ms is the q-quantile (0.5, 0.99) of d in milliseconds; it sorts d.
func Ms(d []time.Duration, q float64) float64 {
	slices.Sort(d)
	return float64(d[int(q*float64(len(d)-1)+0.5)]) / float64(time.Millisecond)
}
