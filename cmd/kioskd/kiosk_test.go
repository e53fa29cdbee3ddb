package main

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/printer/ticketfmt"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
)

// printedLine is kioskd's log line for a ticket that came out of the
// printer.
var printedLine = regexp.MustCompile(`msg="ticket printed" .*ticket=(\S+) lang=(\S+) service=(\S+) ahead=(\d+) wait=(\S+) issued=(\S+) offline=(\S+)`)

type printed struct {
	number, lang, service string
	ahead                 int
	wait                  time.Duration
	issued                time.Time
	offline               bool
}

// printedTickets are the tickets the kiosk logged as printed, in order.
func (d *kioskDev) printedTickets() []printed {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []printed
	for _, l := range d.log {
		m := printedLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		p := printed{number: m[1], lang: m[2], service: m[3], offline: m[7] == "true"}
		fmt.Sscan(m[4], &p.ahead)
		p.wait, _ = time.ParseDuration(m[5])
		p.issued, _ = time.Parse(time.RFC3339Nano, m[6])
		out = append(out, p)
	}
	return out
}

// issueByTaps takes a ticket as a resident does: language, service, then
// "done" to leave the ticket screen.
func (d *kioskDev) issueByTaps(lang, service string) {
	d.t.Helper()
	d.waitTarget("service:"+service, 10*time.Second) // the start screen with the office
	if lang != "" {
		d.tap("lang:" + lang)
		waitUntil(d.t, "the kiosk in "+lang, 5*time.Second, func() bool { return d.kiosk().Lang == lang })
	}
	d.tap("service:" + service)
	d.waitTarget("done", 10*time.Second)
	d.tap("done")
	d.waitTarget("service:"+service, 10*time.Second)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
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

// ticketURL matches an e-ticket address and gives the ticket's id.
var ticketURL = regexp.MustCompile(`^http://numerek\.test/e/cus-starachowice/(\d{4}-\d{2}-\d{2}-([A-Z]\d{3}))/\w+$`)

// expectedTicket draws, with the printer package and its emulator, the
// ticket the kiosk should have printed for what the server and the kiosk
// say of it.
func expectedTicket(t *testing.T, o *queue.Office, p printed, url string) image.Image {
	t.Helper()
	svc, _ := o.Service(p.service)
	tk := ticketfmt.Compose(i18n.Messages(), ticketfmt.Input{
		Lang: p.lang, OfficeName: o.Name, ServiceName: svc.Name(p.lang), Number: p.number, Ahead: p.ahead,
		IssuedAt: p.issued.In(o.Location), EstimatedWait: p.wait, ETicketURL: url, Footer: o.Footer,
	})
	prof, err := profiles.Lookup(profiles.Default)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := printer.NewEncoder(prof, printer.TextMode).Ticket(tk)
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Config{Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	emu.Receive(io.Discard, enc.Bytes, time.Now())
	emu.Flush()
	tickets := emu.Tickets()
	if len(tickets) != 1 {
		t.Fatalf("the expected ticket came out as %d tickets", len(tickets))
	}
	return tickets[0].Image
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x, y).RGBA()
			if ar != br || ag != bg || ab != bb {
				return false
			}
		}
	}
	return true
}

// ticketPNGs lists the emulator's ticket pictures in printing order.
func ticketPNGs(dir string) []string {
	paths, _ := filepath.Glob(filepath.Join(dir, "ticket-*.png"))
	sort.Strings(paths)
	return paths
}

