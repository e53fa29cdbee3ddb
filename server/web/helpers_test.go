package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/pushservice"
	"github.com/numerek/numerek/internal/scrape"
	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/bundles"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/metrics"
	"github.com/numerek/numerek/server/notice/noticetest"
	"github.com/numerek/numerek/server/push"
	"github.com/numerek/numerek/stats"
	"github.com/numerek/numerek/store"
)

// env is the whole queue server with its web pages, as cmd/queue-server
// wires it, on real bbolt files, behind a real HTTP listener.
type env struct {
	t       testing.TB
	url     string
	clock   *testclock.Clock
	office  *queue.Office
	actor   *actor.Actor
	desk    *booking.Desk
	db      *store.WebDB
	links   *links.Signer
	dataDir string
	tokens  map[string]string
	logs    *lockedbuf.Buffer
	web     *Web
	// notices has what the desk and the pusher handed to the outbox.
	notices *noticetest.Recorder
	// push is the stand-in push service the server's pushes go to.
	push *pushservice.Service
	// close stops the server (also done when the test ends).
	close func()
	// meter is the server's metrics.
	meter *metrics.Set
}

// metric is the sum of the server's series of name with labels, as a
// scrape of /metrics has them.
func (e *env) metric(name string, labels map[string]string) float64 {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.meter.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	page, err := scrape.Parse(rec.Body.String())
	if err != nil {
		e.t.Fatal(err)
	}
	v, _ := page.Sum(name, labels)
	return v
}

// monday is 2026-11-23, a Monday the example office is open (7:30-15:30).
func monday(o *queue.Office, hhmm string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-11-23 "+hhmm, o.Location)
	if err != nil {
		panic(err)
	}
	return t
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvIn(t, t.TempDir(), nil)
}

