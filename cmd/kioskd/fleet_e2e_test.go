package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/internal/browsertest"
	"github.com/numerek/numerek/internal/smtpsink"
	serverfleet "github.com/numerek/numerek/server/fleet"
)

// fleetEvery is how often the test's server asks devices to report
// (queue-server --test-fleet-every): Offline after three intervals.
const fleetEvery = time.Second

// alertTo is the office's [devices] alert_to.
const alertTo = "informatyk@example.pl"

// The whole story with the real programs: queue-server with
// [messages.email] at a real SMTP server and [devices] alert_to, kioskd
// processes on its X display, and an admin in headless Chromium.
//
// An unpaired kioskd shows a code on its status page and a QR of the page
// that approves it on its screen; the admin logs in on that page, checks
// the key's fingerprint, makes it a hall display and approves it; the same
// process becomes the hall of the office. Revoked on its page, it is back
// on the pairing screen within 5 s. Meanwhile a ticket kiosk whose printer
// runs low on paper is listed with "paper near end" and its admin is
// e-mailed; killed, it is Offline within the stated time and the admin is
// e-mailed of that too. The revoked hall, silent as long, is neither
// listed nor told of.
//
// The server runs with --test-fleet-every 1s (reports each second,
// Offline after three), so the whole story takes 10 to 20 s.
func TestFleetEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs queue-server, two kioskd and Chromium")
	}
	t.Parallel()
	if _, err := os.Stat(browsertest.ChromiumPath); err != nil {
		t.Skipf("needs %s (Debian package chromium; scripts/install-deps.sh installs it)", browsertest.ChromiumPath)
	}
	needDisplay(t)
	begun := time.Now()
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	o := startOfficeWith(t, "--config", alertingOffice(t, sink.Port()), "--test-fleet-every", fleetEvery.String())
	admin := o.admin()
	const login, password = "kierownik", "correct horse battery"
	clerk := exec.Command(o.bin, "clerk", "--data", o.data, "--name", login, "--office", officeID, "--role", "admin")
	clerk.Stdin = strings.NewReader(password + "\n")
	if out, err := clerk.CombinedOutput(); err != nil {
		t.Fatalf("queue-server clerk: %v\n%s", err, out)
	}

	// The ticket kiosk, configured by hand, its emulated roll near its
	// end; it starts while the other device pairs.
	rolls := t.TempDir()
	kiosk := startDeviceWith(t, o, "kiosk-door", "ticket", "kiosk",
		fmt.Sprintf("[printer]\nuri = \"emulator://%s?state=near-end\"\ncheck_every = \"1s\"\n", rolls), noFrames)

	// 1. Unpaired: the code on the status page, its QR on the screen.
	cfg, data := pairedLocalFile(t, o.url())
	_, bin := binaries(t)
	frames := filepath.Join(t.TempDir(), "frames")
	p := start(t, "kioskd pairing", nil, bin, "--config", cfg, "--log-level", "debug", "--frames", frames)
	status := p.waitLog(statusLine, 20*time.Second)[1]
	var pairing struct{ code, fingerprint string }
	waitUntil(t, "the status page to give a code", 15*time.Second, func() bool {
		st := statusOf(t, status)
		if st.Pairing == nil || st.Pairing.Code == "" {
			return false
		}
		pairing.code, pairing.fingerprint = st.Pairing.Code, st.Pairing.Fingerprint
		if want := "unpaired, code " + st.Pairing.Code; st.Pairing.State != want {
			t.Errorf("the status page says %q, want %q", st.Pairing.State, want)
		}
		return true
	})
	if !regexp.MustCompile(`^[A-Z0-9]{4}-[A-Z0-9]{4}$`).MatchString(pairing.code) {
		t.Errorf("code %q is not XXXX-XXXX", pairing.code)
	}
	approveURL := "http://numerek.test/staff/devices/pair?code=" + pairing.code
	screen := &kioskDev{proc: p, frames: frames, name: "pairing"}
	screen.waitFrame("with the QR of the approve page", 15*time.Second, func(img image.Image) bool {
		got, err := decodeQR(img)
		return err == nil && got == approveURL
	})

	// 2. The admin opens the QR's page (on the server's real address: the
	// public URL is a name only the devices' QR codes use), logs in,
	// compares the fingerprint and approves the device as a hall display.
	browser := newChrome(t)
	qr, _ := url.Parse(approveURL)
	do(t, browser, "the approve page", chromedp.Navigate(o.url()+qr.RequestURI()), chromedp.WaitVisible(chromedp.CSS("#password")))
	do(t, browser, "login",
		chromedp.SendKeys(chromedp.CSS("#name"), login), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#fingerprint")))
	shown, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS("#fingerprint")))
	if err != nil {
		t.Fatalf("reading the fingerprint: %v", err)
	}
	if shown != pairing.fingerprint {
		t.Errorf("the approve page shows fingerprint %q, the device %q", shown, pairing.fingerprint)
	}
	approved := time.Now()
	do(t, browser, "approve as the hall",
		chromedp.SetValue(chromedp.CSS("#p-role"), "hall"), chromedp.SendKeys(chromedp.CSS("#p-name"), "hall-main"),
		chromedp.Click(chromedp.CSS("#pair-approve")), chromedp.WaitVisible(chromedp.CSS("#device-about")))

	// 3. The same process starts again as the hall and shows the office.
	p.waitLog(regexp.MustCompile(`msg="kioskd ready" .*role=hall`), 20*time.Second)
	hallStatus := p.nthLog(statusLine, 2, 5*time.Second)[1]
	waitUntil(t, "the hall to follow the office", 10*time.Second, func() bool {
		st := statusOf(t, hallStatus)
		if st.Role != "hall" || st.Name != "hall-main" || st.Office != officeID || st.Pairing != nil {
			t.Fatalf("after approval the status page says %+v, want the hall hall-main of %s", st, officeID)
		}
		return st.Follow.Online && st.Follow.Connects > 0
	})
	hall := &kioskDev{proc: p, frames: frames, name: "hall-main"}
	hall.waitFrame("of the hall, without the pairing QR", 15*time.Second, func(img image.Image) bool {
		_, err := decodeQR(img)
		return img.Bounds().Dx() == 1920 && err != nil
	})
	t.Logf("the hall shows the office %v after the approval", time.Since(approved).Round(time.Millisecond))

	hallID := pairedID(t, data)
	waitUntil(t, "the hall's health on the fleet", 10*time.Second, func() bool {
		d, ok := admin.fleetDevice(hallID)
		return ok && d.Status == serverfleet.Online
	})

	// 4. Revoked on its page, it is back on the pairing screen within 5 s.
	revoked := time.Now()
	do(t, browser, "revoke",
		chromedp.Click(chromedp.CSS("section[aria-labelledby=revoke-h] summary")),
		chromedp.Click(chromedp.CSS("#revoke-confirm")), chromedp.WaitVisible(chromedp.CSS("#device-state")))
	again := p.nthLog(statusLine, 3, 5*time.Second)[1]
	waitUntil(t, "a new code on the status page", 5*time.Second, func() bool {
		st := statusOf(t, again)
		return st.Pairing != nil && st.Pairing.Code != "" && st.Pairing.Code != pairing.code
	})
	if d := time.Since(revoked); d >= 5*time.Second {
		t.Errorf("back on the pairing screen %v after the revocation, want within 5 s", d.Round(time.Millisecond))
	} else {
		t.Logf("back on the pairing screen %v after the revocation", d.Round(time.Millisecond))
	}
	if st := statusOf(t, again); st.Pairing.Fingerprint != pairing.fingerprint {
		t.Errorf("paired again with fingerprint %q, want the key's %q", st.Pairing.Fingerprint, pairing.fingerprint)
	}
	if _, err := os.Stat(filepath.Join(data, "credentials.json")); !os.IsNotExist(err) {
		t.Errorf("the device still holds credentials after the revocation (%v)", err)
	}

	// 5. The kiosk's roll near its end is on the fleet and told by e-mail.
	kioskID := o.deviceID("kiosk")
	waitUntil(t, "the fleet to list the kiosk's paper near end", 15*time.Second, func() bool {
		d, ok := admin.fleetDevice(kioskID)
		return ok && d.Status == serverfleet.Online && hasFault(d, serverfleet.FaultPaperNearEnd, "paper near end")
	})
	nearEnd := waitMail(t, sink, "the paper near end alert", 15*time.Second, "kiosk-door: kończy się papier")
	if !strings.Contains(nearEnd, "kiosk-door") || !strings.Contains(nearEnd, "/staff/fleet/"+kioskID) {
		t.Errorf("the paper near end alert does not name the device and its page:\n%s", nearEnd)
	}

	// 6. Killed, the kiosk is Offline within three intervals of its last
	// report, and the admin is told.
	kiosk.kill()
	killed := time.Now()
	waitUntil(t, "the fleet to show the kiosk offline", 3*fleetEvery+2*time.Second, func() bool {
		d, ok := admin.fleetDevice(kioskID)
		return ok && d.Status == serverfleet.Offline
	})
	if d := time.Since(killed); d > 3*fleetEvery+500*time.Millisecond {
		t.Errorf("offline %v after the kill, want within %v (three report intervals)", d.Round(time.Millisecond), 3*fleetEvery)
	}
	offline := waitMail(t, sink, "the offline alert", 10*time.Second, "kiosk-door: urządzenie nie odpowiada")
	if !strings.Contains(offline, "/staff/fleet/"+kioskID) {
		t.Errorf("the offline alert does not link the device's page:\n%s", offline)
	}
	// The hall, revoked on purpose and silent since for longer than the
	// kiosk, is nobody's problem: neither listed nor told.
	if _, listed := admin.fleetDevice(hallID); listed {
		t.Errorf("the revoked hall %s is still on the fleet", hallID)
	}
	// (What it reported while paired, a nearly full disk on a full
	// builder, was told then, rightly.)
	got := subjects(sink)
	for _, s := range got {
		if strings.Contains(s, "hall-main") && strings.Contains(s, "nie odpowiada") {
			t.Errorf("the admin was e-mailed %q about the revoked hall", s)
		}
	}
	t.Logf("the whole story took %v; the e-mails: %q", time.Since(begun).Round(time.Millisecond), got)
}

