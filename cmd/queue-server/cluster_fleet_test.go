package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/outbox"
)

// Three nodes behind HAProxy as deploy/cluster/haproxy.cfg sets it up:
// one node at a time runs the devices' fleet, the balancer sends a
// device's report to it, the office's admins are alerted once (not once
// per node), and when that node is killed another takes the fleet over
// from the state in PostgreSQL, with the device and its fault, and does
// not alert of the same fault again.
func TestClusterFleetFollowsItsLease(t *testing.T) {
	if testing.Short() {
		t.Skip("queue-server processes on PostgreSQL behind HAProxy")
	}
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Fatal("haproxy is not installed (scripts/install-deps.sh installs it)")
	}
	var mu sync.Mutex
	var alerts []outbox.AlertMessage
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m outbox.AlertMessage
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &m) == nil {
			mu.Lock()
			alerts = append(alerts, m)
			mu.Unlock()
		}
	}))
	defer hook.Close()
	cfg := exampleOfficeWith(t, "[devices]\nalert_webhook = \""+hook.URL+"/numerek\"\n\n")
	c := newTestCluster(t, 0)
	c.args = []string{"--config", cfg, "--test-fleet-every", "1s"}
	for _, name := range []string{"a", "b", "c"} {
		c.addNode(name, "")
	}
	code, out, errOut := runBin(t, c.bin, "token", "--store", c.store, "--office", officeID, "--role", "admin", "--label", "admin")
	if code != 0 {
		t.Fatalf("token: %s", errOut)
	}
	c.tokens["admin"] = strings.TrimSpace(out)
	front := startHAProxy(t, c)

	report, _ := json.Marshal(protocol.HealthReport{Version: "1.4.0", Role: "ticket", Name: "Kiosk przy drzwiach",
		Screen: protocol.ScreenHealth{Drawing: true}, Printer: &protocol.PrinterHealth{URI: "usb:", Online: true, PaperOut: true}})
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(method, url, token, body string) (int, string) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.tokens[token])
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	report1 := func() bool {
		st, _ := send("POST", front+protocol.DeviceHealthPath, "kiosk", string(report))
		return st == http.StatusOK
	}
	waitfor.Until(t, "the kiosk's report taken through HAProxy", 30*time.Second, report1)
	waitfor.Until(t, "the paper-out alert", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(alerts) > 0
	})

	holder := c.fleetHolder(t)
	if holder == nil {
		t.Fatal("no node holds the fleet's lease")
	}
	for _, n := range c.nodes {
		st, body := send("GET", n.base()+"/api/v1/fleet", "admin", "")
		switch {
		case n == holder && (st != http.StatusOK || !strings.Contains(body, "Kiosk przy drzwiach")):
			t.Errorf("node %s runs the fleet but answers %d %s", n.name, st, body)
		case n != holder && st != http.StatusServiceUnavailable:
			t.Errorf("node %s does not run the fleet but answers %d", n.name, st)
		}
	}

	// The node running the fleet dies; another takes it over, and the
	// balancer follows it.
	killed := time.Now()
	_ = holder.proc.cmd.Process.Signal(syscall.SIGKILL)
	_ = holder.proc.cmd.Wait()
	waitfor.Until(t, "a report taken after the kill", 30*time.Second, report1)
	t.Logf("the fleet answered again %v after its node was killed", time.Since(killed).Round(100*time.Millisecond))
	if next := c.fleetHolder(t); next == nil || next == holder {
		t.Fatalf("after the kill the fleet's lease is held by %v", next)
	}
	var fleet struct {
		Devices []struct {
			Name   string
			Faults []struct{ Code string }
		}
	}
	st, body := send("GET", front+"/api/v1/fleet", "admin", "")
	if err := json.Unmarshal([]byte(body), &fleet); st != http.StatusOK || err != nil || len(fleet.Devices) != 1 || fleet.Devices[0].Name != "Kiosk przy drzwiach" {
		t.Fatalf("the fleet after the take-over: %d %s", st, body)
	}
	// The paper is put back. The new node tells its end only if it read
	// that the start was told; had it not, its sweep (four a second
	// here) would have told the start a second time first.
	refilled, _ := json.Marshal(protocol.HealthReport{Version: "1.4.0", Role: "ticket", Name: "Kiosk przy drzwiach",
		Screen: protocol.ScreenHealth{Drawing: true}, Printer: &protocol.PrinterHealth{URI: "usb:", Online: true}})
	if st, body := send("POST", front+protocol.DeviceHealthPath, "kiosk", string(refilled)); st != http.StatusOK {
		t.Fatalf("the report of the paper put back: %d %s", st, body)
	}
	told := func(event string) []outbox.AlertMessage {
		mu.Lock()
		defer mu.Unlock()
		var out []outbox.AlertMessage
		for _, a := range alerts {
			if a.Fault == "paper-out" && a.Event == event {
				out = append(out, a)
			}
		}
		return out
	}
	waitfor.Until(t, "the end of the paper-out told", 30*time.Second, func() bool { return len(told("device-alert-cleared")) > 0 })
	started, ended := told("device-alert"), told("device-alert-cleared")
	if len(started) != 1 || len(ended) != 1 || !ended[0].Since.Equal(started[0].Since) {
		t.Errorf("the paper-out was told started %d times and ended %d times, want once each, of the same fault: %+v", len(started), len(ended), alerts)
	}
}

// fleetHolder is the node holding the fleet's lease, as the database says.
func (c *testCluster) fleetHolder(t *testing.T) *clusterNode {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.store)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var url string
	if conn.QueryRow(ctx, "SELECT node_url FROM office_leases WHERE office = $1 AND expires_at > now()", fleetLeaseName).Scan(&url) != nil {
		return nil
	}
	for _, n := range c.nodes {
		if n.base() == url {
			return n
		}
	}
	return nil
}

// startHAProxy runs HAProxy with deploy/cluster/haproxy.cfg in front of
// the cluster's nodes, on plain HTTP, and returns its address.
func startHAProxy(t *testing.T, c *testCluster) string {
	recipe, err := os.ReadFile("../../deploy/cluster/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t, "127.0.0.1")
	var lines []string
	for _, l := range strings.Split(string(recipe), "\n") {
		switch trimmed := strings.TrimSpace(l); {
		case trimmed == "bind :80":
			l = fmt.Sprintf("    bind 127.0.0.1:%d", port)
		case strings.HasPrefix(trimmed, "bind :443"), strings.HasPrefix(trimmed, "http-request redirect scheme https"):
			continue // no certificate here
		case strings.HasPrefix(trimmed, "maxconn "):
			l = "    maxconn 2000" // within the test's file limit
		}
		for i, addr := range []string{"10.0.0.11:8080", "10.0.0.12:8080", "10.0.0.13:8080"} {
			l = strings.ReplaceAll(l, addr, c.nodes[i].listen)
		}
		lines = append(lines, l)
	}
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("haproxy", "-db", "-f", cfg)
	var said lockedbuf.Buffer
	cmd.Stdout, cmd.Stderr = &said, &said
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("HAProxy said:\n%s", said.String())
		}
	})
	waitfor.Until(t, "HAProxy answering", 20*time.Second, func() bool {
		resp, err := http.Get(front + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return front
}
