package cardtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/numerek/numerek/internal/qemuvm"
	"github.com/numerek/numerek/protocol"
)

// officeID is the example office queue-server runs without --config.
const officeID = "cus-starachowice"

// The technician's whole story on the real card image, in qemu: the card
// flashed (bmaptool) onto a larger disk, numerek.txt edited to name the
// office's server, powered on. The device grows its data partition, shows
// a pairing code on its screen (read back from the screen's QR code); the
// pending pairing is on the server; an admin approves it as a hall display
// through the staff pages; a clerk calls a ticket, and the hall says it
// (its health report's last call) and shows it (the remote screenshot and
// qemu's screendump).
func TestCardPairsAndShowsACall(t *testing.T) {
	dir, card := flashCard(t)
	// On a quiet 2-core machine the whole story takes about 5 minutes;
	// under emulation a loaded one is several times slower.
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	before, err := qemuvm.PartitionOf(card, 7)
	if err != nil {
		t.Fatal(err)
	}
	const cardSize = 6 << 30
	run(t, "qemu-img", "resize", "-f", "raw", card, strconv.Itoa(cardSize))

	srv := startServer(t, dir)
	writeNumerekTxt(t, card, srv.port)

	begun := time.Now()
	vm, err := qemuvm.Start(ctx, qemuvm.Options{Image: card, Dir: filepath.Join(dir, "vm"), Append: guestDiagnostics, Stderr: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		vm.Stop()
		reportGuest(t, vm, card)
	}()

	// 1. The pairing screen; 2. the admin approves it as the hall.
	toPairing := approveAsHall(ctx, t, srv, vm).Sub(begun)
	t.Logf("the pairing screen %v after qemu started", toPairing.Round(time.Second))
	recordFigure(t, "BenchmarkCardBootToPairing", toPairing.Seconds(), "s")
	hall := srv.waitDevice(ctx, t, "hall-card", func(d fleetDevice) bool {
		return d.Status == "online" && d.Report != nil && d.Report.Role == "hall" && d.Report.Screen.Drawing
	})

	// 3. The data partition (where kioskd keeps its state) grew on this
	// first boot to the disk's end.
	if hall.Report.DiskSizeBytes <= uint64(before.Size) {
		t.Errorf("the data partition holds %d bytes, not more than the image's %d: not grown", hall.Report.DiskSizeBytes, before.Size)
	}

	// Growing it did not make systemd unmount it (and stop kioskd with
	// it) halfway through the first boot.
	if c := vm.Console(); strings.Contains(c, "Unmounting data.mount") {
		t.Errorf("the first boot unmounted /data while growing it:\n%s", grepLines(c, "data.mount", "grow"))
	}

	// 4. A clerk calls a ticket; the hall says it and shows it.
	srv.api(t, "counter1", "POST", "/offices/"+officeID+"/counters/1/open", "")
	var issued struct {
		Ticket struct {
			Number string `json:"number"`
		} `json:"ticket"`
	}
	if err := json.Unmarshal(srv.api(t, "kiosk", "POST", "/offices/"+officeID+"/tickets", `{"service":"family","lang":"pl","request_id":"card-1"}`), &issued); err != nil || issued.Ticket.Number == "" {
		t.Fatalf("the ticket issued: %+v (%v)", issued, err)
	}
	ticket := issued.Ticket
	srv.api(t, "counter1", "POST", "/offices/"+officeID+"/counters/1/next", "")
	said := srv.waitDevice(ctx, t, "hall-card", func(d fleetDevice) bool {
		return d.Report != nil && d.Report.LastCall != nil && d.Report.LastCall.Ticket == ticket.Number
	})
	t.Logf("the hall said %s at counter %d", said.Report.LastCall.Ticket, said.Report.LastCall.Counter)

	shot := remoteScreenshot(ctx, t, srv, said.ID)
	if f := litShare(shot); f < 0.05 {
		t.Errorf("the hall's screenshot is black (%.1f %% lit)", 100*f)
	}
	screen, err := vm.Screendump()
	if err != nil {
		t.Fatal(err)
	}
	if f := litShare(screen); f < 0.05 {
		t.Errorf("the screen is black (%.1f %% lit)", 100*f)
	}
	if _, err := decodeQR(screen); err == nil {
		t.Error("the screen still shows a pairing QR code")
	}
	writePNG(t, filepath.Join(os.Getenv("NUMEREK_IMAGE_ARTIFACTS"), "hall-screendump.png"), screen)
}

// remoteScreenshot asks the device for the picture on its screen, as an
// admin does on its fleet page, and asks again when the answer is a failure
// (under TCG the software-GL screen may stall longer than an action may
// take): it returns the first picture that arrives.
func remoteScreenshot(ctx context.Context, t *testing.T, srv *server, device string) image.Image {
	t.Helper()
	path := "/devices/" + url.PathEscape(device)
	for try := 1; ; try++ {
		var asked struct {
			ID    string `json:"id"`
			State string `json:"state"`
		}
		// A kioskd starting again (its stream not open) is asked once it
		// is back, as an admin would: the server says not-connected at once.
		until(ctx, t, "the device's stream open, to ask it for a screenshot", func() bool {
			if err := json.Unmarshal(srv.api(t, "admin", "POST", path+"/actions", `{"kind":"screenshot"}`), &asked); err != nil || asked.ID == "" {
				t.Fatalf("asking for a screenshot: %+v (%v)", asked, err)
			}
			return asked.State != "not-connected"
		})
		var state, detail string
		until(ctx, t, "the answer to the screenshot asked", func() bool {
			var list struct {
				Actions []struct{ ID, State, Detail string }
			}
			if err := json.Unmarshal(srv.api(t, "admin", "GET", path+"/actions", ""), &list); err != nil {
				t.Fatalf("the device's actions: %v", err)
			}
			for _, a := range list.Actions {
				if a.ID == asked.ID && a.State != "sent" {
					state, detail = a.State, a.Detail
					return true
				}
			}
			return false
		})
		if state == "done" {
			data, status := srv.apiStatus("admin", "GET", path+"/screenshot", "")
			img, err := png.Decode(bytes.NewReader(data))
			if status != http.StatusOK || err != nil {
				t.Fatalf("the screenshot reported done: %d, %v", status, err)
			}
			return img
		}
		t.Logf("screenshot, try %d: %s (%s)", try, state, detail)
		if try == 5 {
			t.Fatalf("no screenshot in %d tries", try)
		}
	}
}

// approveAsHall reads the pairing code off the device's screen (its QR
// code names the approve page of the code kioskd shows), and an admin
// finds the pending pairing by it and approves it as the hall "hall-card"
// through the staff pages. It returns when the code was on the screen.
func approveAsHall(ctx context.Context, t *testing.T, srv *server, vm *qemuvm.VM) time.Time {
	t.Helper()
	approve := regexp.MustCompile(`^http://numerek\.test/staff/devices/pair\?code=([A-Z0-9]{4}-[A-Z0-9]{4})$`)
	var code string
	screenUntil(ctx, t, vm, "the pairing screen's QR code", func(img image.Image) bool {
		text, err := decodeQR(img)
		if m := approve.FindStringSubmatch(text); err == nil && m != nil {
			code = m[1]
			return true
		}
		return false
	})
	shown := time.Now()
	admin := srv.staffLogin(t)
	page := admin.get(t, "/staff/devices/pair?code="+url.QueryEscape(code))
	if !strings.Contains(page, `id="fingerprint"`) {
		t.Fatalf("the server has no pending pairing for code %s:\n%s", code, page)
	}
	admin.post(t, "/staff/devices/pair", url.Values{"code": {code}, "office": {officeID}, "role": {"hall"},
		"name": {"hall-card"}, "counter": {"0"}, "decision": {"approve"}, "csrf": {csrfOf(t, page)}})
	return shown
}

// guestDiagnostics is added to the guest's kernel command line: journald
// copies every message to the serial console, which the tests keep, so a
// failure's report shows what kioskd and systemd said even when the
// journal on the card was never written (qemu is stopped, not shut down).
const guestDiagnostics = "systemd.journald.forward_to_console=1"

// flashCard flashes the image make image-test names (NUMEREK_IMAGE) with
// bmaptool onto card.img in a new folder, as a technician flashes an SD
// card; without it the test is skipped.
func flashCard(t *testing.T) (dir, card string) {
	t.Helper()
	imageXZ := os.Getenv("NUMEREK_IMAGE")
	if imageXZ == "" {
		t.Skip("boots the SD card image in qemu: set NUMEREK_IMAGE=out/image/numerek-device-arm64.img (or .img.xz) (make image-test)")
	}
	dir = t.TempDir()
	card = filepath.Join(dir, "card.img")
	run(t, "bmaptool", "copy", imageXZ, card)
	return dir, card
}

// reportGuest adds the console of the guest's boot to console-TEST.log in
// the artifacts folder, and logs, when the test failed, the end of the
// console and of the journal (the VM stopped).
func reportGuest(t *testing.T, vm *qemuvm.VM, card string) {
	if dir := os.Getenv("NUMEREK_IMAGE_ARTIFACTS"); dir != "" {
		f, err := os.OpenFile(filepath.Join(dir, "console-"+t.Name()+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = f.WriteString(vm.Console())
			f.Close()
		}
		if err != nil {
			t.Logf("keeping the guest's console: %v", err)
		}
	}
	if t.Failed() {
		t.Logf("the guest's console:\n%s", tail(vm.Console(), 150))
		t.Logf("the guest's journal of kioskd and rauc:\n%s", guestJournal(t, card))
	}
}

// guestJournal is the last of what kioskd, rauc and the trial wrote to
// the journal on the card's data partition (read without mounting it),
// for a failure's report.
func guestJournal(t *testing.T, card string) string {
	p, err := qemuvm.PartitionOf(card, 7)
	if err != nil {
		return err.Error()
	}
	dir := t.TempDir()
	out, err := exec.Command("debugfs", "-R", "rdump /journal "+dir, fmt.Sprintf("%s?offset=%d", card, p.Start)).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("debugfs rdump /journal: %v: %s", err, out)
	}
	out, err = exec.Command("journalctl", "--directory", filepath.Join(dir, "journal"), "--no-pager", "-o", "short-monotonic",
		"-u", "kioskd", "-u", "rauc", "-u", "numerek-trial", "-u", "numerek-firstboot").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("journalctl: %v: %s", err, out)
	}
	return tail(string(out), 120)
}

