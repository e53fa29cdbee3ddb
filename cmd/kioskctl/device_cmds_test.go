package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// device-config writes a file kioskd accepts, readable by its owner only;
// a configuration that would be wrong is not written.
func TestDeviceConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	token := filepath.Join(dir, "counter.token")
	os.WriteFile(token, []byte("nmk_secret\n"), 0o600)
	out := filepath.Join(dir, "etc", "kioskd.toml")
	code, _, stderr := runCmd(t, "device-config", "--role", "counter", "--server", "http://10.0.0.2:8080", "--office", "cus-starachowice",
		"--token-file", token, "--counter", "5", "--pins", "next=GPIO17,good=GPIO5", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	cfg, err := config.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Counter.Number != 5 || cfg.Buttons.Pins[config.ButtonGood] != "GPIO5" || cfg.Server.Token != "nmk_secret" {
		t.Errorf("written config %+v", cfg)
	}
	if st, _ := os.Stat(out); st.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, want 0600 (it may hold a token)", st.Mode().Perm())
	}

	wrong := filepath.Join(dir, "wrong.toml")
	code, _, stderr = runCmd(t, "device-config", "--role", "ticket", "--server", "10.0.0.2", "--office", "x", "--token", "t", "--out", wrong)
	if code != 2 || !strings.Contains(stderr, "server.url") || !strings.Contains(stderr, "printer.uri: missing") {
		t.Errorf("wrong config: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(wrong); err == nil {
		t.Error("a wrong configuration was written")
	}
	if code, _, stderr := runCmd(t, "device-config", "--pins", "door=GPIO4"); code != 2 || !strings.Contains(stderr, "the buttons are next, recall") {
		t.Errorf("unknown button: exit %d: %s", code, stderr)
	}
}