// newEnvIn starts the server over the data in dir, with the example
// office changed by adjust (if given): a second one over the same dir,
// after the first's close, is a restart with a changed configuration.
func newEnvIn(t testing.TB, dir string, adjust func(*queue.Office)) *env {
	t.Helper()
	cfg, err := officeconfig.Load(filepath.Join("..", "..", "examples", "offices", "starachowice.toml"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := officeconfig.Load(filepath.Join("..", "..", "examples", "offices", "czestochowa.toml"))
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.Offices[0]
	if adjust != nil {
		adjust(o)
	}
	clock := testclock.New(monday(o, "08:00"))
	logs := &lockedbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := store.OpenOfficeLog(filepath.Join(dir, o.ID+".db"), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := actor.New(o, l, clock.Now, logger, actor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenWebDB(filepath.Join(dir, "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := store.LoadOrCreateKey(filepath.Join(dir, "web.key"))
	if err != nil {
		t.Fatal(err)
	}
	// A second office, so the start page lists offices.
	o2 := other.Offices[0]
	l2, err := store.OpenOfficeLog(filepath.Join(dir, o2.ID+".db"), o2.ID)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := actor.New(o2, l2, clock.Now, logger, actor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, x := range []*actor.Actor{a, a2} {
		wg.Add(1)
		go func() { defer wg.Done(); x.Run(ctx) }()
	}

	// The public URL is the listener's, known only once it listens.
	slot := &handlerSlot{}
	hs := httptest.NewServer(slot)
	signer := links.New(key, hs.URL)
	desk := booking.New(db, signer, clock.Now, logger)
	notices := &noticetest.Recorder{}
	desk.Notices = notices
	tokens := store.NewTokenStore(filepath.Join(dir, "tokens.db"))
	meter := metrics.New(prometheus.NewRegistry(), logger)
	bundleStore, err := bundles.Open(bundles.Options{Dir: filepath.Join(dir, "bundles"), Clock: clock.Now, MaxSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Offices: []*actor.Actor{a, a2}, Tokens: tokens, Clock: clock.Now, Logger: logger,
		Booking: desk, Links: signer, Heartbeat: time.Second, Metrics: meter, Devices: store.NewDeviceStore(filepath.Join(dir, "devices.db")),
		Bundles: bundleStore})
	clerks := store.NewClerkStore(filepath.Join(dir, "clerks.db")).WithCost(bcrypt.MinCost)
	vapid, err := push.LoadOrCreateKeys(filepath.Join(dir, "vapid.key"))
	if err != nil {
		t.Fatal(err)
	}
	pushService := pushservice.New()
	w, err := New(Config{Server: srv, Booking: desk, DB: db, Clerks: clerks, Tokens: tokens,
		Logs: map[string]stats.Scanner{o.ID: l.Scan, o2.ID: l2.Scan}, Clock: clock.Now, Logger: logger, TicketRefresh: 2 * time.Second,
		PushKeys: &vapid, PushSubscriber: "it@example.pl", PushClient: pushService.Client(), PushHosts: []string{pushService.Host()}, Notices: notices})
	if err != nil {
		t.Fatal(err)
	}
	w.Mount(srv)
	wg.Add(1)
	go func() { defer wg.Done(); w.RunPush(ctx, time.Hour) }()
	slot.h = srv
	e := &env{t: t, url: hs.URL, clock: clock, office: o, actor: a, desk: desk, db: db, links: signer,
		dataDir: dir, tokens: map[string]string{}, logs: logs, web: w, push: pushService, notices: notices, meter: meter}
	for name, tok := range map[string]store.Token{
		"kiosk": {Office: o.ID, Role: "ticket", Label: "kiosk-lobby"},
		"hall":  {Office: o.ID, Role: "hall", Label: "hall-lcd"},
	} {
		secret, _, err := tokens.Create(tok)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = secret
	}
	for _, c := range []struct{ name, role string }{{"anna", store.ClerkRole}, {"kierownik", store.AdminRole}} {
		if _, err := clerks.Put(c.name, "correct horse battery", c.role, []string{o.ID}); err != nil {
			t.Fatal(err)
		}
	}
	var once sync.Once
	e.close = func() {
		once.Do(func() {
			hs.CloseClientConnections()
			hs.Close()
			cancel()
			wg.Wait()
			pushService.Close()
			db.Close()
			l.Close()
			l2.Close()
		})
	}
	t.Cleanup(e.close)
	return e
}

// handlerSlot lets the listener start before its handler is built.
type handlerSlot struct{ h http.Handler }

func (s *handlerSlot) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// api calls the device API as a token (by name in e.tokens).
func (e *env) api(token, method, path, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[token])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

// do runs a command on the office directly (a counter's moves in tests
// that are not about the console).
func (e *env) do(cmd queue.Command) actor.Result {
	e.t.Helper()
	res := e.actor.Do(context.Background(), "test", cmd)
	if res.Err != nil {
		e.t.Fatalf("%s: %v", queue.String(cmd), res.Err)
	}
	return res
}

// browser is a plain HTTP client with cookies: a resident or clerk
// without JavaScript.
type browser struct {
	e      *env
	c      *http.Client
	last   string
	status int
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}}
}

// clerkAtCounter1 is an office on a Monday at 09:00 with waiting family
// tickets, and clerk anna logged in at counter 1; form makes the console's
// form for counter 1, with kv as more fields (name, value, ...).
func clerkAtCounter1(t testing.TB, waiting int) (e *env, b *browser, form func(kv ...string) url.Values) {
	t.Helper()
	e = newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	for range waiting {
		e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl"}`)
	}
	b = e.browser()
	b.login("anna", "correct horse battery")
	b.post("/staff/counter", url.Values{"office": {e.office.ID}, "counter": {"1"}})
	form = func(kv ...string) url.Values {
		v := url.Values{"office": {e.office.ID}, "counter": {"1"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	return e, b, form
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get loads a page and returns its body.
func (b *browser) get(path string) string {
	b.e.t.Helper()
	resp, err := b.c.Get(b.e.url + path)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	b.last, b.status = string(data), resp.StatusCode
	return b.last
}

// csrf is the CSRF token of the page loaded last.
func (b *browser) csrf() string {
	m := csrfField.FindStringSubmatch(b.last)
	if m == nil {
		b.e.t.Fatalf("no CSRF field on the page:\n%s", b.last)
	}
	return m[1]
}

// post sends a form (with the last page's CSRF token unless the form has
// one) and follows the redirect; it returns the final status and body.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.e.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf())
	}
	status, body, err := b.send(path, form)
	if err != nil {
		b.e.t.Fatal(err)
	}
	b.last, b.status = body, status
	return status, body
}

// send posts a form as it is and follows the redirect, leaving the
// browser's last page alone: safe from several goroutines.
func (b *browser) send(path string, form url.Values) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, b.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.url)
	resp, err := b.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data), err
}

// login logs the browser in as a clerk.
func (b *browser) login(name, password string) {
	b.e.t.Helper()
	b.get("/staff/login")
	if st, body := b.post("/staff/login", url.Values{"name": {name}, "password": {password}}); st != http.StatusOK || !strings.Contains(body, "/staff/counter") {
		b.e.t.Fatalf("login as %s: %d\n%s", name, st, body)
	}
}