// writeNumerekTxt edits the card's numerek.txt as a technician would on a
// laptop (Windows line ends): the office's server on the host, the
// device's name and time zone. kioskctl firstboot takes it at first boot
// and writes kioskd's configuration from it.
func writeNumerekTxt(t *testing.T, card, port string) {
	t.Helper()
	text := "# written by the card test\r\nserver = http://10.0.2.2:" + port + "\r\nhostname = hall-card\r\ntimezone = Europe/Warsaw\r\n"
	if err := qemuvm.WriteFile(card, 1, "numerek.txt", []byte(text)); err != nil {
		t.Fatal(err)
	}
}

// server is a queue-server on the host, reached by the guest at 10.0.2.2.
type server struct {
	url, port, bin, data string
	tokens               map[string]string
}

var readyLine = regexp.MustCompile(`msg="queue server ready" listen=\S+:(\d+)`)

func startServer(t *testing.T, dir string) *server {
	t.Helper()
	s := &server{bin: filepath.Join(dir, "queue-server"), data: filepath.Join(dir, "server"), tokens: map[string]string{}}
	build := exec.Command("go", "build", "-o", s.bin, "github.com/numerek/numerek/cmd/queue-server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building queue-server: %v\n%s", err, out)
	}
	for name, args := range map[string][]string{
		"kiosk":    {"--role", "ticket", "--label", "kiosk"},
		"counter1": {"--role", "counter", "--counter", "1"},
		"admin":    {"--role", "admin", "--label", "card-test"},
	} {
		out, err := exec.Command(s.bin, append([]string{"token", "--data", s.data, "--office", officeID}, args...)...).Output()
		if err != nil {
			t.Fatalf("queue-server token %s: %v", name, err)
		}
		s.tokens[name] = strings.TrimSpace(string(out))
	}
	clerk := exec.Command(s.bin, "clerk", "--data", s.data, "--name", "kierownik", "--office", officeID, "--role", "admin")
	clerk.Stdin = strings.NewReader(staffPassword + "\n")
	if out, err := clerk.CombinedOutput(); err != nil {
		t.Fatalf("queue-server clerk: %v\n%s", err, out)
	}
	logPath := filepath.Join(dir, "queue-server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// The guest reaches the host's loopback as 10.0.2.2. The clock is a
	// Monday morning: the office is open whenever the test runs.
	cmd := exec.Command(s.bin, "--data", s.data, "--listen", "127.0.0.1:0", "--clock", "2026-11-23T09:00:00",
		"--public-url", "http://numerek.test", "--test-fleet-every", "2s")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("queue-server's log:\n%s", tail(string(data), 60))
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	until(ctx, t, "queue-server to listen", func() bool {
		data, _ := os.ReadFile(logPath)
		if m := readyLine.FindSubmatch(data); m != nil {
			s.port = string(m[1])
			return true
		}
		return false
	})
	s.url = "http://127.0.0.1:" + s.port
	return s
}

