package web

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/numerek/numerek/queue"
)

// The office monitor the console must fit without scrolling.
var officeMonitor = [2]int64{1366, 768}

// tabTo presses Tab until the focused element matches sel, as a clerk
// without a mouse would, and fails after max presses.
func tabTo(t testing.TB, ctx context.Context, sel string, max int) {
	t.Helper()
	for range max {
		at, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.activeElement && document.activeElement.matches(`+jsString(sel)+`)`))
		if err != nil {
			t.Fatalf("tabbing to %s: %v", sel, err)
		}
		if at {
			return
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("%d presses of Tab never reached %s", max, sel)
}

// loginAndTabToCounter1 logs clerk in (password and Enter) and tabs to
// counter 1's button on the staff page.
func loginAndTabToCounter1(t testing.TB, ctx context.Context, base, clerk string) {
	t.Helper()
	do(t, ctx, clerk+" logs in", chromedp.Navigate(base+"/staff/login?lang=en"), chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SendKeys(chromedp.CSS("#name"), clerk), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"+kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".counters")))
	tabTo(t, ctx, `.counters form:first-child button`, 40)
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func evalBool(t testing.TB, ctx context.Context, js string) bool {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// A clerk's morning without a mouse, on the office's 1366×768 monitor:
// the counter is chosen with Tab and Enter; the full waiting list is on
// the screen without scrolling; the moves are one key each; the outcomes
// are ticked with Space and the ticket finished with F, undone with U
// and finished again; closing asks first. Every
// page passes axe-core.
func TestBrowserConsoleKeyboardOnly(t *testing.T) {
	t.Parallel() // its own server and browser: it runs beside the other browser tests
	e := newEnv(t)
	browser := newChrome(t)
	e.clock.Set(monday(e.office, "09:00"))
	langs := []string{"pl", "uk", "en", "lt", "ru"}
	for i := range 16 {
		note := ""
		if i%5 == 2 {
			note = "Potrzebny tłumacz"
		}
		e.do(queue.Issue{Service: "family", Lang: langs[i%len(langs)], Channel: queue.ChannelKiosk, Note: note})
		e.clock.Set(e.clock.Now().Add(time.Minute))
	}
	ctx := newTab(t, browser)
	do(t, ctx, "office monitor", chromedp.EmulateViewport(officeMonitor[0], officeMonitor[1]))
	loginAndTabToCounter1(t, ctx, e.url, "anna")
	do(t, ctx, "counter 1 with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#panel")))
	do(t, ctx, "open with O", chromedp.KeyEvent("o"), chromedp.WaitVisible(chromedp.CSS(".badge.open")))
	do(t, ctx, "next with N", chromedp.KeyEvent("n"), chromedp.WaitVisible(chromedp.CSS("#current-number")))
	if n := text(t, ctx, "#current-number"); n != "A001" {
		t.Fatalf("called %s, want A001", n)
	}

	// The whole waiting list is on the screen: twelve rows, the page not
	// scrolled, the list's last row above the screen's bottom edge.
	rows := evalBool(t, ctx, `document.querySelectorAll('#queue tbody tr:not(.note-row)').length === 12`)
	fits := evalBool(t, ctx, `window.scrollY === 0 && document.querySelector('#queue tbody tr:last-child').getBoundingClientRect().bottom <= window.innerHeight`)
	if !rows || !fits {
		bottom, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('#queue').getBoundingClientRect().bottom`))
		t.Errorf("the waiting list on 1366×768: 12 rows %v, fits %v (its bottom at %.0f px)", rows, fits, bottom)
	}
	if list := text(t, ctx, "#queue"); !strings.Contains(list, "Українська") || !strings.Contains(list, "Potrzebny tłumacz") {
		t.Errorf("the waiting list lacks a language or a note:\n%s", list)
	}
	review(t, ctx, "console-finish-form", officeMonitor)

	// Outcomes with Tab and Space, then F: the focus stays on the box
	// through the panel's live refreshes.
	tabTo(t, ctx, `input[name=outcomes][value="claim-filed"]`, 60)
	do(t, ctx, "tick with Space", chromedp.KeyEvent(" "))
	res := e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	seq := e.actor.Seq()
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	do(t, ctx, "the refresh keeps the tick", ignore(chromedp.Poll[bool](`Number(document.querySelector('#panel [data-seq]').dataset.seq) >= `+strconv.FormatUint(seq, 10)+` && document.querySelector('input[value="claim-filed"]').checked && document.activeElement.value === 'claim-filed'`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))))
	do(t, ctx, "finish with F", chromedp.KeyEvent("f"), chromedp.WaitVisible(chromedp.CSS("#undo-form")))
	if status := text(t, ctx, "#undo-form"); !strings.Contains(status, "Finished") {
		t.Errorf("after the finish the console says %q", status)
	}
	review(t, ctx, "console-undo", officeMonitor)
	do(t, ctx, "undo with U", chromedp.KeyEvent("u"), chromedp.WaitVisible(chromedp.CSS("#current-number")))
	if n := text(t, ctx, "#current-number"); n != "A001" {
		t.Fatalf("after the undo the counter holds %s, want A001 back", n)
	}
	do(t, ctx, "finish again with F", chromedp.KeyEvent("f"), chromedp.WaitVisible(chromedp.CSS("#undo-form")))
	var finishes [][]string
	err := e.web.Logs[e.office.ID](0, func(ev queue.Event) bool {
		if f, ok := ev.Body.(queue.TicketFinished); ok {
			finishes = append(finishes, f.Outcomes)
		}
		return true
	})
	if err != nil || len(finishes) != 2 || !slices.Equal(finishes[0], []string{"claim-filed"}) || len(finishes[1]) != 0 {
		t.Errorf("the log's finishes: %v, %v; want [claim-filed] then none", finishes, err)
	}

	// C asks before closing; Enter on the answer closes.
	do(t, ctx, "pause with B", chromedp.KeyEvent("b"), chromedp.WaitVisible(chromedp.CSS(".badge.paused")))
	do(t, ctx, "close with C", chromedp.KeyEvent("c"), chromedp.WaitVisible(chromedp.CSS("#close-confirm")))
	// The answer has autofocus; chromium does not always honour it on a
	// page a form's post brought, so the clerk may have to tab to it.
	tabTo(t, ctx, "#close-confirm", 40)
	review(t, ctx, "console-close", officeMonitor)
	do(t, ctx, "confirm with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(".badge.closed")))
	do(t, ctx, "undo the close with U", chromedp.KeyEvent("u"), chromedp.WaitVisible(chromedp.CSS(".badge.paused")))

	// Another clerk at the same counter is asked first.
	if _, err := e.web.Clerks.Put("ben", "correct horse battery", "clerk", []string{e.office.ID}); err != nil {
		t.Fatal(err)
	}
	other := newChrome(t)
	ben := newTab(t, other)
	do(t, ben, "office monitor", chromedp.EmulateViewport(officeMonitor[0], officeMonitor[1]))
	loginAndTabToCounter1(t, ben, e.url, "ben")
	do(t, ben, "counter 1", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#take-over")))
	if who := text(t, ben, "#counter-holders"); !strings.Contains(who, "anna") {
		t.Errorf("the question names %q", who)
	}
	review(t, ben, "console-take-over", officeMonitor)
	tabTo(t, ben, "#take-over", 40)
	do(t, ben, "take over with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#panel")))
	do(t, ctx, "anna's console is told", chromedp.WaitVisible(chromedp.CSS(".alert.notice")))
	if msg := text(t, ctx, ".alert.notice"); !strings.Contains(msg, "ben") {
		t.Errorf("anna's page says %q", msg)
	}
}
