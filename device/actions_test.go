package device

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/servertest"
	"github.com/numerek/numerek/store"
)

// commands records the system commands a device would have run.
type commands struct {
	mu   sync.Mutex
	ran  [][]string
	fail string // when set, every command fails printing this
}

func (c *commands) run(_ context.Context, name string, args ...string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ran = append(c.ran, append([]string{name}, args...))
	if c.fail != "" {
		return []byte(c.fail), errors.New("exit status 1")
	}
	return nil, nil
}

func (c *commands) all() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ran)
}

// A counter display (no printer, no speaker, here no screen) carries out
// what it can of the admin's actions, over its real event stream, and the
// server shows each result: the reboot goes through the command runner
// (as `systemctl reboot`, and its refusal is reported), the restart
// stops the device to be started again, and what the device lacks fails
// saying so.
func TestRemoteActionsOnADevice(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	token := srv.Tokens["counter1"]
	db, err := store.OpenDevice(filepath.Join(t.TempDir(), DataFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	client, err := protocol.NewClient(srv.URL, srv.Office.ID, token, protocol.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quit := make(chan struct{})
	var quitOnce sync.Once
	// The device's log (its stream's sessions, the actions it took) is
	// shown when the test fails.
	logs := &lockedbuf.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the device's log:\n%s", logs.String())
		}
	})
	d := &dev{
		cfg: &config.Config{Role: config.RoleCounter, Name: "okienko-1", Languages: []string{"pl"},
			Server: config.Server{URL: srv.URL, Office: srv.Office.ID}},
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), db: db, client: client, opts: Options{Version: "test"},
		quit: func() { quitOnce.Do(func() { close(quit) }) },
	}
	cmds := &commands{}
	d.remote = newRemote(d, cmds.run)
	f := replica.NewFollower(client, db, replica.NewClock(0), d.log, replica.FollowOptions{OnControl: d.remote.control})
	done := make(chan struct{}, 2)
	go func() { f.Run(ctx); done <- struct{}{} }()
	go func() { d.remote.serve(ctx); done <- struct{}{} }()
	defer func() { cancel(); <-done; <-done }()
	id := srv.TokenID(token)
	waitfor.Until(t, "the counter's stream", 5*time.Second, func() bool { return srv.Fleet().Presence(id).Connected })

	tests := []struct {
		kind, fail string
		state      string
		says       string
		ran        []string
	}{
		{kind: protocol.ActionReboot, state: "done", says: "rebooting", ran: []string{"systemctl", "reboot"}},
		{kind: protocol.ActionReboot, fail: "Access denied", state: "failed", says: "Access denied", ran: []string{"systemctl", "reboot"}},
		{kind: protocol.ActionTestPrint, state: "failed", says: "no printer"},
		{kind: protocol.ActionTestSound, state: "failed", says: "no speaker"},
		{kind: protocol.ActionScreenshot, state: "failed", says: "no screen"},
		{kind: protocol.ActionRestart, state: "done", says: "restarting"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.state, func(t *testing.T) {
			cmds.mu.Lock()
			cmds.fail, cmds.ran = tt.fail, nil
			cmds.mu.Unlock()
			asked := adminAsks(t, srv, id, tt.kind)
			var got server.ActionStatus
			// As long as the admin's page waits before it says the
			// device did not answer.
			waitfor.Until(t, "the counter's answer", fleet.ActionTimeout, func() bool {
				got = adminSees(t, srv, id, asked.ID)
				return got.State != "sent"
			})
			if got.State != tt.state || !strings.Contains(got.Detail, tt.says) {
				t.Fatalf("%s: %s %q, want %s saying %q", tt.kind, got.State, got.Detail, tt.state, tt.says)
			}
			var want [][]string
			if tt.ran != nil {
				want = [][]string{tt.ran}
			}
			if ran := cmds.all(); !slices.EqualFunc(ran, want, slices.Equal) {
				t.Fatalf("%s ran %q, want %q", tt.kind, ran, want)
			}
		})
	}
	select {
	case <-quit:
	case <-time.After(5 * time.Second):
		t.Fatal("the restart did not stop the device")
	}
	if !d.remote.restartAsked() {
		t.Fatal("the device stopped, but Run would not say it was to restart")
	}
}

func adminCall(t *testing.T, srv *servertest.Server, method, path, body string) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+srv.Tokens["admin"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	return data
}

func adminAsks(t *testing.T, srv *servertest.Server, device, kind string) server.ActionStatus {
	t.Helper()
	var a server.ActionStatus
	if err := json.Unmarshal(adminCall(t, srv, "POST", "/api/v1/devices/"+device+"/actions", `{"kind":"`+kind+`"}`), &a); err != nil {
		t.Fatal(err)
	}
	if a.State != "sent" {
		t.Fatalf("asked %s: %+v", kind, a)
	}
	return a
}

func adminSees(t *testing.T, srv *servertest.Server, device, id string) server.ActionStatus {
	t.Helper()
	var l server.ActionList
	if err := json.Unmarshal(adminCall(t, srv, "GET", "/api/v1/devices/"+device+"/actions", ""), &l); err != nil {
		t.Fatal(err)
	}
	for _, a := range l.Actions {
		if a.ID == id {
			return a
		}
	}
	t.Fatalf("action %s is not among the device's", id)
	return server.ActionStatus{}
}
