package web

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/internal/browsertest"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/notice"
)

// The browser tests drive Debian's chromium (installed by `make test`
// through scripts/install-deps.sh) and run axe-core (installed from
// web/e2e/package-lock.json with npm ci) inside each page.

// screenshotDir is where page screenshots go for review (gitignored).
var screenshotDir = filepath.Join("..", "..", "web", "testdata", "screenshots")

// shots asks for the screenshots. They are for a person to look at, and
// no test reads them.
var shots = flag.Bool("shots", false, "photograph each page the browser tests visit into web/testdata/screenshots, for a person to look at")

// Screen sizes the pages are checked and photographed at.
var (
	phone   = [2]int64{390, 844}
	desktop = [2]int64{1366, 900}
)

// newChrome starts one headless chromium for a test; each tab is a
// context made from the returned one.
func newChrome(t testing.TB) context.Context {
	t.Helper()
	return browsertest.Start(t, browsertest.Options{Width: desktop[0], Height: desktop[1], Frames: *shots})
}

// newTab opens another tab of the same browser (same cookies).
func newTab(t testing.TB, browser context.Context) context.Context {
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	return ctx
}

var (
	axeOnce sync.Once
	axeJS   string
	axeErr  error
)

// axeSource is axe-core's script, installed with npm ci when missing.
func axeSource(t testing.TB) string {
	t.Helper()
	axeOnce.Do(func() {
		dir := filepath.Join("..", "..", "web", "e2e")
		file := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
		if _, err := os.Stat(file); err != nil {
			cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				axeErr = fmt.Errorf("installing axe-core (npm ci in web/e2e): %v\n%s", err, out)
				return
			}
		}
		data, err := os.ReadFile(file)
		axeJS, axeErr = string(data), err
	})
	if axeErr != nil {
		t.Fatal(axeErr)
	}
	return axeJS
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkA11y runs axe-core's WCAG 2.1 A and AA rules on the page and fails
// the test for each violation.
func checkA11y(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource(t))); err != nil {
		t.Fatalf("%s: loading axe-core: %v", name, err)
	}
	const run = `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']})
		.then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)})))`
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](run, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: running axe-core: %v", name, err)
	}
	for _, v := range vs {
		t.Errorf("%s: accessibility violation %s (%s): %s\n  %s", name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}

// shoot saves the page at phone and desktop size, then leaves the tab at
// size.
func shoot(t testing.TB, ctx context.Context, name string, leave [2]int64) {
	t.Helper()
	if !*shots {
		return
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		suffix string
		size   [2]int64
	}{{"phone", phone}, {"desktop", desktop}} {
		var png []byte
		err := setSize(ctx, s.size)
		if err == nil {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		}
		if err != nil {
			t.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir, name+"-"+s.suffix+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := setSize(ctx, leave); err != nil {
		t.Fatal(err)
	}
}

func setSize(ctx context.Context, size [2]int64) error {
	if size == phone {
		return chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateMobile, chromedp.EmulateTouch))
	}
	return chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]))
}

// review checks a page the way a reviewer would: no accessibility
// violation; with -shots it is photographed at both sizes.
func review(t testing.TB, ctx context.Context, name string, size [2]int64) {
	t.Helper()
	checkA11y(t, ctx, name)
	shoot(t, ctx, name, size)
}

// ignore makes a step of an action whose value is not needed.
func ignore[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := a(ctx, t)
		return err
	})
}

func text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return s
}

func do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Do(t, ctx, 15*time.Second, what, steps...)
}

