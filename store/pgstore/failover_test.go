package pgstore

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/internal/waitfor"
)

// A node's pool, its URL naming two hosts, keeps working when the first
// host's machine vanishes (its packets black-holed: no reset, no answer)
// and the second accepts writes: with queries under way on every
// connection, one succeeds again within seconds, not after the 15 s pgx
// takes to give up each connection to the vanished host (the pool's
// default size would have them hold every place). Here both hosts are the
// same server, the first reached through a proxy.
func TestPoolLeavesAVanishedPrimary(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for connections to a black-holed host to time out")
	}
	ctx := context.Background()
	direct := pgtest.Database(t)
	if err := Migrate(ctx, direct, nopWriter{}); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.Listen("127.0.0.1:0", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	u.Host = proxy.Addr() + "," + u.Host
	u.RawQuery += "&target_session_attrs=read-write&connect_timeout=2"
	db, err := Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Workers query as a node's offices do, each statement bounded by
	// 5 s (OfficeOptions.Timeout), until told to stop.
	const workers = 6
	stop, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	var mu sync.Mutex
	var lastOK time.Time
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stop.Err() == nil {
				qctx, cancel := context.WithTimeout(stop, 5*time.Second)
				_, err := db.Pool.Exec(qctx, "SELECT pg_sleep(0.05)")
				cancel()
				if err == nil {
					mu.Lock()
					lastOK = time.Now()
					mu.Unlock()
				}
			}
		}()
	}
	okSince := func(at time.Time) bool { mu.Lock(); defer mu.Unlock(); return lastOK.After(at) }
	waitfor.Until(t, "queries through the first host", 10*time.Second, func() bool { return okSince(time.Now().Add(-100 * time.Millisecond)) })
	if n := db.Pool.Stat().TotalConns(); n < workers {
		t.Fatalf("%d connections open, want the workers' %d", n, workers)
	}

	vanished := time.Now()
	proxy.Set(faultproxy.BlackHole)
	if !waitfor.Within(14*time.Second, func() bool { return okSince(vanished.Add(100 * time.Millisecond)) }) {
		t.Fatalf("no query succeeded within 14 s of the first host vanishing (pool: %d connections, %d being made)",
			db.Pool.Stat().TotalConns(), db.Pool.Stat().ConstructingConns())
	}
	mu.Lock()
	took := lastOK.Sub(vanished)
	mu.Unlock()
	stopWorkers()
	wg.Wait()
	// Closed, the proxy ends the held connections, so closing the pool
	// does not wait the 15 s for each.
	proxy.Close()
	t.Logf("the first host vanished; a query succeeded on the second %v later", took.Round(time.Millisecond))
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
