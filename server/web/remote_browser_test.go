package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/queue"
)

// A resident takes a phone ticket in a real browser and waits on its
// live page: the page asks "are you near?" at once (nobody is ahead),
// goes on unanswered until the clerk's call sets the ticket aside and the
// page shows it without a reload, and a tap on "I'm here" puts it back so
// the clerk's next call is this ticket. Every state passes axe-core.
func TestBrowserImHere(t *testing.T) {
	t.Parallel() // its own server and browser
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	resident := newChrome(t)
	o := e.office.ID

	do(t, resident, "phone size", chromedp.EmulateViewport(phone[0], phone[1], chromedp.EmulateMobile, chromedp.EmulateTouch))
	do(t, resident, "office page", chromedp.Navigate(e.url+"/o/"+o+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("#take-h")))
	do(t, resident, "take a ticket", chromedp.Click(chromedp.CSS(`form[action$="/ticket"]:has(input[value="family"]) button`)),
		chromedp.WaitVisible(chromedp.CSS(`#ticket[data-live="1"]`)), chromedp.WaitVisible(chromedp.CSS("#presence-here")))
	if s := text(t, resident, "#presence"); !strings.Contains(s, "Are you near the office?") {
		t.Errorf("the question says %q", s)
	}
	review(t, resident, "eticket-presence-asked", phone)

	// Unanswered at the front: the clerk's call sets it aside, live.
	if st, body := e.api("kiosk", "POST", "/api/v1/offices/"+o+"/tickets", `{"service":"family","lang":"pl"}`); st != 201 {
		t.Fatalf("kiosk ticket: %d %v", st, body)
	}
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	if res := e.do(queue.CallNext{Counter: 1}); res.Decision.Ticket != "2026-11-23-A002" {
		t.Fatalf("the call took %s, want A002 with A001 set aside", res.Decision.Ticket)
	}
	do(t, resident, "set aside, live", chromedp.WaitVisible(chromedp.CSS(`#ticket[data-state="parked-away"] #presence-here`)))
	if s := text(t, resident, "#presence"); !strings.Contains(s, "set aside") || !strings.Contains(s, "09:10") {
		t.Errorf("the set-aside ticket says %q", s)
	}
	review(t, resident, "eticket-set-aside", phone)

	do(t, resident, "I'm here", chromedp.Click(chromedp.CSS("#presence-here")), chromedp.WaitVisible(chromedp.CSS("#presence-said")))
	if s := text(t, resident, "#presence-said"); !strings.Contains(s, "you said you are here") {
		t.Errorf("after the tap the page says %q", s)
	}
	e.do(queue.Finish{Counter: 1})
	if res := e.do(queue.CallNext{Counter: 1}); res.Decision.Ticket != "2026-11-23-A001" {
		t.Fatalf("after \"I'm here\" the call took %s, want A001", res.Decision.Ticket)
	}
	do(t, resident, "called", chromedp.WaitVisible(chromedp.CSS(".called")))
}
