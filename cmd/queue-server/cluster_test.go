package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store/pgstore"
)

// clusterNode is one queue-server of three sharing a PostgreSQL database.
type clusterNode struct {
	name, listen string
	// store is the database's URL as this node reaches it; empty: the
	// cluster's.
	store string
	proc  *process
}

func (n *clusterNode) base() string { return "http://" + n.listen }

// testCluster starts queue-server nodes on one database, each with a clock
// of the same office morning, so a node started again keeps the time.
type testCluster struct {
	t      testing.TB
	bin    string
	store  string
	secret string
	start  time.Time
	since  time.Time
	nodes  []*clusterNode
	tokens map[string]string
	// args are more flags every node is started with (--config).
	args []string
}

// clusterOption changes what newTestCluster starts its nodes on.
type clusterOption func(*clusterOptions)

type clusterOptions struct{ store string }

// onStore puts the cluster on the (empty) database at url instead of a
// new one of the test binary's PostgreSQL.
func onStore(url string) clusterOption { return func(o *clusterOptions) { o.store = url } }

func newTestCluster(t testing.TB, n int, opts ...clusterOption) *testCluster {
	t.Helper()
	bin := buildServer(t)
	var o clusterOptions
	for _, opt := range opts {
		opt(&o)
	}
	url := o.store
	if url == "" {
		url = pgtest.Database(t)
	}
	if code, out, errOut := runBin(t, bin, "migrate", "--store", url); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errOut)
	}
	secret := filepath.Join(t.TempDir(), "cluster-secret")
	if err := os.WriteFile(secret, []byte("c0ffee"+strings.Repeat("5eed", 10)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &testCluster{t: t, bin: bin, store: url, secret: secret, start: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC), since: time.Now(), tokens: map[string]string{}}
	for name, args := range map[string][]string{
		"kiosk": {"--role", "ticket", "--label", "kiosk"},
		"clerk": {"--role", "clerk", "--label", "anna"},
		"hall":  {"--role", "hall", "--label", "hall"},
	} {
		code, out, errOut := runBin(t, bin, append([]string{"token", "--store", url, "--office", officeID}, args...)...)
		if code != 0 {
			t.Fatalf("token %s: %s", name, errOut)
		}
		c.tokens[name] = strings.TrimSpace(out)
	}
	for i := range n {
		c.addNode(string(rune('a'+i)), "")
	}
	return c
}

// addNode starts one more node, reaching the database at store ("": the
// cluster's URL).
func (c *testCluster) addNode(name, store string) *clusterNode {
	node := &clusterNode{name: name, store: store, listen: fmt.Sprintf("127.0.0.1:%d", freePort(c.t, "127.0.0.1"))}
	c.nodes = append(c.nodes, node)
	c.startNode(node)
	return node
}

func (c *testCluster) startNode(n *clusterNode) {
	c.t.Helper()
	clock := c.start.Add(time.Since(c.since)).Format("2006-01-02T15:04:05")
	store := n.store
	if store == "" {
		store = c.store
	}
	args := []string{"--listen", n.listen, "--data", filepath.Join(c.t.TempDir(), "node-"+n.name),
		"--store", store, "--node", n.name, "--node-url", n.base(), "--cluster-secret-file", c.secret, "--clock", clock}
	n.proc = startServerWith(c.t, c.bin, append(args, c.args...)...)
}

// writer is the node holding the office's lease now, as the database says.
func (c *testCluster) writer(ctx context.Context) *clusterNode {
	conn, err := pgx.Connect(ctx, c.store)
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close(ctx)
	var url string
	err = conn.QueryRow(ctx, "SELECT node_url FROM office_leases WHERE office = $1 AND expires_at > now()", officeID).Scan(&url)
	if err != nil {
		return nil
	}
	for _, n := range c.nodes {
		if n.base() == url {
			return n
		}
	}
	return nil
}

// api sends one request to a node; status 0 when the node did not answer.
func (c *testCluster) api(ctx context.Context, client *http.Client, n *clusterNode, token, method, path, body string, out any) int {
	req, err := http.NewRequestWithContext(ctx, method, n.base()+"/api/v1/offices/"+officeID+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.tokens[token])
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return 0
		}
	}
	return resp.StatusCode
}

// streamWatcher follows the office's events on one node after another,
// resuming by Last-Event-ID on whichever node it reaches next.
type streamWatcher struct {
	last, gaps, repeats atomic.Int64
	resumedElsewhere    atomic.Int64
}

