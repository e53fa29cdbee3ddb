package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/internal/waitfor"
)

// These tests run the real programs: queue-server and kioskd, built once,
// as separate processes talking over loopback, with kioskd's windows on
// the test's X display (scripts/with-display.sh gives one).

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries are queue-server and kioskd, built once for the test run.
func binaries(t testing.TB) (server, kioskd string) {
	t.Helper()
	dir := binFolder(t)
	return filepath.Join(dir, "queue-server"), filepath.Join(dir, "kioskd")
}

// binFolder builds queue-server, kioskd and kioskctl once for the test run
// and returns their folder, or takes $NUMEREK_TEST_BIN, where
// scripts/test.sh built them once for every package that runs them.
func binFolder(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("NUMEREK_TEST_BIN"); dir != "" {
		return dir
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "kioskd-e2e-bin")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", binDir, "github.com/numerek/numerek/cmd/queue-server",
			"github.com/numerek/numerek/cmd/kioskd", "github.com/numerek/numerek/cmd/kioskctl").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

// TestMain gives the benchmarks an X server of their own: they tap
// windows with the one mouse pointer of their X server, and must not tap
// into another package's windows (go test runs packages side by side).
// Each test has its own (needDisplay).
func TestMain(m *testing.M) {
	display, stop := displaytest.Xvfb()
	if display != "" {
		os.Setenv("DISPLAY", display)
	}
	code := m.Run()
	stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	// displays are the X servers of the tests running now, by test name.
	displaysMu sync.Mutex
	displays   = map[string]string{}
	// sharedDisplay is held by a test that, without Xvfb, uses the one
	// display the tests were given.
	sharedDisplay sync.Mutex
)

// needDisplay gives the test an X server of its own, so that tests run
// side by side without one clicking into another's windows; without Xvfb
// the tests take turns on the display they were given. It skips when
// there is no display or no xdotool.
func needDisplay(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Skip("xdotool is not installed (scripts/install-deps.sh installs it)")
	}
	display, stop := displaytest.Xvfb()
	if display == "" {
		if os.Getenv("DISPLAY") == "" {
			t.Skip("no X display: install Xvfb (scripts/install-deps.sh) or run under scripts/with-display.sh")
		}
		sharedDisplay.Lock()
		t.Cleanup(sharedDisplay.Unlock)
		return
	}
	t.Cleanup(stop)
	displaysMu.Lock()
	displays[t.Name()] = display
	displaysMu.Unlock()
	t.Cleanup(func() {
		displaysMu.Lock()
		delete(displays, t.Name())
		displaysMu.Unlock()
	})
}

// displayOf is the X display of t (or of the test t is part of); "" is
// $DISPLAY.
func displayOf(t testing.TB) string {
	displaysMu.Lock()
	defer displaysMu.Unlock()
	for name := t.Name(); ; {
		if d, ok := displays[name]; ok {
			return d
		}
		i := strings.LastIndex(name, "/")
		if i < 0 {
			return ""
		}
		name = name[:i]
	}
}

// proc is a running program whose log lines the test can wait for.
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	// startedAt is when the program was started.
	startedAt time.Time
	mu        sync.Mutex
	log       []string
	done      chan struct{}
}

func start(t testing.TB, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Env = os.Environ()
	if d := displayOf(t); d != "" {
		p.cmd.Env = append(p.cmd.Env, "DISPLAY="+d)
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdout = io.Discard
	p.startedAt = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			p.mu.Unlock()
		}
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.logText())
		}
	})
	return p
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "\n")
}

// waitLog waits for a log line matching re and returns its submatches.
func (p *proc) waitLog(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	return p.waitLogAfter(re, 0, timeout)
}

// logLines is how many lines the program has logged so far: waitLogAfter
// takes it to wait for what comes after.
func (p *proc) logLines() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.log)
}

// waitLogAfter is waitLog for the lines after the first skip.
func (p *proc) waitLogAfter(re *regexp.Regexp, skip int, timeout time.Duration) []string {
	p.t.Helper()
	m, ended := p.findLog(re, skip, timeout)
	switch {
	case m != nil:
		return m
	case ended:
		p.t.Fatalf("%s ended before logging %v:\n%s", p.name, re, p.logText())
	default:
		p.t.Fatalf("%s did not log %v in %v:\n%s", p.name, re, timeout, p.logText())
	}
	return nil
}

// sawLog says whether the program logs a line matching re within timeout.
func (p *proc) sawLog(re *regexp.Regexp, timeout time.Duration) bool {
	m, _ := p.findLog(re, 0, timeout)
	return m != nil
}

