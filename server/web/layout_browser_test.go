package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/fleet"
)

// longWord is n letters without a space or hyphen to break at: what a
// hurried assistant types as a note, or a name pasted without spaces.
func longWord(n int) string {
	const word = "Brzęczyszczykiewicz"
	return string([]rune(strings.Repeat(word, n/len(word)+1))[:n])
}

// layoutView is a screen the pages must fit: a small phone, and the
// console's usual office monitor.
type layoutView struct {
	name          string
	width, height int64
	mobile        bool
}

var layoutViews = []layoutView{
	{"360px", 360, 740, true},
	{"1366px", 1366, 768, false},
}

// rootFontSizes are the user's text sizes: the default, and the larger
// text many residents set on their phones.
var rootFontSizes = []string{"100%", "130%"}

// layoutProblems lists what a person would see as broken: the page wider
// than the screen (sideways scrolling), a control not wholly on screen, a
// box that scrolls sideways to show its content, and content that spills
// out of its box.
const layoutProblems = `(() => {
	const vw = document.documentElement.clientWidth;
	const out = [];
	const name = el => {
		let s = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '');
		for (const c of el.classList) s += '.' + c;
		const text = (el.innerText || el.value || '').trim().replace(/\s+/g, ' ');
		return s + (text ? ' "' + text.slice(0, 30) + (text.length > 30 ? '…' : '') + '"' : '');
	};
	// Visually hidden (a 1 px clipped box, for screen readers): not seen,
	// so not measured.
	const hidden = el => {
		for (; el; el = el.parentElement) {
			const r = el.getBoundingClientRect();
			if (r.width <= 1 && r.height <= 1 && getComputedStyle(el).overflow === 'hidden') return true;
		}
		return false;
	};
	window.scrollTo(0, 0);
	const se = document.scrollingElement;
	if (se.scrollWidth > vw) out.push('the page is ' + se.scrollWidth + ' px wide on a ' + vw + ' px screen');
	for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
		if (el.matches('.skip:not(:focus)')) continue; // off screen until focused, by design
		if (hidden(el)) continue;
		const r = el.getBoundingClientRect();
		if (r.left < -0.5 || r.right > vw + 0.5) {
			out.push(name(el) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px on a ' + vw + ' px screen');
		}
	}
	// What a person reads as one thing, a ticket number or a booking code,
	// must not be split over two lines.
	for (const el of document.querySelectorAll('.number, .code, .counter-no')) {
		const range = document.createRange();
		range.selectNodeContents(el);
		const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
		if (lines.size > 1) out.push(name(el) + ' is split over ' + lines.size + ' lines');
	}
	for (const el of document.body.querySelectorAll('*')) {
		if (el.matches('input, select, textarea, option, script')) continue;
		if (el.clientWidth === 0 || el.scrollWidth <= el.clientWidth + 1 || hidden(el)) continue;
		const ox = getComputedStyle(el).overflowX;
		if (ox === 'auto' || ox === 'scroll') out.push(name(el) + ' scrolls sideways: ' + el.scrollWidth + ' px of content in ' + el.clientWidth + ' px');
		else out.push(name(el) + ' spills out: ' + el.scrollWidth + ' px of content in ' + el.clientWidth + ' px');
	}
	return out;
})()`

// layoutPage is a page of the layout check: how to open it in a language,
// and what shows it is there.
type layoutPage struct {
	name string
	open func(lang string) chromedp.Action[chromedp.Void]
}

// withLang adds ?lang= (or &lang=) to a path.
func withLang(path, lang string) string {
	if strings.Contains(path, "?") {
		return path + "&lang=" + lang
	}
	return path + "?lang=" + lang
}

