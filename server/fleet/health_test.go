package fleet

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// healthy is a kiosk's report with nothing wrong.
func healthy() protocol.HealthReport {
	temp := 55.0
	return protocol.HealthReport{
		Version: "1.4.0", Role: "ticket", Name: "Kiosk 1", Started: t0.Add(-time.Hour), UptimeS: 3600,
		TemperatureC: &temp, DiskFreeBytes: 10 << 30, DiskSizeBytes: 32 << 30,
		Stream: protocol.StreamHealth{Connected: true, Seq: 10, LagMS: 40}, ClockOffsetMS: 120,
		Screen:  protocol.ScreenHealth{Drawing: true, LastFrame: t0},
		Printer: &protocol.PrinterHealth{URI: "usb:///dev/usb/lp0", Online: true},
	}
}

func TestReportFaults(t *testing.T) {
	f := func(p float64) *float64 { return &p }
	cases := []struct {
		name   string
		change func(r *protocol.HealthReport)
		want   []string
	}{
		{"healthy", func(r *protocol.HealthReport) {}, nil},
		{"paper near end", func(r *protocol.HealthReport) { r.Printer.PaperNearEnd = true }, []string{FaultPaperNearEnd}},
		{"paper out hides near end", func(r *protocol.HealthReport) { r.Printer.PaperNearEnd, r.Printer.PaperOut = true, true }, []string{FaultPaperOut}},
		{"cover open", func(r *protocol.HealthReport) { r.Printer.CoverOpen = true }, []string{FaultCoverOpen}},
		{"cutter", func(r *protocol.HealthReport) { r.Printer.CutterError = true }, []string{FaultCutter}},
		{"printer offline", func(r *protocol.HealthReport) { r.Printer.Online = false }, []string{FaultPrinter}},
		{"printer error", func(r *protocol.HealthReport) { r.Printer.Error = "unreachable" }, []string{FaultPrinter}},
		{"no printer is no fault", func(r *protocol.HealthReport) { r.Printer = nil }, nil},
		{"disk under 5 %", func(r *protocol.HealthReport) { r.DiskSizeBytes, r.DiskFreeBytes = 100<<30, 4<<30 }, []string{FaultDiskLow}},
		{"disk at 5 %", func(r *protocol.HealthReport) { r.DiskSizeBytes, r.DiskFreeBytes = 100<<30, 5<<30 }, nil},
		{"disk under 200 MB", func(r *protocol.HealthReport) { r.DiskSizeBytes, r.DiskFreeBytes = 2<<30, 199<<20 }, []string{FaultDiskLow}},
		{"disk size unknown", func(r *protocol.HealthReport) { r.DiskSizeBytes, r.DiskFreeBytes = 0, 0 }, nil},
		{"79.9 °C", func(r *protocol.HealthReport) { r.TemperatureC = f(79.9) }, nil},
		{"80 °C", func(r *protocol.HealthReport) { r.TemperatureC = f(80) }, []string{FaultTooHot}},
		{"temperature unknown", func(r *protocol.HealthReport) { r.TemperatureC = nil }, nil},
		{"throttled", func(r *protocol.HealthReport) { r.Throttled = []string{"under-voltage"} }, []string{FaultThrottled}},
		{"clock 5 s off", func(r *protocol.HealthReport) { r.ClockOffsetMS = 5000 }, nil},
		{"clock 5.1 s behind", func(r *protocol.HealthReport) { r.ClockOffsetMS = -5100 }, []string{FaultClock}},
		{"screen stalled", func(r *protocol.HealthReport) { r.Screen.Drawing = false }, []string{FaultScreen}},
		{"stream lag 6 s", func(r *protocol.HealthReport) { r.Stream.LagMS = 6000 }, []string{FaultStreamLag}},
		{"a locker's doors all well", func(r *protocol.HealthReport) {
			r.Locker = &protocol.LockerHealth{DoorsOpen: []string{"3"}, Pending: 2}
		}, nil},
		{"a door open too long", func(r *protocol.HealthReport) {
			r.Locker = &protocol.LockerHealth{DoorsOpen: []string{"3"}, DoorsAlarm: []string{"3"}}
		}, []string{FaultDoorOpen}},
		{"a lock that failed and a door forced", func(r *protocol.HealthReport) {
			r.Locker = &protocol.LockerHealth{LocksFailed: []string{"7"}, DoorsForced: []string{"1", "12"}}
		}, []string{FaultLockFailed, FaultDoorForced}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := healthy()
			c.change(&r)
			got := slices.Sorted(maps.Keys(ReportFaults(r, DefaultLimits)))
			slices.Sort(c.want)
			if !slices.Equal(got, c.want) {
				t.Errorf("faults %v, want %v", got, c.want)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	const after = 75 * time.Second
	cases := []struct {
		name      string
		lastSeen  time.Duration // before now; <0: never
		runStart  time.Duration // before now
		presence  Presence
		want      Status
		wantSince time.Duration // before now; <0: zero
	}{
		{"never reported", -1, 0, Presence{Connected: true, Since: t0.Add(-time.Hour)}, Offline, -1},
		{"fresh report, stream open", 10 * time.Second, time.Hour, Presence{Connected: true, Since: t0.Add(-20 * time.Minute)}, Online, 20 * time.Minute},
		{"online since the run began when the stream is older", 10 * time.Second, 5 * time.Minute, Presence{Connected: true, Since: t0.Add(-time.Hour)}, Online, 5 * time.Minute},
		{"fresh report, stream closed", 10 * time.Second, time.Hour, Presence{Since: t0.Add(-2 * time.Minute)}, Disconnected, 2 * time.Minute},
		{"fresh report, no stream since the server started", 10 * time.Second, 30 * time.Minute, Presence{}, Disconnected, 30 * time.Minute},
		{"75 s silent is not yet offline", after, time.Hour, Presence{Connected: true, Since: t0.Add(-time.Hour)}, Online, time.Hour},
		{"76 s silent is offline, stream or not", after + time.Second, time.Hour, Presence{Connected: true, Since: t0.Add(-time.Hour)}, Offline, after + time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var last time.Time
			if c.lastSeen >= 0 {
				last = t0.Add(-c.lastSeen)
			}
			got, since := StatusOf(last, t0.Add(-c.runStart), c.presence, t0, after)
			var wantSince time.Time
			if c.wantSince >= 0 {
				wantSince = t0.Add(-c.wantSince)
			}
			if got != c.want || !since.Equal(wantSince) {
				t.Errorf("%s since %v, want %s since %v", got, since, c.want, wantSince)
			}
		})
	}
}

// outbox is a notice.Sender that keeps what it is given, once per key as
// the real outbox does (server/outbox's tests check the delivery).
type outbox struct {
	mu   sync.Mutex
	keys map[string]bool
	sent []notice.Notice
}

func (o *outbox) Send(_ context.Context, n notice.Notice) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.keys == nil {
		o.keys = map[string]bool{}
	}
	if o.keys[n.Key] {
		return nil
	}
	o.keys[n.Key] = true
	o.sent = append(o.sent, n)
	return nil
}

func (o *outbox) Reaches(string) bool { return true }

func (o *outbox) told() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, n := range o.sent {
		out = append(out, string(n.Kind)+" "+n.Device.Fault)
	}
	return out
}

