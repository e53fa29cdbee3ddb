package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A clerk deposits a document in a real browser: from the staff home to
// the lockers page, a form with the SMS-code document but no phone comes
// back with the phone field named and marked and what was typed kept;
// with the phone it reserves the accessible small compartment and the page
// says which code to type at the locker and which compartment opens; the
// cancel form asks a reason. Every state of the page passes axe-core's
// WCAG 2.1 AA rules.
func TestBrowserLockerDeposit(t *testing.T) {
	t.Parallel()
	e := lockerEnv(t)
	tab := newChrome(t)
	do(t, tab, "clerk login", chromedp.EmulateViewport(desktop[0], desktop[1]),
		chromedp.Navigate(e.url+"/staff/login?lang=en"),
		chromedp.SendKeys(chromedp.CSS("#name"), "anna"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(`main a[href^="/staff/lockers"]`)))
	do(t, tab, "the lockers from the staff home", chromedp.Click(chromedp.CSS(`main a[href^="/staff/lockers"]`)), chromedp.WaitVisible(chromedp.CSS("#deposit-h")))
	if grid := text(t, tab, "#grid-parter"); strings.Count(grid, "free") != 4 {
		t.Errorf("the empty locker's grid says %q", grid)
	}
	review(t, tab, "lockers-empty", desktop)

	clearAlerts := chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.alert').forEach(a => a.remove())`)
	do(t, tab, "a deposit of an identity card without a phone",
		chromedp.SendKeys(chromedp.CSS("#locker-name"), "Olena Kovalenko"), chromedp.SendKeys(chromedp.CSS("#locker-contact"), "olena@example.ua"),
		chromedp.SetValue(chromedp.CSS("#locker-document"), "id-card"), chromedp.SetValue(chromedp.CSS("#locker-lang"), "uk"),
		chromedp.SetValue(chromedp.CSS("#locker-size"), "S"), chromedp.Click(chromedp.CSS("#locker-accessible")), clearAlerts,
		chromedp.Click(chromedp.CSS(`#deposit-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".alert.error")))
	if msg := text(t, tab, ".alert.error"); !strings.Contains(msg, "Phone for the code at the locker") {
		t.Errorf("the refused form says %q", msg)
	}
	kept, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[document.querySelector('#locker-name').value, document.querySelector('#locker-contact').value,
		document.querySelector('#locker-document').value, document.querySelector('#locker-lang').value, String(document.querySelector('#locker-accessible').checked),
		document.querySelector('#locker-phone').getAttribute('aria-invalid')]`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Olena Kovalenko", "olena@example.ua", "id-card", "uk", "true", "true"}; strings.Join(kept, "|") != strings.Join(want, "|") {
		t.Errorf("the refused form holds %q, want %q", kept, want)
	}
	if n := len(liveDeposits(t, e)); n != 0 {
		t.Errorf("a refused form reserved %d compartments", n)
	}
	review(t, tab, "lockers-refused", desktop)

	do(t, tab, "the phone given", chromedp.SendKeys(chromedp.CSS("#locker-phone"), "+380 50 123 4567"), clearAlerts,
		chromedp.Click(chromedp.CSS(`#deposit-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#shown")))
	shown := text(t, tab, "#shown")
	code := text(t, tab, "#clerk-code")
	if !strings.Contains(shown, "Go to the locker and type "+code+": compartment 2 opens.") {
		t.Errorf("after the deposit the page says %q", shown)
	}
	deps := liveDeposits(t, e)
	if len(deps) != 1 || !deps[0].ClerkCode.Matches(code) {
		t.Fatalf("the office holds %+v for the code %s", deps, code)
	}
	if cell := text(t, tab, "#cell-parter-2"); !strings.Contains(cell, "reserved") {
		t.Errorf("compartment 2 in the grid: %q", cell)
	}
	if row := text(t, tab, "table.locker-deposits tbody tr"); !strings.Contains(row, "Olena Kovalenko") || !strings.Contains(row, code) {
		t.Errorf("the deposits list %q", row)
	}
	review(t, tab, "lockers-reserved", desktop)

	do(t, tab, "cancel asks why", chromedp.Click(chromedp.CSS(`table.locker-deposits a[href*="cancel="]`)), chromedp.WaitVisible(chromedp.CSS("#cancel-reason")))
	review(t, tab, "lockers-cancelling", desktop)
	do(t, tab, "cancel", chromedp.SendKeys(chromedp.CSS("#cancel-reason"), "Dokument z błędem"), clearAlerts,
		chromedp.Click(chromedp.CSS(`#cancel-h ~ form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".alert.notice")))
	if n := len(liveDeposits(t, e)); n != 0 {
		t.Errorf("%d deposits live after cancelling", n)
	}

	// The page in Polish, as most clerks use it.
	do(t, tab, "in Polish", chromedp.Navigate(e.url+"/staff/lockers?lang=pl"), chromedp.WaitVisible(chromedp.CSS("#deposit-h")))
	if h := text(t, tab, "#deposit-h"); h != "Zdeponuj dokument" {
		t.Errorf("the Polish form's heading is %q", h)
	}
	review(t, tab, "lockers-pl", desktop)
}
