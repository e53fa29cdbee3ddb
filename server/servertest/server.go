// Package servertest runs a real queue server inside a test: the office
// actor, its event log and the tokens on bbolt files in a temporary folder,
// the API on a loopback port, with a clock the test can set. It can stop
// and start again on the same address and data, as a server that goes
// away and comes back.
package servertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the office's time zone on machines without one

	"github.com/prometheus/client_golang/prometheus"

	"github.com/numerek/numerek"
	"github.com/numerek/numerek/api/apitest"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/bundles"
	"github.com/numerek/numerek/server/devices"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/metrics"
	"github.com/numerek/numerek/store"
)

// Clock is a clock that runs at normal speed from a time the test sets.
type Clock struct {
	mu     sync.Mutex
	base   time.Time
	realAt time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{base: t, realAt: time.Now()} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.realAt))
}

// Set moves the clock to t; it runs on from there.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.realAt = t, time.Now()
}

// Options set up a Server.
type Options struct {
	// Start is the office-local time the clock starts at; default Monday
	// 2026-11-23 09:00, when the example office is open.
	Start time.Time
	// Heartbeat of idle event streams; default protocol.Heartbeat (3 s).
	Heartbeat time.Duration
	// PublicURL makes ticket answers carry an e-ticket address; default
	// http://numerek.test.
	PublicURL string
	// OfflineAfter is how long a device may be silent before it is
	// offline; default fleet.DefaultOfflineAfter.
	OfflineAfter time.Duration
	// Alerts tell of devices' faults; default: nobody is told.
	Alerts fleet.Alerts
	// MaxBundle is the largest update bundle taken; default
	// bundles.DefaultMaxSize.
	MaxBundle int64
}

// Server is a queue server running the example office (Starachowice).
type Server struct {
	// URL is the server's address, http://127.0.0.1:PORT.
	URL    string
	Office *queue.Office
	Clock  *Clock
	Dir    string
	// Tokens are made before the server starts, so they work at once:
	// "ticket" (label kiosk), "hall", "clerk", "admin" and "counter1" to
	// "counter6" of the office; "metrics" (Prometheus's) and
	// "global-admin" of every office.
	Tokens map[string]string

	t      testing.TB
	opts   Options
	addr   string
	tokens *store.TokenStore

	// monitor checks the exchanges against the API's document across
	// restarts; nil in benchmarks.
	monitor *apitest.Monitor

	mu      sync.Mutex
	running *running
	// booked counts the bookings made, each by its own contact.
	booked int
}