// findLog waits for a log line after the first skip matching re and
// returns its submatches, or nil when the program ends (ended) or timeout
// passes first.
func (p *proc) findLog(re *regexp.Regexp, skip int, timeout time.Duration) (m []string, ended bool) {
	deadline := time.Now().Add(timeout)
	for {
		p.mu.Lock()
		for _, l := range p.log[min(skip, len(p.log)):] {
			if m := re.FindStringSubmatch(l); m != nil {
				p.mu.Unlock()
				return m, false
			}
		}
		p.mu.Unlock()
		select {
		case <-p.done:
			return nil, true
		default:
		}
		if time.Now().After(deadline) {
			return nil, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the program as systemd does (SIGTERM) and waits for it.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	// systemd gives kioskd 10 s (TimeoutStopSec); a test's kioskd draws in
	// software GL on a builder running several test packages at once, where
	// its last frame can take seconds: twice that catches a hang, not a
	// slow machine.
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Errorf("%s did not stop within 20 s of SIGTERM; its goroutines are in its log (SIGQUIT)", p.name)
		// SIGQUIT makes the Go runtime print every goroutine and exit:
		// what it was stuck in shows in the log.
		p.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// kill ends the program as a power cut does.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// exited waits for the program to end by itself and returns how.
func (p *proc) exited(timeout time.Duration) (*os.ProcessState, bool) {
	select {
	case <-p.done:
		return p.cmd.ProcessState, true
	case <-time.After(timeout):
		return nil, false
	}
}

// office is a queue server process with its data and tokens.
type office struct {
	t      testing.TB
	bin    string
	data   string
	addr   string
	proc   *proc
	tokens map[string]string
	// args are further flags of queue-server (a --config).
	args []string
}

const officeID = "cus-starachowice"

var readyLine = regexp.MustCompile(`msg="queue server ready" listen=(\S+)`)

// startOffice runs a queue server on the example office, its clock on a
// Monday morning, with tokens for a kiosk, a hall, counter 1 and a clerk.
func startOffice(t testing.TB) *office { return startOfficeWith(t) }

// startOfficeWith is startOffice with further flags of queue-server.
func startOfficeWith(t testing.TB, args ...string) *office {
	t.Helper()
	bin, _ := binaries(t)
	o := &office{t: t, bin: bin, data: t.TempDir(), tokens: map[string]string{}, args: args}
	for name, args := range map[string][]string{
		"kiosk":    {"--role", "ticket", "--label", "kiosk"},
		"hall":     {"--role", "hall", "--label", "hall"},
		"counter1": {"--role", "counter", "--counter", "1"},
		"clerk":    {"--role", "clerk", "--label", "anna"},
	} {
		out, err := exec.Command(bin, append([]string{"token", "--data", o.data, "--office", officeID}, args...)...).Output()
		if err != nil {
			t.Fatalf("token %s: %v", name, err)
		}
		o.tokens[name] = strings.TrimSpace(string(out))
		if err := os.WriteFile(filepath.Join(o.data, name+".token"), out, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	o.start("127.0.0.1:0")
	return o
}

func (o *office) start(listen string) {
	o.t.Helper()
	o.proc = start(o.t, "queue-server", nil, o.bin, append([]string{"--data", o.data, "--listen", listen,
		"--clock", "2026-11-23T09:00:00", "--public-url", "http://numerek.test"}, o.args...)...)
	o.addr = o.proc.waitLog(readyLine, 20*time.Second)[1]
}

// restart starts the stopped server again on the same address and data.
func (o *office) restart() {
	o.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		o.proc = start(o.t, "queue-server", nil, o.bin, append([]string{"--data", o.data, "--listen", o.addr,
			"--clock", "2026-11-23T09:00:00", "--public-url", "http://numerek.test"}, o.args...)...)
		// Ready, or ended at once because the old server's address is
		// not free yet: then it is started again.
		m, ended := o.proc.findLog(readyLine, 0, 20*time.Second)
		switch {
		case m != nil:
			return
		case !ended:
			o.t.Fatalf("the queue server did not start again in 20 s:\n%s", o.proc.logText())
		case time.Now().After(deadline):
			o.t.Fatalf("the queue server did not start again:\n%s", o.proc.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (o *office) url() string { return "http://" + o.addr }

// api calls the office's API with a token and decodes the answer into out.
func (o *office) api(token, method, path, body string, out any) int {
	o.t.Helper()
	req, _ := http.NewRequest(method, o.url()+"/api/v1/offices/"+officeID+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		o.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			o.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// kioskctl is the technician's tool, built with the others.
func kioskctl(t testing.TB) string {
	return filepath.Join(binFolder(t), "kioskctl")
}

// kioskDev is a kioskd process.
type kioskDev struct {
	*proc
	status string // the status page's address
	frames string // where its frames go
	name   string
	win    displaytest.Window // its window, once found
}

var statusLine = regexp.MustCompile(`msg="status page" .*listen=(\S+)`)

// startDevice writes a configuration (the role's part in extra) and runs
// kioskd on it, windowed, writing its frames to a folder.
func startDevice(t testing.TB, o *office, name, role, token, extra string, env ...string) *kioskDev {
	return startDeviceWith(t, o, name, role, token, extra, []string{"--frames"}, env...)
}

// smallPanel is a 7-inch panel's screen, for a test that taps the start
// and ticket screens but looks at no picture: Mesa's software GL, which
// draws the tests' windows, takes CPU in proportion to the pixels drawn,
// most of a tapping test's CPU on a full-HD screen. (The code keypad is
// laid out for full HD and does not fit there.)
const smallPanel = "[screen]\nwindowed = true\nwidth = 800\nheight = 480\n"

// noFrames runs kioskd without --frames, for a test that reads no frame:
// reading each frame back from the GPU and encoding it costs CPU.
var noFrames []string

// startDeviceWith is startDevice with kioskd's flags: "--frames" (which
// is given the folder) and others.
func startDeviceWith(t testing.TB, o *office, name, role, token, extra string, flags []string, env ...string) *kioskDev {
	t.Helper()
	return startDeviceAt(t, o, o.url(), name, role, token, extra, flags, env...)
}

// startDeviceAt is startDeviceWith with the server's address as the
// device sees it (a proxy's).
func startDeviceAt(t testing.TB, o *office, serverURL, name, role, token, extra string, flags []string, env ...string) *kioskDev {
	t.Helper()
	dir := t.TempDir()
	// Settings of [screen] in extra join the table the harness writes.
	screen := ""
	if rest, ok := strings.CutPrefix(extra, "[screen]\n"); ok {
		screen, extra, _ = strings.Cut(rest, "\n[")
		if extra != "" {
			extra = "[" + extra
		}
	}
	// A half-size window unless the test says how the screen is shown.
	window := "windowed = true\nwindow_scale = 0.5\n"
	if strings.Contains(screen, "windowed") {
		window = ""
	}
	cfg := fmt.Sprintf(`role = %q
name = %q
data_dir = %q
[server]
url = %q
office = %q
token_file = %q
[screen]
%s%s
[status]
listen = "127.0.0.1:0"
%s`, role, name, filepath.Join(dir, "data"), serverURL, officeID, filepath.Join(o.data, token+".token"), window, screen, extra)
	path := filepath.Join(dir, name+".toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return runDeviceWith(t, path, filepath.Join(dir, "frames"), name, flags, env...)
}

// runDevice runs kioskd on an existing configuration, writing its frames.
func runDevice(t testing.TB, path, frames, name string, env ...string) *kioskDev {
	return runDeviceWith(t, path, frames, name, []string{"--frames"}, env...)
}

func runDeviceWith(t testing.TB, path, frames, name string, flags []string, env ...string) *kioskDev {
	t.Helper()
	_, bin := binaries(t)
	args := []string{"--config", path, "--log-level", "debug"}
	for _, f := range flags {
		args = append(args, f)
		if f == "--frames" {
			args = append(args, frames)
		}
	}
	p := start(t, "kioskd "+name, env, bin, args...)
	d := &kioskDev{proc: p, frames: frames, name: name}
	d.status = p.waitLog(statusLine, 20*time.Second)[1]
	p.waitLog(regexp.MustCompile(`msg="kioskd ready"`), 20*time.Second)
	return d
}

// deviceStatus is the part of kioskd's status page the tests read.
type deviceStatus struct {
	Follow     replica.FollowStatus `json:"follow"`
	RoleStatus json.RawMessage      `json:"role_status"`
}

// kiosk reads a ticket kiosk's part of its status page.
func (d *kioskDev) kiosk() device.KioskStatus {
	d.t.Helper()
	var ks device.KioskStatus
	if err := json.Unmarshal(d.statusPage().RoleStatus, &ks); err != nil {
		d.t.Fatalf("%s status page: %v", d.name, err)
	}
	return ks
}

// waitTarget waits until the kiosk's screen offers target id.
func (d *kioskDev) waitTarget(id string, timeout time.Duration) {
	d.t.Helper()
	// The screens the kiosk showed meanwhile, each as its targets, say
	// what it did instead when the target never comes.
	var seen []string
	offered := waitfor.Within(timeout, func() bool {
		var ids []string
		for _, t := range d.kiosk().Targets {
			if t.Enabled {
				if t.ID == id {
					return true
				}
				ids = append(ids, t.ID)
			}
		}
		screen := strings.Join(ids, " ")
		if screen == "" {
			screen = "(no target)"
		}
		if len(seen) == 0 || seen[len(seen)-1] != screen {
			seen = append(seen, screen)
		}
		return false
	})
	if !offered {
		d.t.Fatalf("%s did not offer %s in %v; the screens it showed meanwhile, by their targets:\n  %s", d.name, id, timeout, strings.Join(seen, "\n  "))
	}
}

// tap taps target id of the kiosk's screen in its window, through X.
func (d *kioskDev) tap(id string) {
	d.t.Helper()
	// The target, the screen and the taps counted so far, from one look
	// at the status page.
	var ks device.KioskStatus
	var tg display.Target
	waitUntil(d.t, d.name+" offering "+id, 10*time.Second, func() bool {
		ks = d.kiosk()
		for _, t := range ks.Targets {
			if t.ID == id && t.Enabled {
				tg = t
				return true
			}
		}
		return false
	})
	if d.win.ID == "" {
		win, err := displaytest.FindWindowOn(displayOf(d.t), ks.Screen.Title, 10*time.Second)
		if err != nil {
			d.t.Fatal(err)
		}
		d.win = win
	}
	p := ks.Screen.WindowPoint(tg.Rect.Min.Add(tg.Rect.Max).Div(2))
	// A click the X server never hands to the window (it happens on a
	// loaded machine) is clicked again; one the kiosk saw is never
	// repeated, so a retry cannot take a second ticket. A loaded kiosk
	// can take seconds to count a click: one clicked again too soon is a
	// key pressed twice.
	seen := ks.Taps
	for try := 1; ; try++ {
		if err := d.win.Click(p.X, p.Y); err != nil {
			d.t.Fatal(err)
		}
		if d.sawTapAfter(seen, 5*time.Second) {
			return
		}
		if try == 3 {
			d.t.Fatalf("%s saw none of three clicks on %s at %v of its window", d.name, id, p)
		}
		d.t.Logf("%s did not see the click on %s; clicking again", d.name, id)
	}
}

// sawTapAfter waits until the kiosk has counted more than seen taps, or
// has ended (a test hook may stop it at what the tap started).
func (d *kioskDev) sawTapAfter(seen int64, timeout time.Duration) bool {
	return waitfor.Within(timeout, func() bool {
		select {
		case <-d.done:
			return true
		default:
		}
		resp, err := http.Get("http://" + d.status + "/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st struct {
			RoleStatus device.KioskStatus `json:"role_status"`
		}
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.RoleStatus.Taps > seen
	})
}

func (d *kioskDev) statusPage() deviceStatus {
	d.t.Helper()
	resp, err := http.Get("http://" + d.status + "/status")
	if err != nil {
		d.t.Fatalf("%s status page: %v", d.name, err)
	}
	defer resp.Body.Close()
	var st deviceStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		d.t.Fatal(err)
	}
	return st
}

// frame reads the last frame kioskd drew.
func (d *kioskDev) frame() image.Image {
	d.t.Helper()
	data, err := os.ReadFile(filepath.Join(d.frames, d.name+".png"))
	if err != nil {
		return nil
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		d.t.Fatalf("decoding %s's frame: %v", d.name, err)
	}
	return img
}

// waitFrame waits for a frame for which ok holds and returns it. A frame
// file is decoded and looked at once: decoding a full-HD picture each few
// milliseconds would take the CPU the programs under test need.
func (d *kioskDev) waitFrame(what string, timeout time.Duration, ok func(image.Image) bool) image.Image {
	d.t.Helper()
	path := filepath.Join(d.frames, d.name+".png")
	var seen os.FileInfo
	var found image.Image
	waitUntil(d.t, d.name+": a frame "+what, timeout, func() bool {
		fi, err := os.Stat(path)
		if err != nil || (seen != nil && os.SameFile(fi, seen) && fi.ModTime().Equal(seen.ModTime())) {
			return false
		}
		seen = fi
		if img := d.frame(); img != nil && ok(img) {
			found = img
			return true
		}
		return false
	})
	return found
}

func waitUntil(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	waitfor.Until(t, what, timeout, cond)
}

// share is the share of the pixels of img in r that are c (±tol each).
func share(img image.Image, r image.Rectangle, c [3]uint8, tol int) float64 {
	r = r.Intersect(img.Bounds())
	n, hit := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			n++
			if abs(int(cr>>8)-int(c[0])) <= tol && abs(int(cg>>8)-int(c[1])) <= tol && abs(int(cb>>8)-int(c[2])) <= tol {
				hit++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hit) / float64(n)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// differ is the share of pixels in r that differ between a and b.
func differ(a, b image.Image, r image.Rectangle) float64 {
	r = r.Intersect(a.Bounds()).Intersect(b.Bounds())
	n, diff := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			n++
			if a.At(x, y) != b.At(x, y) {
				diff++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(diff) / float64(n)
}