// The scenario in a real browser: book a visit, get a code, check
// in with it at the kiosk (API), advance to the slot, the clerk calls it
// from the console with a keyboard shortcut, and the e-ticket on the
// phone says "called, counter 1" without a reload. On the way: login,
// a forged CSRF token and a move at another counter are refused, and every
// page passes axe-core's WCAG 2.1 AA rules (and with -shots is photographed).
func TestBrowserBookCheckInCall(t *testing.T) {
	t.Parallel() // its own server and browser: it runs beside the other browser tests
	e := newEnv(t)
	browser := newChrome(t)
	resident := browser
	o := e.office.ID
	start := time.Now()

	// The resident books on a phone.
	do(t, resident, "phone size", chromedp.EmulateViewport(phone[0], phone[1], chromedp.EmulateMobile, chromedp.EmulateTouch))
	do(t, resident, "start page", chromedp.Navigate(e.url+"/?lang=en"), chromedp.WaitVisible(chromedp.CSS(`a[href="/o/`+o+`"]`)))
	review(t, resident, "home", phone)
	do(t, resident, "office page", chromedp.Click(chromedp.CSS(`a[href="/o/`+o+`"]`)), chromedp.WaitVisible(chromedp.CSS("#take-h")))
	review(t, resident, "office", phone)
	do(t, resident, "book", chromedp.Click(chromedp.CSS(`a[href="/book/`+o+`"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href*="service=family"]`)))
	review(t, resident, "book-1-matter", phone)
	do(t, resident, "matter", chromedp.Click(chromedp.CSS(`a[href*="service=family"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href*="day=2026-11-23"]`)))
	review(t, resident, "book-2-day", phone)
	do(t, resident, "day", chromedp.Click(chromedp.CSS(`a[href*="day=2026-11-23"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href*="T10%3a00"]`)))
	review(t, resident, "book-3-time", phone)
	do(t, resident, "time", chromedp.Click(chromedp.CSS(`a[href*="T10%3a00"]`)), chromedp.WaitVisible(chromedp.CSS("#name")))
	review(t, resident, "book-4-details", phone)
	do(t, resident, "a form without the terms",
		chromedp.SendKeys(chromedp.CSS("#name"), "Jan Kowalski"),
		chromedp.SendKeys(chromedp.CSS("#contact"), "jan.kowalski@example.pl"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".alert.error")))
	if msg := text(t, resident, ".alert.error"); !strings.Contains(msg, "accept the terms") {
		t.Errorf("refused form says %q", msg)
	}
	review(t, resident, "book-4-error", phone)
	do(t, resident, "book it",
		chromedp.Click(chromedp.CSS(`input[name=terms]`)),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#confirm-code")))
	review(t, resident, "booking-held", phone)
	// The slot is held until the contact is confirmed with the code sent.
	sent, ok := e.notices.Last("jan.kowalski@example.pl")
	if !ok || sent.Kind != notice.ConfirmContact {
		t.Fatalf("no confirmation code sent: %+v", sent)
	}
	wrong := "123456"
	if sent.Code == wrong {
		wrong = "654321"
	}
	do(t, resident, "a wrong code",
		chromedp.SendKeys(chromedp.CSS("#confirm-code"), wrong),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".alert.error")))
	if msg := text(t, resident, ".alert.error"); !strings.Contains(msg, "not right") {
		t.Errorf("a wrong code says %q", msg)
	}
	review(t, resident, "booking-held-error", phone)
	do(t, resident, "the right code",
		chromedp.SendKeys(chromedp.CSS("#confirm-code"), sent.Code),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#booking-code")))
	code := text(t, resident, "#booking-code")
	review(t, resident, "booking-confirmation", phone)
	do(t, resident, "what we store", chromedp.Click(chromedp.CSS("#data-link")), chromedp.WaitVisible(chromedp.CSS("#stored-data")))
	if stored := text(t, resident, "#stored-data"); !strings.Contains(stored, "jan.kowalski@example.pl") || !strings.Contains(stored, code) {
		t.Errorf("the data page lists %q", stored)
	}
	review(t, resident, "booking-data", phone)
	do(t, resident, "back to the booking", chromedp.Click(chromedp.CSS("#back-link")), chromedp.WaitVisible(chromedp.CSS("#move-link")))
	do(t, resident, "move page", chromedp.Click(chromedp.CSS("#move-link")), chromedp.WaitVisible(chromedp.CSS(`button[name=slot]`)))
	review(t, resident, "booking-move", phone)
	do(t, resident, "back again", chromedp.Click(chromedp.CSS("#back-link")), chromedp.WaitVisible(chromedp.CSS("#booking-code")))
	do(t, resident, "cancel asks", chromedp.Click(chromedp.CSS(`button.danger`)), chromedp.WaitVisible(chromedp.CSS(`button[name=confirm]`)))
	review(t, resident, "booking-cancel-ask", phone)
	do(t, resident, "no, keep it", chromedp.Click(chromedp.CSS(`main a.btn.secondary`)), chromedp.WaitVisible(chromedp.CSS("#booking-code")))

	// At the kiosk: too early at 08:00, fine at 09:35.
	checkin := "/api/v1/offices/" + o + "/checkins"
	if st, body := e.api("kiosk", "POST", checkin, `{"code":"`+code+`","lang":"en"}`); st != 409 || !strings.Contains(fmt.Sprint(body["message"]), "09:30") {
		t.Fatalf("check-in at 08:00: %d %v", st, body)
	}
	e.clock.Set(monday(e.office, "09:35"))
	st, body := e.api("kiosk", "POST", checkin, `{"code":"`+code+`","lang":"en","request_id":"kiosk-1"}`)
	if st != 201 {
		t.Fatalf("check-in at 09:35: %d %v", st, body)
	}
	eticket := fmt.Sprint(body["eticket_url"])
	booked := body["ticket"].(map[string]any)["number"].(string)
	do(t, resident, "e-ticket", chromedp.Navigate(eticket), chromedp.WaitVisible(chromedp.CSS(`#ticket[data-live="1"]`)))
	if s := text(t, resident, "#status"); !strings.Contains(s, "booked for 10:00") {
		t.Errorf("the e-ticket before the slot says %q", s)
	}
	review(t, resident, "eticket-waiting", phone)

	// The clerk logs in at the desktop.
	clerk := newTab(t, browser)
	do(t, clerk, "desktop size", chromedp.EmulateViewport(desktop[0], desktop[1]))
	do(t, clerk, "login page", chromedp.Navigate(e.url+"/staff/login?lang=en"), chromedp.WaitVisible(chromedp.CSS("#password")))
	review(t, clerk, "login", desktop)
	do(t, clerk, "wrong password",
		chromedp.SendKeys(chromedp.CSS("#name"), "anna"), chromedp.SendKeys(chromedp.CSS("#password"), "not my password"),
		chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".alert.error")))
	do(t, clerk, "login",
		chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".counters")))
	review(t, clerk, "staff-counters", desktop)
	do(t, clerk, "counter 1", chromedp.Click(chromedp.CSS(`.counters form:first-child button`)), chromedp.WaitVisible(chromedp.CSS("#panel")))
	do(t, clerk, "open with O", chromedp.KeyEvent("o"), chromedp.WaitVisible(chromedp.CSS(".badge.open")))

	// A walk-in at 09:36 shows up on the open console by itself, and is
	// called first at 09:40: the booking waits for 10:00.
	st, walk := e.api("kiosk", "POST", "/api/v1/offices/"+o+"/tickets", `{"service":"family","lang":"pl","request_id":"walk-1"}`)
	if st != 201 {
		t.Fatalf("walk-in: %d", st)
	}
	walkIn := walk["ticket"].(map[string]any)["number"].(string)
	do(t, clerk, "the walk-in appears live", ignore(chromedp.Poll[bool](`document.getElementById('panel').textContent.includes('`+walkIn+`')`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))))
	e.clock.Set(monday(e.office, "09:40"))
	do(t, clerk, "next with N", chromedp.KeyEvent("n"), chromedp.WaitVisible(chromedp.CSS("#current-number")))
	if n := text(t, clerk, "#current-number"); n == booked {
		t.Fatalf("at 09:40 the console called the booked visit %s before its slot", n)
	}
	review(t, clerk, "console", desktop)
	do(t, clerk, "finish with F", chromedp.KeyEvent("f"), chromedp.WaitNotPresent(chromedp.CSS("#current-number")))

	// Refused: a forged CSRF token, and a move at another counter.
	do(t, clerk, "forged CSRF",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('button[data-key=n]').form.csrf.value = 'forged-token-forged-token-forged-token'`),
		chromedp.KeyEvent("n"), chromedp.WaitVisible(chromedp.CSS(".alert.error")))
	if msg := text(t, clerk, ".alert.error"); !strings.Contains(msg, "expired") {
		t.Errorf("forged CSRF answered %q", msg)
	}
	review(t, clerk, "refused", desktop)
	do(t, clerk, "another counter",
		chromedp.Navigate(e.url+"/staff/console"), chromedp.WaitVisible(chromedp.CSS("#panel")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('button[data-key=n]').form.counter.value = '2'`),
		chromedp.KeyEvent("n"), chromedp.WaitVisible(chromedp.CSS(".alert.error")))
	if msg := text(t, clerk, ".alert.error"); !strings.Contains(msg, "counter 1") || !strings.Contains(msg, "counter 2") {
		t.Errorf("a move at counter 2 answered %q", msg)
	}

	// 10:00: the clerk calls; the phone shows it live.
	e.clock.Set(monday(e.office, "10:00"))
	do(t, clerk, "console again", chromedp.Navigate(e.url+"/staff/console"), chromedp.WaitVisible(chromedp.CSS("#panel")))
	do(t, resident, "e-ticket live", chromedp.Navigate(eticket), chromedp.WaitVisible(chromedp.CSS(`#ticket[data-live="1"]`)))
	called := time.Now()
	do(t, clerk, "call the booking with N", chromedp.KeyEvent("n"), chromedp.WaitVisible(chromedp.CSS("#current-number")))
	if n := text(t, clerk, "#current-number"); n != booked {
		t.Fatalf("at 10:00 the console called %s, want the booked %s", n, booked)
	}
	do(t, resident, "called notice", chromedp.WaitVisible(chromedp.CSS(".called")))
	t.Logf("e-ticket showed the call %v after the clerk pressed N", time.Since(called).Round(time.Millisecond))
	notice := text(t, resident, ".called")
	if !strings.Contains(notice, "It's your turn!") || !strings.Contains(notice, "counter") || !strings.Contains(notice, "1") {
		t.Errorf("the e-ticket says %q, want called to counter 1", notice)
	}
	if title, _ := chromedp.Run(resident, chromedp.Title()); !strings.Contains(title, "counter 1") {
		t.Errorf("the tab title %q does not announce the call", title)
	}
	review(t, resident, "eticket-called", phone)

	// Served, then rated.
	do(t, clerk, "start and finish", chromedp.KeyEvent("s"), chromedp.WaitVisible(chromedp.CSS(".badge.serving")), chromedp.KeyEvent("f"),
		chromedp.WaitNotPresent(chromedp.CSS("#current-number")))
	do(t, resident, "rating form", chromedp.WaitVisible(chromedp.CSS("form.rate")))
	review(t, resident, "eticket-done", phone)
	do(t, resident, "rate", chromedp.Click(chromedp.CSS(`form.rate button[value=good]`)), chromedp.WaitNotPresent(chromedp.CSS("form.rate")))
	if h := text(t, resident, "#rate-h"); !strings.Contains(h, "Thank you") {
		t.Errorf("after rating: %q", h)
	}

	// The remaining pages, checked and photographed.
	admin := newTab(t, browser)
	do(t, admin, "admin login", chromedp.EmulateViewport(desktop[0], desktop[1]),
		chromedp.Navigate(e.url+"/staff/logout"), chromedp.Navigate(e.url+"/staff/login?lang=en"),
		chromedp.SendKeys(chromedp.CSS("#name"), "kierownik"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".counters")))
	e.do(queue.SetCounter{Counter: 5, Status: queue.CounterOpenStatus})
	e.web.Outbox = outboxWithAFailure(t, e)
	for _, p := range []struct{ name, path, ready string }{
		{"assistant", "/staff/assistant", "#issue-h"},
		{"stats", "/staff/stats?from=2026-11-17&to=2026-11-23", ".chart"},
		{"clerks", "/staff/admin/clerks", "#add-h"},
		{"tokens", "/staff/admin/tokens", "#add-h"},
		{"messages", "/staff/admin/messages", "#list-h"},
		{"fleet", "/staff/fleet", "table.fleet"},
		{"staff-home", "/staff", "main h1"},
		{"devices", "/staff/devices", "#pair-link"},
		{"devices-pair", "/staff/devices/pair", "main h1"},
		{"updates", "/staff/fleet/updates", "main h1"},
	} {
		do(t, admin, p.name, chromedp.Navigate(e.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		review(t, admin, p.name, desktop)
	}
	do(t, admin, "assistant issues", chromedp.Navigate(e.url+"/staff/assistant"), chromedp.WaitVisible(chromedp.CSS("#issue-h")),
		chromedp.SendKeys(chromedp.CSS("#note-i"), "documents checked"),
		chromedp.Click(chromedp.CSS(`#issue-h + form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#issued-h")))
	review(t, admin, "assistant-issued", desktop)
	do(t, resident, "no such ticket", chromedp.Navigate(e.url+"/e/"+o+"/2026-11-23-A001/forgedforgedforg"), chromedp.WaitVisible(chromedp.CSS("h1")))
	review(t, resident, "error", phone)
	t.Logf("browser scenario took %v", time.Since(start).Round(time.Millisecond))
}

// The accessibility check itself can fail: a page with an image without a
// text alternative and a nameless button is caught.
func TestAxeCatchesViolations(t *testing.T) {
	t.Parallel() // its own server and browser: it runs beside the other browser tests
	ctx := newChrome(t)
	bad := `data:text/html,<html lang="en"><title>x</title><main><img src="x.png"><button></button></main></html>`
	do(t, ctx, "bad page", chromedp.Navigate(bad))
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource(t))); err != nil {
		t.Fatal(err)
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}}).then(r => r.violations.map(v => ({id: v.id})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, v := range vs {
		found[v.ID] = true
	}
	if !found["image-alt"] || !found["button-name"] {
		t.Errorf("axe found %v on a page without alt text or button names", vs)
	}
}
