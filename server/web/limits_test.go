package web

import (
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/links"
)

// browserFrom is a resident's or clerk's browser connecting from addr, one
// of the loopback addresses (127.0.0.0/8), as if from another machine.
func (e *env) browserFrom(addr string) *browser {
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}}
	return &browser{e: e, c: &http.Client{Jar: jar, Transport: &http.Transport{DialContext: dialer.DialContext}}}
}

// answer is what a form post got back: the status, the Retry-After
// header and the page.
type answer struct {
	status int
	retry  int
	page   string
}

// submit posts a form with the browser's CSRF token and follows the
// redirect.
func (b *browser) submit(path string, form url.Values) answer {
	b.e.t.Helper()
	form.Set("csrf", b.csrf())
	req, _ := http.NewRequest(http.MethodPost, b.e.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.url)
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	b.last = string(data)
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return answer{resp.StatusCode, retry, b.last}
}

// bookSlot books the family service at a slot on Tuesday 2026-11-24
// (the day after monday), straight from the form as a script would.
func (b *browser) bookSlot(hhmm, name, contact string) answer {
	b.e.t.Helper()
	b.get("/o/" + b.e.office.ID + "?lang=en")
	slot := monday(b.e.office, hhmm).AddDate(0, 0, 1).Format(time.RFC3339)
	return b.submit("/book/"+b.e.office.ID, url.Values{"service": {"family"}, "slot": {slot},
		"name": {name}, "contact": {contact}, "terms": {"yes"}})
}

// limitsEnv is a server whose office lets the limits alone refuse
// bookings: a contact needs no confirming and may book ten visits a day.
func limitsEnv(t *testing.T) *env {
	return newEnvIn(t, t.TempDir(), func(o *queue.Office) {
		o.Booking.ConfirmContact = false
		o.Booking.PerContactPerDay = 10
	})
}