// journal lists a stopped kiosk's tickets, outbox and leases; while kioskd
// holds the file it says so.
func TestJournal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.OpenDevice(filepath.Join(dir, device.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	db.AddLease(queue.Lease{ID: "l", Service: "family", Day: "2026-11-23", First: 21, Last: 40, GrantedAt: time.Now()})
	// A request cut off by a restart before any answer: nothing was
	// printed, so the server is to be told to withdraw it.
	if _, err := db.BeginRequest(store.JournalEntry{Source: store.SourceServer, Service: "family", Lang: "pl", IssuedAt: time.Date(2026, 11, 23, 9, 6, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Recover(); err != nil {
		t.Fatal(err)
	}
	e, _ := db.IssueFromLease(store.JournalEntry{Service: "family", Lang: "uk", IssuedAt: time.Date(2026, 11, 23, 9, 5, 0, 0, time.UTC)}, "2026-11-23", "A")
	if code, _, stderr := runCmd(t, "journal", "--data", dir); code != 1 || !strings.Contains(stderr, "kioskd is running") {
		t.Errorf("while held: exit %d: %s", code, stderr)
	}
	db.Close()
	code, stdout, stderr := runCmd(t, "journal", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{e.Number, "family", "uk", "lease", "issued", "pending", "1 waiting to be handed in; withdrawals to send: 1", "2026-11-23 family numbers 21-40, next 22 (19 left)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("journal does not say %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCmd(t, "journal", "--data", dir, "--json")
	var doc struct {
		Journal []store.JournalEntry `json:"journal"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || len(doc.Journal) != 2 || doc.Journal[1].RequestID != e.RequestID || doc.Journal[0].HandIn != store.HandInWithdraw {
		t.Errorf("--json: exit %d: %s", code, stdout)
	}
}

// buttons with a pin the machine lacks exits 1 and says why: on a
// machine without GPIO (CI, a desktop) where to run it; on one with GPIO,
// which pin of which button is missing.
func TestButtonsWithoutGPIO(t *testing.T) {
	t.Parallel()
	if _, err := host.Init(); err != nil {
		t.Fatalf("starting periph.io: %v", err)
	}
	want := []string{"no GPIO pins", "run this on the counter's Raspberry Pi"}
	if len(gpioreg.All()) > 0 {
		want = []string{"no GPIO pin GPIO9999 (next button)", "no button to test"}
	}
	code, _, stderr := runCmd(t, "buttons", "--pins", "next=GPIO9999")
	if code != 1 {
		t.Errorf("exit %d, want 1: %s", code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not say %q: %s", w, stderr)
		}
	}
}

// A counter set up from the card (paired: its role comes from the server)
// is tested with the buttons its file wires, not refused for lacking a
// role and a token.
func TestButtonsOfAPairedCounter(t *testing.T) {
	t.Parallel()
	if _, err := host.Init(); err != nil {
		t.Fatalf("starting periph.io: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "kioskd.toml")
	text := "data_dir = \"" + dir + "\"\n[server]\nurl = \"mdns\"\n[buttons]\nnext = \"GPIO9998\"\n"
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd(t, "buttons", "--config", file)
	if code == 0 || !strings.Contains(stderr, "not paired yet") {
		t.Fatalf("before pairing: exit %d, stderr %q; want it to say the device is not paired yet", code, stderr)
	}
	settings := protocol.DeviceSettings{Revision: 1, TOML: "role = \"counter\"\n[counter]\nnumber = 3\n"}
	if err := identity.SavePaired(dir, identity.Paired{ServerURL: "http://10.0.0.2:8080",
		Credentials: protocol.Credentials{DeviceID: "d1", Token: "nmk_x", Office: "cus-starachowice", Role: "counter", Settings: settings}}); err != nil {
		t.Fatal(err)
	}
	want := "no GPIO pins"
	if len(gpioreg.All()) > 0 {
		want = "no GPIO pin GPIO9998 (next button)"
	}
	code, _, stderr = runCmd(t, "buttons", "--config", file)
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("paired: exit %d, stderr %q; want exit 1 saying %q", code, stderr, want)
	}
}

// tap reads the kiosk's status page: --list names the targets, an
// unknown target is refused with the ones there are.
func TestTapReadsTheStatusPage(t *testing.T) {
	t.Parallel()
	var page atomic.Value
	page.Store(`{"role":"ticket","role_status":{"screen":{"title":"numerek-kiosk","width":1920,"height":1080,"windowed":true,"window_scale":0.5},
"targets":[{"id":"service:family","rect":{"Min":{"X":40,"Y":180},"Max":{"X":700,"Y":400}},"enabled":true},{"id":"lang:uk","rect":{"Min":{"X":0,"Y":0},"Max":{"X":10,"Y":10}},"enabled":true},{"id":"closed:documents","rect":{"Min":{"X":0,"Y":0},"Max":{"X":1,"Y":1}},"enabled":false}]}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(page.Load().(string)))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	code, stdout, stderr := runCmd(t, "tap", "--status", addr, "--list")
	if code != 0 || stdout != "service:family\nlang:uk\n" {
		t.Errorf("--list: exit %d: %q %s", code, stdout, stderr)
	}
	code, _, stderr = runCmd(t, "tap", "--status", addr, "service:care")
	if code != 1 || !strings.Contains(stderr, `no target "service:care"`) || !strings.Contains(stderr, "service:family lang:uk") {
		t.Errorf("unknown target: exit %d: %s", code, stderr)
	}
	page.Store(`{"role":"hall"}`)
	if code, _, stderr := runCmd(t, "tap", "--status", addr, "--list"); code != 1 || !strings.Contains(stderr, "not a ticket kiosk") {
		t.Errorf("a hall's page: exit %d: %s", code, stderr)
	}
}

// After clicking, tap waits for the kiosk to count the tap, so a click its
// window never received is reported rather than taken for done.
func TestTapWaitsForTheKioskToSeeIt(t *testing.T) {
	t.Parallel()
	var taps atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"role": "ticket", "role_status": map[string]any{"taps": taps.Load()}})
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	go func() {
		time.Sleep(300 * time.Millisecond)
		taps.Add(1)
	}()
	if err := waitForTap(t.Context(), addr, 0); err != nil {
		t.Errorf("a tap counted 300 ms after the click: %v", err)
	}
	err := waitForTap(t.Context(), addr, 1)
	if err == nil || !strings.Contains(err.Error(), "saw no tap") {
		t.Errorf("no tap counted: %v, want an error saying the kiosk saw no tap", err)
	}
}
