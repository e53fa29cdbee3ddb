package main

import (
	"encoding/json"
	"fmt"
	"image"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/device/pairing/pairingtest"
	"github.com/numerek/numerek/protocol"
)

// pairingFront is a stand-in for the server's pairing endpoints in front
// of a real queue server: the two pairing paths are answered by
// pairingtest, everything else is the office's. Revoke makes it answer
// every other request as the server answers a revoked token.
type pairingFront struct {
	*pairingtest.Server
	srv     *httptest.Server
	revoked atomic.Bool
}

func startPairingFront(t testing.TB, o *office) *pairingFront {
	t.Helper()
	target, _ := url.Parse(o.url())
	f := &pairingFront{Server: pairingtest.New()}
	proxy := httputil.NewSingleHostReverseProxy(target)
	f.Next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.revoked.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(protocol.ErrorResponse{Error: "unknown or revoked token"})
			return
		}
		proxy.ServeHTTP(w, r)
	})
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// revoke refuses the device's token from now on and cuts its stream.
func (f *pairingFront) revoke() {
	f.revoked.Store(true)
	f.srv.CloseClientConnections()
}

// pairedLocalFile is examples/devices/paired.toml as a test writes it.
func pairedLocalFile(t testing.TB, serverURL string) (path, data string) {
	t.Helper()
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	cfg := fmt.Sprintf("data_dir = %q\n[server]\nurl = %q\n[screen]\nwindowed = true\nwindow_scale = 0.5\n[status]\nlisten = \"127.0.0.1:0\"\n", data, serverURL)
	path = filepath.Join(dir, "kioskd.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// statusOf reads a kioskd's status page.
func statusOf(t testing.TB, addr string) device.Status {
	t.Helper()
	var st device.Status
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatalf("status page: %v", err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// nthLog waits for the n-th log line (from 1) matching re: a kioskd that
// starts again in its own place logs its start again.
func (p *proc) nthLog(re *regexp.Regexp, n int, timeout time.Duration) []string {
	p.t.Helper()
	var found []string
	waitUntil(p.t, fmt.Sprintf("%s logging %v %d times", p.name, re, n), timeout, func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		seen := 0
		for _, l := range p.log {
			if m := re.FindStringSubmatch(l); m != nil {
				if seen++; seen == n {
					found = m
					return true
				}
			}
		}
		return false
	})
	return found
}

// A device with a file that gives only the server's address pairs: its
// screen (and --screenshot) shows the code and the QR to approve it, its
// status page says it is unpaired with that code; approved, it becomes
// the hall display the server made it within seconds. Revoked, it forgets
// its credentials and shows a new code.
func TestPairingMakesAHallDisplay(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	front := startPairingFront(t, o)
	cfg, data := pairedLocalFile(t, front.srv.URL)
	_, bin := binaries(t)

	// --screenshot while unpaired: the first frame with a code.
	shot := filepath.Join(t.TempDir(), "pairing.png")
	cmd := exec.Command(bin, "--config", cfg, "--screenshot", shot)
	cmd.Env = os.Environ()
	if d := displayOf(t); d != "" {
		cmd.Env = append(cmd.Env, "DISPLAY="+d)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("--screenshot while unpaired: %v\n%s", err, out)
	}
	first := front.Grants()[0]
	if got, err := decodeQR(readPNG(t, shot)); err != nil || got != first.VerificationURIComplete {
		t.Errorf("the screenshot's QR reads %q (%v), want %q", got, err, first.VerificationURIComplete)
	}

	frames := filepath.Join(t.TempDir(), "frames")
	// systemd's notification socket, as kioskd.service (Type=notify) gives.
	notify := listenNotify(t)
	p := start(t, "kioskd pairing", []string{"NOTIFY_SOCKET=" + notify.path}, bin, "--config", cfg, "--log-level", "debug", "--frames", frames)
	status := p.waitLog(statusLine, 20*time.Second)[1]
	p.waitLog(regexp.MustCompile(`msg="kioskd pairing"`), 20*time.Second)
	var code string
	waitUntil(t, "the status page to give the code", 10*time.Second, func() bool {
		st := statusOf(t, status)
		if st.Pairing != nil && st.Pairing.Code != "" {
			code = st.Pairing.Code
			if st.Pairing.State != "unpaired, code "+code {
				t.Errorf("status page says %q", st.Pairing.State)
			}
			return true
		}
		return false
	})
	grants := front.Grants()
	g := grants[len(grants)-1]
	if code != "TEST-"+g.UserCode[4:] || g.Request.PublicKey != first.Request.PublicKey {
		t.Errorf("code %s for grant %+v; want the last grant's, for the same key as the screenshot's", code, g)
	}
	dev := &kioskDev{proc: p, frames: frames, name: "pairing"}
	dev.waitFrame("with the code's QR", 10*time.Second, func(img image.Image) bool {
		got, err := decodeQR(img)
		return err == nil && got == g.VerificationURIComplete
	})

	// Unpaired, kioskd is started as far as systemd knows: without
	// READY=1, systemd killed it at TimeoutStartSec and its code changed
	// under the technician every minute.
	notify.waitFor(t, "READY=1", time.Minute)

	approved := time.Now()
	settings := protocol.DeviceSettings{Revision: 1, TOML: "role = \"hall\"\nname = \"hall-paired\"\n[sound]\nenabled = false\n"}
	if err := front.Approve(code, protocol.Credentials{DeviceID: "tok_hall", Token: o.tokens["hall"], Office: officeID, Role: "hall", Name: "hall-paired", Settings: settings}); err != nil {
		t.Fatal(err)
	}
	p.nthLog(regexp.MustCompile(`msg="kioskd ready" .*role=hall`), 1, 20*time.Second)
	t.Logf("a hall %v after the approval", time.Since(approved).Round(time.Millisecond))
	hallStatus := p.nthLog(statusLine, 2, 5*time.Second)[1]
	st := statusOf(t, hallStatus)
	if st.Role != "hall" || st.Name != "hall-paired" || st.Office != officeID || st.Pairing != nil {
		t.Errorf("after approval the status page says %+v, want the hall hall-paired of %s", st, officeID)
	}
	hall := &kioskDev{proc: p, frames: frames, name: "hall-paired"}
	hall.waitFrame("of the hall", 20*time.Second, func(img image.Image) bool { return img.Bounds().Dx() == 1920 })
	// It started again as a hall in its own process: systemd must not
	// have been told it stops (it would kill it TimeoutStopSec later).
	if got := notify.states(); slices.Contains(got, "STOPPING=1") {
		t.Errorf("kioskd told systemd %q across pairing, want no STOPPING=1", got)
	}
	if paired, err := identity.LoadPaired(data); err != nil || paired == nil || paired.Token != o.tokens["hall"] || paired.ServerURL != front.srv.URL {
		t.Fatalf("credentials on the device: %+v, %v", paired, err)
	}

	// Revoked: the device forgets its credentials and pairs again.
	revoked := time.Now()
	front.revoke()
	p.nthLog(regexp.MustCompile(`msg="kioskd pairing"`), 2, 15*time.Second)
	if d := time.Since(revoked); d > 8*time.Second {
		t.Errorf("back to pairing %v after the revocation, want within 5 s (and a start)", d.Round(time.Millisecond))
	}
	if paired, err := identity.LoadPaired(data); paired != nil || err != nil {
		t.Errorf("after the revocation the device still holds %+v (%v)", paired, err)
	}
	status = p.nthLog(statusLine, 3, 10*time.Second)[1]
	waitUntil(t, "a new code on the status page", 10*time.Second, func() bool {
		st := statusOf(t, status)
		return st.Pairing != nil && st.Pairing.Code != "" && st.Pairing.Code != code
	})
	if strings.Contains(p.logText(), o.tokens["hall"]) {
		t.Error("kioskd logged the device's token")
	}
}

// A device told url = "mdns" finds the queue server that advertises
// itself on the network (here the machine's own card: multicast loops
// back to the sender's host), and pairs with it.
func TestPairingFindsTheServerOnTheNetwork(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	server, bin := binaries(t)
	data := t.TempDir()
	srv := start(t, "queue-server", nil, server, "--data", data, "--listen", ":0", "--advertise", "--clock", "2026-11-23T09:00:00")
	listen := srv.waitLog(readyLine, 20*time.Second)[1]
	if !srv.sawLog(regexp.MustCompile(`advertising the server on the network`), 0) {
		t.Fatalf("the server does not say it advertises itself:\n%s", srv.logText())
	}
	_, port, _ := strings.Cut(listen[strings.LastIndex(listen, "]")+1:], ":")
	cfg, _ := pairedLocalFile(t, "mdns")
	p := start(t, "kioskd mdns", nil, bin, "--config", cfg, "--log-level", "debug")
	found := p.waitLog(regexp.MustCompile(`msg="found the queue server on the network" .*url=(\S+)`), 20*time.Second)[1]
	if !strings.HasSuffix(found, ":"+port) {
		t.Fatalf("found %s, want the server listening on port %s", found, port)
	}
	status := p.waitLog(statusLine, 20*time.Second)[1]
	waitUntil(t, "the status page to name the server found", 10*time.Second, func() bool {
		return statusOf(t, status).Server == found
	})
}

// notifySocket is a stand-in for systemd's notification socket: it keeps
// what kioskd tells it (READY=1, WATCHDOG=1, STOPPING=1, …).
type notifySocket struct {
	path string
	mu   sync.Mutex
	got  []string
	news chan struct{}
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "notify")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	n := &notifySocket{path: filepath.Join(dir, "notify"), news: make(chan struct{}, 1)}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.got = append(n.got, strings.Fields(string(buf[:k]))...)
			n.mu.Unlock()
			select {
			case n.news <- struct{}{}:
			default:
			}
		}
	}()
	return n
}

func (n *notifySocket) states() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

func (n *notifySocket) waitFor(t *testing.T, state string, within time.Duration) {
	t.Helper()
	limit := time.After(within)
	for !slices.Contains(n.states(), state) {
		select {
		case <-n.news:
		case <-limit:
			t.Fatalf("kioskd did not tell systemd %s in %v; it told %q", state, within, n.states())
		}
	}
}
