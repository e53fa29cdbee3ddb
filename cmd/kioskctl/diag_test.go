package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jezek/xgb"

	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/device/pairing"
	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/server/devices"
	"github.com/numerek/numerek/server/servertest"
)

// diag checks a ticket kiosk on site: with its printer and server
// working every check is OK, and with the printer unplugged or a token
// the server refuses, the line says what is wrong and what to do, and
// the exit code tells a script it failed.
func TestDiag(t *testing.T) {
	display, stop := displaytest.Xvfb()
	defer stop()
	if display == "" {
		t.Skip("no Xvfb to check a screen on")
	}
	// A client holds the display, as kioskd's window does on a kiosk: an
	// X server with none resets, refusing connections meanwhile.
	x, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	srv := servertest.Start(t, servertest.Options{})
	prof, err := profiles.Lookup("tm-t20ii")
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Config{Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tcp, err := emu.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		printer string
		token   string
		state   func()
		code    int
		want    []string // regular expressions, one a line
	}{
		{
			name: "working", printer: "tcp://" + tcp.Addr(), token: srv.Tokens["ticket"], code: 0,
			want: []string{
				`(?m)^OK    screen   X display :\d+ answers: 1920x1080$`,
				`(?m)^OK    printer  tcp://127.0.0.1:\d+: online, cover closed, paper in$`,
				`(?m)^SKIP  sound    no speaker configured for the ticket role$`,
				`(?m)^(OK  |WARN)  network  address 127.0.0.1`,
				`(?m)^OK    server   http://127.0.0.1:\d+ answers; the token is accepted: ticket "kiosk" of office cus-starachowice$`,
				`(?m)^OK    clock    this machine's clock agrees with the server's \(to the second\)$`,
				`(?m)^(OK  |WARN)  disk     .*: \d+ MB free of \d+ MB$`,
			},
		},
		{
			name: "paper near end", printer: "tcp://" + tcp.Addr(), token: srv.Tokens["ticket"], code: 0,
			state: func() { emu.SetPaperNearEnd(true) },
			want: []string{
				`(?m)^WARN  printer  tcp://127.0.0.1:\d+: online, paper near end\n +→ put a new roll in soon$`,
			},
		},
		{
			name: "cover open", printer: "tcp://" + tcp.Addr(), token: srv.Tokens["ticket"], code: 1,
			state: func() { emu.SetPaperNearEnd(false); emu.SetCoverOpen(true) },
			want: []string{
				`(?m)^FAIL  printer  tcp://127.0.0.1:\d+: cover open\n +→ close the printer's cover$`,
			},
		},
		{
			name: "printer unplugged, token refused", printer: "tcp://127.0.0.1:1", token: "nmk_not-a-token", code: 1,
			want: []string{
				`(?m)^FAIL  printer  tcp://127.0.0.1:1 cannot be reached: .*connection refused.*\n +→ switch the printer on, check its cable`,
				`(?m)^FAIL  server   http://127.0.0.1:\d+ is reachable, but it refuses this device's token \(401\)\n +→ the token was revoked or mistyped`,
				`(?m)^OK    clock `,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.state != nil {
				tc.state()
			}
			dir := t.TempDir()
			cfg := filepath.Join(dir, "kioskd.toml")
			os.WriteFile(cfg, []byte(fmt.Sprintf(`role = "ticket"
name = "kiosk"
data_dir = %q
languages = ["pl"]
[server]
url = %q
office = %q
token = %q
[screen]
width = 1920
height = 1080
[printer]
uri = %q
profile = "tm-t20ii"
`, filepath.Join(dir, "data"), srv.URL, srv.Office.ID, tc.token, tc.printer)), 0o600)
			os.MkdirAll(filepath.Join(dir, "data"), 0o700)
			start := time.Now()
			code, stdout, stderr := runCmd(t, "diag", "--config", cfg, "--display", display, "--timeout", "2s")
			if code != tc.code {
				t.Errorf("exit %d, want %d:\n%s%s", code, tc.code, stdout, stderr)
			}
			for _, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(stdout) {
					t.Errorf("no line matching %s in:\n%s", re, stdout)
				}
			}
			if tc.code != 0 && !strings.Contains(stderr, "checks failed") {
				t.Errorf("stderr %q does not say checks failed", stderr)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("diag took %v", d)
			}
		})
	}
}

func TestClockFinding(t *testing.T) {
	sent := time.Date(2026, 11, 26, 10, 0, 0, 400_000_000, time.UTC)
	tests := []struct {
		name       string
		date       string
		took       time.Duration
		wantLevel  level
		wantDetail string
	}{
		{"same second", "Thu, 26 Nov 2026 10:00:00 GMT", 50 * time.Millisecond, levelOK, "agrees with the server's"},
		// The answer left the server just after its second turned: still the same clock.
		{"second turned in flight", "Thu, 26 Nov 2026 10:00:01 GMT", 700 * time.Millisecond, levelOK, "agrees with the server's"},
		{"three seconds behind", "Thu, 26 Nov 2026 10:00:03 GMT", 10 * time.Millisecond, levelOK, "clock is 3s from the server's"},
		{"ten seconds ahead", "Thu, 26 Nov 2026 09:59:50 GMT", 10 * time.Millisecond, levelWarn, "clock is -10s from the server's"},
		{"a day off", "Wed, 25 Nov 2026 10:00:00 GMT", 10 * time.Millisecond, levelFail, "clock is -24h0m0s from the server's"},
		{"no date", "", 10 * time.Millisecond, levelWarn, "no usable Date header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := clockFinding(tt.date, sent, sent.Add(tt.took))
			if f.level != tt.wantLevel || !strings.Contains(f.detail, tt.wantDetail) {
				t.Errorf("got %v %q, want %v and %q", f.level, f.detail, tt.wantLevel, tt.wantDetail)
			}
		})
	}
}

// A device set up from the card is paired: its file names no role, office
// or token. diag checks it as kioskd runs it, its token with a proof
// signed by its key, at the server's time (the test server's clock is
// days from this machine's, as a Pi's without a battery clock can be).
func TestDiagOnAPairedDevice(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	key, _, err := identity.Key(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	codes := make(chan string, 1)
	creds, err := pairing.Run(ctx, pairing.Options{ServerURL: srv.URL, Key: key, Version: "test", Second: time.Millisecond,
		OnState: func(s pairing.State) {
			if s.Code == "" {
				return
			}
			select {
			case codes <- s.Code:
			default:
			}
			go func() {
				if _, err := srv.Devices().Approve(<-codes, devices.Approval{Office: srv.Office.ID, Role: "hall", Name: "hall-diag",
					Languages: srv.Office.Languages, By: "test"}); err != nil {
					t.Errorf("approving: %v", err)
				}
			}()
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := identity.SavePaired(data, identity.Paired{Credentials: creds, ServerURL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "kioskd.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir = %q\n[server]\nurl = %q\n", data, srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stdout, stderr := runCmd(t, "diag", "--config", cfg, "--timeout", "2s")
	want := regexp.MustCompile(`(?m)^OK    server   http://127.0.0.1:\d+ answers; the token is accepted: hall "hall-diag" of office cus-starachowice$`)
	if !want.MatchString(stdout) {
		t.Errorf("no line matching %s in:\n%s%s", want, stdout, stderr)
	}
}