// running is what lives while the server runs.
type running struct {
	http   *http.Server
	actor  *actor.Actor
	desk   *booking.Desk
	log    *store.OfficeLog
	web    *store.WebDB
	fleet  *fleet.Hub
	srv    *server.Server
	health *fleet.Health
	fdb    *store.FleetDB
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs the server; it stops when the test ends. In a test (not a
// benchmark) every request to the API and its answer are checked against
// the API's document (api/apitest), and a mismatch fails the test.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	data, err := numerek.ExampleOffices.ReadFile(numerek.DefaultOfficeFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := officeconfig.Parse(numerek.DefaultOfficeFile, data)
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)
	}
	if opts.PublicURL == "" {
		opts.PublicURL = "http://numerek.test"
	}
	dir := t.TempDir()
	var monitor *apitest.Monitor
	if _, bench := t.(*testing.B); !bench {
		// Every request and answer of a test is held to the API's document;
		// benchmarks measure the server alone. Made before Stop is
		// registered, so it reports after the server has closed and its
		// streams have ended.
		monitor = apitest.NewMonitor(t)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		URL: "http://" + ln.Addr().String(), Office: o, Clock: NewClock(opts.Start), Dir: dir,
		t: t, opts: opts, addr: ln.Addr().String(), monitor: monitor, tokens: store.NewTokenStore(filepath.Join(dir, "tokens.db")),
	}
	s.Tokens = map[string]string{
		"ticket": s.Token("ticket", 0, "kiosk"), "hall": s.Token("hall", 0, "hall"),
		"clerk": s.Token("clerk", 0, "anna"), "admin": s.Token("admin", 0, "admin"),
	}
	for n := 1; n <= 6; n++ {
		s.Tokens[fmt.Sprintf("counter%d", n)] = s.Token("counter", n, "")
	}
	for name, role := range map[string]server.Role{"metrics": server.RoleMetrics, "global-admin": server.RoleAdmin} {
		secret, _, err := s.tokens.Create(store.Token{Office: server.AllOffices, Role: string(role), Label: name})
		if err != nil {
			t.Fatal(err)
		}
		s.Tokens[name] = secret
	}
	if err := s.start(ln); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start(ln net.Listener) error {
	l, err := store.OpenOfficeLog(filepath.Join(s.Dir, s.Office.ID+".db"), s.Office.ID)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	// Metrics as queue-server has them, on this run's own registry.
	meter := metrics.New(prometheus.NewRegistry(), logger)
	a, err := actor.New(s.Office, l, s.Clock.Now, logger, actor.Options{Observer: meter.Office(s.Office.ID)})
	if err != nil {
		l.Close()
		return err
	}
	key, err := store.LoadOrCreateKey(filepath.Join(s.Dir, "web.key"))
	if err != nil {
		l.Close()
		return err
	}
	web, err := store.OpenWebDB(filepath.Join(s.Dir, "web.db"))
	if err != nil {
		l.Close()
		return err
	}
	signer := links.New(key, s.opts.PublicURL)
	desk := booking.New(web, signer, s.Clock.Now, logger)
	hub := fleet.NewHub(s.Clock.Now)
	fdb, err := store.OpenFleetDB(filepath.Join(s.Dir, "fleet.db"))
	if err != nil {
		l.Close()
		web.Close()
		return err
	}
	health, err := fleet.NewHealth(fleet.HealthOptions{Clock: s.Clock.Now, Presence: hub.Presence, Store: fdb, OfflineAfter: s.opts.OfflineAfter, Alerts: s.opts.Alerts})
	if err != nil {
		l.Close()
		web.Close()
		fdb.Close()
		return err
	}
	bundleStore, err := bundles.Open(bundles.Options{Dir: filepath.Join(s.Dir, "bundles"), DB: fdb, Clock: s.Clock.Now, MaxSize: s.opts.MaxBundle})
	if err != nil {
		l.Close()
		web.Close()
		fdb.Close()
		return err
	}
	updates, err := fleet.NewUpdates(hub, fdb, s.Clock.Now, logger)
	if err != nil {
		l.Close()
		web.Close()
		fdb.Close()
		return err
	}
	srv := server.New(server.Config{
		Fleet: hub, Health: health, Bundles: bundleStore, Updates: updates,
		Offices: []*actor.Actor{a}, Tokens: s.tokens, Clock: s.Clock.Now, Logger: logger,
		Heartbeat: s.opts.Heartbeat, Booking: desk, Links: signer, Metrics: meter,
		Devices: store.NewDeviceStore(filepath.Join(s.Dir, "devices.db")), PublicURL: s.opts.PublicURL,
	})
	meter.Watch(srv)
	var h http.Handler = srv
	if s.monitor != nil {
		h = s.monitor.Wrap(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{http: &http.Server{Handler: h}, actor: a, desk: desk, log: l, web: web, fleet: hub, srv: srv, health: health, fdb: fdb, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(r.done); a.Run(ctx) }()
	go func() { _ = r.http.Serve(ln) }()
	s.mu.Lock()
	s.running = r
	s.mu.Unlock()
	return nil
}

// Fleet is the running server's hub of device streams: which devices are
// connected, and the control events sent to them.
func (s *Server) Fleet() *fleet.Hub {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.t.Fatal("servertest: Fleet of a stopped server")
	}
	return s.running.fleet
}

// Devices is the running server's register of paired devices: a test
// approves or rejects pairings and revokes devices there, as the admin's
// pages do.
func (s *Server) Devices() *devices.Registry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.t.Fatal("servertest: Devices of a stopped server")
	}
	return s.running.srv.Devices()
}

// Health is the running server's record of its devices' health.
func (s *Server) Health() *fleet.Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		s.t.Fatal("servertest: Health of a stopped server")
	}
	return s.running.health
}

// TokenID is the id of the token whose secret is given.
func (s *Server) TokenID(secret string) string {
	tok, ok, err := s.tokens.Lookup(secret)
	if err != nil || !ok {
		s.t.Fatalf("servertest: no token for that secret (%v)", err)
	}
	return tok.ID
}

// Stop stops the server as if its process ended: connections drop, the
// port closes. The data stays for Restart.
func (s *Server) Stop() {
	s.mu.Lock()
	r := s.running
	s.running = nil
	s.mu.Unlock()
	if r == nil {
		return
	}
	r.http.Close()
	r.cancel()
	<-r.done
	r.log.Close()
	r.web.Close()
	if err := r.health.Flush(); err != nil {
		s.t.Errorf("servertest: writing the devices' last reports: %v", err)
	}
	r.fdb.Close()
}

// Restart starts the stopped server again on the same address and data.
func (s *Server) Restart() {
	s.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("restarting the queue server on %s: %v", s.addr, err)
	}
	if err := s.start(ln); err != nil {
		s.t.Fatal(err)
	}
}

// Token makes a token for role ("ticket", "counter", "hall", "clerk",
// "admin"); counter is the counter of a counter token.
func (s *Server) Token(role string, counter int, label string) string {
	s.t.Helper()
	secret, _, err := s.tokens.Create(store.Token{Office: s.Office.ID, Role: role, Counter: counter, Label: label})
	if err != nil {
		s.t.Fatal(err)
	}
	// The server rereads the token file at most once a second.
	s.mu.Lock()
	up := s.running != nil
	s.mu.Unlock()
	for deadline := time.Now().Add(3 * time.Second); up && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if status, _, err := s.Call(secret, "GET", "/config", ""); err == nil && status == http.StatusOK {
			break
		}
	}
	return secret
}

