package device_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"periph.io/x/host/v3"

	numerek "github.com/numerek/numerek"
	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/locker/lockertest"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/internal/browsertest"
	"github.com/numerek/numerek/internal/mailread"
	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// TestMain runs the locker's end-to-end scenario in a child process when
// asked to: Ebiten's window needs the process's main thread.
func TestMain(m *testing.M) {
	displaytest.Main(m, map[string]displaytest.Scenario{"locker-e2e": lockerEndToEnd})
}

// The locker from end to end: a real queue-server process sending its
// e-mail to a real SMTP server, a clerk in Chromium on the staff page, the
// locker device in the test's own process (kioskd's device.Run, its window
// on the test's X display, its compartments on periph.io's test pins
// registered by name as a board's driver would), codes typed into the
// window as the keyboard (or a scanner) types them. The clerk deposits a
// document on /staff/lockers and types the code the page shows at the
// locker: the reserved compartment's lock is pulsed, and the door closing
// stores the deposit on the server (and on the staff page). The resident's
// "ready" e-mail arrives with the pickup code in its text and its QR code;
// typed at the locker it opens the compartment and the door closing is the
// pickup on the server. A pickup while the server is down opens from the
// replica and reaches the server, marked offline, once it is back; a door
// opened by force and left open alarms on the fleet until it is closed; a
// document left past its deadline is expired by the server, listed among
// the staff page's expired ones, and the office's admin is e-mailed.
func TestLockerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a queue server and a window")
	}
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Skip("xdotool is not installed (scripts/install-deps.sh installs it)")
	}
	displaytest.Run(t, "locker-e2e", t.TempDir(), 6*time.Minute, "server="+queueServerBinary(t))
}

// queueServerBinary builds queue-server for the test, or takes the one
// scripts/test.sh built in $NUMEREK_TEST_BIN.
func queueServerBinary(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv("NUMEREK_TEST_BIN"); dir != "" {
		return filepath.Join(dir, "queue-server")
	}
	bin := filepath.Join(t.TempDir(), "queue-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/numerek/numerek/cmd/queue-server").CombinedOutput(); err != nil {
		t.Fatalf("go build queue-server: %v\n%s", err, out)
	}
	return bin
}

// The scenario's office: the example office, its clock on a Monday
// morning, its first locker's door alarm short enough for a test.
const (
	e2eOffice   = "cus-starachowice"
	e2eClock    = "2026-11-23T09:00:00"
	e2eAlarm    = 20 * time.Second
	e2ePinNames = "E2E_"
	// e2eLater is the server's clock after the office's 7-day deadline.
	e2eLater    = "2026-12-01T09:00:00"
	e2eAlertTo  = "informatyk@example.pl"
	e2eClerk    = "anna"
	e2ePassword = "correct horse battery"
)

// e2e is the scenario's world, seen from the child process.
type e2e struct {
	dir     string
	bin     string
	data    string
	office  *queue.Office
	locker  queue.Locker
	tokens  map[string]string
	server  *serverProc
	status  string // the device's status page
	pins    map[string]lockertest.Compartment
	window  displaytest.Window
	httpCli *http.Client
	// observer follows the server's log, to see what it has.
	observer *replica.Follower
	// mail is the SMTP server the office's e-mail goes to.
	mail *smtpsink.Sink
	// browser is the clerk's Chromium tab.
	browser context.Context
}

// e2eDeposit is a reservation with the clerk code the staff page showed
// and where the resident's e-mail goes.
type e2eDeposit struct {
	id, compartment, clerk, contact string
}

