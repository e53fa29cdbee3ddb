package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store/pgstore"
)

// Two queue-server nodes on a PostgreSQL primary with a synchronous
// streaming standby (deploy/cluster/postgresql), reaching it by a URL
// that names both hosts with target_session_attrs=read-write. Kiosks
// issue tickets on both nodes; the primary is killed and the standby
// promoted a few seconds later, as an operator would. Both nodes find the
// new primary by themselves and acknowledge tickets again; every ticket
// acknowledged before and after is in the promoted server's log once, and
// no number is given twice. Killed, the primary's connections are reset
// by its machine's kernel; vanished (its machine gone: the nodes reach it
// through a proxy that black-holes every packet from the kill on), they
// hang until the nodes give up on them, and connecting to it hangs until
// connect_timeout.
func TestClusterSurvivesPromotingTheStandby(t *testing.T) {
	if testing.Short() {
		t.Skip("two PostgreSQL servers and two queue-server processes")
	}
	t.Run("killed", func(t *testing.T) { standbyFailover(t, false) })
	t.Run("vanished", func(t *testing.T) { standbyFailover(t, true) })
}

func standbyFailover(t *testing.T, vanish bool) {
	const outage = 4 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	primary, err := pgtest.Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Stop()
	if _, err := primary.CreateDatabase(ctx, "numerek"); err != nil {
		t.Fatal(err)
	}
	standby, err := primary.StartStandby(ctx, "standby")
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Stop()
	if err := primary.SetSynchronousStandby(ctx, "standby"); err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.Listen("127.0.0.1:0", primary.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	// The URL as docs/cluster.md gives it: both hosts, read-write, and a
	// connect_timeout.
	c := newTestCluster(t, 2, onStore(pgtest.ReadWriteURL("numerek", proxy.Addr(), standby.Addr())))

	type ack struct {
		request, id, number string
		node                int
		at                  time.Time
		// asked is when the request was first sent.
		asked time.Time
	}
	var mu sync.Mutex
	var acked []ack
	var unanswered atomic.Int64
	services := []string{"family", "maintenance", "documents"}
	load, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; load.Err() == nil; i++ {
				rid := fmt.Sprintf("k%d-%d", k, i)
				body := fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":%q}`, services[(k+i)%len(services)], rid)
				asked := time.Now()
				// Asked again with the same request id, on the other
				// node, until one answers: as kioskd does.
				for try := 0; load.Err() == nil; try++ {
					node := (k + i + try) % 2
					var tr protocol.TicketResponse
					status := c.api(load, client, c.nodes[node], "kiosk", "POST", "/tickets", body, &tr)
					if status == http.StatusCreated || status == http.StatusOK {
						mu.Lock()
						acked = append(acked, ack{rid, tr.Ticket.ID, tr.Ticket.Number, node, time.Now(), asked})
						mu.Unlock()
						break
					}
					if try == 500 {
						unanswered.Add(1)
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}

	waitfor.Until(t, "tickets acknowledged on the primary", 30*time.Second, func() bool { return countAcked(&mu, &acked) >= 20 })
	killed := time.Now()
	if vanish {
		proxy.Set(faultproxy.BlackHole)
	}
	primary.Kill()
	beforeKill := countAcked(&mu, &acked)
	// The operator's reaction time, longer than the lease's TTL (3 s):
	// every node has lost its leadership, its pool's connections and its
	// listener, and the lease has expired, before there is a primary
	// again.
	time.Sleep(outage)
	promoting := time.Now()
	if err := standby.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	// The first ticket acknowledged after the promotion: answers between
	// the kill and the promotion were on their way from commits made
	// before the kill.
	var again time.Time
	firstAfter := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range acked[beforeKill:] {
			if a.at.After(promoted) {
				again = a.at
				return true
			}
		}
		return false
	}
	if !waitfor.Within(30*time.Second, firstAfter) {
		c.diagnose(ctx)
		t.Fatal("no ticket acknowledged in 30 s after the standby was promoted")
	}
	// Both nodes acknowledge again: the writer, and the one forwarding to
	// it, each through connections to the new primary.
	bothAgain := func() bool {
		mu.Lock()
		defer mu.Unlock()
		var on [2]bool
		for _, a := range acked[beforeKill:] {
			on[a.node] = true
		}
		return on[0] && on[1] && len(acked) >= beforeKill+20
	}
	if !waitfor.Within(30*time.Second, bothAgain) {
		c.diagnose(ctx)
		t.Fatal("the two nodes did not both acknowledge tickets within 30 s of the first after the promotion")
	}
	bothAt := time.Now()
	stopLoad()
	wg.Wait()

	// Without a primary no ticket can be made: a request first sent after
	// the kill cannot be answered before the promotion. One sent before
	// may be, late: its commit reached the synchronous standby before the
	// kill, and the node learns that it did only when it can read again
	// (after connect_timeout, 2 s). The log below must hold its ticket.
	for _, a := range acked[beforeKill:] {
		if a.asked.After(killed) && a.at.Before(promoting) {
			t.Errorf("ticket %s of a request sent %v after the primary was killed answered %v after it, before the standby was promoted",
				a.id, a.asked.Sub(killed), a.at.Sub(killed))
		}
	}

	// The promoted server's log, read through pgstore.
	db, err := pgstore.Open(ctx, standby.URL("numerek"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inLog := map[string]int{}
	numbers := map[string]int{}
	events := 0
	err = db.Office(officeID, pgstore.Node{ID: "reader"}, pgstore.OfficeOptions{}).Scan(0, func(e queue.Event) bool {
		events++
		if ti, ok := e.Body.(queue.TicketIssued); ok {
			inLog[ti.Ticket.ID]++
			numbers[ti.Ticket.Number]++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	for number, n := range numbers {
		if n > 1 {
			t.Errorf("number %s given %d times", number, n)
		}
	}
	for i, a := range acked {
		when := "before the primary was killed"
		if i >= beforeKill {
			when = "after the promotion"
		}
		if inLog[a.id] != 1 {
			t.Errorf("ticket %s (%s) of request %s, acknowledged %s, is %d times in the promoted server's log", a.id, a.number, a.request, when, inLog[a.id])
		}
	}
	if n := unanswered.Load(); n > 0 {
		t.Errorf("%d ticket requests were answered by no node in 500 tries", n)
	}
	t.Logf("%d tickets acknowledged before the primary was killed, %d after; %d events in the promoted server's log; primary killed, standby promoted %v later (in %v); promoted to the next acknowledged ticket %v; to both nodes acknowledging %v",
		beforeKill, len(acked)-beforeKill, events, promoting.Sub(killed).Round(time.Millisecond), promoted.Sub(promoting).Round(time.Millisecond),
		again.Sub(promoted).Round(time.Millisecond), bothAt.Sub(promoted).Round(time.Millisecond))
}
