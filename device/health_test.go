package device

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/kiosk"
	"github.com/numerek/numerek/device/machine"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/store"
)

// healthServer stands in for the server's health endpoint until it is
// built: it reads each report strictly, as the API's schema says, and
// answers a HealthAck. fail makes it answer 503 instead.
type healthServer struct {
	t   *testing.T
	url string

	mu      sync.Mutex
	reports []protocol.HealthReport
	tries   int // reports received, delivered or not
	fail    bool
	every   int
}

func newHealthServer(t *testing.T, token string) *healthServer {
	hs := &healthServer{t: t}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != protocol.DeviceHealthPath {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
			return
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		var rep protocol.HealthReport
		if err := dec.Decode(&rep); err != nil {
			t.Errorf("a report the server cannot read: %v", err)
			http.Error(w, `{"error":"bad report"}`, http.StatusBadRequest)
			return
		}
		hs.mu.Lock()
		defer hs.mu.Unlock()
		hs.tries++
		if hs.fail {
			http.Error(w, `{"error":"shutting down"}`, http.StatusServiceUnavailable)
			return
		}
		hs.reports = append(hs.reports, rep)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(protocol.HealthAck{ServerTime: time.Now(), EverySeconds: hs.every})
	}))
	t.Cleanup(srv.Close)
	hs.url = srv.URL
	return hs
}

func (hs *healthServer) got() []protocol.HealthReport {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return slices.Clone(hs.reports)
}

func (hs *healthServer) last() protocol.HealthReport {
	r := hs.got()
	if len(r) == 0 {
		return protocol.HealthReport{}
	}
	return r[len(r)-1]
}

func (hs *healthServer) set(fn func()) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	fn()
}

// healthRig is a ticket kiosk's health reporting: a real kiosk with a
// printer (an emulator on TCP), on a Raspberry Pi's fake /proc and /sys
// (device/machine's testdata), reporting to a healthServer.
type healthRig struct {
	d   *dev
	hs  *healthServer
	emu *emulator.Printer
	log *lockedbuf.Buffer
	h   *health
}

