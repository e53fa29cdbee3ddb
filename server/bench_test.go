package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/procstat"
	"github.com/numerek/numerek/internal/streamload"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/store"
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

// BenchmarkCallTo10000Subscribers runs a real queue-server process with
// 10,000 idle subscribers on its office's event stream, held by this
// process on raw connections, and measures the time from a clerk's "next"
// to its TicketCalled event at the LAST of them (p50 and p99 over 20
// calls; with 20 calls p99 is the slowest; spread-p99-ms is from its
// first subscriber to its last, without the commit), and what one idle subscriber
// costs the server: its resident memory (VmRSS of /proc/PID/status) and
// its Go heap and stacks in use (go_memstats_heap_inuse_bytes plus
// go_memstats_stack_inuse_bytes of its /metrics), and its goroutines,
// after the subscribers connected minus before, divided by their number.
// Beside them, the server's CPU: with the streams idle (their heartbeats),
// as a share of one core, and for each event delivered to one subscriber
// (the calls' CPU less the idle share), which a loaded machine does not
// skew as it does the times; and this process's, the subscribers', for
// each event one of them reads (client-cpu-us/delivery): on the same
// cores, it takes from the server's share. Measured once, whatever b.N.
func BenchmarkCallTo10000Subscribers(b *testing.B) {
	const subscribers, calls = 10000, 20
	raiseFileLimit(b, subscribers+1000)
	p := startQueueServer(b)
	for i := range calls {
		p.must(b, http.StatusCreated, "ticket", "POST", "/tickets", fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":"fan%d"}`, i))
	}
	p.must(b, http.StatusOK, "admin", "POST", "/counters/5/open", "")
	var state struct{ Seq uint64 }
	if err := json.Unmarshal(p.must(b, http.StatusOK, "admin", "GET", "/state", ""), &state); err != nil {
		b.Fatal(err)
	}
	before := p.memory(b)
	request := streamload.Request(p.office, p.addr, p.tokens["hall"], state.Seq)
	load, err := streamload.Connect(subscribers, calls, func(int) (string, string) { return p.addr, request })
	if err != nil {
		b.Fatal(err)
	}
	defer load.Close()
	idleRate := load.IdleRate(b, func() int64 { return p.cpuTicks(b) })
	after := p.memory(b)
	stopPerf := recordPerf(b, map[string]int{"server": p.pid, "subscribers": os.Getpid()})
	callsFrom, callsTicks, ownFrom := time.Now(), p.cpuTicks(b), procstat.OwnCPU()

	// last: from the call to its last subscriber; spread: from its first
	// subscriber to its last, the fan-out without the call's commit.
	var last, spread []time.Duration
	for k := range calls {
		sent := time.Now()
		body := p.must(b, http.StatusOK, "counter5", "POST", "/counters/5/next", "")
		if !strings.Contains(string(body), `"state":"called"`) {
			b.Fatalf("next: %s", body)
		}
		l, sp, err := load.Await(k, sent, 30*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		last, spread = append(last, l), append(spread, sp)
	}
	callsFor, callsCPU, clientCPU := time.Since(callsFrom), p.cpuTicks(b)-callsTicks, procstat.OwnCPU()-ownFrom
	stopPerf()
	for b.Loop() {
	}
	// The calls' CPU, less what the idle streams' heartbeats took meanwhile.
	perDelivery := streamload.PerDelivery(callsCPU, callsFor, idleRate, calls*subscribers)
	b.ReportMetric(idleRate*100, "idle-cpu-%")
	b.ReportMetric(perDelivery*1e6, "cpu-us/delivery")
	b.ReportMetric(float64(clientCPU.Microseconds())/(calls*subscribers), "client-cpu-us/delivery")
	b.ReportMetric(streamload.Ms(last, 0.50), "p50-ms")
	b.ReportMetric(streamload.Ms(last, 0.99), "p99-ms")
	b.ReportMetric(streamload.Ms(spread, 0.99), "spread-p99-ms")
	b.ReportMetric(float64(after.RSS-before.RSS)/1024/subscribers, "rss-KiB/sub")
	b.ReportMetric(float64(after.Heap-before.Heap)/1024/subscribers, "heap-KiB/sub")
	b.ReportMetric(float64(after.Goroutines-before.Goroutines)/subscribers, "goroutines/sub")
	b.ReportMetric(0, "ns/op")
}

// recordPerf records, when $NUMEREK_BENCH_PERF names a directory, a
// profile of each process (perf record -g, NAME.data there) until the
// function it returns is called: where the CPU of a benchmark's figure
// goes, the kernel's share included (most of a stream's, on loopback).
func recordPerf(b *testing.B, pids map[string]int) (stop func()) {
	dir := os.Getenv("NUMEREK_BENCH_PERF")
	if dir == "" {
		return func() {}
	}
	var cmds []*exec.Cmd
	for name, pid := range pids {
		out := filepath.Join(dir, name+".data")
		_ = os.Remove(out)
		cmd := exec.Command("perf", "record", "-F", "2999", "-g", "-o", out, "-p", strconv.Itoa(pid))
		if err := cmd.Start(); err != nil {
			b.Fatalf("perf record of the %s: %v", name, err)
		}
		cmds = append(cmds, cmd)
		// perf writes its file's header once it records.
		waitfor.Until(b, "perf recording the "+name, 10*time.Second, func() bool {
			info, err := os.Stat(out)
			return err == nil && info.Size() > 0
		})
	}
	return func() {
		for _, cmd := range cmds {
			_ = cmd.Process.Signal(os.Interrupt)
			_ = cmd.Wait()
		}
	}
}

// raiseFileLimit lets this process, and the server it starts, hold n
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

// queueServer is a queue-server process the benchmark started.
type queueServer struct {
	pid    int
	addr   string // host:port
	office string
	tokens map[string]string
	client *http.Client
}

// startQueueServer builds cmd/queue-server (or takes it from
// $NUMEREK_TEST_BIN, where scripts/test.sh built it) and runs it on the
// built-in example office, with its clock at the office's next opening,
// on a loopback port, with a token for each role the benchmark uses.
func startQueueServer(b *testing.B) *queueServer {
	bin := filepath.Join(os.Getenv("NUMEREK_TEST_BIN"), "queue-server")
	if os.Getenv("NUMEREK_TEST_BIN") == "" {
		bin = filepath.Join(b.TempDir(), "queue-server")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/numerek/numerek/cmd/queue-server").CombinedOutput(); err != nil {
			b.Fatalf("building queue-server: %v\n%s", err, out)
		}
	}
	data := b.TempDir()
	const office = "cus-starachowice"
	ts := store.NewTokenStore(filepath.Join(data, "tokens.db"))
	p := &queueServer{office: office, tokens: map[string]string{}, client: &http.Client{Timeout: 30 * time.Second}}
	for name, tok := range map[string]store.Token{
		"ticket":   {Office: office, Role: "ticket", Label: "kiosk"},
		"counter5": {Office: office, Role: "counter", Counter: 5},
		"hall":     {Office: office, Role: "hall", Label: "hall"},
		"admin":    {Office: office, Role: "admin", Label: "admin"},
		"metrics":  {Office: AllOffices, Role: string(RoleMetrics), Label: "prometheus"},
	} {
		secret, _, err := ts.Create(tok)
		if err != nil {
			b.Fatal(err)
		}
		p.tokens[name] = secret
	}
	cmd := exec.Command(bin, "--data", data, "--listen", "127.0.0.1:0", "--clock", "open")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := regexp.MustCompile(`msg="queue server ready" listen=(\S+)`)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case p.addr = <-addr:
	case <-time.After(30 * time.Second):
		b.Fatal("queue-server did not start within 30 s")
	}
	p.pid = cmd.Process.Pid
	return p
}

// must sends a request to the office's API as the token's holder and
// returns the answer's body, failing unless it has the status wanted.
func (p *queueServer) must(b *testing.B, status int, token, method, path, body string) []byte {
	b.Helper()
	req, _ := http.NewRequest(method, "http://"+p.addr+"/api/v1/offices/"+p.office+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+p.tokens[token])
	resp, err := p.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		b.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, status)
	}
	return data
}

// cpuTicks is the server's CPU time so far (user and system), in ticks.
func (p *queueServer) cpuTicks(b *testing.B) int64 {
	b.Helper()
	ticks, err := procstat.CPUTicks(p.pid)
	if err != nil {
		b.Fatal(err)
	}
	return ticks
}

// memory is what the server holds.
func (p *queueServer) memory(b *testing.B) procstat.Memory {
	b.Helper()
	m, err := procstat.MemoryOf(p.pid, "http://"+p.addr+"/metrics", p.tokens["metrics"])
	if err != nil {
		b.Fatal(err)
	}
	return m
}