const staffPassword = "correct horse battery"

// apiStatus calls the API with one of the server's tokens.
func (s *server) apiStatus(token, method, path, body string) ([]byte, int) {
	req, _ := http.NewRequest(method, s.url+"/api/v1"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.tokens[token])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return []byte(err.Error()), 0
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return data, resp.StatusCode
}

func (s *server) api(t *testing.T, token, method, path, body string) []byte {
	t.Helper()
	data, status := s.apiStatus(token, method, path, body)
	if status < 200 || status >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, status, data)
	}
	return data
}

// fleetDevice is one device of GET /api/v1/fleet.
type fleetDevice struct {
	ID     string                 `json:"id"`
	Name   string                 `json:"name"`
	Status string                 `json:"status"`
	Report *protocol.HealthReport `json:"report"`
}

// waitDevice waits until the fleet lists the named device as ok says.
func (s *server) waitDevice(ctx context.Context, t *testing.T, name string, ok func(fleetDevice) bool) fleetDevice {
	t.Helper()
	var found fleetDevice
	until(ctx, t, "the fleet's "+name, func() bool {
		data, status := s.apiStatus("admin", "GET", "/fleet", "")
		if status != http.StatusOK {
			return false
		}
		var fleet struct{ Devices []fleetDevice }
		if err := json.Unmarshal(data, &fleet); err != nil {
			t.Fatalf("the fleet: %v: %s", err, data)
		}
		for _, d := range fleet.Devices {
			if d.Name == name && ok(d) {
				found = d
				return true
			}
		}
		return false
	})
	return found
}