// quarter is the nth booking slot of a day from 08:00, as hh:mm.
func quarter(n int) string {
	m := 8*60 + 15*n
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// A town behind one address: 30 residents in 30 browsers, each with their
// own contact, all book.
func TestThirtyBrowsersBehindOneAddressAllBook(t *testing.T) {
	e := limitsEnv(t)
	for i := range 30 {
		a := e.browser().bookSlot(quarter(i), "Mieszkaniec Numer", fmt.Sprintf("mieszkaniec%d@example.pl", i))
		if a.status != http.StatusOK || !codeOnPage.MatchString(a.page) {
			t.Fatalf("booking %d from the shared address: %d\n%s", i+1, a.status, firstLine(a.page))
		}
	}
}

// What is abused is throttled: one browser booking many visits, or one
// contact booking from many browsers; a form the desk refuses costs
// nothing.
func TestBookingLimits(t *testing.T) {
	tooMany := i18n.Messages().T("en", "web.book.too_many", "time", "")
	tooMany = template.HTMLEscapeString(tooMany[:strings.Index(tooMany, ".")])
	tests := []struct {
		name string
		// book makes the i-th booking try; ok says whether it should be
		// booked, refused by the limits (429) or refused as invalid.
		tries func(e *env) []func() answer
		want  []int
	}{
		{"one browser, many contacts", func(e *env) []func() answer {
			b := e.browser()
			var out []func() answer
			for i := range bookingPerBrowser.burst + 1 {
				out = append(out, func() answer { return b.bookSlot(quarter(i), "Anna Nowak", fmt.Sprintf("anna%d@example.pl", i)) })
			}
			return out
		}, []int{200, 200, 200, 200, 200, 429}},
		{"one contact, many browsers, typed differently", func(e *env) []func() answer {
			var out []func() answer
			for i, contact := range []string{"600 100 200", "+48 600-100-200", "0048600100200", "(600) 100 200"} {
				out = append(out, func() answer { return e.browser().bookSlot(quarter(i), "Jan Kowalski", contact) })
			}
			return out
		}, []int{200, 200, 200, 429}},
		{"one contact, upper and lower case", func(e *env) []func() answer {
			var out []func() answer
			for i, contact := range []string{"jan@example.pl", "JAN@example.pl", "Jan@Example.PL", "jan@EXAMPLE.pl"} {
				out = append(out, func() answer { return e.browser().bookSlot(quarter(i), "Jan Kowalski", contact) })
			}
			return out
		}, []int{200, 200, 200, 429}},
		{"refused forms do not count", func(e *env) []func() answer {
			b := e.browser()
			var out []func() answer
			for range 20 {
				out = append(out, func() answer { return b.bookSlot(quarter(0), "", "jan@example.pl") })
			}
			for range 5 {
				out = append(out, func() answer {
					b.get("/o/" + e.office.ID)
					return b.submit("/book/"+e.office.ID, url.Values{"service": {"family"}, "slot": {"Tuesday at ten"},
						"name": {"Jan Kowalski"}, "contact": {"jan@example.pl"}, "terms": {"yes"}})
				})
			}
			out = append(out, func() answer { return b.bookSlot(quarter(0), "Jan Kowalski", "jan@example.pl") })
			// The slot is taken now: five more tries of it are refused
			// by the office and cost nothing either.
			for range 5 {
				out = append(out, func() answer { return b.bookSlot(quarter(0), "Jan Kowalski", "jan@example.pl") })
			}
			out = append(out, func() answer { return b.bookSlot(quarter(1), "Jan Kowalski", "jan@example.pl") })
			return out
		}, append(append(append(append(repeat(400, 20), repeat(400, 5)...), 200), repeat(409, 5)...), 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := limitsEnv(t)
			tries := tt.tries(e)
			if len(tries) != len(tt.want) {
				t.Fatalf("%d tries, %d answers wanted", len(tries), len(tt.want))
			}
			for i, try := range tries {
				a := try()
				if a.status != tt.want[i] {
					t.Fatalf("try %d: %d, want %d\n%s", i+1, a.status, tt.want[i], firstLine(a.page))
				}
				if a.status == http.StatusTooManyRequests && (a.retry < 1 || !strings.Contains(a.page, tooMany)) {
					t.Errorf("try %d: 429 with Retry-After %d, saying %q? want a wait and the message", i+1, a.retry, tooMany)
				}
			}
		})
	}
}

func repeat(status, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = status
	}
	return out
}

// A phone ticket refused by the office (a service that does not exist)
// costs the browser nothing; accepted ones do.
func TestPhoneTicketsPerBrowser(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	b := e.browser()
	take := func(service string, i int) answer {
		b.get("/o/" + e.office.ID + "?lang=en")
		return b.submit("/o/"+e.office.ID+"/ticket", url.Values{"service": {service}, "nonce": {fmt.Sprint("n", i)}})
	}
	for i := range 10 {
		if a := take("no-such-service", i); a.status == http.StatusOK || a.status == http.StatusTooManyRequests {
			t.Fatalf("a ticket for no service: %d", a.status)
		}
	}
	for i := range ticketPerBrowser.burst {
		if a := take("documents", 100+i); a.status != http.StatusOK {
			t.Fatalf("ticket %d: %d\n%s", i+1, a.status, firstLine(a.page))
		}
	}
	if a := take("documents", 200); a.status != http.StatusTooManyRequests || a.retry < 1 {
		t.Fatalf("one ticket past the browser's budget: %d, Retry-After %d", a.status, a.retry)
	}
	// Another resident behind the same address is not held up.
	other := e.browser()
	other.get("/o/" + e.office.ID)
	if a := other.submit("/o/"+e.office.ID+"/ticket", url.Values{"service": {"documents"}}); a.status != http.StatusOK {
		t.Errorf("a neighbour's ticket: %d", a.status)
	}
}

// codeTry types a code at one place, a kiosk (through the API, with its
// token) or a phone (the office page's form), and says what came back.
type codeTry func(code string) answer

