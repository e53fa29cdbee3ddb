package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/pgtest"
)

// A single queue-server on PostgreSQL has no --cluster-secret-file: it
// forwards and accepts no commands (serve.go's flag). Killed and started
// again under the same --node name, it waits for the lease its killed
// life still holds (up to the TTL, 3 s). Meanwhile the lease row names
// the killed life's URL, which is its own address: the commands it gets
// must not be forwarded there, to itself, without the secret, to be
// refused as unauthorised (a WARN "a forwarded command without the
// cluster secret" and an ERROR "command failed" in its log for every
// command, and "the cluster secret is missing or wrong" to the kiosk).
func TestSingleNodeRestartForwardsNothingToItself(t *testing.T) {
	if testing.Short() {
		t.Skip("queue-server processes on PostgreSQL")
	}
	bin := buildServer(t)
	url := pgtest.Database(t)
	if code, out, errOut := runBin(t, bin, "migrate", "--store", url); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errOut)
	}
	code, out, errOut := runBin(t, bin, "token", "--store", url, "--office", officeID, "--role", "ticket", "--label", "kiosk")
	if code != 0 {
		t.Fatalf("token: %s", errOut)
	}
	kiosk := strings.TrimSpace(out)
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	data := t.TempDir()
	start := func() *process {
		return startServerWith(t, bin, "--listen", listen, "--data", data, "--store", url, "--node", "solo", "--clock", "2026-11-23T08:00:00")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	// issue asks for a ticket and returns the answer's status and body.
	issue := func(p *process, i int) (int, string) {
		req, _ := http.NewRequest("POST", p.base+"/tickets", strings.NewReader(fmt.Sprintf(`{"service":"family","lang":"pl","request_id":"r%d"}`, i)))
		req.Header.Set("Authorization", "Bearer "+kiosk)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	first := start()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		if status, _ := issue(first, i); status == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first life issued no ticket within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = first.cmd.Process.Kill()
	_ = first.cmd.Wait()

	again := start()
	var answers []string
	for i := 1000; ; i++ {
		status, body := issue(again, i)
		if status == http.StatusCreated {
			break
		}
		answers = append(answers, fmt.Sprintf("%d %s", status, strings.TrimSpace(body)))
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("the restarted node issued no ticket; its answers: %v", answers)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(answers) == 0 {
		t.Skip("the restarted node wrote at once (the killed life's lease had expired): nothing to see")
	}
	for _, a := range answers {
		if strings.Contains(a, "cluster secret") || strings.HasPrefix(a, "401 ") {
			t.Fatalf("while it waited for its lease, the restarted node sent a command to itself without the cluster secret; %d answers such as: %s", len(answers), a)
		}
	}
}