// Long text and large fonts must not break a layout: every resident page
// on a 360 px phone and the console's office monitor, and the staff console,
// the assistant's page, the booking desk and the lockers page, in every language, at the default text size
// and at 130 %, with a 200-letter note and a 100-letter name (the longest
// a booking takes) without a space. No page may scroll sideways, no
// control may reach past the screen's edge, nothing may spill out of its
// box or hide in a box that scrolls sideways.
func TestBrowserLongTextFits(t *testing.T) {
	t.Parallel() // its own server and browser: it runs beside the other browser tests
	e := newEnv(t)
	browser := newChrome(t)
	o := e.office.ID
	start := time.Now()
	note, name := longWord(queue.MaxNote), longWord(100)

	// A visit booked under a long name, for the confirmation page.
	booked, err := e.desk.Book(context.Background(), e.actor, "test", booking.Request{Service: "family",
		Slot: monday(e.office, "10:00"), Lang: "pl", Name: name, Contact: "jan.kowalski@example.pl", Terms: true})
	if err != nil {
		t.Fatalf("booking under a long name: %v", err)
	}
	if err := e.desk.Confirm(context.Background(), e.actor, "test", booked.ID, e.links.ConfirmCode(e.office.ID, booked.ID)); err != nil {
		t.Fatalf("confirming the booking: %v", err)
	}
	// One more, only held: the page asks for the code sent.
	held, err := e.desk.Book(context.Background(), e.actor, "test", booking.Request{Service: "family",
		Slot: monday(e.office, "10:30"), Lang: "pl", Name: name, Contact: strings.Repeat("kowalczyk", 5) + "@example.pl", Terms: true})
	if err != nil {
		t.Fatalf("holding under a long name: %v", err)
	}
	// The ticket the clerk has called, tickets waiting with long notes in
	// three lines, a resident's phone ticket still waiting and one served,
	// for the e-ticket and the rating.
	issue := func(service string, channel queue.Channel, note string) string {
		return e.do(queue.Issue{Service: service, Lang: "pl", Channel: channel, Note: note}).Decision.Ticket
	}
	current := issue("family", queue.ChannelAssistant, note)
	waiting := issue("family", queue.ChannelPhone, "")
	served := issue("maintenance", queue.ChannelPhone, "")
	for _, s := range []string{"family", "maintenance", "child800", "good-start"} {
		issue(s, queue.ChannelAssistant, note)
	}
	e.do(queue.Issue{Service: "child800", Lang: "uk", Channel: queue.ChannelAssistant, Priority: true, Note: note})
	e.do(queue.SetCounter{Counter: 2, Status: queue.CounterOpenStatus})
	e.do(queue.CallTicket{Counter: 2, Ticket: served})
	e.do(queue.Start{Counter: 2})
	e.do(queue.Finish{Counter: 2})

	// The clerk: the longest login name there may be, at counter 1, which
	// has called the ticket with the long note.
	clerk := strings.Repeat("kowalczyk", 4) + "anna"
	if _, err := e.web.Clerks.Put(clerk, "correct horse battery", "clerk", []string{o}); err != nil {
		t.Fatal(err)
	}
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	e.do(queue.CallTicket{Counter: 1, Ticket: current})

	// The locker: a decision deposited under the long name and a long
	// contact, stored, and doors in trouble, so the lockers page has its
	// grid, its list and what needs someone at the top.
	lockerClerk := e.browser()
	lockerClerk.login(clerk, "correct horse battery")
	lockerClerk.get("/staff/lockers?office=" + o)
	lockerClerk.post("/staff/lockers/deposit", url.Values{"office": {o}, "locker": {"parter-b"}, "name": {name},
		"contact": {strings.Repeat("kowalczyk", 5) + "@example.pl"}, "lang": {"pl"}, "document": {"decision"}, "size": {"L"}})
	var deposit string
	_ = e.actor.Query(context.Background(), func(s *queue.State) {
		for _, d := range s.LiveDeposits("parter-b") {
			deposit = d.ID
		}
	})
	if deposit == "" {
		t.Fatalf("the deposit under the long name was refused:\n%s", lockerClerk.last)
	}
	e.do(queue.StoreDeposit{Deposit: deposit, At: e.clock.Now()})
	lockerClerk.post("/staff/lockers/deposit", url.Values{"office": {o}, "locker": {"parter-b"}, "name": {name},
		"contact": {"+48 600 100 200"}, "lang": {"uk"}, "document": {"id-card"}, "size": {"S"}, "accessible": {"yes"}})
	if err := e.web.Server.Health().Ingest(context.Background(), fleet.Reporter{ID: "locker-b", Office: o, Role: "locker"}, protocol.HealthReport{
		Version: "1.5.0", Role: "locker", Name: "Urzędomat", Locker: &protocol.LockerHealth{DoorsOpen: []string{"10", "12"}, DoorsAlarm: []string{"10"}, LocksFailed: []string{"3"}, DoorsForced: []string{"12"}},
	}); err != nil {
		t.Fatal(err)
	}

	visit := func(path, ready string) func(string) chromedp.Action[chromedp.Void] {
		return func(lang string) chromedp.Action[chromedp.Void] {
			return chromedp.Steps(chromedp.Navigate(e.url+withLang(path, lang)), chromedp.WaitVisible(chromedp.CSS(ready)))
		}
	}
	slot := "&day=2026-11-23&slot=" + strings.ReplaceAll(monday(e.office, "10:15").Format(time.RFC3339), "+", "%2b")
	pages := []layoutPage{
		{"home", visit("/", "main .list")},
		{"office", visit("/o/"+o, "#take-h")},
		{"check-in refused", func(lang string) chromedp.Action[chromedp.Void] {
			// A code pasted with more than the field takes: refused, and
			// shown back in the field.
			return chromedp.Steps(visit("/o/"+o, "#code")(lang), formLang("#code", lang),
				chromedp.Evaluate[chromedp.Void](`document.getElementById('code').value = '`+longWord(60)+`'`),
				chromedp.Submit(chromedp.CSS("#code")), chromedp.WaitVisible(chromedp.CSS(".alert.error")))
		}},
		{"book-1-matter", visit("/book/"+o, `a[href*="service=family"]`)},
		{"book-2-day", visit("/book/"+o+"?service=family", `a[href*="day=2026-11-23"]`)},
		{"book-3-time", visit("/book/"+o+"?service=family&day=2026-11-23", `a[href*="T10%3a15"]`)},
		{"book-4-details", func(lang string) chromedp.Action[chromedp.Void] {
			// The form refused for the terms, the long name kept in it.
			return chromedp.Steps(visit("/book/"+o+"?service=family"+slot, "#name")(lang), formLang("#name", lang),
				chromedp.SetValue(chromedp.CSS("#name"), name), chromedp.SetValue(chromedp.CSS("#contact"), "jan.kowalski@example.pl"),
				chromedp.Click(chromedp.CSS(`form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".alert.error")))
		}},
		{"booking-held", visit(held.Path, "#confirm-code")},
		{"booking-confirmation", visit(booked.Path, "#booking-code")},
		{"booking-move", visit(booked.Path+"/move", `button[name=slot]`)},
		{"booking-cancel", visit(booked.Path+"/cancel", `button[name=confirm]`)},
		{"booking-data", visit(booked.Path+"/data", "#stored-data")},
		{"booking-forget", visit(booked.Path+"/forget", `button[name=confirm]`)},
		{"eticket-waiting", visit(e.links.TicketPath(o, waiting), `#ticket[data-live="1"]`)},
		{"eticket-rating", visit(e.links.TicketPath(o, served), "form.rate")},
		{"console", visit("/staff/console", "#current-number")},
		{"assistant", visit("/staff/assistant", "#issue-h")},
		// The booking desk lists the visits booked under the long name.
		{"desk", visit("/staff/bookings?office="+o+"&day=2026-11-23", "#book-h")},
		// The locker's page lists the documents left under the long name.
		{"lockers", visit("/staff/lockers?office="+o, "#deposit-h")},
	}
	do(t, browser, "clerk login", chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(e.url+"/staff/login?lang=pl"), chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.SetValue(chromedp.CSS("#name"), clerk), chromedp.SetValue(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".counters")),
		chromedp.Click(chromedp.CSS(`.counters form:first-child button`)), chromedp.WaitVisible(chromedp.CSS("#panel")))

	// Each language in a tab of its own, beside the others. The tabs share
	// the clerk's session and the language cookie, so every address and
	// form names its language.
	for _, lang := range i18n.Languages {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			checkLayouts(t, newTab(t, browser), lang, pages)
		})
	}
	t.Cleanup(func() { t.Logf("all layouts measured in %v", time.Since(start).Round(time.Millisecond)) })
}

// checkLayouts opens each page in lang and measures it on every screen at
// every text size.
func checkLayouts(t *testing.T, tab context.Context, lang string, pages []layoutPage) {
	measured, start := 0, time.Now()
	for _, p := range pages {
		do(t, tab, p.name, p.open(lang))
		if got, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil || got != lang {
			t.Fatalf("%s: the page is in %q (%v), want %s", p.name, got, err, lang)
		}
		for _, v := range layoutViews {
			opts := []chromedp.EmulateViewportOption{}
			if v.mobile {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
			}
			do(t, tab, "screen "+v.name, chromedp.EmulateViewport(v.width, v.height, opts...))
			for _, size := range rootFontSizes {
				where := fmt.Sprintf("%s (%s, %s screen, text %s)", p.name, lang, v.name, size)
				problems, err := chromedp.Run(tab, chromedp.Evaluate[[]string](
					`document.documentElement.style.fontSize = '`+size+`'; `+layoutProblems))
				if err != nil {
					t.Fatalf("%s: measuring: %v", where, err)
				}
				measured++
				if len(problems) > 6 {
					problems = append(problems[:6], fmt.Sprintf("and %d more", len(problems)-6))
				}
				if len(problems) > 0 {
					t.Errorf("%s:\n  %s", where, strings.Join(problems, "\n  "))
				}
				if shot := fmt.Sprintf("layout-%s-%s-%s-%s", p.name, lang, v.name, strings.TrimSuffix(size, "%")); layoutShots[shot] {
					layoutShot(t, tab, shot)
				}
			}
		}
	}
	t.Logf("%d page layouts measured in %v", measured, time.Since(start).Round(time.Millisecond))
}

// formLang makes the form of the field sel post with ?lang=, so the answer
// is in lang whatever another tab set the language cookie to.
func formLang(sel, lang string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(f => f.action = f.action + '?lang=` + lang + `')(document.querySelector('` + sel + `').form)`)
}

// layoutShots are the layouts photographed for a person to look at (in
// web/testdata/screenshots).
var layoutShots = map[string]bool{
	"layout-booking-confirmation-pl-360px-130": true,
	"layout-eticket-waiting-pl-360px-130":      true,
	"layout-eticket-rating-lt-360px-130":       true,
	"layout-console-pl-360px-130":              true,
	"layout-console-pl-1366px-100":             true,
	"layout-assistant-uk-1366px-100":           true,
}

// layoutShot saves the page as it stands, for a person to look at.
func layoutShot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	if !*shots {
		return
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, strings.ReplaceAll(name, " ", "-")+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