func kioskTry(e *env) codeTry {
	return func(code string) answer {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/api/v1/offices/"+e.office.ID+"/checkins",
			strings.NewReader(`{"code":"`+code+`","lang":"en"}`))
		req.Header.Set("Authorization", "Bearer "+e.tokens["kiosk"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return answer{resp.StatusCode, retry, string(data)}
	}
}

func phoneTry(e *env, b *browser) codeTry {
	return func(code string) answer {
		b.get("/o/" + e.office.ID + "?lang=en")
		return b.submit("/o/"+e.office.ID+"/checkin", url.Values{"code": {code}})
	}
}

// wrongCode is the i-th of a run of codes no booking has.
func wrongCode(i int) string {
	a := links.CodeAlphabet
	return "ZZZZ-" + string(a[i%len(a)]) + string(a[(i/len(a))%len(a)]) + "ZZ"
}

// Mistypes at one kiosk or phone never block the next person's valid
// code; a device that keeps sending wrong codes is slowed to one try each
// few seconds.
func TestMistypedCodesDoNotBlockAValidOne(t *testing.T) {
	tests := []struct {
		name   string
		device func(e *env) codeTry
		booked int // status of a valid check-in
	}{
		{"kiosk", kioskTry, http.StatusCreated},
		{"phone", func(e *env) codeTry { return phoneTry(e, e.browser()) }, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_, first := e.browser().book("family", "10:00", "Anna Nowak", "+48 600 100 200")
			_, second := e.browser().book("family", "10:15", "Jan Kowalski", "jan@example.pl")
			e.clock.Set(monday(e.office, "09:45"))
			try := tt.device(e)
			for i := range 10 {
				if a := try(wrongCode(i)); a.status != http.StatusNotFound {
					t.Fatalf("wrong code %d: %d, want 404\n%s", i+1, a.status, firstLine(a.page))
				}
			}
			if a := try(first); a.status != tt.booked {
				t.Fatalf("a valid code right after 10 mistypes: %d, want %d\n%s", a.status, tt.booked, firstLine(a.page))
			}
			// Past its budget the device is paced: the next try (whatever
			// its code) waits a few seconds, and then a valid code goes
			// through.
			a := try(wrongCode(10))
			if a.status != http.StatusTooManyRequests || a.retry < 1 || a.retry > 5 {
				t.Fatalf("a wrong code right after: %d, Retry-After %d; want 429 for at most 5 s", a.status, a.retry)
			}
			if tt.name == "phone" && !strings.Contains(a.page, template.HTMLEscapeString(i18n.Messages().T("en", "web.checkin.throttled"))) {
				t.Errorf("the phone's 429 does not say so in English:\n%s", firstLine(a.page))
			}
			e.clock.Set(e.clock.Now().Add(time.Duration(a.retry) * time.Second))
			if a := try(second); a.status != tt.booked {
				t.Errorf("a valid code once the pace allows: %d, want %d", a.status, tt.booked)
			}
		})
	}
}

// Guessing at one code is throttled for that code, from any browser and
// address, while other codes are still tried.
func TestGuessingOneCodeIsThrottled(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:45"))
	for i := range 5 {
		if a := phoneTry(e, e.browserFrom(fmt.Sprint("127.0.0.", 10+i)))(wrongCode(0)); a.status != http.StatusNotFound {
			t.Fatalf("try %d of the code: %d, want 404", i+1, a.status)
		}
	}
	b := e.browserFrom("127.0.0.20")
	if a := phoneTry(e, b)(wrongCode(0)); a.status != http.StatusTooManyRequests || a.retry < 1 {
		t.Fatalf("a sixth try of the code from a new address: %d, Retry-After %d; want 429", a.status, a.retry)
	}
	if a := kioskTry(e)(wrongCode(0)); a.status != http.StatusTooManyRequests {
		t.Errorf("the same code at the kiosk: %d, want 429", a.status)
	}
	if a := phoneTry(e, b)(wrongCode(1)); a.status != http.StatusNotFound {
		t.Errorf("another code from the same browser: %d, want 404", a.status)
	}
}