// staff is a logged-in admin's browser: cookies, forms.
type staff struct {
	base string
	c    *http.Client
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the page:\n%s", page)
	}
	return m[1]
}

func (s *server) staffLogin(t *testing.T) *staff {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	st := &staff{base: s.url, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	page := st.get(t, "/staff/login?lang=en")
	st.post(t, "/staff/login", url.Values{"name": {"kierownik"}, "password": {staffPassword}, "csrf": {csrfOf(t, page)}})
	return st
}

func (st *staff) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := st.c.Get(st.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, data)
	}
	return string(data)
}

func (st *staff) post(t *testing.T, path string, form url.Values) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", st.base)
	resp, err := st.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d\n%s", path, resp.StatusCode, data)
	}
	return string(data)
}

// screenUntil looks at the guest's screen until ok holds.
func screenUntil(ctx context.Context, t *testing.T, vm *qemuvm.VM, what string, ok func(image.Image) bool) {
	t.Helper()
	var last image.Image
	defer func() {
		if t.Failed() && last != nil {
			text, err := decodeQR(last)
			t.Logf("the last screen, while waiting for %s: %.1f %% lit, QR code %q (%v)", what, 100*litShare(last), text, err)
			writePNG(t, filepath.Join(os.Getenv("NUMEREK_IMAGE_ARTIFACTS"), "last-screendump.png"), last)
		}
	}()
	until(ctx, t, what, func() bool {
		select {
		case <-vm.Done():
			t.Fatalf("qemu ended while waiting for %s: %v", what, vm.Err())
		default:
		}
		img, err := vm.Screendump()
		if err != nil {
			return false
		}
		last = img
		return ok(img)
	})
}

// until polls cond (each second: every look at a TCG guest costs) until it
// holds or ctx ends.
func until(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

func decodeQR(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// litShare is the share of pixels that are not black.
func litShare(img image.Image) float64 {
	if img == nil {
		return 0
	}
	b := img.Bounds()
	lit, all := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y += 4 {
		for x := b.Min.X; x < b.Max.X; x += 4 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl > 3*0x1000 {
				lit++
			}
			all++
		}
	}
	return float64(lit) / float64(max(all, 1))
}

func writePNG(t *testing.T, path string, img image.Image) {
	if img == nil || filepath.Dir(path) == "." {
		return
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err == nil {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Logf("saving %s: %v", path, err)
		}
	}
}

// recordFigure writes a figure into NUMEREK_IMAGE_FIGURES (written by
// build.sh) as a benchmark line, replacing the figure of an earlier run:
// make bench's table (internal/benchtable) reads that file.
func recordFigure(t *testing.T, name string, value float64, unit string) {
	path := os.Getenv("NUMEREK_IMAGE_FIGURES")
	if path == "" {
		return
	}
	old, _ := os.ReadFile(path)
	var kept []string
	for _, l := range strings.Split(strings.TrimSpace(string(old)), "\n") {
		if l != "" && !strings.HasPrefix(l, name+" ") {
			kept = append(kept, l)
		}
	}
	if len(kept) == 0 {
		kept = append(kept, "pkg: github.com/numerek/numerek/deploy/image")
	}
	kept = append(kept, fmt.Sprintf("%s 1 %.1f %s", name, value, unit))
	if err := os.WriteFile(path, []byte(strings.Join(kept, "\n")+"\n"), 0o644); err != nil {
		t.Logf("recording %s: %v", name, err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// grepLines is the lines of s that hold any of words.
func grepLines(s string, words ...string) string {
	var kept []string
	for _, l := range strings.Split(s, "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				kept = append(kept, l)
				break
			}
		}
	}
	return strings.Join(kept, "\n")
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