// A resident taps Ukrainian and a service; the emulated printer's ticket
// is exactly the ticket of the number the server issued, in Ukrainian,
// with the QR code of its e-ticket. The next resident, in Polish, gets
// the next number in Polish.
func TestKioskPrintsTheTicketByTaps(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	var office queue.Office
	o.api(o.tokens["kiosk"], "GET", "/config", "", &office)
	paper := t.TempDir()
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", smallPanel+fmt.Sprintf("[printer]\nuri = \"emulator://%s\"\n", paper), noFrames)
	kiosk.issueByTaps("uk", "family")
	kiosk.issueByTaps("", "family") // back in Polish by itself
	waitUntil(t, "two tickets printed", 10*time.Second, func() bool { return len(ticketPNGs(paper)) == 2 && len(kiosk.printedTickets()) == 2 })

	logged := kiosk.printedTickets()
	for i, path := range ticketPNGs(paper) {
		p := logged[i]
		img := readPNG(t, path)
		url, err := decodeQR(img)
		if err != nil {
			t.Fatalf("%s: no QR code: %v", path, err)
		}
		m := ticketURL.FindStringSubmatch(url)
		if m == nil || m[2] != p.number {
			t.Fatalf("%s: QR code %q is not the e-ticket of %s", path, url, p.number)
		}
		var tv protocol.TicketResponse
		o.api(o.tokens["kiosk"], "GET", "/tickets/"+m[1], "", &tv)
		if want := []string{"uk", "pl"}[i]; tv.Ticket.Lang != want || p.lang != want || tv.Ticket.Service != "family" {
			t.Errorf("ticket %d: the server has %s %s, the kiosk printed %s; want %s", i+1, tv.Ticket.Lang, tv.Ticket.Service, p.lang, want)
		}
		if !p.issued.Equal(tv.Ticket.IssuedAt) {
			t.Errorf("ticket %d: printed as issued at %v, the server says %v", i+1, p.issued, tv.Ticket.IssuedAt)
		}
		if want := expectedTicket(t, &office, p, url); !sameImage(img, want) {
			t.Errorf("%s is not the ticket %s in %s", path, p.number, p.lang)
		}
	}
	if logged[0].number == logged[1].number {
		t.Errorf("two residents got the same number %s", logged[0].number)
	}
	if d := differ(readPNG(t, ticketPNGs(paper)[0]), readPNG(t, ticketPNGs(paper)[1]), image.Rect(0, 140, 600, 280)); d < 0.01 {
		t.Errorf("the number regions of two tickets differ in %.3f of their pixels", d)
	}
}

// A power cut between journalling a ticket and printing it (kioskd killed
// with SIGKILL at that point, while offline, so the ticket came from the
// lease): on restart the kiosk finds the ticket, keeps it to hand in (a
// resident may hold it), and hands it in once when the server is back.
func TestKioskKilledBetweenJournalAndPrint(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	paper := t.TempDir()
	extra := smallPanel + fmt.Sprintf("[printer]\nuri = \"emulator://%s\"\n", paper)
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", extra, noFrames, crashEnv+"=after-journal")
	waitUntil(t, "the leases", 10*time.Second, func() bool { return kiosk.kiosk().Leases["family"] == 20 })
	o.proc.stop()
	kiosk.tap("service:family")
	state, ok := kiosk.exited(15 * time.Second)
	if !ok {
		t.Fatal("kioskd did not stop at the test hook")
	}
	if ws, _ := state.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("kioskd ended %v, want killed by SIGKILL", state)
	}
	hook := kiosk.waitLog(regexp.MustCompile(`TEST HOOK: stopping hard after journalling" ticket=(\S+)`), time.Second)
	number := hook[1]
	if n := len(ticketPNGs(paper)); n != 0 {
		t.Fatalf("%d tickets printed before the kill", n)
	}

	again := runDeviceWith(t, kiosk.cmd.Args[2], kiosk.frames, "kiosk", noFrames)
	again.waitLog(regexp.MustCompile(`printing was cut short; a resident may hold it, so it will be handed in" .*ticket=`+number+` `), 10*time.Second)
	if ks := again.kiosk(); ks.Journal.PendingHandIns != 1 {
		t.Errorf("after the restart %d tickets wait to be handed in, want 1", ks.Journal.PendingHandIns)
	}
	o.restart()
	waitUntil(t, "the hand-in", 20*time.Second, func() bool { return again.kiosk().Journal.PendingHandIns == 0 })
	var v queue.View
	o.api(o.tokens["clerk"], "GET", "/state", "", &v)
	found := 0
	for _, w := range v.Waiting {
		if w.Number == number {
			found++
		}
	}
	if found != 1 {
		t.Errorf("the server has the interrupted ticket %s %d times, want once", number, found)
	}
}