// An account attacked from many addresses is slowed, the admin sees an
// alert (and the log has it, without the password); the clerk's own
// browser still logs in, and anyone does once the window has passed.
func TestStaffLoginUnderAttack(t *testing.T) {
	e := newEnv(t)
	clerk := e.browserFrom("127.0.0.2")
	clerk.login("anna", "correct horse battery")
	clerk.post("/staff/logout", url.Values{})

	const guess = "Kot-Filemon-1999"
	attempt := func(b *browser, password string) answer {
		b.get("/staff/login?lang=en")
		return b.submit("/staff/login", url.Values{"name": {"anna"}, "password": {password}})
	}
	for i := range 12 {
		a := attempt(e.browserFrom(fmt.Sprint("127.0.0.", 100+i)), guess)
		want := http.StatusUnauthorized
		if i >= loginPerAccount.burst {
			want = http.StatusTooManyRequests
		}
		if a.status != want || (want == http.StatusTooManyRequests && a.retry < 1) {
			t.Fatalf("guess %d from its own address: %d (Retry-After %d), want %d", i+1, a.status, a.retry, want)
		}
	}
	// The right password from a browser the account never used is held
	// up too: the account is slowed, whoever types.
	if a := attempt(e.browserFrom("127.0.0.50"), "correct horse battery"); a.status != http.StatusTooManyRequests {
		t.Errorf("a new browser with the right password during the attack: %d, want 429", a.status)
	}
	// The clerk's own browser keeps its own budget.
	if a := attempt(clerk, "correct horse battery"); a.status != http.StatusOK || !strings.Contains(a.page, "/staff/counter") {
		t.Errorf("the clerk's own browser during the attack: %d, want logged in", a.status)
	}

	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	page := admin.get("/staff?lang=en")
	alert := template.HTMLEscapeString(i18n.Messages().T("en", "web.login.alert", "when", "", "failures", loginPerAccount.burst, "account", "anna"))
	if !strings.Contains(page, alert[strings.Index(alert, "5 wrong"):]) {
		t.Errorf("the admin's page shows no alert for anna:\n%s", page)
	}
	if strings.Contains(clerk.get("/staff?lang=en"), "wrong passwords in a row") {
		t.Error("a clerk who is no admin is shown the alert")
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "too many wrong passwords") || !strings.Contains(logs, "account=anna") {
		t.Errorf("the log does not tell of the attack:\n%s", logs)
	}
	if strings.Contains(logs, guess) {
		t.Error("the log holds a guessed password")
	}
	alerts, err := e.db.LoginAlerts(e.clock.Now().Add(-time.Hour))
	if err != nil || len(alerts) != 1 || alerts[0].Account != "anna" {
		t.Errorf("alerts stored: %+v (%v), want one for anna", alerts, err)
	}
	// A clerk cannot mark it read; the admin can, and it leaves the pages
	// while its record stays, saying who read it.
	clerk.get("/staff?lang=en")
	if status, _ := clerk.post("/staff/admin/alerts/seen", url.Values{}); status != http.StatusForbidden {
		t.Errorf("a clerk marking the alerts read: %d, want 403", status)
	}
	admin.get("/staff?lang=en")
	if status, page := admin.post("/staff/admin/alerts/seen", url.Values{}); status != http.StatusOK || strings.Contains(page, "wrong passwords in a row") {
		t.Errorf("after marking the alerts read: %d, the page still shows one: %v", status, strings.Contains(page, "wrong passwords in a row"))
	}
	if alerts, _ := e.db.LoginAlerts(e.clock.Now().Add(-time.Hour)); len(alerts) != 1 || alerts[0].SeenBy != "kierownik" {
		t.Errorf("alerts stored after reading: %+v, want anna's, read by kierownik", alerts)
	}

	// After the window anyone with the password gets in again.
	e.clock.Set(e.clock.Now().Add(time.Duration(loginPerAccount.burst) * loginPerAccount.every))
	if a := attempt(e.browserFrom("127.0.0.51"), "correct horse battery"); a.status != http.StatusOK {
		t.Errorf("the right password after the window: %d, want logged in", a.status)
	}
}
