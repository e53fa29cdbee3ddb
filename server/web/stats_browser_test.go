package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/queue"
)

// The manager's statistics and the public queue page in a real browser:
// the manager logs in and reads the heat map, the per-clerk, bookings and
// outcomes tables (the heat map's table opened too); a resident's phone
// follows the public queue live; and another site embeds it in an iframe,
// where it follows the queue just the same. Every page passes axe-core's
// WCAG 2.1 AA rules.
func TestBrowserStatisticsAndPublicQueue(t *testing.T) {
	t.Parallel() // its own server and browser: it runs beside the other browser tests
	e := managerEnv(t)
	browser := newChrome(t)
	o := e.office.ID

	manager := newTab(t, browser)
	do(t, manager, "manager login", chromedp.EmulateViewport(desktop[0], desktop[1]),
		chromedp.Navigate(e.url+"/staff/login?lang=en"),
		chromedp.SendKeys(chromedp.CSS("#name"), "marta"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".counters")))
	do(t, manager, "statistics from the menu", chromedp.Click(chromedp.CSS(`nav.staffbar a[href="/staff/stats"]`)),
		chromedp.WaitVisible(chromedp.CSS("svg.heat")))
	do(t, manager, "the day", chromedp.Navigate(e.url+"/staff/stats?from=2026-11-23&to=2026-11-23"), chromedp.WaitVisible(chromedp.CSS("svg.heat")))
	if row := text(t, manager, "#clerks tbody tr"); !strings.Contains(row, "anna") || !strings.Contains(row, "1/0/0") {
		t.Errorf("the clerks table's first row: %q, want Anna's, rated good once", row)
	}
	if row := text(t, manager, "#bookings tbody tr"); !strings.Contains(row, "100%") {
		t.Errorf("the bookings row %q does not give the missed 10:00 visit as 100%% no-shows", row)
	}
	if out := text(t, manager, "table.outcomes"); !strings.Contains(out, "ID card application") {
		t.Errorf("the outcomes table %q lacks the ID card application", out)
	}
	do(t, manager, "the heat map's table", chromedp.Click(chromedp.CSS("details summary")), chromedp.WaitVisible(chromedp.CSS("table.heat-table")))
	review(t, manager, "stats-manager", desktop)

	// The public page on a phone, live.
	resident := newTab(t, browser)
	waiting := func(n int) chromedp.Action[chromedp.Void] {
		return ignore(chromedp.Poll[bool](fmt.Sprintf(`(document.querySelector('li[data-service=family] .waiting') || {}).textContent === '%d'`, n),
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	}
	do(t, resident, "public queue", chromedp.EmulateViewport(phone[0], phone[1], chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(e.url+"/o/"+o+"/queue?lang=en"), chromedp.WaitVisible(chromedp.CSS(`#queue-now[data-live="1"]`)), waiting(0))
	review(t, resident, "public-queue", phone)
	e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	issued := time.Now()
	do(t, resident, "a ticket appears live", waiting(1))
	t.Logf("the public queue showed a new ticket %v after it was issued", time.Since(issued).Round(time.Millisecond))

	// Another site frames it: the page loads in the iframe, drops its
	// header and follows the queue.
	site := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(rw, `<!doctype html><html lang="en"><title>Office site</title><main><h1>Our office</h1>
<iframe src="%s/o/%s/queue?lang=en" title="Queue now" width="100%%" height="480"></iframe></main></html>`, e.url, o)
	}))
	t.Cleanup(site.Close)
	embedder := newTab(t, browser)
	do(t, embedder, "the office's site", chromedp.EmulateViewport(desktop[0], desktop[1]), chromedp.Navigate(site.URL),
		chromedp.WaitVisible(chromedp.CSS("iframe")))
	frames, err := chromedp.Run(embedder, chromedp.Nodes(chromedp.CSS("iframe")))
	if err != nil || len(frames) != 1 {
		t.Fatalf("the iframe: %v %v", frames, err)
	}
	inFrame := func(expr string) chromedp.Action[chromedp.Void] {
		return ignore(chromedp.Poll[bool](expr, chromedp.WithPollingInFrame(frames[0]),
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	}
	do(t, embedder, "the queue in the frame",
		inFrame(`document.documentElement.classList.contains('embedded') && !!document.querySelector('#queue-now[data-live="1"]')`),
		inFrame(`getComputedStyle(document.querySelector('.site-header')).display === 'none'`))
	e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	do(t, embedder, "live in the frame", inFrame(`(document.querySelector('li[data-service=family] .waiting') || {}).textContent === '2'`))
	review(t, embedder, "public-queue-embedded", desktop)
}