func lockerEndToEnd(dir string) (err error) {
	e := &e2e{dir: dir, bin: displaytest.Param("server"), data: filepath.Join(dir, "server"), tokens: map[string]string{}, pins: map[string]lockertest.Compartment{}, httpCli: &http.Client{Timeout: 10 * time.Second}}
	sink, stopSink, err := smtpsink.Serve("127.0.0.1:0", smtpsink.Options{})
	if err != nil {
		return err
	}
	defer stopSink()
	e.mail = sink
	if err := e.officeConfig(); err != nil {
		return err
	}
	for _, role := range []string{"locker", "admin", "hall"} {
		out, err := exec.Command(e.bin, "token", "--data", e.data, "--office", e2eOffice, "--role", role, "--label", "e2e-"+role).Output()
		if err != nil {
			return fmt.Errorf("queue-server token --role %s: %w", role, err)
		}
		e.tokens[role] = strings.TrimSpace(string(out))
	}
	clerk := exec.Command(e.bin, "clerk", "--data", e.data, "--name", e2eClerk, "--office", e2eOffice, "--role", "clerk")
	clerk.Stdin = strings.NewReader(e2ePassword + "\n")
	if out, err := clerk.CombinedOutput(); err != nil {
		return fmt.Errorf("queue-server clerk: %w\n%s", err, out)
	}
	if e.server, err = startServer(e.bin, e.serverArgs("127.0.0.1:0", e2eClock)...); err != nil {
		return err
	}
	defer func() { e.server.stop() }()
	browser, stopBrowser, err := browsertest.Launch(browsertest.Options{Width: 1280, Height: 900}, filepath.Join(dir, "chromium"))
	if err != nil {
		return err
	}
	defer stopBrowser()
	e.browser = browser
	cfg, err := e.deviceConfig()
	if err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(dir, "kioskd.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	driven := make(chan error, 1)
	go func() {
		driven <- e.drive(ctx)
		cancel()
	}()
	if err := e.observe(ctx); err != nil {
		return err
	}
	runErr := device.Run(ctx, cfg, device.Options{Version: "e2e", Log: slog.New(slog.NewTextHandler(logFile, nil)), Windowed: true, HealthEvery: time.Second})
	cancel()
	if err := errors.Join(<-driven, runErr); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "kioskd.log"))
		return fmt.Errorf("%w\nkioskd's log:\n%s\nqueue-server's log:\n%s\ne-mails: %q", err, log, e.server.logText(), e.subjects())
	}
	return nil
}

// officeConfig writes the example office with its first locker's door
// alarm shortened, for queue-server's --config.
func (e *e2e) officeConfig() error {
	data, err := numerek.ExampleOffices.ReadFile(numerek.DefaultOfficeFile)
	if err != nil {
		return err
	}
	text := string(data)
	re := regexp.MustCompile(`(?m)^door_alarm\s*=.*$`)
	if !re.MatchString(text) {
		return fmt.Errorf("the example office sets no door_alarm for the test to shorten")
	}
	text = re.ReplaceAllString(text, fmt.Sprintf("door_alarm = %q", e2eAlarm.String()))
	// The office's e-mail goes to the test's SMTP server, its alerts to
	// its admin there.
	text = fmt.Sprintf("[messages]\n[messages.email]\nhost = \"127.0.0.1\"\nport = %d\ntls = \"none\"\nfrom = \"CUS <kolejka@example.pl>\"\n\n"+
		"[devices]\nalert_to = [%q]\n\n", e.mail.Port(), e2eAlertTo) + text
	path := filepath.Join(e.dir, "office.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return err
	}
	cfg, err := officeconfig.Parse(path, []byte(text))
	if err != nil {
		return err
	}
	e.office = cfg.Offices[0]
	if len(e.office.Lockers) == 0 {
		return fmt.Errorf("the example office has no locker")
	}
	e.locker = e.office.Lockers[0]
	return os.MkdirAll(e.data, 0o700)
}

func (e *e2e) serverArgs(listen, clock string) []string {
	return []string{"--data", e.data, "--listen", listen, "--clock", clock, "--public-url", "http://numerek.test",
		"--config", filepath.Join(e.dir, "office.toml"), "--test-fleet-every", "1s"}
}