// alertingOffice is the example office with its e-mail through the SMTP
// server at port and its device alerts to alertTo.
func alertingOffice(t *testing.T, port int) string {
	t.Helper()
	example, err := os.ReadFile("../../examples/offices/starachowice.toml")
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("[messages]\n[messages.email]\nhost = \"127.0.0.1\"\nport = %d\ntls = \"none\"\nfrom = \"CUS <kolejka@example.pl>\"\n\n"+
		"[devices]\nalert_to = [%q]\n\n", port, alertTo)
	path := filepath.Join(t.TempDir(), "office.toml")
	if err := os.WriteFile(path, append([]byte(head), example...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fleetDevice is a device's health as GET /api/v1/fleet gives it.
func (a *adminOf) fleetDevice(id string) (serverfleet.DeviceHealth, bool) {
	a.o.t.Helper()
	code, body := a.call("GET", "/api/v1/fleet", "")
	if code != 200 {
		a.o.t.Fatalf("GET /api/v1/fleet: %d %s", code, body)
	}
	var list struct {
		Devices []serverfleet.DeviceHealth `json:"devices"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		a.o.t.Fatalf("GET /api/v1/fleet: %v: %s", err, body)
	}
	for _, d := range list.Devices {
		if d.ID == id {
			return d, true
		}
	}
	return serverfleet.DeviceHealth{}, false
}

func hasFault(d serverfleet.DeviceHealth, code, detail string) bool {
	for _, f := range d.Faults {
		if f.Code == code && f.Detail == detail {
			return true
		}
	}
	return false
}

// waitMail waits for an e-mail to alertTo with the subject and returns
// its headers and decoded text.
func waitMail(t *testing.T, sink *smtpsink.Sink, what string, timeout time.Duration, subject string) string {
	t.Helper()
	var found string
	var seen []string
	waitUntil(t, what+" at the SMTP server", timeout, func() bool {
		seen = seen[:0]
		for _, m := range sink.Messages() {
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				continue
			}
			s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			seen = append(seen, s)
			if s != subject || len(m.To) != 1 || m.To[0] != alertTo {
				continue
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			found = s + "\n" + string(body)
			return true
		}
		return false
	})
	if found == "" {
		t.Fatalf("no e-mail %q; the SMTP server got %q", subject, seen)
	}
	return found
}

// newChrome starts headless Chromium as server/web's browser tests do.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	return browsertest.Start(t, browsertest.Options{Width: 1280, Height: 900})
}

// do runs browser actions, failing the test with what was being done.
func do(t *testing.T, browser context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Do(t, browser, 20*time.Second, what, actions...)
}

// subjects are the subjects of the e-mails the SMTP server got.
func subjects(sink *smtpsink.Sink) []string {
	var out []string
	for _, m := range sink.Messages() {
		if msg, err := mail.ReadMessage(bytes.NewReader(m.Data)); err == nil {
			s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			out = append(out, s)
		}
	}
	return out
}

// pairedID is the device id in a device's credentials.
func pairedID(t *testing.T, data string) string {
	t.Helper()
	p, err := identity.LoadPaired(data)
	if err != nil || p == nil {
		t.Fatalf("the device's credentials: %+v, %v", p, err)
	}
	return p.DeviceID
}