func newHealthRig(t *testing.T) *healthRig {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	const token = "kiosk-token"
	hs := newHealthServer(t, token)
	prof, err := profiles.Lookup("tm-t20ii")
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Config{Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := emu.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	uri := "tcp://" + tcp.Addr()
	p, err := printer.Open(ctx, uri, prof, printer.Options{StatusTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db, err := store.OpenDevice(filepath.Join(dir, DataFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := replica.NewClock(0)
	client, err := protocol.NewClient(hs.url, "office", token, protocol.ClientOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	log := &lockedbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(log, nil))
	follower := replica.NewFollower(client, db, clock, logger, replica.FollowOptions{})
	k := kiosk.New(client, follower, db, clock, p, kiosk.Options{CheckEvery: 50 * time.Millisecond, Log: logger})
	d := &dev{
		cfg: &config.Config{
			Role: config.RoleTicket, Name: "kiosk-1", DataDir: dir,
			Server: config.Server{URL: hs.url, Office: "office", Token: token},
			Screen: config.Screen{Width: 1080, Height: 1920},
		},
		opts: Options{Version: "test", HealthEvery: 50 * time.Millisecond, Machine: machine.Reader{Root: os.DirFS("machine/testdata/pi")}},
		log:  logger, db: db, clock: clock, client: client, follower: follower,
	}
	d.health = newHealth(d)
	d.health.setRole(printerHealth(k, uri), nil)
	wg.Add(2)
	go func() { defer wg.Done(); k.Run(ctx) }()
	go func() { defer wg.Done(); d.health.run(ctx) }()
	return &healthRig{d: d, hs: hs, emu: emu, log: log, h: d.health}
}

// A ticket kiosk reports what the server needs to see: who it is, the
// Pi's board, temperature and throttling, the disk, and the printer's
// full status, which follows the printer: paper near end shows in the
// next report after the roll runs low.
func TestHealthReport(t *testing.T) {
	r := newHealthRig(t)
	waitfor.Until(t, "a report with the printer read", 5*time.Second, func() bool {
		p := r.hs.last().Printer
		return p != nil && p.Error == ""
	})
	rep := r.hs.last()
	if rep.Role != "ticket" || rep.Name != "kiosk-1" || rep.Version != "test" {
		t.Errorf("device %q %q %q", rep.Role, rep.Name, rep.Version)
	}
	if rep.Hardware.Model != "Raspberry Pi 4 Model B Rev 1.5" || rep.Hardware.Serial != "10000000a1b2c3d4" || rep.Hardware.Screen != "1080x1920" {
		t.Errorf("hardware %+v", rep.Hardware)
	}
	if rep.TemperatureC == nil || *rep.TemperatureC != 61.842 {
		t.Errorf("temperature %v", rep.TemperatureC)
	}
	if !slices.Equal(rep.Throttled, []string{"under-voltage", "throttled"}) {
		t.Errorf("throttled %q", rep.Throttled)
	}
	if rep.DiskSizeBytes == 0 || rep.DiskFreeBytes > rep.DiskSizeBytes {
		t.Errorf("disk %d free of %d", rep.DiskFreeBytes, rep.DiskSizeBytes)
	}
	if rep.Address != "127.0.0.1" {
		t.Errorf("address %q, want the local end of the route to the server", rep.Address)
	}
	if p := rep.Printer; !p.Online || p.PaperNearEnd || !strings.HasPrefix(p.URI, "tcp://") {
		t.Errorf("printer %+v, want online with paper", p)
	}

	r.emu.SetPaperNearEnd(true)
	waitfor.Until(t, "a report saying paper near end", 5*time.Second, func() bool {
		p := r.hs.last().Printer
		return p != nil && p.PaperNearEnd
	})
	if p := r.hs.last().Printer; !p.Online {
		t.Errorf("a printer with paper near end still prints: %+v", p)
	}

	// The technician on site sees what the server saw.
	page := httptest.NewServer(r.d.statusPage())
	defer page.Close()
	resp, err := http.Get(page.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if p := st.Health.Report.Printer; p == nil || !p.PaperNearEnd || st.Health.Sent.IsZero() || st.Health.Report.Hardware.Model != rep.Hardware.Model {
		t.Errorf("the status page's health: %+v", st.Health)
	}
	resp, err = http.Get(page.URL + "/status.txt")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"printer:     paper near end (tcp://", "hardware:    Raspberry Pi 4 Model B Rev 1.5 serial 10000000a1b2c3d4", "throttling: under-voltage, throttled", "report:      delivered at"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("the status page's text lacks %q:\n%s", want, text)
		}
	}
}

// A server that does not take reports does not disturb the device: the
// failure is logged once, the reports go on at each interval, and they
// are delivered again when the server is back. The server's answer sets
// the interval.
func TestHealthReportRetriesAndFollowsTheServersInterval(t *testing.T) {
	r := newHealthRig(t)
	waitfor.Until(t, "the first report", 5*time.Second, func() bool { return len(r.hs.got()) > 0 })
	r.hs.set(func() { r.hs.fail = true })
	waitfor.Until(t, "reports failing", 5*time.Second, func() bool { return r.h.status(context.Background()).Error != "" })
	tries := func() int {
		r.hs.mu.Lock()
		defer r.hs.mu.Unlock()
		return r.hs.tries
	}
	n, failedFrom := len(r.hs.got()), tries()
	waitfor.Until(t, "three more tries while the server refuses", 5*time.Second, func() bool { return tries() >= failedFrom+3 })
	if st := r.h.status(context.Background()); !strings.Contains(st.Error, "503") {
		t.Errorf("the status page says %q of the failing report", st.Error)
	}
	r.hs.set(func() { r.hs.fail, r.hs.every = false, 3600 })
	waitfor.Until(t, "reports delivered again", 5*time.Second, func() bool { return len(r.hs.got()) > n })
	// The device logs the recovery once it has the server's answer, a
	// moment after the server has the report.
	waitfor.Until(t, "the recovery logged", 5*time.Second, func() bool {
		return strings.Contains(r.log.String(), "health reports delivered again")
	})
	if c := strings.Count(r.log.String(), "health report not delivered"); c != 1 {
		t.Errorf("the failure was logged %d times, want once", c)
	}
	// The server asked for the next report in an hour: none comes at the
	// test's 50 ms interval once the device has that answer.
	delivered := len(r.hs.got())
	if waitfor.Within(500*time.Millisecond, func() bool { return len(r.hs.got()) > delivered }) {
		t.Errorf("a report came before the interval the server asked for")
	}
}

// The hall reports the last call its speaker said to the end, not one
// still queued.
func TestLastCallSaid(t *testing.T) {
	db, err := store.OpenDevice(filepath.Join(t.TempDir(), DataFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := &dev{cfg: &config.Config{Role: config.RoleHall}, log: slog.New(slog.DiscardHandler), db: db, clock: replica.NewClock(0)}
	h, err := newHerald(d)
	if err != nil {
		t.Fatal(err)
	}
	h.pending = []*heraldCall{{seq: 7, parts: 2}}
	if c := h.lastCall(); c != nil {
		t.Fatalf("a call before any was said: %+v", c)
	}
	h.said(audio.Call{ID: "0/7", Ticket: "A012", Counter: 3, Lang: "pl"})
	c := h.lastCall()
	if c == nil || c.Ticket != "A012" || c.Counter != 3 || time.Since(c.At) > time.Minute {
		t.Errorf("last call %+v, want A012 to counter 3 just now", c)
	}
	h.said(audio.Call{ID: "0/99", Ticket: "B001", Counter: 1}) // not one of the hall's calls (the service screen's test)
	if c := h.lastCall(); c.Ticket != "A012" {
		t.Errorf("a test call counted as said: %+v", c)
	}
}