// deviceConfig registers a pair of test pins for each of the locker's
// compartments with periph.io and writes the locker's kioskd.toml for
// them.
func (e *e2e) deviceConfig() (*config.Config, error) {
	if _, err := host.Init(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e.status = ln.Addr().String()
	ln.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "role = \"locker\"\nname = \"e2e-locker\"\ndata_dir = %q\nlanguages = [\"pl\", \"en\"]\n", filepath.Join(e.dir, "device"))
	fmt.Fprintf(&b, "[server]\nurl = %q\noffice = %q\ntoken = %q\n", e.server.url(), e2eOffice, e.tokens["locker"])
	fmt.Fprintf(&b, "[screen]\nwindowed = true\nwindow_scale = 0.5\n[status]\nlisten = %q\n[locker]\nid = %q\n", e.status, e.locker.ID)
	for _, c := range e.locker.Compartments {
		p := lockertest.New(e2ePinNames, c.ID)
		if err := p.Register(); err != nil {
			return nil, err
		}
		e.pins[c.ID] = p
		fmt.Fprintf(&b, "[[locker.compartment]]\nid = %q\nlock_pin = %q\ndoor_pin = %q\npulse = \"100ms\"\n", c.ID, p.Lock.Name(), p.Door.Name())
	}
	path := filepath.Join(e.dir, "kioskd.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	return config.Load(path)
}

// drive does what the clerk, the resident and the server's operator do,
// and checks what the server, the staff page, the e-mails and the fleet
// say after each step.
func (e *e2e) drive(ctx context.Context) error {
	var err error
	if e.window, err = displaytest.FindWindow("numerek-e2e-locker", time.Minute); err != nil {
		return err
	}
	if err := e.until(ctx, "the device online with the office", time.Minute, func() (bool, error) {
		st, err := e.deviceStatus()
		return err == nil && st.Follow.Online, nil
	}); err != nil {
		return err
	}
	if err := e.login(); err != nil {
		return err
	}

	// The clerk deposits a document on the staff page and puts it in with
	// the code the page shows; the resident takes it out with the code
	// the "ready" e-mail brings.
	on, err := e.deposit(ctx, "online")
	if err != nil {
		return err
	}
	if err := e.store(ctx, on); err != nil {
		return err
	}
	pickup, err := e.readyCode(ctx, on)
	if err != nil {
		return err
	}
	// Typed as a resident may: lower case, no dash.
	if err := e.useCode(ctx, strings.ToLower(strings.ReplaceAll(pickup, "-", "")), on.compartment); err != nil {
		return fmt.Errorf("the pickup code: %w", err)
	}
	if err := e.depositState(ctx, on.id, queue.DepositStatePickedUp, false); err != nil {
		return err
	}

	// A pickup while the server is down.
	off, err := e.deposit(ctx, "offline")
	if err != nil {
		return err
	}
	if err := e.store(ctx, off); err != nil {
		return err
	}
	if pickup, err = e.readyCode(ctx, off); err != nil {
		return err
	}
	if err := e.until(ctx, "the device's replica with the deposit stored", 30*time.Second, func() (bool, error) {
		return e.replicaStored(off.id), nil
	}); err != nil {
		return err
	}
	addr := e.server.addr
	e.server.stop()
	if err := e.until(ctx, "the device offline", time.Minute, func() (bool, error) {
		st, err := e.deviceStatus()
		return err == nil && !st.Follow.Online, nil
	}); err != nil {
		return err
	}
	if err := e.useCode(ctx, pickup, off.compartment); err != nil {
		return fmt.Errorf("the pickup code while the server is down: %w", err)
	}
	if err := e.until(ctx, "the pickup waiting in the device's outbox", 30*time.Second, func() (bool, error) {
		h, err := e.lockerHealth()
		return err == nil && h.Pending == 1, nil
	}); err != nil {
		return err
	}
	if e.server, err = startServer(e.bin, e.serverArgs(addr, e2eClock)...); err != nil {
		return err
	}
	if err := e.depositState(ctx, off.id, queue.DepositStatePickedUp, true); err != nil {
		return err
	}

	// A door forced open and left open: the fleet shows both faults until
	// the door closes (the forced one until staff open it properly).
	forced := e.locker.Compartments[len(e.locker.Compartments)-1].ID
	e.pins[forced].Open()
	if err := e.until(ctx, "the fleet's door-open and door-forced faults", time.Minute, func() (bool, error) {
		codes, err := e.faults()
		return err == nil && slices.Contains(codes, "door-open") && slices.Contains(codes, "door-forced"), nil
	}); err != nil {
		return err
	}
	e.pins[forced].Close()
	if err := e.until(ctx, "the door-open fault ended", time.Minute, func() (bool, error) {
		codes, err := e.faults()
		return err == nil && !slices.Contains(codes, "door-open"), nil
	}); err != nil {
		return err
	}

	// A document nobody collects: the server, restarted with its clock
	// past the office's 7-day deadline, expires it; the staff page lists
	// it among the expired ones and the office's admin is told.
	late, err := e.deposit(ctx, "late")
	if err != nil {
		return err
	}
	if err := e.store(ctx, late); err != nil {
		return err
	}
	addr = e.server.addr
	e.server.stop()
	if e.server, err = startServer(e.bin, e.serverArgs(addr, e2eLater)...); err != nil {
		return err
	}
	if err := e.depositState(ctx, late.id, queue.DepositStateExpired, false); err != nil {
		return err
	}
	// The clerk's session ended with the working day the clock skipped.
	if err := e.login(); err != nil {
		return err
	}
	if err := e.browse("the staff page after the deadline",
		chromedp.Navigate(e.server.url()+"/staff/lockers?lang=en"), chromedp.WaitVisible(chromedp.CSS("#expired"))); err != nil {
		return err
	}
	expired, err := e.page("#expired")
	if err != nil {
		return fmt.Errorf("the staff page's expired list: %w", err)
	}
	if !strings.Contains(expired, "compartment "+late.compartment) || !strings.Contains(expired, "late") {
		return fmt.Errorf("the staff page's expired list says %q, want compartment %s", expired, late.compartment)
	}
	_, err = e.waitMail(ctx, "the admin's alert of the expired document", func(m smtpsink.Message, pm mailread.Mail) bool {
		return slices.Contains(m.To, e2eAlertTo) && strings.Contains(pm.Subject, "nieodebrany (skrytka "+late.compartment+")")
	})
	return err
}

// login logs the clerk in on the staff page, in English.
func (e *e2e) login() error {
	return e.browse("the clerk's login",
		chromedp.Navigate(e.server.url()+"/staff/login?lang=en"),
		chromedp.SendKeys(chromedp.CSS("#name"), e2eClerk), chromedp.SendKeys(chromedp.CSS("#password"), e2ePassword),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(`main a[href^="/staff/lockers"]`)))
}

