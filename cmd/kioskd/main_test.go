package main

import (
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A wrong configuration stops kioskd before anything starts, naming the
// file, the line and what is wrong; --check says what a right one makes of
// the device.
func TestConfigurationChecked(t *testing.T) {
	_, bin := binaries(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("role = \"ticket\"\n[server]\nurl = \"10.0.0.2\"\noffice = \"cus-starachowice\"\ntoken = \"t\"\n[printer]\nuri = \"lpt1\"\n"), 0o600)
	out, err := exec.Command(bin, "--config", bad).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("wrong config: %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{bad + ":3: server.url: \"10.0.0.2\" is not an http", bad + ":7: printer.uri"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kioskd's complaint does not say %q:\n%s", want, out)
		}
	}
	// The printer's scheme is checked against the transports kioskd has:
	// the real ones and the emulator's.
	ticket := "role = \"ticket\"\n[server]\nurl = \"http://10.0.0.2\"\noffice = \"cus-starachowice\"\ntoken = \"t\"\n[printer]\nuri = \"%s\"\n"
	lpt := filepath.Join(dir, "lpt.toml")
	os.WriteFile(lpt, fmt.Appendf(nil, ticket, "lpt:///dev/lp0"), 0o600)
	out, err = exec.Command(bin, "--config", lpt, "--check").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), lpt+": printer.uri: printer URI \"lpt:///dev/lp0\": unknown scheme \"lpt\" (emulator, file, serial, tcp or usb)") {
		t.Errorf("unknown printer scheme: %v, want exit status 1 naming it\n%s", err, out)
	}
	emu := filepath.Join(dir, "emulator.toml")
	os.WriteFile(emu, fmt.Appendf(nil, ticket, "emulator://"+filepath.Join(dir, "paper")), 0o600)
	if out, err = exec.Command(bin, "--config", emu, "--check").CombinedOutput(); err != nil || !strings.Contains(string(out), "printer emulator://") {
		t.Errorf("--check of an emulated printer: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "--config", "../../examples/devices/counter.toml", "--check").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `a counter device named "counter-5"`) || !strings.Contains(string(out), "counter 5 with 6 buttons") {
		t.Errorf("--check: %v\n%s", err, out)
	}
	out, err = exec.Command(bin).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "usage: kioskd --config FILE") {
		t.Errorf("no flags: %v\n%s", err, out)
	}
}

// --screenshot writes the first frame that shows the office and exits:
// the counter display of counter 1, serving the ticket just called.
func TestScreenshot(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	cfg := filepath.Join(t.TempDir(), "counter.toml")
	os.WriteFile(cfg, []byte(`role = "counter"
data_dir = "`+filepath.Join(t.TempDir(), "data")+`"
[server]
url = "`+o.url()+`"
office = "cus-starachowice"
token_file = "`+filepath.Join(o.data, "counter1.token")+`"
[counter]
number = 1
`), 0o600)
	_, bin := binaries(t)
	shot := func(name string) image.Image {
		out := filepath.Join(t.TempDir(), name)
		cmd := exec.Command(bin, "--config", cfg, "--screenshot", out)
		if d := displayOf(t); d != "" {
			cmd.Env = append(os.Environ(), "DISPLAY="+d)
		}
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("--screenshot: %v\n%s", err, msg)
		}
		return readPNG(t, out)
	}
	free := shot("free.png")
	if free.Bounds().Dx() != 800 || free.Bounds().Dy() != 480 {
		t.Fatalf("screenshot is %v, want the counter's 800x480", free.Bounds())
	}
	o.api(o.tokens["kiosk"], "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"shot-1"}`, nil)
	o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", nil)
	serving := shot("serving.png")
	if d := differ(free, serving, image.Rect(0, 100, 800, 480)); d < 0.05 {
		t.Errorf("the counter looks the same free and serving (%.3f of pixels differ)", d)
	}
}