// Actor is the office's actor while the server runs.
func (s *Server) Actor() *actor.Actor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		return nil
	}
	return s.running.actor
}

// Book books a visit to service at slot and returns its code.
func (s *Server) Book(service string, slot time.Time) string {
	s.t.Helper()
	s.mu.Lock()
	r := s.running
	s.mu.Unlock()
	if r == nil {
		s.t.Fatal("booking: the server is stopped")
	}
	s.mu.Lock()
	s.booked++
	contact := fmt.Sprintf("jan.%d@example.pl", s.booked)
	s.mu.Unlock()
	b, err := r.desk.Book(context.Background(), r.actor, "test", booking.Request{
		Service: service, Slot: slot, Lang: "pl", Name: "Jan Kowalski", Contact: contact, Terms: true,
	})
	if err != nil {
		s.t.Fatalf("booking %s at %v: %v", service, slot, err)
	}
	if b.Held {
		// The resident types the code the confirmation message carried.
		code := r.desk.Links().ConfirmCode(s.Office.ID, b.ID)
		if err := r.desk.Confirm(context.Background(), r.actor, "test", b.ID, code); err != nil {
			s.t.Fatalf("confirming booking %s: %v", b.ID, err)
		}
	}
	return b.Code
}

// CancelBooking cancels the booked visit with code, as the resident's
// cancel link does.
func (s *Server) CancelBooking(code string) {
	s.t.Helper()
	s.mu.Lock()
	r := s.running
	s.mu.Unlock()
	if r == nil {
		s.t.Fatal("cancelling a booking: the server is stopped")
	}
	b, ok, err := r.web.BookingByCode(r.desk.Links().CodeKey(code))
	if err != nil || !ok {
		s.t.Fatalf("cancelling booking %s: found=%v %v", code, ok, err)
	}
	if err := r.desk.Cancel(context.Background(), r.actor, "test", b.ID); err != nil {
		s.t.Fatalf("cancelling booking %s: %v", code, err)
	}
}

// View is the office now, as the server sees it.
func (s *Server) View() queue.View {
	s.t.Helper()
	a := s.Actor()
	if a == nil {
		s.t.Fatal("reading the view: the server is stopped")
	}
	var v queue.View
	if err := a.Query(context.Background(), func(st *queue.State) { v = st.View(s.Clock.Now()) }); err != nil {
		s.t.Fatal(err)
	}
	return v
}

// Tickets returns every ticket of the day, with their state.
func (s *Server) Tickets() map[string]queue.Ticket {
	s.t.Helper()
	a := s.Actor()
	if a == nil {
		s.t.Fatal("reading tickets: the server is stopped")
	}
	out := map[string]queue.Ticket{}
	if err := a.Query(context.Background(), func(st *queue.State) {
		for id, t := range st.Tickets {
			out[id] = *t
		}
	}); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// Call does a counter action (next, open, ...) with token, as a clerk's
// console would, and returns the status and body.
func (s *Server) Call(token, method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, s.URL+"/api/v1/offices/"+s.Office.ID+path, bytes.NewBufferString(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// MustCall is Call that fails the test unless the status is want.
func (s *Server) MustCall(token, method, path, body string, want int) []byte {
	s.t.Helper()
	status, data, err := s.Call(token, method, path, body)
	if err == nil && status != want {
		err = errors.New(string(data))
	}
	if err != nil || status != want {
		s.t.Fatalf("%s %s: %d %v, want %d", method, path, status, err, want)
	}
	return data
}

// UploadBundle uploads the update bundle file at path as the global admin
// (POST /api/v1/bundles) and returns its record.
func (s *Server) UploadBundle(path string) store.BundleRecord {
	s.t.Helper()
	f, err := os.Open(path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	var rec store.BundleRecord
	s.adminJSON("POST", "/api/v1/bundles", "application/octet-stream", f, http.StatusCreated, &rec)
	return rec
}

// RollOut rolls the bundle with hash out as the global admin (POST
// /api/v1/rollouts with req's device, office or all) and returns the
// rollout.
func (s *Server) RollOut(req server.RolloutRequest) server.RolloutStatus {
	s.t.Helper()
	body, _ := json.Marshal(req)
	var out server.RolloutStatus
	s.adminJSON("POST", "/api/v1/rollouts", "application/json", bytes.NewReader(body), http.StatusCreated, &out)
	return out
}

// Rollout reads a rollout (GET /api/v1/rollouts/{id}).
func (s *Server) Rollout(id string) server.RolloutStatus {
	s.t.Helper()
	var out server.RolloutStatus
	s.adminJSON("GET", "/api/v1/rollouts/"+id, "", nil, http.StatusOK, &out)
	return out
}

// adminJSON sends a request with the global admin's token and decodes its
// JSON answer into out, failing the test unless the status is want.
func (s *Server) adminJSON(method, path, contentType string, body io.Reader, want int, out any) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Tokens["global-admin"])
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		s.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	if err := json.Unmarshal(data, out); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
}