// deposit fills the staff page's "deposit a document" form for a
// resident named name (an English e-mail, a document needing no second
// factor, the locker's first compartment's size) and reads the clerk code
// the page shows; the deposit is the row that shows that code.
func (e *e2e) deposit(ctx context.Context, name string) (e2eDeposit, error) {
	doc := ""
	for _, d := range e.locker.Documents {
		if !d.SecondFactor {
			doc = d.ID
			break
		}
	}
	d := e2eDeposit{contact: name + "@example.pl"}
	if err := e.browse("the deposit of "+name+"'s document",
		chromedp.Navigate(e.server.url()+"/staff/lockers?lang=en"), chromedp.WaitVisible(chromedp.CSS("#deposit-h")),
		chromedp.SendKeys(chromedp.CSS("#locker-name"), name), chromedp.SendKeys(chromedp.CSS("#locker-contact"), d.contact),
		chromedp.SetValue(chromedp.CSS("#locker-document"), doc), chromedp.SetValue(chromedp.CSS("#locker-lang"), "en"),
		chromedp.SetValue(chromedp.CSS("#locker-size"), e.locker.Compartments[0].Size),
		chromedp.Click(chromedp.CSS(`#deposit-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#clerk-code"))); err != nil {
		return d, err
	}
	var err error
	if d.clerk, err = e.page("#clerk-code"); err != nil {
		return d, err
	}
	d.clerk = strings.TrimSpace(d.clerk)
	row, err := chromedp.Run(e.browser, chromedp.Evaluate[string](fmt.Sprintf(
		`[...document.querySelectorAll('table.locker-deposits tbody tr')].filter(r => r.textContent.includes(%q)).map(r => r.id).join(' ')`, d.clerk)))
	if err != nil {
		return d, fmt.Errorf("reading the deposits list: %w", err)
	}
	id, ok := strings.CutPrefix(row, "deposit-")
	if !ok || strings.Contains(id, " ") {
		return d, fmt.Errorf("the deposits list has %q rows with the clerk code %s", row, d.clerk)
	}
	d.id = id
	shown, err := e.page("#shown")
	if err != nil {
		return d, err
	}
	if err := e.depositState(ctx, d.id, queue.DepositStateReserved, false); err != nil {
		return d, err
	}
	e.observer.Read(func(s *queue.State) { d.compartment = s.Deposits[d.id].Compartment })
	if want := "Go to the locker and type " + d.clerk + ": compartment " + d.compartment + " opens."; !strings.Contains(shown, want) {
		return d, fmt.Errorf("after the deposit the page says %q, want %q", shown, want)
	}
	return d, nil
}

// store types the clerk code at the locker, puts the document in, and
// checks the server and the staff page have it stored.
func (e *e2e) store(ctx context.Context, d e2eDeposit) error {
	if err := e.useCode(ctx, d.clerk, d.compartment); err != nil {
		return fmt.Errorf("the clerk's code for %s: %w", d.id, err)
	}
	if err := e.depositState(ctx, d.id, queue.DepositStateStored, false); err != nil {
		return err
	}
	if err := e.browse("the staff page after the document went in",
		chromedp.Navigate(e.server.url()+"/staff/lockers?lang=en"), chromedp.WaitVisible(chromedp.CSS("#deposit-h"))); err != nil {
		return err
	}
	class, err := chromedp.Run(e.browser, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById(%q)?.className ?? ''`, "deposit-"+d.id)))
	if err != nil || class != "locker-stored" {
		return fmt.Errorf("the staff page's row of %s has class %q (%v), want locker-stored", d.id, class, err)
	}
	return nil
}