func (w *streamWatcher) follow(ctx context.Context, c *testCluster, first int) {
	client := &http.Client{}
	at := first
	var lastNode *clusterNode
	for ctx.Err() == nil {
		n := c.nodes[at%len(c.nodes)]
		at++
		req, _ := http.NewRequestWithContext(ctx, "GET", n.base()+"/api/v1/offices/"+officeID+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+c.tokens["hall"])
		if last := w.last.Load(); last > 0 {
			req.Header.Set("Last-Event-ID", fmt.Sprint(last))
			if lastNode != nil && lastNode != n {
				w.resumedElsewhere.Add(1)
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		lastNode = n
		_ = sse.Read(bufio.NewReader(resp.Body), func(m sse.Message) error {
			seq, err := m.Seq()
			if err != nil {
				return err
			}
			if m.Event == protocol.SnapshotEvent {
				if int64(seq) >= w.last.Load() {
					w.last.Store(int64(seq))
				}
				return nil
			}
			last := w.last.Load()
			switch {
			case int64(seq) <= last:
				w.repeats.Add(1)
			case int64(seq) > last+1 && last > 0:
				w.gaps.Add(int64(seq) - last - 1)
				w.last.Store(int64(seq))
			default:
				w.last.Store(int64(seq))
			}
			return nil
		})
		resp.Body.Close()
	}
}

// Three queue-server nodes share one PostgreSQL; kiosks and a counter send
// their requests to all three in turn, stream subscribers follow the events
// on each; the node writing the office is killed with SIGKILL, again and
// again, and started again. Every acknowledged ticket is in the office's
// log exactly once, no number is given twice, every command is answered
// by whichever node is asked, and the streams, resumed on other nodes,
// miss and repeat nothing.
func TestClusterSurvivesKillingTheWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("three queue-server processes on PostgreSQL")
	}
	const kills = 6
	c := newTestCluster(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	type ack struct{ request, id, number string }
	var mu sync.Mutex
	var acked []ack
	var unanswered, refused atomic.Int64
	services := []string{"family", "maintenance", "child800", "good-start", "care", "documents"}
	load, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for k := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; load.Err() == nil; i++ {
				rid := fmt.Sprintf("k%d-%d", k, i)
				body := fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":%q}`, services[(k+i)%len(services)], rid)
				// A kiosk asks again with the same request id, on the
				// next node, until one answers: as kioskd does.
				for try := 0; load.Err() == nil; try++ {
					var tr protocol.TicketResponse
					status := c.api(load, client, c.nodes[(k+i+try)%3], "kiosk", "POST", "/tickets", body, &tr)
					if status == http.StatusCreated || status == http.StatusOK {
						mu.Lock()
						acked = append(acked, ack{rid, tr.Ticket.ID, tr.Ticket.Number})
						mu.Unlock()
						break
					}
					if status == http.StatusConflict {
						// The office said no (the line is full for
						// today): an answer, with no ticket.
						refused.Add(1)
						break
					}
					if try == 200 {
						unanswered.Add(1)
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	var calls atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		client := &http.Client{Timeout: 10 * time.Second}
		for i := 0; load.Err() == nil; i++ {
			var tr protocol.TicketResponse
			n := c.nodes[i%3]
			counter := fmt.Sprintf("/counters/%d/", 1+i%4)
			switch status := c.api(load, client, n, "clerk", "POST", counter+"next", "", &tr); {
			case status == http.StatusOK && tr.Ticket.ID != "":
				calls.Add(1)
			case status >= 400 && status < 500:
				c.api(load, client, n, "clerk", "POST", counter+"open", "", nil)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	watchers := make([]*streamWatcher, 3)
	for i := range watchers {
		watchers[i] = &streamWatcher{}
		wg.Add(1)
		go func() { defer wg.Done(); watchers[i].follow(load, c, i) }()
	}

	var failovers []time.Duration
	for kill := range kills {
		var w *clusterNode
		waitfor.Until(t, "a node to write the office", 30*time.Second, func() bool { w = c.writer(ctx); return w != nil })
		before := countAcked(&mu, &acked)
		if !waitfor.Within(30*time.Second, func() bool { return countAcked(&mu, &acked) >= before+10 }) {
			c.diagnose(ctx)
			t.Fatalf("kill %d: no tickets acknowledged under node %s for 30 s", kill+1, w.name)
		}
		killed := time.Now()
		_ = w.proc.cmd.Process.Signal(syscall.SIGKILL)
		_ = w.proc.cmd.Wait()
		at := countAcked(&mu, &acked)
		if !waitfor.Within(30*time.Second, func() bool { return countAcked(&mu, &acked) > at }) {
			c.diagnose(ctx)
			t.Fatalf("kill %d: no ticket acknowledged in 30 s after node %s was killed", kill+1, w.name)
		}
		failovers = append(failovers, time.Since(killed))
		t.Logf("kill %d: node %s killed; a ticket acknowledged again %v later", kill+1, w.name, time.Since(killed).Round(time.Millisecond))
		c.startNode(w)
	}
	stopLoad()
	wg.Wait()

	// Every acknowledged ticket is in the log once; no number twice.
	db, err := pgstore.Open(ctx, c.store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	issued := map[string]string{} // request id, as the server keys it -> ticket
	inLog := map[string]bool{}
	numbers := map[string]int{}
	var seqs []uint64
	err = db.Office(officeID, pgstore.Node{ID: "reader"}, pgstore.OfficeOptions{}).Scan(0, func(e queue.Event) bool {
		seqs = append(seqs, e.Seq)
		if ti, ok := e.Body.(queue.TicketIssued); ok {
			if prev, dup := issued[ti.RequestID]; dup && ti.RequestID != "" {
				t.Errorf("request %s gave two tickets, %s and %s", ti.RequestID, prev, ti.Ticket.ID)
			}
			issued[ti.RequestID] = ti.Ticket.ID
			inLog[ti.Ticket.ID] = true
			numbers[ti.Ticket.Number]++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("the log's seq %d is at place %d: a gap or a second writer", s, i+1)
		}
	}
	for number, n := range numbers {
		if n > 1 {
			t.Errorf("number %s given %d times", number, n)
		}
	}
	ackedIDs := map[string]string{}
	for _, a := range acked {
		if !inLog[a.id] {
			t.Errorf("acknowledged ticket %s (%s) of request %s is not in the log", a.id, a.number, a.request)
		}
		if other, dup := ackedIDs[a.id]; dup {
			t.Errorf("ticket %s acknowledged to two requests, %s and %s", a.id, other, a.request)
		}
		ackedIDs[a.id] = a.request
	}
	if n := unanswered.Load(); n > 0 {
		t.Errorf("%d ticket requests were answered by no node in 200 tries", n)
	}
	resumed := int64(0)
	for i, w := range watchers {
		if g, r := w.gaps.Load(), w.repeats.Load(); g > 0 || r > 0 {
			t.Errorf("subscriber %d: %d events missed, %d repeated", i, g, r)
		}
		resumed += w.resumedElsewhere.Load()
	}
	if resumed == 0 {
		t.Error("no stream was resumed on another node")
	}
	slices.Sort(failovers)
	t.Logf("%d kills, %d tickets acknowledged (%d refused: the line full for today), %d calls, %d events; streams resumed on another node %d times; writer killed to the next acknowledged ticket: median %v, worst %v",
		kills, len(acked), refused.Load(), calls.Load(), len(seqs), resumed, failovers[len(failovers)/2].Round(time.Millisecond), failovers[len(failovers)-1].Round(time.Millisecond))
}

func countAcked[T any](mu *sync.Mutex, acked *[]T) int {
	mu.Lock()
	defer mu.Unlock()
	return len(*acked)
}

// diagnose tells what each node answers a ticket request with now, and
// who the database says writes the office.
func (c *testCluster) diagnose(ctx context.Context) {
	client := &http.Client{Timeout: 10 * time.Second}
	for _, n := range c.nodes {
		req, _ := http.NewRequestWithContext(ctx, "POST", n.base()+"/api/v1/offices/"+officeID+"/tickets",
			strings.NewReader(fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":"diagnose-%s-%d"}`, n.name, time.Now().UnixNano())))
		req.Header.Set("Authorization", "Bearer "+c.tokens["kiosk"])
		began := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			c.t.Logf("node %s: %v after %v", n.name, err, time.Since(began))
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.t.Logf("node %s: %s after %v: %.300s", n.name, resp.Status, time.Since(began), body)
	}
	if w := c.writer(ctx); w != nil {
		c.t.Logf("the database says node %s writes the office", w.name)
	} else {
		c.t.Log("the database says no node writes the office")
	}
}

// BenchmarkFailover measures, on three nodes sharing a PostgreSQL, the
// time from the office's writer killed with SIGKILL to the first ticket
// another node acknowledges, with a kiosk asking every node in turn.
func BenchmarkFailover(b *testing.B) {
	const kills = 8
	c := newTestCluster(b, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var acked atomic.Int64
	var wg sync.WaitGroup
	services := []string{"family", "maintenance", "child800", "good-start", "care", "documents"}
	for k := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ctx.Err() == nil; i++ {
				body := fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":"b%d-%d"}`, services[i%len(services)], k, i)
				for try := 0; ctx.Err() == nil; try++ {
					status := c.api(ctx, client, c.nodes[(k+i+try)%3], "kiosk", "POST", "/tickets", body, nil)
					if status == http.StatusCreated || status == http.StatusOK {
						acked.Add(1)
						break
					}
					if status == http.StatusConflict {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	var took []time.Duration
	for range kills {
		var w *clusterNode
		waitfor.Until(b, "a node to write the office", 30*time.Second, func() bool { w = c.writer(ctx); return w != nil })
		before := acked.Load()
		waitfor.Until(b, "tickets under this writer", 30*time.Second, func() bool { return acked.Load() >= before+5 })
		killed := time.Now()
		_ = w.proc.cmd.Process.Signal(syscall.SIGKILL)
		_ = w.proc.cmd.Wait()
		at := acked.Load()
		waitfor.Until(b, "a ticket after the kill", 30*time.Second, func() bool { return acked.Load() > at })
		took = append(took, time.Since(killed))
		c.startNode(w)
	}
	cancel()
	wg.Wait()
	for i := 0; i < b.N; i++ {
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "worst-ms")
}

// A node that writes the office and is cut off from PostgreSQL (its
// packets vanish) stops acknowledging: every ticket it acknowledged is in
// the log, another node takes the office over and acknowledges, and when
// the network comes back the cut-off node serves again as a follower.
func TestClusterNodeCutOffStopsAcknowledging(t *testing.T) {
	if testing.Short() {
		t.Skip("queue-server processes on PostgreSQL")
	}
	c := newTestCluster(t, 0)
	ctx := context.Background()
	u, err := neturl.Parse(c.store)
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := faultproxy.Listen("127.0.0.1:0", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	viaProxy := *u
	viaProxy.Host = proxy.Addr()
	a := c.addNode("a", viaProxy.String())
	waitfor.Until(t, "node a to write the office", 30*time.Second, func() bool { return c.writer(ctx) == a })
	b := c.addNode("b", "")

	client := &http.Client{Timeout: 8 * time.Second}
	ticket := func(n *clusterNode, rid string) (int, string) {
		var tr protocol.TicketResponse
		status := c.api(ctx, client, n, "kiosk", "POST", "/tickets", fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":%q}`, rid), &tr)
		return status, tr.Ticket.ID
	}
	if status, _ := ticket(a, "before"); status != http.StatusCreated {
		t.Fatalf("node a before the cut: %d", status)
	}

	proxy.Set(faultproxy.BlackHole)
	cut := time.Now()
	var fromA []string
	var tookOver time.Duration
	for i := 0; tookOver == 0 || time.Since(cut) < tookOver+3*time.Second; i++ {
		if status, id := ticket(a, fmt.Sprintf("a-%d", i)); status == http.StatusCreated || status == http.StatusOK {
			fromA = append(fromA, id)
		}
		if tookOver == 0 {
			if w := c.writer(ctx); w == b {
				tookOver = time.Since(cut)
			}
		}
		if time.Since(cut) > time.Minute {
			t.Fatal("node b did not take the office over in a minute")
		}
	}
	status, id := ticket(b, "b-after")
	if status != http.StatusCreated {
		t.Fatalf("node b after taking over: %d", status)
	}
	t.Logf("node a cut off; node b seen writing the office %v later (looked at between node a's requests, each waited for up to 8 s); node a acknowledged %d tickets after the cut", tookOver.Round(time.Millisecond), len(fromA))

	proxy.Set(faultproxy.Pass)
	waitfor.Until(t, "node a serving again", time.Minute, func() bool {
		status, _ := ticket(a, fmt.Sprintf("a-back-%d", time.Now().UnixNano()))
		return status == http.StatusCreated
	})

	db, err := pgstore.Open(ctx, c.store)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	inLog := map[string]int{}
	err = db.Office(officeID, pgstore.Node{ID: "reader"}, pgstore.OfficeOptions{}).Scan(0, func(e queue.Event) bool {
		if ti, ok := e.Body.(queue.TicketIssued); ok {
			inLog[ti.Ticket.ID]++
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range append(fromA, id) {
		if inLog[id] != 1 {
			t.Errorf("ticket %s was acknowledged but is %d times in the log", id, inLog[id])
		}
	}
}
