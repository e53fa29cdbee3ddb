package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An admin opens the pairing page a device shows, logs in, types the
// code off the device's screen, compares the key fingerprint, names the
// kiosk and approves it; the device's signed poll then collects its
// credentials. The approve page and the device's page pass axe-core.
func TestBrowserPairDevice(t *testing.T) {
	t.Parallel() // its own server and browser
	e := newEnv(t)
	dev := e.pairingDevice("")
	if !strings.HasPrefix(dev.grant.VerificationURIComplete, e.url+"/staff/devices/pair?code=") {
		t.Fatalf("the QR code leads to %q", dev.grant.VerificationURIComplete)
	}
	admin := newChrome(t)
	do(t, admin, "desktop size", chromedp.EmulateViewport(desktop[0], desktop[1]))
	do(t, admin, "the pairing page", chromedp.Navigate(dev.grant.VerificationURI+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("#password")))
	do(t, admin, "login",
		chromedp.SendKeys(chromedp.CSS("#name"), "kierownik"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#pair-code")))
	review(t, admin, "device-pair-code", desktop)
	// Typed as people type what they read off a screen.
	do(t, admin, "enter the code",
		chromedp.SendKeys(chromedp.CSS("#pair-code"), strings.ToLower(strings.ReplaceAll(dev.grant.UserCode, "-", " "))),
		chromedp.Click(chromedp.CSS("#pair-find")), chromedp.WaitVisible(chromedp.CSS("#fingerprint")))
	if got := text(t, admin, "#fingerprint"); got != dev.fingerprint() {
		t.Errorf("the page shows fingerprint %q, the device %q", got, dev.fingerprint())
	}
	if got := text(t, admin, "#pending-device"); !strings.Contains(got, "Raspberry Pi 4 Model B") || !strings.Contains(got, "1.4.0") {
		t.Errorf("the page describes the device as %q", got)
	}
	review(t, admin, "device-pair", desktop)
	if got := dev.poll(); got != "authorization_pending" {
		t.Errorf("before approval the device's poll gets %q", got)
	}
	e.clock.Set(e.clock.Now().Add(6e9))
	do(t, admin, "approve",
		chromedp.SendKeys(chromedp.CSS("#p-name"), "kiosk-lobby"),
		chromedp.Click(chromedp.CSS("#pair-approve")), chromedp.WaitVisible(chromedp.CSS("#device-about")))
	review(t, admin, "device", desktop)
	if got := dev.poll(); got != "" {
		t.Fatalf("after approval the device's poll gets %q, want its credentials", got)
	}
	if c := dev.creds; c.Name != "kiosk-lobby" || c.Role != "ticket" || c.Office != e.office.ID || !strings.Contains(c.Settings.TOML, "[printer]") {
		t.Errorf("credentials %+v", c)
	}
	if st, body := dev.get("/api/v1/whoami"); st != 200 || !strings.Contains(body, "kiosk-lobby") {
		t.Errorf("the paired kiosk's first call: %d %s", st, body)
	}
}