// readyCode waits for the resident's "ready" e-mail about d and reads
// the pickup code from its text, checking its QR code says the same.
func (e *e2e) readyCode(ctx context.Context, d e2eDeposit) (string, error) {
	pm, err := e.waitMail(ctx, "the ready e-mail to "+d.contact, func(m smtpsink.Message, pm mailread.Mail) bool {
		return slices.Contains(m.To, d.contact) && strings.HasPrefix(pm.Subject, "Your document is ready to collect")
	})
	if err != nil {
		return "", err
	}
	m := pickupCodeLine.FindStringSubmatch(pm.Text)
	if m == nil {
		return "", fmt.Errorf("the ready e-mail names no pickup code:\n%s", pm.Text)
	}
	qr, err := mailread.QR(pm.Parts["image/png"])
	if err != nil {
		return "", fmt.Errorf("the ready e-mail's QR code: %w", err)
	}
	if qr != strings.ReplaceAll(m[1], "-", "") {
		return "", fmt.Errorf("the ready e-mail's QR code reads %q, its text %q", qr, m[1])
	}
	if m[1] == d.clerk {
		return "", fmt.Errorf("the ready e-mail gives the clerk's code %s", d.clerk)
	}
	return m[1], nil
}

var pickupCodeLine = regexp.MustCompile(`Your pickup code: ([A-Z0-9]{4}-[A-Z0-9]{4})`)

