package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek/api/apitest"
	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/store"
)

// env is a running server on real bbolt files with a token per role.
type env struct {
	t       testing.TB
	url     string
	clock   *testclock.Clock
	actors  map[string]*actor.Actor
	tokens  map[string]string // role name (counter5, ...) -> secret
	office  *queue.Office
	dataDir string
	srv     *Server
}

func newEnv(t testing.TB, opts actor.Options) *env {
	t.Helper()
	return newEnvWith(t, opts, nil)
}

// newEnvWith is newEnv with the server's Config changed by configure
// before the server is made.
func newEnvWith(t testing.TB, opts actor.Options, configure func(*Config)) *env {
	t.Helper()
	cfg, err := officeconfig.Load("../examples/offices/starachowice.toml")
	if err != nil {
		t.Fatal(err)
	}
	other, err := officeconfig.Load("../examples/offices/czestochowa.toml")
	if err != nil {
		t.Fatal(err)
	}
	offices := append(cfg.Offices, other.Offices...)
	o := offices[0]
	clock := testclock.New(time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location))
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{t: t, clock: clock, actors: map[string]*actor.Actor{}, tokens: map[string]string{}, office: o, dataDir: dir}
	var list []*actor.Actor
	var wg sync.WaitGroup
	for _, of := range offices {
		l, err := store.OpenOfficeLog(filepath.Join(dir, of.ID+".db"), of.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, err := actor.New(of, l, clock.Now, logger, opts)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); a.Run(ctx) }()
		e.actors[of.ID] = a
		list = append(list, a)
		t.Cleanup(func() { l.Close() })
	}
	ts := store.NewTokenStore(filepath.Join(dir, "tokens.db"))
	make := func(name string, tok store.Token) {
		secret, _, err := ts.Create(tok)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = secret
	}
	make("ticket", store.Token{Office: o.ID, Role: "ticket", Label: "kiosk-lobby"})
	make("counter5", store.Token{Office: o.ID, Role: "counter", Counter: 5})
	make("hall", store.Token{Office: o.ID, Role: "hall", Label: "hall-lcd"})
	make("clerk", store.Token{Office: o.ID, Role: "clerk", Label: "anna"})
	make("admin", store.Token{Office: o.ID, Role: "admin", Label: "kierownik"})
	make("other-office", store.Token{Office: other.Offices[0].ID, Role: "admin"})
	make("locker", store.Token{Office: o.ID, Role: "locker", Label: "locker-b"})
	make("other-locker", store.Token{Office: other.Offices[0].ID, Role: "locker", Label: "locker-c"})
	serverCfg := Config{Offices: list, Tokens: ts, Clock: clock.Now, Logger: logger, Heartbeat: 200 * time.Millisecond}
	if configure != nil {
		configure(&serverCfg)
	}
	srv := New(serverCfg)
	e.srv = srv
	var h http.Handler = srv
	if _, bench := t.(*testing.B); !bench {
		// Every request and answer of the tests is held to the API's
		// document; benchmarks measure the server alone.
		h = apitest.NewMonitor(t).Wrap(srv)
	}
	hs := httptest.NewServer(h)
	e.url = hs.URL
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		cancel()
		wg.Wait()
	})
	return e
}

func (e *env) path(p string) string {
	return e.url + "/api/v1/offices/" + e.office.ID + p
}

// call makes a request as role ("" for no token) and returns status and body.
func (e *env) call(role, method, url, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		secret, ok := e.tokens[role]
		if !ok {
			secret = role
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// must makes a request that must answer want.
func (e *env) must(want int, role, method, url, body string) []byte {
	e.t.Helper()
	got, data := e.call(role, method, url, body)
	if got != want {
		e.t.Fatalf("%s %s as %s: %d %s, want %d", method, url, role, got, data, want)
	}
	return data
}

func (e *env) seq() uint64 { return e.actors[e.office.ID].Seq() }

func decode[T any](t testing.TB, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

func decodeInto(data []byte, v any) error { return json.Unmarshal(data, v) }