func newTestHealth(t *testing.T, clock *testclock.Clock, ob *outbox, db *store.FleetDB) *Health {
	t.Helper()
	h, err := NewHealth(HealthOptions{
		Clock: clock.Now, Store: db,
		Alerts: Alerts{Sender: ob, Route: func(office string) AlertRoute {
			return AlertRoute{To: []string{"admin@example.pl"}, Lang: "pl", OfflineAfter: 5 * time.Minute}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// openFleetDB opens the health file at path; the test closes it (a
// restart closes it and opens it again).
func openFleetDB(t *testing.T, path string) *store.FleetDB {
	t.Helper()
	db, err := store.OpenFleetDB(path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

var kiosk = Reporter{ID: "k1", Office: "cus", Role: "ticket", Name: "kiosk"}

// A fault is told once it has lasted a minute (paper out at once,
// offline after the office's offline_after), its end is told with a
// note, and one that comes and goes within the minute is not told.
func TestAlertsAreDebouncedAndCleared(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(t0)
	ob := &outbox{}
	h := newTestHealth(t, clock, ob, nil)
	report := func(change func(*protocol.HealthReport)) {
		r := healthy()
		change(&r)
		if err := h.Ingest(ctx, kiosk, r); err != nil {
			t.Fatal(err)
		}
		if err := h.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step := func(d time.Duration) { clock.Set(clock.Now().Add(d)) }
	nearEnd := func(r *protocol.HealthReport) { r.Printer.PaperNearEnd = true }
	coverOpen := func(r *protocol.HealthReport) { r.Printer.CoverOpen = true }
	paperOut := func(r *protocol.HealthReport) { r.Printer.PaperOut = true }
	fine := func(*protocol.HealthReport) {}

	report(coverOpen) // the cover opened for half a minute: not told
	step(30 * time.Second)
	report(fine)
	report(nearEnd)
	step(30 * time.Second)
	report(nearEnd)
	if got := ob.told(); len(got) != 0 {
		t.Fatalf("told %v within the first minute", got)
	}
	step(30 * time.Second)
	report(nearEnd)
	report(nearEnd) // told once, not again
	step(time.Minute)
	report(fine)
	report(paperOut) // at once
	step(30 * time.Second)
	report(paperOut)
	step(30 * time.Second)
	report(fine)
	want := []string{"device-alert paper-near-end", "device-alert-cleared paper-near-end", "device-alert paper-out", "device-alert-cleared paper-out"}
	if got := ob.told(); !slices.Equal(got, want) {
		t.Fatalf("told %v, want %v", got, want)
	}
	cleared := ob.sent[1]
	if cleared.Device.Note != "the roll was changed" || !cleared.Device.Cleared.Equal(t0.Add(150*time.Second)) || cleared.Contact != "admin@example.pl" || cleared.Lang != "pl" {
		t.Errorf("the clearing said %+v to %s in %s", *cleared.Device, cleared.Contact, cleared.Lang)
	}

	// Silent: offline after 75 s on the page, told after 5 min.
	step(2 * time.Minute)
	_ = h.Sweep(ctx)
	d, _, _ := h.Device("k1")
	if d.Status != Offline || len(d.Faults) != 1 || d.Faults[0].Code != FaultOffline {
		t.Fatalf("after 2 min silent: %s with %v", d.Status, d.Faults)
	}
	if len(ob.told()) != len(want) {
		t.Fatalf("offline told before 5 min: %v", ob.told())
	}
	step(3 * time.Minute)
	_ = h.Sweep(ctx)
	report(fine)
	want = append(want, "device-alert offline", "device-alert-cleared offline")
	if got := ob.told(); !slices.Equal(got, want) {
		t.Fatalf("told %v, want %v", got, want)
	}
	_, history, _ := h.Device("k1")
	if len(history) != 4 || history[0].Code != FaultOffline || history[0].Note != "the device reports again" {
		t.Errorf("history %+v", history)
	}
}

// What matters survives a restart: the last report and when it came,
// the fault history, and that an open fault was told (so its end is
// told, and its start not again).
func TestHealthSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fleet.db")
	db := openFleetDB(t, path)
	clock := testclock.New(t0)
	ob := &outbox{}
	h := newTestHealth(t, clock, ob, db)
	r := healthy()
	r.Printer.PaperOut = true
	if err := h.Ingest(ctx, kiosk, r); err != nil {
		t.Fatal(err)
	}
	if err := h.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Flush(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = openFleetDB(t, path)
	defer db.Close()
	clock.Set(t0.Add(20 * time.Second))
	h = newTestHealth(t, clock, ob, db)
	d, _, found := h.Device("k1")
	if !found || d.Report == nil || d.Report.Name != "Kiosk 1" || !d.LastSeen.Equal(t0) || len(d.Faults) != 1 || !d.Faults[0].Alerted {
		t.Fatalf("after the restart: found=%v %+v", found, d)
	}
	_ = h.Sweep(ctx)
	if err := h.Ingest(ctx, kiosk, healthy()); err != nil {
		t.Fatal(err)
	}
	want := []string{"device-alert paper-out", "device-alert-cleared paper-out"}
	if got := ob.told(); !slices.Equal(got, want) {
		t.Fatalf("told %v, want %v", got, want)
	}
	past, err := db.Faults("k1", 0)
	if err != nil || len(past) != 1 || past[0].Open() || past[0].Note != "the roll was changed" {
		t.Fatalf("stored history %+v, %v", past, err)
	}
}

// The fleet page's order: offline, then faults (worst first), then
// disconnected, then online; an office's admin sees only its devices.
func TestDevicesProblemsFirst(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(t0)
	connected := map[string]bool{"ok": true, "paper": true, "near": true}
	h, err := NewHealth(HealthOptions{Clock: clock.Now, Presence: func(id string) Presence {
		return Presence{Connected: connected[id], Since: t0.Add(-time.Hour)}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ingest := func(id, office string, change func(*protocol.HealthReport)) {
		r := healthy()
		r.Name = id
		change(&r)
		if err := h.Ingest(ctx, Reporter{ID: id, Office: office, Role: "ticket"}, r); err != nil {
			t.Fatal(err)
		}
	}
	ingest("gone", "cus", func(*protocol.HealthReport) {})
	clock.Set(t0.Add(2 * time.Minute))
	ingest("ok", "cus", func(*protocol.HealthReport) {})
	ingest("near", "cus", func(r *protocol.HealthReport) { r.Printer.PaperNearEnd = true })
	ingest("paper", "cus", func(r *protocol.HealthReport) { r.Printer.PaperOut = true })
	ingest("nostream", "cus", func(*protocol.HealthReport) {})
	ingest("elsewhere", "other", func(*protocol.HealthReport) {})
	var got []string
	for _, d := range h.Devices(func(o string) bool { return o == "cus" }) {
		got = append(got, d.Name+":"+string(d.Status))
	}
	want := []string{"gone:offline", "paper:online", "near:online", "nostream:disconnected", "ok:online"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}

// failingOnce refuses its first notice, as an outbox whose disk failed.
type failingOnce struct {
	outbox
	failed bool
}

func (f *failingOnce) Send(ctx context.Context, n notice.Notice) error {
	if !f.failed {
		f.failed = true
		return context.DeadlineExceeded
	}
	return f.outbox.Send(ctx, n)
}

// An alert the outbox could not take is tried again at the next sweep.
func TestAlertNotTakenIsTriedAgain(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(t0)
	ob := &failingOnce{}
	h, err := NewHealth(HealthOptions{Clock: clock.Now, Alerts: Alerts{Sender: ob, Route: func(string) AlertRoute {
		return AlertRoute{To: []string{"admin@example.pl"}, Lang: "en"}
	}}})
	if err != nil {
		t.Fatal(err)
	}
	r := healthy()
	r.Printer.PaperOut = true
	if err := h.Ingest(ctx, kiosk, r); err != nil {
		t.Fatal(err)
	}
	_ = h.Sweep(ctx)
	if got := ob.told(); len(got) != 0 {
		t.Fatalf("told %v through a failing outbox", got)
	}
	_ = h.Sweep(ctx)
	if got := ob.told(); !slices.Equal(got, []string{"device-alert paper-out"}) {
		t.Fatalf("after the second sweep: told %v", got)
	}
}

// A revoked device is forgotten: no longer listed, its silence told to
// nobody, its open fault ended untold, and a restart does not bring it
// back.
func TestForgetARevokedDevice(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fleet.db")
	db := openFleetDB(t, path)
	clock := testclock.New(t0)
	ob := &outbox{}
	h := newTestHealth(t, clock, ob, db)
	r := healthy()
	r.Printer.PaperNearEnd = true
	if err := h.Ingest(ctx, kiosk, r); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(70 * time.Second)) // told, and not yet offline
	if err := h.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := h.Forget("k1"); err != nil {
		t.Fatal(err)
	}
	clock.Set(t0.Add(time.Hour))
	if err := h.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := ob.told(), []string{"device-alert paper-near-end"}; !slices.Equal(got, want) {
		t.Errorf("told %v, want only %v (nothing of the revoked device's silence)", got, want)
	}
	if ds := h.Devices(func(string) bool { return true }); len(ds) != 0 {
		t.Errorf("the revoked device is still listed: %+v", ds)
	}
	if err := h.Flush(); err != nil {
		t.Fatal(err)
	}
	past, err := db.Faults("k1", 0)
	if err != nil || len(past) != 1 || past[0].Open() || past[0].Note != "the device was revoked" {
		t.Errorf("stored history %+v, %v; want the fault ended by the revocation", past, err)
	}
	if again := newTestHealth(t, clock, ob, db); len(again.Devices(func(string) bool { return true })) != 0 {
		t.Error("after a restart the revoked device is listed again")
	}
	db.Close()
}

var lockerDevice = Reporter{ID: "l1", Office: "cus", Role: "locker", Name: "locker-b"}

// A locker's forced door and a door left open are told at once, a lock
// that did not open once it has lasted a minute; each end is told when
// the door is right again. The detail names compartments only.
func TestLockerFaultsAreTold(t *testing.T) {
	ctx := context.Background()
	clock := testclock.New(t0)
	ob := &outbox{}
	h := newTestHealth(t, clock, ob, nil)
	report := func(l protocol.LockerHealth) {
		r := healthy()
		r.Printer, r.Role = nil, "locker"
		r.Locker = &l
		if err := h.Ingest(ctx, lockerDevice, r); err != nil {
			t.Fatal(err)
		}
		if err := h.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step := func(d time.Duration) { clock.Set(clock.Now().Add(d)) }

	report(protocol.LockerHealth{DoorsForced: []string{"12"}, LocksFailed: []string{"7"}})
	if got := ob.told(); !slices.Equal(got, []string{"device-alert door-forced"}) {
		t.Fatalf("at once: told %v", got)
	}
	if d := ob.sent[0].Device; d.Detail != "compartment 12 opened without a code" {
		t.Errorf("the forced door's detail: %q", d.Detail)
	}
	step(time.Minute)
	report(protocol.LockerHealth{LocksFailed: []string{"7"}, DoorsAlarm: []string{"3"}, DoorsOpen: []string{"3"}})
	step(time.Second)
	report(protocol.LockerHealth{})
	want := []string{
		"device-alert door-forced", "device-alert-cleared door-forced",
		"device-alert door-open", "device-alert lock-failed",
		"device-alert-cleared door-open", "device-alert-cleared lock-failed",
	}
	got := ob.told()
	if len(got) != len(want) {
		t.Fatalf("told %v, want %v", got, want)
	}
	// Two faults found in one report are told in either order.
	slices.Sort(got[2:4])
	slices.Sort(got[4:])
	if !slices.Equal(got, want) {
		t.Fatalf("told %v, want %v", got, want)
	}
}

// The fleet page and the alerts name every fault, and how it ended, in
// every language.
func TestEveryFaultHasItsWords(t *testing.T) {
	cat := i18n.Messages()
	for _, code := range FaultCodes {
		for _, lang := range i18n.Languages {
			for _, id := range []string{"fleet.fault." + code, "fleet.cleared." + code} {
				if !cat.Has(lang, id) {
					t.Errorf("%s: no message %s", lang, id)
				}
			}
		}
	}
}
