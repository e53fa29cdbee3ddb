package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/procstat"
	"github.com/numerek/numerek/internal/streamload"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
)

// BenchmarkCallTo5000SubscribersOnEachOf3Nodes is issue 16's fan-out over
// a cluster: three queue-server nodes on one PostgreSQL, 5,000 idle
// subscribers on the office's event stream of each (15,000 raw
// connections held by this process, as BenchmarkCallTo10000Subscribers of
// server/ holds its 10,000), and the time from a clerk's "next" to its
// TicketCalled event at the LAST subscriber of all three nodes: 20 calls
// sent to the office's writer (p50-ms, p99-ms; with 20 calls p99 is the
// slowest; spread-p99-ms is from the call's first subscriber to its
// last, without the commit) and 20 sent to a follower, which forwards
// them to the writer (follower-p50-ms, follower-p99-ms). The followers'
// subscribers have the event once the node's replica has read it from
// PostgreSQL (NOTIFY, then the log).
//
// What an idle subscriber costs: each node's resident memory (VmRSS)
// and Go heap and stacks in use (its /metrics), after the subscribers
// connected less before, divided by its 5,000; rss-KiB/sub and
// heap-KiB/sub are the node that grew most, writer-rss-KiB/sub the
// office's writer. The CPU of the three nodes together: idle (the
// streams' heartbeats), as a share of one core, and for each event
// delivered to one subscriber, the idle share taken off; and this
// process's, the subscribers', for each. Measured once, whatever b.N.
func BenchmarkCallTo5000SubscribersOnEachOf3Nodes(b *testing.B) {
	if testing.Short() {
		b.Skip("three queue-server processes on PostgreSQL, 15,000 connections")
	}
	const perNode, nodes, calls = 5000, 3, 20
	const subscribers = perNode * nodes
	raiseFileLimit(b, subscribers+1000)
	c := newTestCluster(b, nodes)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code, out, errOut := runBin(b, c.bin, "token", "--store", c.store, "--role", "metrics", "--label", "prometheus")
	if code != 0 {
		b.Fatalf("token --role metrics: %s", errOut)
	}
	c.tokens["metrics"] = strings.TrimSpace(out)

	var writer *clusterNode
	waitfor.Until(b, "a node to write the office", 30*time.Second, func() bool { writer = c.writer(ctx); return writer != nil })
	follower := c.nodes[0]
	if follower == writer {
		follower = c.nodes[1]
	}
	client := &http.Client{Timeout: 30 * time.Second}
	must := func(n *clusterNode, token, method, path, body string, status int) {
		b.Helper()
		if got := c.api(ctx, client, n, token, method, path, body, nil); got != status {
			b.Fatalf("%s %s on node %s: %d, want %d", method, path, n.name, got, status)
		}
	}
	for i := range 2 * calls {
		must(writer, "kiosk", "POST", "/tickets", fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":"fan%d"}`, i), http.StatusCreated)
	}
	must(writer, "clerk", "POST", "/counters/5/open", "", http.StatusOK)
	var state struct{ Seq uint64 }
	if got := c.api(ctx, client, writer, "hall", "GET", "/state", "", &state); got != http.StatusOK {
		b.Fatalf("state on the writer: %d", got)
	}
	// Each follower's replica has every event so far, so its streams
	// start at once instead of waiting for it.
	for _, n := range c.nodes {
		waitfor.Until(b, "node "+n.name+"'s replica to reach the writer", 30*time.Second, func() bool {
			var s struct{ Seq uint64 }
			return c.api(ctx, client, n, "hall", "GET", "/state", "", &s) == http.StatusOK && s.Seq >= state.Seq
		})
	}
	before := make([]procstat.Memory, nodes)
	for i, n := range c.nodes {
		before[i] = c.memory(b, n)
	}

	// Subscriber i follows node i/perNode.
	load, err := streamload.Connect(subscribers, 2*calls, func(i int) (string, string) {
		n := c.nodes[i/perNode]
		return n.listen, streamload.Request(officeID, n.listen, c.tokens["hall"], state.Seq)
	})
	if err != nil {
		b.Fatal(err)
	}
	defer load.Close()
	idleRate := load.IdleRate(b, func() int64 { return c.cpuTicks(b) })
	after := make([]procstat.Memory, nodes)
	for i, n := range c.nodes {
		after[i] = c.memory(b, n)
	}

	// call sends the k-th "next" to node n and returns the time from it
	// to the call's last subscriber, and from its first subscriber to
	// its last.
	call := func(k int, n *clusterNode) (last, spread time.Duration) {
		var tr protocol.TicketResponse
		sent := time.Now()
		if got := c.api(ctx, client, n, "clerk", "POST", "/counters/5/next", "", &tr); got != http.StatusOK || tr.Ticket.ID == "" {
			b.Fatalf("next on node %s: %d, ticket %q", n.name, got, tr.Ticket.ID)
		}
		last, spread, err := load.Await(k, sent, 30*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		return last, spread
	}
	callsFrom, callsTicks, ownFrom := time.Now(), c.cpuTicks(b), procstat.OwnCPU()
	var last, spread, viaFollower []time.Duration
	for k := range calls {
		l, s := call(k, writer)
		last, spread = append(last, l), append(spread, s)
	}
	callsFor, callsCPU, clientCPU := time.Since(callsFrom), c.cpuTicks(b)-callsTicks, procstat.OwnCPU()-ownFrom
	for k := calls; k < 2*calls; k++ {
		l, _ := call(k, follower)
		viaFollower = append(viaFollower, l)
	}
	for b.Loop() {
	}

	// The calls' CPU, less what the idle streams' heartbeats took meanwhile.
	perDelivery := streamload.PerDelivery(callsCPU, callsFor, idleRate, calls*subscribers)
	b.ReportMetric(idleRate*100, "idle-cpu-%")
	b.ReportMetric(perDelivery*1e6, "cpu-us/delivery")
	// The subscribers' side, this process (their heartbeats included): on
	// the same cores, it takes from the nodes' share.
	b.ReportMetric(float64(clientCPU.Microseconds())/(calls*subscribers), "client-cpu-us/delivery")
	b.ReportMetric(streamload.Ms(last, 0.50), "p50-ms")
	b.ReportMetric(streamload.Ms(last, 0.99), "p99-ms")
	b.ReportMetric(streamload.Ms(spread, 0.99), "spread-p99-ms")
	b.ReportMetric(streamload.Ms(viaFollower, 0.50), "follower-p50-ms")
	b.ReportMetric(streamload.Ms(viaFollower, 0.99), "follower-p99-ms")
	var rss, heap float64
	for i, n := range c.nodes {
		nodeRSS := float64(after[i].RSS-before[i].RSS) / 1024 / perNode
		nodeHeap := float64(after[i].Heap-before[i].Heap) / 1024 / perNode
		rss, heap = max(rss, nodeRSS), max(heap, nodeHeap)
		role := "follower"
		if n == writer {
			role = "writer"
			b.ReportMetric(nodeRSS, "writer-rss-KiB/sub")
		}
		b.Logf("node %s (%s): %.1f KiB resident, %.1f KiB of Go heap and stacks, %.2f goroutines a subscriber", n.name, role, nodeRSS, nodeHeap,
			float64(after[i].Goroutines-before[i].Goroutines)/perNode)
	}
	b.ReportMetric(rss, "rss-KiB/sub")
	b.ReportMetric(heap, "heap-KiB/sub")
	b.ReportMetric(0, "ns/op")
}

// raiseFileLimit lets this process, and the servers it starts, hold n
// files open.
func raiseFileLimit(b *testing.B, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Max < n {
		b.Skipf("the hard limit of open files is %d; this benchmark needs %d", lim.Max, n)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal("raising the limit of open files: ", err)
	}
}

// cpuTicks is the CPU time of the cluster's nodes so far, together, in
// the kernel's clock ticks.
func (c *testCluster) cpuTicks(b *testing.B) int64 {
	b.Helper()
	var ticks int64
	for _, n := range c.nodes {
		ticks += procTicks(b, n.proc.cmd.Process.Pid)
	}
	return ticks
}

// memory is what node n holds.
func (c *testCluster) memory(b *testing.B, n *clusterNode) procstat.Memory {
	b.Helper()
	m, err := procstat.MemoryOf(n.proc.cmd.Process.Pid, n.base()+"/metrics", c.tokens["metrics"])
	if err != nil {
		b.Fatalf("node %s: %v", n.name, err)
	}
	return m
}
