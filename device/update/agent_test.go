package update_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/device/update"
	"github.com/numerek/numerek/internal/raucbundle"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/servertest"
)

// What rauc does on a device cannot run here (it writes real partitions;
// the qemu image test of `make image-test` installs for real). These
// stand-ins keep the slots in memory and write the bundle where the
// slot would be.

// machine is the device's two slots and its reboots.
type machine struct {
	dir string

	mu              sync.Mutex
	booted, primary string
	boots           int
	rebootAsked     int
	installed       map[string][]byte // slot → what was written
	failInstall     error
}

func newMachine(t *testing.T) *machine {
	return &machine{dir: t.TempDir(), booted: "A", primary: "A", installed: map[string][]byte{}}
}

func (m *machine) Status(context.Context) (string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.booted, m.primary, nil
}

func (m *machine) Install(ctx context.Context, bundle string, progress func(int)) error {
	m.mu.Lock()
	fail := m.failInstall
	target := map[string]string{"A": "B", "B": "A"}[m.booted]
	m.mu.Unlock()
	if fail != nil {
		return fail
	}
	data, err := os.ReadFile(bundle)
	if err != nil {
		return err
	}
	for p := 0; p <= 100; p += 25 {
		progress(p)
	}
	if err := os.WriteFile(filepath.Join(m.dir, "slot-"+target), data, 0o600); err != nil {
		return err
	}
	m.mu.Lock()
	m.installed[target] = data
	m.mu.Unlock()
	return nil
}

func (m *machine) reboot(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rebootAsked++
	return nil
}

// bootTrial is the firmware's tryboot: the other slot, once; primary
// stays.
func (m *machine) bootTrial() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.booted = map[string]string{"A": "B", "B": "A"}[m.booted]
	m.boots++
}

func (m *machine) setPrimary(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.primary = s
}

func (m *machine) bootPrimary() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.booted = m.primary
	m.boots++
}

func (m *machine) bootID() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("boot-%d", m.boots), nil
}

// kioskd is the device's side as kioskd wires it: the control stream hands
// update orders to the agent, and each step is reported at once.
type kioskd struct {
	t       *testing.T
	srv     *servertest.Server
	client  *protocol.Client
	agent   *update.Agent
	id      string
	data    string
	release string
	cancel  context.CancelFunc
	done    sync.WaitGroup
	changed chan struct{}
}

