package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/protocol"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// buildServer builds the queue-server binary once for all the process
// tests of the run (a build is seconds of linking, not worth repeating), or
// takes it from $NUMEREK_TEST_BIN, a folder where scripts/test.sh built it
// once for every package that runs it.
func buildServer(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("NUMEREK_TEST_BIN"); dir != "" {
		return filepath.Join(dir, "queue-server")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "queue-server-test-bin")
		if buildErr != nil {
			return
		}
		if out, err := exec.Command("go", "build", "-o", binDir, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, "queue-server")
}

// TestMain starts a PostgreSQL for the tests that need one and removes
// the binary the process tests built.
func TestMain(m *testing.M) {
	code := pgtest.Main(m)
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// process is a running queue-server.
type process struct {
	cmd  *exec.Cmd
	base string
}

var readyLine = regexp.MustCompile(`msg="queue server ready" listen=(\S+)`)

func startServer(t *testing.T, bin, data string) *process {
	t.Helper()
	return startServerWith(t, bin, "--data", data, "--clock", "2026-11-23T07:45:00")
}

func token(t *testing.T, bin, data string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"token", "--data", data, "--office", "cus-starachowice"}, args...)...).Output()
	if err != nil {
		t.Fatalf("token %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func post(client *http.Client, url, tok, body string) (int, protocol.TicketResponse, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		return 0, protocol.TicketResponse{}, err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var tr protocol.TicketResponse
	if resp.StatusCode < 300 {
		if err := json.Unmarshal(data, &tr); err != nil {
			return resp.StatusCode, tr, err
		}
	}
	return resp.StatusCode, tr, nil
}

// TestKillDuringLoad kills the server with SIGKILL while kiosks issue
// tickets, restarts it, and checks that every acknowledged ticket is there
// exactly once and that numbers never repeat.
func TestKillDuringLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a server process")
	}
	t.Parallel()
	bin := buildServer(t)
	data := t.TempDir()
	tok := token(t, bin, data, "--role", "ticket", "--label", "kiosk")
	srv := startServer(t, bin, data)

	services := []string{"family", "maintenance", "child800", "good-start", "care", "documents"}
	type ack struct{ request, service, id, number string }
	var mu sync.Mutex
	var acked []ack
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				rid := fmt.Sprintf("w%d-%d", w, i)
				body := fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":%q}`, services[(w+i)%len(services)], rid)
				status, tr, err := post(client, srv.base+"/tickets", tok, body)
				if err != nil {
					return // the server is gone
				}
				if status == http.StatusCreated {
					mu.Lock()
					acked = append(acked, ack{rid, tr.Ticket.Service, tr.Ticket.ID, tr.Ticket.Number})
					mu.Unlock()
				}
			}
		}()
	}
	// Let the load run, then cut the power.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 300 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	close(stop)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d tickets acknowledged before the kill", len(acked))
	}

	srv = startServer(t, bin, data)
	client := &http.Client{Timeout: 5 * time.Second}
	numbers := map[string]string{}
	for _, a := range acked {
		if other, dup := numbers[a.number]; dup {
			t.Fatalf("number %s acknowledged twice (%s and %s)", a.number, other, a.request)
		}
		numbers[a.number] = a.request
		req, _ := http.NewRequest("GET", srv.base+"/tickets/"+a.id, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("acknowledged ticket %s (%s) lost after the kill: %d", a.number, a.request, resp.StatusCode)
		}
	}
	// Retrying an acknowledged request gives the same ticket, not a new one.
	for _, a := range acked[:5] {
		status, tr, err := post(client, srv.base+"/tickets", tok, fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":%q}`, a.service, a.request))
		if err != nil || status != http.StatusOK || tr.Ticket.ID != a.id {
			t.Errorf("retry of %s after restart: %d %s, want 200 %s", a.request, status, tr.Ticket.ID, a.id)
		}
	}
	// New tickets continue the numbering: none repeats an acknowledged one.
	issued := 0
	for i, s := range services {
		status, tr, err := post(client, srv.base+"/tickets", tok, fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":"after-%d"}`, s, i))
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusCreated {
			continue // a long line may be refused as past closing
		}
		issued++
		if prev, dup := numbers[tr.Ticket.Number]; dup {
			t.Errorf("after restart %s was issued again (first for %s)", tr.Ticket.Number, prev)
		}
	}
	if issued == 0 {
		t.Errorf("no service issued a ticket after the restart")
	}
	t.Logf("%d tickets acknowledged before SIGKILL, all present after restart", len(acked))
}