// waitMail waits for an e-mail at the SMTP server that match says is the
// one.
func (e *e2e) waitMail(ctx context.Context, what string, match func(smtpsink.Message, mailread.Mail) bool) (mailread.Mail, error) {
	var got mailread.Mail
	err := e.until(ctx, what, time.Minute, func() (bool, error) {
		for _, m := range e.mail.Messages() {
			pm, err := mailread.Read(m.Data)
			if err != nil {
				return false, err
			}
			if match(m, pm) {
				got = pm
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return got, fmt.Errorf("%w; the e-mails: %q", err, e.subjects())
	}
	return got, nil
}

// subjects are the e-mails' recipients and subjects, for a failure's
// message.
func (e *e2e) subjects() []string {
	var out []string
	if e.mail == nil {
		return nil
	}
	for _, m := range e.mail.Messages() {
		pm, _ := mailread.Read(m.Data)
		out = append(out, strings.Join(m.To, ",")+": "+pm.Subject)
	}
	return out
}

// browse runs steps in the clerk's tab.
func (e *e2e) browse(what string, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(e.browser, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(e.browser, chromedp.Location())
		body, _ := chromedp.Run(e.browser, chromedp.Text(chromedp.CSS("main")))
		return fmt.Errorf("%s: %w\n(at %s)\n%s", what, err, loc, body)
	}
	return nil
}

// page is the text of sel on the clerk's page.
func (e *e2e) page(sel string) (string, error) {
	ctx, cancel := context.WithTimeout(e.browser, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
}

// useCode types code into the locker's window and Enter, as a scanner
// does, waits for compartment's lock to be pulsed, opens the door, and
// closes it once the device has seen it open; no other lock is pulsed.
func (e *e2e) useCode(ctx context.Context, code, compartment string) error {
	if err := e.window.Type(code); err != nil {
		return err
	}
	if err := e.window.Keys("Return"); err != nil {
		return err
	}
	p := e.pins[compartment]
	if err := p.Pulsed(30 * time.Second); err != nil {
		return err
	}
	p.Open()
	if err := e.until(ctx, "compartment "+compartment+" open on the device", 30*time.Second, func() (bool, error) {
		h, err := e.lockerHealth()
		return err == nil && slices.Contains(h.DoorsOpen, compartment), nil
	}); err != nil {
		return err
	}
	p.Close()
	if err := e.until(ctx, "compartment "+compartment+" closed on the device", 30*time.Second, func() (bool, error) {
		h, err := e.lockerHealth()
		return err == nil && !slices.Contains(h.DoorsOpen, compartment), nil
	}); err != nil {
		return err
	}
	for id, other := range e.pins {
		if id != compartment && !other.NotPulsed() {
			return fmt.Errorf("compartment %s's lock was pulsed too", id)
		}
	}
	return nil
}

// until polls cond until it holds, within, or ctx ends.
func (e *e2e) until(ctx context.Context, what string, within time.Duration, cond func() (bool, error)) error {
	var last error
	ok := waitfor.Within(within, func() bool {
		if ctx.Err() != nil {
			return true
		}
		held, err := cond()
		last = err
		return held
	})
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("waiting for %s: the device stopped", what)
	case !ok:
		return fmt.Errorf("waiting for %s: not within %v (last error: %v)", what, within, last)
	}
	return nil
}

// observe follows the server's event log as another device does (a hall
// token, a device file of its own), to see the deposits as the server
// has them.
func (e *e2e) observe(ctx context.Context) error {
	db, err := store.OpenDevice(filepath.Join(e.dir, "observer.db"))
	if err != nil {
		return err
	}
	clock := replica.NewClock(0)
	client, err := protocol.NewClient(e.server.url(), e2eOffice, e.tokens["hall"], protocol.ClientOptions{Clock: clock})
	if err != nil {
		db.Close()
		return err
	}
	e.observer = replica.NewFollower(client, db, clock, slog.New(slog.DiscardHandler), replica.FollowOptions{
		Backoff: protocol.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
	})
	go func() {
		e.observer.Run(ctx)
		db.Close()
	}()
	return nil
}

// depositState waits until the server has the deposit in state (and
// marked offline or not).
func (e *e2e) depositState(ctx context.Context, id string, state queue.DepositState, offline bool) error {
	var last queue.Deposit
	err := e.until(ctx, fmt.Sprintf("deposit %s %s on the server", id, state), time.Minute, func() (bool, error) {
		e.observer.Read(func(s *queue.State) {
			if d := s.Deposits[id]; d != nil {
				last = *d
			}
		})
		return last.State == state, nil
	})
	if err != nil {
		return fmt.Errorf("%w; the server has %+v", err, last)
	}
	if last.Offline != offline {
		return fmt.Errorf("deposit %s is %s with offline %v, want %v", id, state, last.Offline, offline)
	}
	return nil
}

// replicaStored says whether the device's replica has the deposit
// stored, as its status page lists the live deposits.
func (e *e2e) replicaStored(id string) bool {
	st, err := e.deviceStatus()
	if err != nil {
		return false
	}
	data, _ := json.Marshal(st.RoleStatus)
	var rs device.LockerStatus
	if json.Unmarshal(data, &rs) != nil {
		return false
	}
	for _, d := range rs.Deposits {
		if d.ID == id {
			return d.State == queue.DepositStateStored
		}
	}
	return false
}

// faults are the fault codes the fleet shows for the locker now.
func (e *e2e) faults() ([]string, error) {
	var fleet struct {
		Devices []struct {
			Role   string `json:"role"`
			Faults []struct {
				Code string `json:"code"`
			} `json:"faults"`
		} `json:"devices"`
	}
	if err := e.api(e.tokens["admin"], "/api/v1/fleet", &fleet); err != nil {
		return nil, err
	}
	var codes []string
	for _, d := range fleet.Devices {
		if d.Role == "locker" {
			for _, f := range d.Faults {
				codes = append(codes, f.Code)
			}
		}
	}
	return codes, nil
}

func (e *e2e) api(token, path string, out any) error {
	req, err := http.NewRequest("GET", e.server.url()+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := e.httpCli.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// deviceStatus is the device's status page.
func (e *e2e) deviceStatus() (device.Status, error) {
	var st device.Status
	resp, err := e.httpCli.Get("http://" + e.status + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// lockerHealth is the locker's doors as its status page says.
func (e *e2e) lockerHealth() (protocol.LockerHealth, error) {
	st, err := e.deviceStatus()
	if err != nil {
		return protocol.LockerHealth{}, err
	}
	data, err := json.Marshal(st.RoleStatus)
	if err != nil {
		return protocol.LockerHealth{}, err
	}
	var rs device.LockerStatus
	if err := json.Unmarshal(data, &rs); err != nil {
		return protocol.LockerHealth{}, err
	}
	if rs.Doors == nil {
		return protocol.LockerHealth{}, fmt.Errorf("the status page has no doors")
	}
	return *rs.Doors, nil
}

// serverProc is a queue-server process.
type serverProc struct {
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	log  []string
	done chan struct{}
}

var readyLine = regexp.MustCompile(`msg="queue server ready" listen=(\S+)`)

// startServer runs queue-server and waits until it serves; an address
// just freed by a stopped server is tried again for a while.
func startServer(bin string, args ...string) (*serverProc, error) {
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := &serverProc{cmd: exec.Command(bin, args...), done: make(chan struct{})}
		stderr, err := s.cmd.StderrPipe()
		if err != nil {
			return nil, err
		}
		if err := s.cmd.Start(); err != nil {
			return nil, err
		}
		ready := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				line := sc.Text()
				s.mu.Lock()
				s.log = append(s.log, line)
				s.mu.Unlock()
				if m := readyLine.FindStringSubmatch(line); m != nil {
					ready <- m[1]
				}
			}
			s.cmd.Wait()
			close(s.done)
		}()
		select {
		case s.addr = <-ready:
			return s, nil
		case <-s.done:
			// Started again at once: each try is paced by the life of the
			// process that ended, not by a pause.
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("queue-server ended before it was ready:\n%s", s.logText())
			}
		case <-time.After(time.Until(deadline)):
			s.stop()
			return nil, fmt.Errorf("queue-server not ready in 20 s:\n%s", s.logText())
		}
	}
}

func (s *serverProc) url() string { return "http://" + s.addr }

func (s *serverProc) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "\n")
}

// stop ends the server as systemd does and waits for it.
func (s *serverProc) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}