func startKioskd(t *testing.T, srv *servertest.Server, m *machine, data, version string, fetch func(update.Fetcher) update.Fetcher) *kioskd {
	t.Helper()
	secret := srv.Tokens["hall"]
	c, err := protocol.NewClient(srv.URL, srv.Office.ID, secret, protocol.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	release := filepath.Join(data, "numerek-release")
	if err := os.WriteFile(release, []byte(version+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k := &kioskd{t: t, srv: srv, client: c, id: srv.TokenID(secret), data: data, release: release, changed: make(chan struct{}, 1)}
	var fetcher update.Fetcher = c.DownloadBundle
	if fetch != nil {
		fetcher = fetch(fetcher)
	}
	k.agent = update.New(update.Options{
		Dir: filepath.Join(data, "updates"), Record: filepath.Join(data, "update.json"), Release: release,
		Fetch: fetcher, Installer: m, Slots: m, Reboot: m.reboot, BootID: m.bootID,
		Changed: func() {
			select {
			case k.changed <- struct{}{}:
			default:
			}
		},
		TrialPoll: 20 * time.Millisecond, RetryWait: 10 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	k.done.Add(3)
	go func() { defer k.done.Done(); k.agent.Run(ctx) }()
	go func() { defer k.done.Done(); k.follow(ctx) }()
	go func() { defer k.done.Done(); k.report(ctx) }()
	t.Cleanup(k.stop)
	return k
}

func (k *kioskd) stop() {
	k.cancel()
	k.done.Wait()
}

// follow holds the control stream open and hands update orders to the
// agent, answering a refusal (device/actions.go does the same).
func (k *kioskd) follow(ctx context.Context) {
	for ctx.Err() == nil {
		resp, err := k.client.Events(ctx, 0, true)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		_ = sse.Read(resp.Body, func(m sse.Message) error {
			if m.Event != protocol.ActionEvent {
				return nil
			}
			var act protocol.DeviceAction
			if err := json.Unmarshal(m.Data, &act); err != nil || act.Kind != protocol.ActionUpdate {
				return nil
			}
			res := protocol.ActionResult{OK: true, Detail: "taken"}
			if err := k.agent.Take(act); err != nil {
				res = protocol.ActionResult{Detail: err.Error()}
			}
			_ = k.client.ReportAction(ctx, act.ID, res)
			return nil
		})
		resp.Body.Close()
	}
}

// report sends a health report at start and at each step.
func (k *kioskd) report(ctx context.Context) {
	for {
		r := protocol.HealthReport{Version: "test", Role: "hall", Name: "hall", Screen: protocol.ScreenHealth{Drawing: true}, System: k.agent.System()}
		_, _ = k.client.ReportHealth(ctx, r)
		select {
		case <-ctx.Done():
			return
		case <-k.changed:
		}
	}
}

// state is the device's state in the rollout, as the server has it.
func state(srv *servertest.Server, rollout, device string) server.OrderStatus {
	for _, o := range srv.Rollout(rollout).Devices {
		if o.Device == device {
			return o
		}
	}
	return server.OrderStatus{}
}

func waitState(t *testing.T, srv *servertest.Server, rollout, device, want string) {
	t.Helper()
	waitfor.Until(t, "the device's state "+want+" on the server", 20*time.Second, func() bool {
		return state(srv, rollout, device).State == want
	})
}

func TestUpdateCommitted(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	bundle := raucbundle.Make(t, "2026.12.1", "numerek-rpi4", 600<<10)
	rec := srv.UploadBundle(bundle)
	m := newMachine(t)
	data := t.TempDir()
	k := startKioskd(t, srv, m, data, "2026.11.1", nil)
	waitfor.Until(t, "the device's stream", 10*time.Second, func() bool { return srv.Fleet().Presence(k.id).Connected })

	ro := srv.RollOut(server.RolloutRequest{Bundle: rec.SHA256, Device: k.id})
	waitState(t, srv, ro.ID, k.id, protocol.UpdateRebooting)
	if m.rebootAsked != 1 {
		t.Fatalf("reboots asked: %d, want 1", m.rebootAsked)
	}
	want, _ := os.ReadFile(bundle)
	if got := m.installed["B"]; string(got) != string(want) {
		t.Fatalf("slot B holds %d bytes, not the bundle's %d", len(got), len(want))
	}
	if left, _ := filepath.Glob(filepath.Join(data, "updates", "*")); len(left) != 0 {
		t.Errorf("downloads left after the install: %v", left)
	}

	// The reboot: the firmware tries slot B once, kioskd starts again.
	k.stop()
	m.bootTrial()
	if err := os.WriteFile(filepath.Join(data, "numerek-release"), []byte("2026.12.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k = startKioskd(t, srv, m, data, "2026.12.1", nil)
	waitState(t, srv, ro.ID, k.id, protocol.UpdateTrial)
	// numerek-trial.service saw kioskd healthy and marked the slot good.
	m.setPrimary("B")
	waitState(t, srv, ro.ID, k.id, protocol.UpdateCommitted)
	if got := srv.Rollout(ro.ID).Counts[protocol.UpdateCommitted]; got != 1 {
		t.Errorf("committed count %d", got)
	}
	var rec2 update.Record
	data2, _ := os.ReadFile(filepath.Join(data, "update.json"))
	if err := json.Unmarshal(data2, &rec2); err != nil || rec2.State != protocol.UpdateCommitted || rec2.Target != "B" {
		t.Errorf("update.json: %s (%v)", data2, err)
	}
	dh, _, _ := srv.Health().Device(k.id)
	if sys := dh.Report.System; sys == nil || sys.Version != "2026.12.1" || sys.Slot != "B" || sys.Primary != "B" {
		t.Errorf("the fleet's last report says %+v", dh.Report.System)
	}

	// The same order again (a second rollout of the version it runs) is
	// committed at once, with nothing downloaded.
	ro2 := srv.RollOut(server.RolloutRequest{Bundle: rec.SHA256, Device: k.id})
	waitState(t, srv, ro2.ID, k.id, protocol.UpdateCommitted)
}

func TestUpdateRolledBackRaisesAFault(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	rec := srv.UploadBundle(raucbundle.Make(t, "2026.12.2", "numerek-rpi4", 100<<10))
	m := newMachine(t)
	data := t.TempDir()
	k := startKioskd(t, srv, m, data, "2026.11.1", nil)
	waitfor.Until(t, "the device's stream", 10*time.Second, func() bool { return srv.Fleet().Presence(k.id).Connected })
	ro := srv.RollOut(server.RolloutRequest{Bundle: rec.SHA256, All: true})
	waitState(t, srv, ro.ID, k.id, protocol.UpdateRebooting)
	k.stop()
	// The new system never got healthy: the trial service rebooted, and
	// the firmware took the primary slot, A, again.
	m.bootTrial()
	m.bootPrimary()
	k = startKioskd(t, srv, m, data, "2026.11.1", nil)
	waitState(t, srv, ro.ID, k.id, protocol.UpdateRolledBack)
	if o := state(srv, ro.ID, k.id); !strings.Contains(o.Error, "back on slot A") {
		t.Errorf("the rollout's error: %q", o.Error)
	}
	dh, _, _ := srv.Health().Device(k.id)
	found := false
	for _, f := range dh.Faults {
		found = found || f.Code == fleet.FaultUpdate
	}
	if !found {
		t.Errorf("no %s fault on the device: %+v", fleet.FaultUpdate, dh.Faults)
	}
}

// cutOnce cuts the first download after n bytes, as a dropped Wi-Fi would.
func cutOnce(n int64, resumedFrom *int64) func(update.Fetcher) update.Fetcher {
	var mu sync.Mutex
	calls := 0
	return func(next update.Fetcher) update.Fetcher {
		return func(ctx context.Context, sha string, offset int64) (io.ReadCloser, bool, error) {
			mu.Lock()
			calls++
			first := calls == 1
			if !first {
				*resumedFrom = offset
			}
			mu.Unlock()
			body, partial, err := next(ctx, sha, offset)
			if err != nil || !first {
				return body, partial, err
			}
			return &cutBody{ReadCloser: body, left: n}, partial, nil
		}
	}
}

type cutBody struct {
	io.ReadCloser
	left int64
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.ReadCloser.Read(p)
	c.left -= int64(n)
	return n, err
}

func TestCutDownloadResumes(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	rec := srv.UploadBundle(raucbundle.Make(t, "2026.12.3", "numerek-rpi4", 500<<10))
	m := newMachine(t)
	var resumedFrom int64
	k := startKioskd(t, srv, m, t.TempDir(), "2026.11.1", cutOnce(100<<10, &resumedFrom))
	waitfor.Until(t, "the device's stream", 10*time.Second, func() bool { return srv.Fleet().Presence(k.id).Connected })
	ro := srv.RollOut(server.RolloutRequest{Bundle: rec.SHA256, Device: k.id})
	waitState(t, srv, ro.ID, k.id, protocol.UpdateRebooting)
	if resumedFrom != 100<<10 {
		t.Errorf("the second download began at byte %d, want %d (where the first was cut)", resumedFrom, 100<<10)
	}
	if len(m.installed["B"]) != int(rec.Size) {
		t.Errorf("installed %d bytes of %d", len(m.installed["B"]), rec.Size)
	}
}

// corrupt flips a byte of every download, as a broken proxy would.
func corrupt(next update.Fetcher) update.Fetcher {
	return func(ctx context.Context, sha string, offset int64) (io.ReadCloser, bool, error) {
		body, partial, err := next(ctx, sha, offset)
		if err != nil {
			return nil, false, err
		}
		data, err := io.ReadAll(body)
		body.Close()
		if err != nil {
			return nil, false, err
		}
		data[len(data)/2] ^= 1
		return io.NopCloser(strings.NewReader(string(data))), partial, nil
	}
}

func TestWrongHashFails(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	rec := srv.UploadBundle(raucbundle.Make(t, "2026.12.4", "numerek-rpi4", 100<<10))
	m := newMachine(t)
	k := startKioskd(t, srv, m, t.TempDir(), "2026.11.1", func(f update.Fetcher) update.Fetcher { return corrupt(f) })
	waitfor.Until(t, "the device's stream", 10*time.Second, func() bool { return srv.Fleet().Presence(k.id).Connected })
	ro := srv.RollOut(server.RolloutRequest{Bundle: rec.SHA256, Device: k.id})
	waitState(t, srv, ro.ID, k.id, protocol.UpdateFailed)
	if o := state(srv, ro.ID, k.id); !strings.Contains(o.Error, "SHA-256") || !strings.Contains(o.Error, rec.SHA256) {
		t.Errorf("the error says %q, want the hash mismatch", o.Error)
	}
	if m.rebootAsked != 0 || len(m.installed) != 0 {
		t.Errorf("a bundle with a wrong hash was installed or rebooted into")
	}
}

func TestOfflineDeviceGetsItsOrderOnReconnect(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	rec := srv.UploadBundle(raucbundle.Make(t, "2026.12.5", "numerek-rpi4", 100<<10))
	hall := srv.TokenID(srv.Tokens["hall"])
	ro := srv.RollOut(server.RolloutRequest{Bundle: rec.SHA256, Office: srv.Office.ID})
	if got := state(srv, ro.ID, hall).State; got != fleet.OrderWaiting {
		t.Fatalf("an offline device's order is %q, want waiting", got)
	}
	// The server restarts meanwhile: the order is kept in fleet.db.
	srv.Stop()
	srv.Restart()
	m := newMachine(t)
	startKioskd(t, srv, m, t.TempDir(), "2026.11.1", nil)
	waitState(t, srv, ro.ID, hall, protocol.UpdateRebooting)
}

func TestSecondOrderRefusedWhileOneRuns(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	rec := srv.UploadBundle(raucbundle.Make(t, "2026.12.6", "numerek-rpi4", 100<<10))
	m := newMachine(t)
	data := t.TempDir()
	k := startKioskd(t, srv, m, data, "2026.11.1", nil)
	waitfor.Until(t, "the device's stream", 10*time.Second, func() bool { return srv.Fleet().Presence(k.id).Connected })
	ro := srv.RollOut(server.RolloutRequest{Bundle: rec.SHA256, Device: k.id})
	waitState(t, srv, ro.ID, k.id, protocol.UpdateRebooting)
	// Rebooting: another order waits for the outcome of this one.
	err := k.agent.Take(protocol.DeviceAction{ID: "x", Kind: protocol.ActionUpdate, Update: &protocol.UpdateOrder{Rollout: "other", Version: "2027.1", SHA256: strings.Repeat("a", 64), Size: 1}})
	if !errors.Is(err, update.ErrBusy) || !strings.Contains(err.Error(), "2026.12.6") {
		t.Errorf("a second order: %v, want it refused naming the update under way", err)
	}
}

func TestNotOnTheImage(t *testing.T) {
	a := update.New(update.Options{Release: filepath.Join(t.TempDir(), "none"), Record: filepath.Join(t.TempDir(), "u.json")})
	if a.System() != nil {
		t.Error("a kioskd off the image reports a system")
	}
	if err := a.Take(protocol.DeviceAction{Kind: protocol.ActionUpdate, Update: &protocol.UpdateOrder{Rollout: "r", Version: "1", SHA256: strings.Repeat("a", 64)}}); err == nil || !strings.Contains(err.Error(), "image") {
		t.Errorf("an order off the image: %v", err)
	}
}
