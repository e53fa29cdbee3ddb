package pairing_test

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/device/pairing"
	"github.com/numerek/numerek/device/pairing/pairingtest"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
)

// tick is the tests' second: the server's intervals are counted in it.
const tick = 10 * time.Millisecond

type run struct {
	states chan pairing.State
	done   chan struct{}
	creds  protocol.Credentials
	err    error
	last   pairing.State
}

func startPairing(t *testing.T, url string, key ed25519.PrivateKey) *run {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{states: make(chan pairing.State, 100), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.creds, r.err = pairing.Run(ctx, pairing.Options{ServerURL: url, Key: key, Version: "test", Second: tick,
			Hardware: protocol.Hardware{Model: "Raspberry Pi 4 Model B Rev 1.5"},
			Backoff:  protocol.Backoff{Min: tick, Max: 4 * tick},
			OnState:  func(s pairing.State) { r.states <- s }})
	}()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

// next waits for the screen to show a state for which ok holds.
func (r *run) next(t *testing.T, what string, ok func(pairing.State) bool) pairing.State {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-r.states:
			r.last = s
			if ok(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("the pairing screen never showed %s; last %+v", what, r.last)
		}
	}
}

func codeIs(code string) func(pairing.State) bool {
	return func(s pairing.State) bool { return s.Code == code && !s.Unreachable }
}

// A device shows its code, waits while it is pending, slows down when
// told, asks for a new code when one expires or is refused (saying so),
// and takes the credentials when approved.
func TestPairingAsRFC8628(t *testing.T) {
	fake := pairingtest.New()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	pub, key, _ := ed25519.GenerateKey(nil)
	r := startPairing(t, srv.URL, key)

	first := r.next(t, "the first code", codeIs("TEST-0001"))
	if first.Refused || first.URIComplete != "http://numerek.test/staff/devices?code=TEST0001" {
		t.Errorf("first state %+v", first)
	}
	g := fake.Grants()[0]
	if g.Request.PublicKey != protocol.EncodePublicKey(pub) || g.Request.Hardware.Model == "" || g.Request.Version != "test" {
		t.Errorf("the pairing request %+v does not carry the key, the hardware and the version", g.Request)
	}

	// slow_down: the interval grows by 5 s from the poll after.
	waitfor.Until(t, "two pending polls", 5*time.Second, func() bool { return len(fake.Grants()[0].Polls) >= 2 })
	if err := fake.SlowDown("TEST-0001"); err != nil {
		t.Fatal(err)
	}
	slowed := len(fake.Grants()[0].Polls) + 1 // the poll answered slow_down
	waitfor.Until(t, "two polls after slow_down", 5*time.Second, func() bool { return len(fake.Grants()[0].Polls) >= slowed+2 })
	polls := fake.Grants()[0].Polls
	for i := slowed; i < slowed+2; i++ {
		if gap := polls[i].Sub(polls[i-1]); gap < (1+pairing.SlowDownStep)*tick {
			t.Errorf("poll %d came %v after the one before, want at least %v after slow_down", i+1, gap, (1+pairing.SlowDownStep)*tick)
		}
	}

	if err := fake.Expire("TEST-0001"); err != nil {
		t.Fatal(err)
	}
	second := r.next(t, "a new code after the first expired", codeIs("TEST-0002"))
	if second.Refused {
		t.Error("an expired code is said to be refused")
	}
	if err := fake.Deny("TEST-0002"); err != nil {
		t.Fatal(err)
	}
	third := r.next(t, "a new code after the second was refused", codeIs("TEST-0003"))
	if !third.Refused {
		t.Error("the screen does not say the last code was refused")
	}
	want := protocol.Credentials{DeviceID: "tok_9", Token: "nmk_paired", Office: "cus-starachowice", Role: "hall", Name: "hall-lcd",
		Settings: protocol.DeviceSettings{Revision: 1, TOML: "role = \"hall\"\n"}}
	if err := fake.Approve("TEST-0003", want); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("pairing did not end after the approval")
	}
	if r.err != nil || r.creds != want {
		t.Errorf("pairing gave %+v, %v; want %+v", r.creds, r.err, want)
	}
}

// While the server cannot be reached the screen says so and the device
// keeps trying; the code comes once it answers.
func TestPairingWaitsForTheServer(t *testing.T) {
	fake := pairingtest.New()
	var down atomic.Bool
	down.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	defer srv.Close()
	_, key, _ := ed25519.GenerateKey(nil)
	r := startPairing(t, srv.URL, key)
	s := r.next(t, "that the server cannot be reached", func(s pairing.State) bool { return s.Unreachable })
	if s.Code != "" || !strings.Contains(s.Problem, "502") {
		t.Errorf("state while down %+v, want no code and the server's answer", s)
	}
	down.Store(false)
	r.next(t, "a code once the server is back", codeIs("TEST-0001"))

	// Lost while polling: the code stays on screen, marked unreachable.
	down.Store(true)
	s = r.next(t, "the server lost while polling", func(s pairing.State) bool { return s.Unreachable })
	if s.Code != "TEST-0001" {
		t.Errorf("the code went from the screen while the server was away: %+v", s)
	}
	down.Store(false)
	r.next(t, "the code again once the server is back", codeIs("TEST-0001"))
}

func TestReadHardware(t *testing.T) {
	root := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	hw := pairing.ReadHardware(root)
	if hw.Model != "" || hw.Serial != "" {
		t.Errorf("without a device tree: %+v", hw)
	}
	must(os.MkdirAll(filepath.Join(root, "proc/device-tree"), 0o755))
	must(os.WriteFile(filepath.Join(root, "proc/cpuinfo"), []byte("processor\t: 0\nHardware\t: BCM2835\nSerial\t\t: 10000000abcdef01\nModel\t\t: Raspberry Pi 4 Model B Rev 1.5\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "proc/device-tree/model"), []byte("Raspberry Pi 4 Model B Rev 1.5\x00"), 0o644))
	hw = pairing.ReadHardware(root)
	if hw.Model != "Raspberry Pi 4 Model B Rev 1.5" || hw.Serial != "10000000abcdef01" {
		t.Errorf("from /proc/cpuinfo: %+v", hw)
	}
	must(os.WriteFile(filepath.Join(root, "proc/device-tree/serial-number"), []byte("10000000fedcba98\x00"), 0o644))
	if hw = pairing.ReadHardware(root); hw.Serial != "10000000fedcba98" {
		t.Errorf("the device tree's serial: %q", hw.Serial)
	}
	if hw.Hostname == "" {
		t.Error("no host name")
	}
}

func FuzzCPUInfoSerial(f *testing.F) {
	f.Add("Serial\t\t: 10000000abcdef01\n")
	f.Add("processor: 0\nSerial:\n")
	f.Fuzz(func(t *testing.T, s string) {
		got := pairing.CPUInfoSerial(strings.NewReader(s))
		if len(got) > 64 || strings.ContainsAny(got, "\n") {
			t.Errorf("serial %q", got)
		}
	})
}