// The server stops while residents take 50 tickets at the kiosk: all are
// printed from the lease, and once the server is back all 50 are in its
// queue once each, in the order they were issued.
func TestKioskFiftyTicketsWhileTheServerIsDown(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	paper := t.TempDir()
	// Sent at full speed: this test is about the tickets, not the paper.
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", smallPanel+fmt.Sprintf("[printer]\nuri = \"emulator://%s?pace=off\"\n", paper), noFrames)
	services := []string{"family", "child800", "good-start", "care"}
	waitUntil(t, "the leases", 10*time.Second, func() bool {
		left := kiosk.kiosk().Leases
		for _, s := range services {
			if left[s] != 20 {
				return false
			}
		}
		return true
	})
	o.proc.stop()
	const n = 50
	for i := range n {
		kiosk.issueByTaps("", services[i%len(services)])
	}
	waitUntil(t, "50 tickets printed", 20*time.Second, func() bool { return len(kiosk.printedTickets()) == n })
	logged := kiosk.printedTickets()
	for _, p := range logged {
		if !p.offline {
			t.Fatalf("ticket %s was not issued from the lease", p.number)
		}
	}
	if got := len(ticketPNGs(paper)); got != n {
		t.Errorf("%d tickets printed, want %d", got, n)
	}
	o.restart()
	waitUntil(t, "the hand-ins", 30*time.Second, func() bool { return kiosk.kiosk().Journal.PendingHandIns == 0 })
	var v queue.View
	o.api(o.tokens["clerk"], "GET", "/state", "", &v)
	// Each service's line keeps the order of issue.
	for _, s := range services {
		var want, got []string
		for _, p := range logged {
			if p.service == s {
				want = append(want, p.number)
			}
		}
		for _, w := range v.Waiting {
			if w.Service == s {
				got = append(got, w.Number)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s waiting on the server: %v, issued at the kiosk: %v", s, got, want)
		}
	}
	if len(v.Waiting) != n {
		t.Errorf("%d tickets waiting on the server, want %d", len(v.Waiting), n)
	}
}

// printerProcess is kioskctl printer-emulator running as a network
// printer.
type printerProcess struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
	// summary is given the emulator's last line, what it received and
	// printed, when its output ends; last keeps it.
	summary chan string
	last    string
}

// emulatorProcess runs kioskctl printer-emulator as a network printer
// whose roll holds one ticket.
func emulatorProcess(t *testing.T, paper string) *printerProcess {
	return emulatorWithRoll(t, paper, 1)
}

// emulatorWithRoll is emulatorProcess with a roll of tickets tickets.
func emulatorWithRoll(t *testing.T, paper string, tickets int) *printerProcess {
	t.Helper()
	p := &printerProcess{t: t, summary: make(chan string, 1),
		cmd: exec.Command(kioskctl(t), "printer-emulator", "--tcp", "127.0.0.1:0", "--out", paper, "--paper-tickets", strconv.Itoa(tickets), "--tear-off", "300ms")}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.end() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "tcp: "); ok {
			p.addr = strings.Fields(addr)[0]
			go func() {
				last := ""
				for sc.Scan() {
					last = sc.Text()
				}
				p.summary <- last
			}()
			return p
		}
	}
	p.summary <- ""
	t.Fatal("the printer emulator did not say its address")
	return nil
}

var printedSummary = regexp.MustCompile(`^received \d+ bytes, lost \d+, printed (\d+) tickets$`)

// stop ends the emulator as Ctrl-C does, and returns how many tickets it
// printed: it first finishes what it received and had not yet torn off,
// so a ticket on its way is counted without waiting for the tear-off.
func (p *printerProcess) stop() int {
	p.t.Helper()
	m := printedSummary.FindStringSubmatch(p.end())
	if m == nil {
		p.t.Fatal("the printer emulator ended without saying what it printed")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// end stops the emulator, once, and returns its last line.
func (p *printerProcess) end() string {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGTERM)
		// Its output is read to the end before Wait closes the pipe.
		p.last = <-p.summary
		p.cmd.Wait()
	}
	return p.last
}

// The printer runs out of paper: the next resident's ticket is issued and
// shown on the screen with the QR code of its e-ticket, nothing comes out
// of the printer for it, and staff see the fault on the server.
func TestKioskPaperOutShowsTheTicketOnScreen(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	paper := t.TempDir()
	emu := emulatorProcess(t, paper)
	kiosk := startDevice(t, o, "kiosk", "ticket", "kiosk", fmt.Sprintf("[printer]\nuri = \"tcp://%s\"\ncheck_every = \"1s\"\n", emu.addr))
	kiosk.tap("service:care")
	waitUntil(t, "the first ticket on paper", 10*time.Second, func() bool { return len(ticketPNGs(paper)) == 1 })
	kiosk.waitTarget("done", 10*time.Second)
	kiosk.tap("done")
	waitUntil(t, "paper out", 10*time.Second, func() bool { return !kiosk.kiosk().PrinterReady })

	// The roll can run out at the first ticket's cut, and then the kiosk
	// shows that one on the screen too (it cannot tell the ticket was
	// whole): the ticket of this tap is the one logged after it.
	before := kiosk.logLines()
	kiosk.tap("service:care")
	shown := kiosk.waitLogAfter(regexp.MustCompile(`msg="ticket shown on the screen, not printed" .*ticket=(\S+) lang=pl why="[^"]*printer not ready: paper out`), before, 10*time.Second)
	// The frame with the QR code of the ticket shown (frames reach the
	// file a moment after they are drawn).
	var url string
	kiosk.waitFrame("with the QR code of "+shown[1], 10*time.Second, func(img image.Image) bool {
		url, _ = decodeQR(img)
		m := ticketURL.FindStringSubmatch(url)
		return m != nil && m[2] == shown[1]
	})
	m := ticketURL.FindStringSubmatch(url)
	var tv protocol.TicketResponse
	o.api(o.tokens["kiosk"], "GET", "/tickets/"+m[1], "", &tv)
	if tv.Ticket.State != queue.Waiting {
		t.Errorf("the ticket shown on screen is %s on the server, want waiting", tv.Ticket.State)
	}
	waitUntil(t, "the fault on the server", 10*time.Second, func() bool {
		var v queue.View
		o.api(o.tokens["clerk"], "GET", "/state", "", &v)
		for _, f := range v.Faults {
			if f.Device == "kiosk" && f.Fault == "paper-out" {
				return true
			}
		}
		return false
	})
	// Stopped, the emulator prints whatever it still holds.
	if n, files := emu.stop(), len(ticketPNGs(paper)); n != 1 || files != 1 {
		t.Errorf("the printer printed %d tickets (%d pictures), want 1 (no phantom ticket)", n, files)
	}
}

