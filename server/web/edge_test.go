package web

import (
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/server/links"
)

// loginTo logs a clerk in with the given next= and returns where the
// server sends the browser, without following it.
func loginTo(t *testing.T, e *env, next string) string {
	t.Helper()
	b := e.browser()
	b.get("/staff/login?next=" + url.QueryEscape(next))
	form := url.Values{"name": {"anna"}, "password": {"correct horse battery"}, "next": {next}, "csrf": {b.csrf()}}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/staff/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.url)
	c := *b.c
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with next=%q: %d, want 303", next, resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func TestLoginGoesOnlyToStaffPagesOfThisSite(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		next string
		want string
	}{
		{"/staff/console", "/staff/console"},
		{"/staff/stats?office=x&day=2026-11-23", "/staff/stats?office=x&day=2026-11-23"},
		{"/staff/./assistant", "/staff/assistant"},
		{"", "/staff"},
		{"/staff/login", "/staff"},
		// Crafted: each of these, judged by prefix before cleaning, took a
		// logged-in clerk to another site or off the staff pages.
		{`/\evil.com`, "/staff"},
		{"//evil.com", "/staff"},
		{"/staff/../..//evil.com", "/staff"},
		{`/staff/..\..\evil.com`, "/staff"},
		{`/staff/../\evil.com`, "/staff"},
		{"https://evil.com/staff", "/staff"},
		{"/staff@evil.com", "/staff"},
		{"/staff/%2e%2e/%2e%2e//evil.com", "/staff"},
		{"/staff/..%2f..%2f%2fevil.com", "/staff"},
		{"/staff/%5c%5cevil.com", "/staff"},
		{"/%2F%2Fevil.com/staff", "/staff"},
		{"/staff/..\t/\t/evil.com", "/staff"},
		{"/staff/../o/cus-starachowice", "/staff"},
		{"https:/staff", "/staff"},
	}
	for _, tt := range tests {
		// Many logins from one address: the throttle is not what is tested.
		e.web.limits = newLimits(e.clock.Now)
		got := loginTo(t, e, tt.next)
		if got != tt.want {
			t.Errorf("next=%q: sent to %q, want %q", tt.next, got, tt.want)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(got, "//") || strings.Contains(got, `\`) {
			t.Errorf("next=%q: sent off the site to %q", tt.next, got)
		}
	}
}

// FuzzStaffNext: whatever next= holds, a login goes to a clean staff path
// of this site or to none.
func FuzzStaffNext(f *testing.F) {
	for _, s := range []string{"/staff/console", `/\evil.com`, "//evil.com", "/staff/../..//evil.com", "https://evil.com",
		"/staff/%2e%2e/x", "/staff?x=//evil.com", "/staff/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := staffNext(next)
		if got == "" {
			return
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("staffNext(%q) = %q, which does not parse: %v", next, got, err)
		}
		if u.Scheme != "" || u.Host != "" || u.User != nil || strings.ContainsAny(got, "\\\t\r\n") || strings.HasPrefix(got, "//") {
			t.Fatalf("staffNext(%q) = %q leaves the site", next, got)
		}
		if path.Clean(u.Path) != u.Path || (u.Path != "/staff" && !strings.HasPrefix(u.Path, "/staff/")) {
			t.Fatalf("staffNext(%q) = %q is not a clean staff path", next, got)
		}
	})
}

// A cancelled visit's code: the kiosk's API answers the 409 docs/api.md
// promises, and the phone's check-in form says the visit was cancelled,
// each in the resident's language, not "no booking has this code".
func TestCancelledCodeSaysCancelled(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	confirmation, code := b.book("family", "10:00", "Jan Kowalski", "600100200")
	b.get(confirmation)
	if st, _ := b.post(confirmation+"/cancel", url.Values{"confirm": {"yes"}}); st != http.StatusOK {
		t.Fatalf("cancel: %d", st)
	}
	e.clock.Set(monday(e.office, "09:45"))
	checkin := "/api/v1/offices/" + e.office.ID + "/checkins"
	st, body := e.api("kiosk", "POST", checkin, `{"code":"`+code+`","lang":"uk","request_id":"k-1"}`)
	if st != http.StatusConflict || body["reason"] != "cancelled" || !strings.Contains(fmt.Sprint(body["message"]), "Цей візит було скасовано") {
		t.Errorf("kiosk check-in of a cancelled visit: %d %v, want 409 reason cancelled in Ukrainian", st, body)
	}
	if st, body := e.api("kiosk", "POST", checkin, `{"code":"`+code+`","lang":"en","request_id":"k-2"}`); st != http.StatusConflict || body["message"] != "This visit was cancelled. Take an ordinary ticket or book a new visit." {
		t.Errorf("kiosk check-in of a cancelled visit in English: %d %v", st, body)
	}
	p := e.browser()
	p.get("/o/" + e.office.ID + "?lang=pl")
	st, page := p.post("/o/"+e.office.ID+"/checkin", url.Values{"code": {code}})
	if st != http.StatusConflict || !strings.Contains(page, "Ta wizyta została odwołana") || strings.Contains(page, "Nie ma rezerwacji z takim kodem") {
		t.Errorf("phone check-in of a cancelled visit: %d, want 409 saying the visit was cancelled", st)
	}
}

// Every 429 of the pages says when to try again.
func TestThrottledPagesSayRetryAfter(t *testing.T) {
	e := newEnv(t)
	retryOf := func(what string, resp *http.Response) int {
		t.Helper()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s: %d, want 429", what, resp.StatusCode)
		}
		secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil || secs < 1 {
			t.Fatalf("%s: Retry-After %q", what, resp.Header.Get("Retry-After"))
		}
		return secs
	}
	post := func(b *browser, path string, form url.Values) *http.Response {
		t.Helper()
		form.Set("csrf", b.csrf())
		req, _ := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", e.url)
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// Wrong passwords: 5 per account, then one a minute.
	b := e.browser()
	var resp *http.Response
	for range loginPerAccount.burst + 1 {
		b.get("/staff/login")
		resp = post(b, "/staff/login", url.Values{"name": {"anna"}, "password": {"wrong password!"}})
	}
	if s := retryOf("the sixth wrong password", resp); s > 60 {
		t.Errorf("login Retry-After %d s, want at most 60", s)
	}
	// Phone tickets: 4 per browser, then one each 10 minutes.
	e.clock.Set(monday(e.office, "09:00"))
	p := e.browser()
	for i := range ticketPerBrowser.burst + 1 {
		p.get("/o/" + e.office.ID)
		resp = post(p, "/o/"+e.office.ID+"/ticket", url.Values{"service": {"documents"}, "nonce": {fmt.Sprintf("n%d", i)}})
	}
	if s := retryOf("the fifth phone ticket", resp); s > 600 || s < 590 {
		t.Errorf("ticket Retry-After %d s, want about 600", s)
	}
	// Wrong codes from the phone: 10, then one each 5 s.
	c := e.browser()
	for i := range 12 {
		c.get("/o/" + e.office.ID)
		resp = post(c, "/o/"+e.office.ID+"/checkin", url.Values{"code": {"ZZZZ-ZZZ" + string(links.CodeAlphabet[i])}})
	}
	if s := retryOf("the twelfth wrong code", resp); s > 5 {
		t.Errorf("check-in Retry-After %d s, want at most 5", s)
	}
}

// Refusals outside the pages' handlers are pages in the reader's
// language too: an unknown address, a wrong method, a cross-site form;
// under /api/ they stay JSON.
func TestNoPageAndCrossSiteAreLocalizedPages(t *testing.T) {
	e := newEnv(t)
	cat := i18n.Messages()
	tests := []struct {
		method, path, lang string
		origin             string
		status             int
		msgID              string
		allow              string
	}{
		{"GET", "/no/such/page", "uk", "", 404, "web.error.no_page", ""},
		{"GET", "/staff/nothing-here", "lt", "", 404, "web.error.no_page", ""},
		{"GET", "/o/" + "cus-starachowice" + "/ticket", "ru", "", 405, "web.error.method", "POST"},
		{"DELETE", "/staff/login", "en", "", 405, "web.error.method", "GET, HEAD, POST"},
		{"POST", "/o/cus-starachowice/ticket", "pl", "https://evil.example", 403, "web.error.csrf", ""},
		{"POST", "/staff/login", "uk", "https://evil.example", 403, "web.error.csrf", ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, e.url+tt.path, strings.NewReader("a=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", tt.lang)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(data)
		want := template.HTMLEscapeString(cat.T(tt.lang, tt.msgID))
		if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			resp.Header.Get("Content-Language") != tt.lang || !strings.Contains(page, want) || !strings.Contains(page, "<html") {
			t.Errorf("%s %s (%s): %d %s %q, want %d with a %s page saying %q", tt.method, tt.path, tt.lang, resp.StatusCode,
				resp.Header.Get("Content-Type"), firstLine(page), tt.status, tt.lang, want)
		}
		if got := resp.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
	if st, body := e.api("hall", "GET", "/api/v1/nothing", ""); st != http.StatusNotFound || body["error"] == nil {
		t.Errorf("an unknown API route with the pages mounted: %d %v, want a JSON 404", st, body)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// On a holiday the office's pages and the API name the day in the
// reader's language, from the office's config.
func TestHolidayNamedInThePageLanguage(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(time.Date(2026, 12, 24, 10, 0, 0, 0, e.office.Location))
	want := map[string]string{"pl": "Wigilia Bożego Narodzenia", "en": "Christmas Eve", "lt": "Kūčios", "ru": "Сочельник", "uk": "Святвечір"}
	for lang, name := range want {
		page := e.browser().get("/o/" + e.office.ID + "?lang=" + lang)
		if !strings.Contains(page, "("+name+")") {
			t.Errorf("%s: the office page does not name the holiday %q", lang, name)
		}
		if lang != "pl" && strings.Contains(page, "Wigilia") {
			t.Errorf("%s: the office page names the holiday in Polish", lang)
		}
		st, body := e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"`+lang+`"}`)
		if st != http.StatusConflict || body["reason"] != "holiday" || !strings.Contains(fmt.Sprint(body["message"]), "("+name+")") {
			t.Errorf("%s: a ticket on the holiday: %d %v, want 409 naming %q", lang, st, body, name)
		}
	}
}