// On its own screen the kiosk takes the whole display and the public
// cannot leave it: keys that close programs elsewhere do nothing, and a
// window manager's request to close (Alt+F4, a close button) is refused
// and logged. Taps still land where the buttons are drawn.
func TestKioskFullscreenCannotBeLeft(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	size, err := displaytest.ScreenSizeOn(displayOf(t))
	if err != nil {
		t.Fatal(err)
	}
	o := startOffice(t)
	screen := fmt.Sprintf("[screen]\nwindowed = false\nwidth = %d\nheight = %d\n", size.X, size.Y)
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", screen+fmt.Sprintf("[printer]\nuri = \"emulator://%s\"\n", t.TempDir()), noFrames)
	kiosk.waitTarget("service:family", 10*time.Second)
	win, err := displaytest.FindWindowOn(displayOf(t), "numerek-kiosk", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	whole := image.Rectangle{Max: size}
	var got image.Rectangle
	waitUntil(t, "the kiosk covering the display", 5*time.Second, func() bool {
		got, err = win.Geometry()
		return err == nil && got == whole
	})

	if err := win.Keys("Escape", "alt+F4", "ctrl+q", "ctrl+w", "ctrl+c"); err != nil {
		t.Fatal(err)
	}
	// Asked again each second, as at the close button (see below).
	refused := regexp.MustCompile(`asked to close the screen; a public screen stays open`)
	for try := 0; ; try++ {
		if err := win.RequestClose(); err != nil {
			t.Fatal(err)
		}
		if kiosk.sawLog(refused, time.Second) {
			break
		}
		if try == 5 {
			t.Fatal("kioskd did not log the request to close its screen")
		}
	}
	if _, ended := kiosk.exited(time.Second); ended {
		t.Fatal("kioskd ended when asked to close its screen")
	}
	if got, err := win.Geometry(); err != nil || got != whole {
		t.Fatalf("after the attempts to close it the kiosk's window is %v (%v), want %v", got, err, whole)
	}
	kiosk.tap("lang:uk")
	waitUntil(t, "the kiosk in uk", 5*time.Second, func() bool { return kiosk.kiosk().Lang == "uk" })
}

// A windowed kioskd (a technician's or developer's desk) closes with its
// window and ends cleanly.
func TestWindowedDeviceClosesWithItsWindow(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	counter := startDeviceWith(t, o, "counter1", "counter", "counter1", smallPanel+"[counter]\nnumber = 1\n", noFrames)
	win, err := displaytest.FindWindowOn(displayOf(t), "numerek-counter1", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// Asked again each second, as a person clicks the close button again:
	// a request in the window's first second can be lost between GLFW
	// showing the window and Ebiten's first updates.
	var state *os.ProcessState
	ended := false
	for try := 0; try < 10 && !ended; try++ {
		if err := win.RequestClose(); err != nil {
			if try == 0 {
				t.Fatal(err)
			}
			// The window is gone: the last request closed it, and kioskd
			// is ending (slowly, on a loaded machine).
			state, ended = counter.exited(10 * time.Second)
			break
		}
		state, ended = counter.exited(time.Second)
	}
	if !ended {
		t.Fatal("kioskd did not end when its window was closed")
	}
	if !state.Success() {
		t.Errorf("kioskd ended %v after its window was closed, want success", state)
	}
}