// The office's refusals reach the console in the page's language, with
// the office's own names: never the English message of the log.
func TestConsoleRefusalsInThePageLanguage(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl"}`)
	tests := []struct {
		lang, action string
		form         url.Values
		want         string
	}{
		{"pl", "call", url.Values{"ticket": {"Z999"}}, "Nie ma dziś biletu Z999."},
		{"uk", "call", url.Values{"ticket": {"Z999"}}, "Талона Z999 сьогодні немає."},
		{"lt", "recall", url.Values{}, "Darbo vietoje 1 dabar nieko nėra."},
		{"", "next", url.Values{}, ""},
		{"", "start", url.Values{}, ""},
		{"pl", "transfer", url.Values{}, "Wybierz inną sprawę albo stanowisko, do którego przekazać bilet."},
		{"ru", "transfer", url.Values{}, "Выберите другой вопрос или окно, куда передать талон."},
		{"en", "call", url.Values{"ticket": {"A001"}}, "Ticket A001 is being served, not waiting."},
		{"pl", "call", url.Values{"ticket": {"A001"}}, "Bilet A001 ma stan: w obsłudze, a nie czeka."},
		{"uk", "pause", url.Values{}, "Біля вікна 1 талон A001: спершу завершіть, передайте або відкладіть його."},
	}
	b := e.browser()
	b.login("anna", "correct horse battery")
	b.post("/staff/counter", url.Values{"office": {e.office.ID}, "counter": {"1"}})
	b.get("/staff/console")
	b.post("/staff/console/open", url.Values{"office": {e.office.ID}, "counter": {"1"}})
	for _, tt := range tests {
		b.get("/staff/console?lang=" + tt.lang)
		tt.form.Set("office", e.office.ID)
		tt.form.Set("counter", "1")
		_, page := b.post("/staff/console/"+tt.action, tt.form)
		m := regexp.MustCompile(`id="form-error">([^<]*)<`).FindStringSubmatch(page)
		switch {
		case tt.want == "" && m != nil:
			t.Fatalf("%s: refused: %s", tt.action, m[1])
		case tt.want != "" && !strings.Contains(page, template.HTMLEscapeString(tt.want)):
			t.Errorf("%s %s: the console says %v, want %q", tt.lang, tt.action, m, tt.want)
		}
	}
	// The API gives the code and its parameters, and the message in the
	// request's language.
	st, body := e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"nope","lang":"uk"}`)
	if st != http.StatusNotFound || body["code"] != "no-service" || fmt.Sprint(body["params"]) != "map[office:"+e.office.ID+" service:nope]" ||
		body["message"] != "Такого питання немає: nope." {
		t.Errorf("an unknown service over the API: %d %v", st, body)
	}
}
