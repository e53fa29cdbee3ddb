package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
)

var codeOnPage = regexp.MustCompile(`id="booking-code">([A-Z0-9-]+)<`)

// book goes through the booking pages as a resident without JavaScript
// and returns the confirmation page's path and the code.
func (b *browser) book(service, hhmm, name, contact string) (string, string) {
	e := b.e
	t := e.t
	t.Helper()
	o := e.office.ID
	if page := b.get("/book/" + o + "?lang=en"); !strings.Contains(page, "/book/"+o+"?service="+service) {
		t.Fatalf("step 1 does not offer %s:\n%s", service, page)
	}
	day := e.clock.Now().In(e.office.Location).Format(dayKey)
	if page := b.get("/book/" + o + "?service=" + service); !strings.Contains(page, "day="+day) {
		t.Fatalf("step 2 does not offer today:\n%s", page)
	}
	slot := monday(e.office, hhmm).Format(time.RFC3339)
	if page := b.get("/book/" + o + "?service=" + service + "&day=" + day); !strings.Contains(strings.ToLower(page), strings.ToLower(url.QueryEscape(slot))) {
		t.Fatalf("step 3 does not offer %s:\n%s", hhmm, page)
	}
	b.get("/book/" + o + "?service=" + service + "&day=" + day + "&slot=" + url.QueryEscape(slot))
	status, page := b.post("/book/"+o, url.Values{"service": {service}, "day": {day}, "slot": {slot},
		"name": {name}, "contact": {contact}, "terms": {"yes"}})
	held := regexp.MustCompile(`action="(/booking/[^"]+/confirm)"`).FindStringSubmatch(page)
	if status != http.StatusOK || held == nil {
		t.Fatalf("booking: %d, the page does not ask for the code sent:\n%s", status, page)
	}
	sent, ok := e.notices.Last(contact)
	if !ok || sent.Kind != notice.ConfirmContact {
		t.Fatalf("no confirmation code was sent to %s: %+v", contact, sent)
	}
	status, page = b.post(held[1], url.Values{"code": {sent.Code}})
	m := codeOnPage.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("booking: %d, no code on the confirmation:\n%s", status, page)
	}
	if sent, _ := e.notices.Last(contact); sent.Kind != notice.Booked || sent.Booking != m[1] {
		t.Fatalf("after confirming, the last notice to %s is %+v, want Booked with %s", contact, sent, m[1])
	}
	path := regexp.MustCompile(`action="(/booking/[^"]+)/cancel"`).FindStringSubmatch(page)
	if path == nil {
		t.Fatalf("no cancel link on the confirmation:\n%s", page)
	}
	return path[1], m[1]
}

func TestBookingCheckInAtKioskAndCall(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	confirmation, code := b.book("family", "10:00", "Jan Kowalski", "jan.kowalski@example.pl")
	if _, ok := links.NormalizeCode(code); !ok || strings.ContainsAny(code, "O0I1") {
		t.Fatalf("code %q is not a kiosk-keypad code", code)
	}
	page := b.get(confirmation)
	for _, want := range []string{code, "Jan Kowalski", "10:00", `class="qr"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the confirmation lacks %q", want)
		}
	}

	// Too early: the answer says from when.
	checkin := "/api/v1/offices/" + e.office.ID + "/checkins"
	status, body := e.api("kiosk", "POST", checkin, `{"code":"`+strings.ToLower(code)+`","lang":"en","request_id":"k-1"}`)
	if status != http.StatusConflict || body["reason"] != "too-early" || !strings.Contains(fmt.Sprint(body["message"]), "09:30") {
		t.Fatalf("check-in at 08:00 for 10:00: %d %v, want 409 too-early saying 09:30", status, body)
	}
	e.clock.Set(monday(e.office, "09:35"))
	status, body = e.api("kiosk", "POST", checkin, `{"code":"`+code+`","lang":"en","request_id":"k-2"}`)
	if status != http.StatusCreated {
		t.Fatalf("check-in at 09:35: %d %v", status, body)
	}
	tk := body["ticket"].(map[string]any)
	eticket := fmt.Sprint(body["eticket_url"])
	if tk["channel"] != "booking" || !strings.HasPrefix(eticket, e.url+"/e/"+e.office.ID+"/") {
		t.Fatalf("checked-in ticket %v, e-ticket %q", tk, eticket)
	}
	again, body2 := e.api("kiosk", "POST", checkin, `{"code":"`+code+`","lang":"en","request_id":"k-2"}`)
	if again != http.StatusOK || body2["ticket"].(map[string]any)["id"] != tk["id"] {
		t.Errorf("the same check-in again: %d %v, want 200 and the same ticket", again, body2)
	}
	if st, _ := e.api("hall", "POST", checkin, `{"code":"`+code+`"}`); st != http.StatusForbidden {
		t.Errorf("a hall display checking in: %d, want 403", st)
	}

	// A walk-in at 09:36 is called first at 09:40: the booking waits for its slot.
	status, walk := e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl","request_id":"w-1"}`)
	if status != http.StatusCreated {
		t.Fatalf("walk-in: %d %v", status, walk)
	}
	e.clock.Set(monday(e.office, "09:40"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	if res := e.do(queue.CallNext{Counter: 1}); res.Ticket == nil || res.Ticket.ID == tk["id"] {
		t.Fatalf("at 09:40 counter 1 called %+v: the booked visit must wait for 10:00", res.Ticket)
	}
	e.do(queue.Finish{Counter: 1})
	e.clock.Set(monday(e.office, "10:00"))
	if res := e.do(queue.CallNext{Counter: 1}); res.Ticket == nil || res.Ticket.ID != tk["id"] {
		t.Fatalf("at 10:00 counter 1 called %+v, want the booked visit %v", res.Ticket, tk["id"])
	}
	page = b.get(strings.TrimPrefix(eticket, e.url) + "?lang=en")
	if !strings.Contains(page, "It&#39;s your turn!") || !strings.Contains(page, `class="counter-no">1<`) {
		t.Errorf("the e-ticket does not say called at counter 1:\n%s", page)
	}
	if page := b.get(confirmation); !strings.Contains(page, strings.TrimPrefix(eticket, e.url)) {
		t.Error("the confirmation does not lead to the ticket after check-in")
	}
}

func TestPurgeAfterRetention(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	confirmation, code := b.book("family", "10:00", "Zofia Wiśniewska", "zofia@example.pl")
	if n, _ := e.db.CountBookings(); n != 1 {
		t.Fatalf("%d bookings stored, want 1", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.desk.RunPurge(ctx, 20*time.Millisecond) }()
	defer func() { cancel(); <-done }()

	// 29 days after the visit the data is still there; past 30 it goes.
	// (A purge pass made here, rather than a wait for the next tick.)
	e.clock.Set(monday(e.office, "10:00").AddDate(0, 0, 29))
	if n, err := e.desk.Purge(); n != 0 || err != nil {
		t.Fatalf("a purge on day 29 took %d bookings (%v)", n, err)
	}
	if page := b.get(confirmation); !strings.Contains(page, "Zofia") {
		t.Fatal("the booking was purged before the office's 30-day retention")
	}
	e.clock.Set(monday(e.office, "10:01").AddDate(0, 0, 30))
	waitfor.Until(t, "the booking purged after the retention", 3*time.Second, func() bool {
		n, _ := e.db.CountBookings()
		return n == 0
	})
	page := b.get(confirmation + "?lang=en")
	if strings.Contains(page, "Zofia") || strings.Contains(page, code) || !strings.Contains(page, "deleted") {
		t.Errorf("after the purge the confirmation shows:\n%s", page)
	}
	// Personal data never reached the logs or the office's event log.
	for _, secret := range []string{"Zofia", "Wiśniewska", "zofia@example.pl"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("the server log holds %q", secret)
		}
		raw, err := os.ReadFile(e.dataDir + "/" + e.office.ID + ".db")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), secret) {
			t.Errorf("the office's event log holds %q", secret)
		}
	}
}

// Cancelling asks once: the button on the booking's page leads to the
// question, and only its "yes" cancels; the resident is told.
func TestCancelAsksOnceThenFreesTheSlot(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	confirmation, _ := b.book("family", "10:00", "Jan Kowalski", "600100200")
	b.get(confirmation)
	st, page := b.post(confirmation+"/cancel", url.Values{})
	if st != http.StatusOK || !strings.Contains(page, "Cancel this visit?") || !strings.Contains(page, `name="confirm" value="yes"`) {
		t.Fatalf("the first press of cancel: %d, want the question\n%s", st, page)
	}
	if stored, _, _ := e.db.Booking(e.office.ID, strings.Split(confirmation, "/")[3]); stored.Cancelled {
		t.Fatal("the booking was cancelled before the resident said yes")
	}
	if page := b.get(confirmation + "/cancel"); !strings.Contains(page, "Cancel this visit?") {
		t.Errorf("the question page by its address:\n%s", page)
	}
	if st, page := b.post(confirmation+"/cancel", url.Values{"confirm": {"yes"}}); st != http.StatusOK || !strings.Contains(page, "Your visit is cancelled") {
		t.Fatalf("cancel: %d\n%s", st, page)
	}
	if n, _ := e.notices.Last("600100200"); n.Kind != notice.Cancelled {
		t.Errorf("the last notice is %+v, want Cancelled", n)
	}
	stored, ok, _ := e.db.Booking(e.office.ID, strings.Split(confirmation, "/")[3])
	if !ok || stored.Name != "" || stored.Contact != "" {
		t.Errorf("after cancelling the personal data is %+v", stored)
	}
	// The single place of 10:00 is free again.
	b.book("family", "10:00", "Ewa Lis", "ewa@example.pl")
}

func TestBookingFormSaysWhatIsWrong(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	slot := monday(e.office, "11:00").Format(time.RFC3339)
	b.get("/book/" + e.office.ID + "?service=family&day=2026-11-23&slot=" + url.QueryEscape(slot) + "&lang=en")
	for _, tc := range []struct {
		name, contact, terms, want string
	}{
		{"", "a@b.pl", "yes", "Please enter your name."},
		{"Jan K", "not-an-email@", "yes", "This e-mail address does not look right."},
		{"Jan K", "12 34", "yes", "A phone number has 9 to 15 digits"},
		{"Jan K", "a@b.pl", "", "Please accept the terms"},
	} {
		st, page := b.post("/book/"+e.office.ID, url.Values{"service": {"family"}, "day": {"2026-11-23"}, "slot": {slot},
			"name": {tc.name}, "contact": {tc.contact}, "terms": {tc.terms}})
		if st != http.StatusBadRequest || !strings.Contains(page, tc.want) || !strings.Contains(page, `aria-invalid="true"`) {
			t.Errorf("%+v: %d, want 400 saying %q at the field", tc, st, tc.want)
		}
		if tc.contact != "" && !strings.Contains(page, `value="`+strings.ReplaceAll(tc.contact, "@", "@")) {
			t.Errorf("%+v: the typed contact was lost", tc)
		}
	}
	if n, _ := e.db.CountBookings(); n != 0 {
		t.Errorf("%d bookings stored from refused forms", n)
	}
}

func TestStaffLoginSessionsAndCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	if page := b.get("/staff/console"); !strings.Contains(page, `action="/staff/login"`) {
		t.Fatal("the console opens without a login")
	}
	b.get("/staff/login?lang=en")
	if st, page := b.post("/staff/login", url.Values{"name": {"anna"}, "password": {"wrong password!"}}); st != http.StatusUnauthorized || !strings.Contains(page, "Wrong login or password.") {
		t.Fatalf("wrong password: %d", st)
	}
	b.get("/staff/login")
	if st, _ := b.post("/staff/login", url.Values{"name": {"anna"}, "password": {"correct horse battery"}, "csrf": {"forged-forged-forged-forged-forged-12"}}); st != http.StatusForbidden {
		t.Fatalf("login with a forged CSRF token: %d, want 403", st)
	}
	b.login("anna", "correct horse battery")
	for _, c := range b.c.Jar.Cookies(mustURL(e.url + "/staff")) {
		if c.Name == sessionCookie && len(c.Value) < 40 {
			t.Errorf("session cookie %q is short", c.Value)
		}
	}
	b.post("/staff/counter", url.Values{"office": {e.office.ID}, "counter": {"1"}})
	seq := e.actor.Seq()
	st, _ := b.post("/staff/console/open", url.Values{"office": {e.office.ID}, "counter": {"1"}, "csrf": {"not-the-session-token-at-all-0123456789"}})
	if st != http.StatusForbidden || e.actor.Seq() != seq {
		t.Fatalf("a move with a forged CSRF token: %d, seq %d -> %d; want 403 and no change", st, seq, e.actor.Seq())
	}
	b.get("/staff/console")
	if st, page := b.post("/staff/console/open", url.Values{"office": {e.office.ID}, "counter": {"1"}}); st != http.StatusOK || !strings.Contains(page, `badge open`) {
		t.Fatalf("opening the counter: %d", st)
	}
	// Cross-site posts are refused before any token is looked at.
	req, _ := http.NewRequest("POST", e.url+"/staff/console/next", strings.NewReader("office=x"))
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := b.c.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site post: %v %v, want 403", resp.StatusCode, err)
	}
	b.post("/staff/logout", url.Values{})
	if page := b.get("/staff/console"); !strings.Contains(page, `action="/staff/login"`) {
		t.Error("the console still opens after logging out")
	}
}

func TestClerkRefusedAtAnotherCounter(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 2, Status: queue.CounterOpenStatus})
	e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl"}`)
	b := e.browser()
	b.login("anna", "correct horse battery")
	b.post("/staff/counter", url.Values{"office": {e.office.ID}, "counter": {"1"}})
	seq := e.actor.Seq()
	st, page := b.post("/staff/console/next", url.Values{"office": {e.office.ID}, "counter": {"2"}})
	if st != http.StatusForbidden || !strings.Contains(page, "stanowisku 1") || e.actor.Seq() != seq {
		t.Fatalf("clerk of counter 1 calling at counter 2: %d, seq %d -> %d\n%s", st, seq, e.actor.Seq(), page)
	}
}

func TestConsoleMoves(t *testing.T) {
	e, b, form := clerkAtCounter1(t, 3)
	steps := []struct {
		action string
		form   url.Values
		want   string // on the console afterwards
	}{
		{"open", form(), "otwarte"},
		{"next", form(), `id="current-number">A001<`},
		{"recall", form(), "wywołany ponownie 1×"},
		{"start", form(), "w obsłudze"},
		{"finish", form(), "Nikogo nie ma przy stanowisku"},
		{"next", form(), `id="current-number">A002<`},
		{"no-show", form(), "Nikogo nie ma przy stanowisku"},
		{"next", form(), `id="current-number">A003<`},
		{"park", form(), "Odłożone tutaj"},
		{"call", form("ticket", "A003"), `id="current-number">A003<`},
		{"transfer", form("to_service", "maintenance", "note", "zaświadczenie z ZUS", "keep_place", "yes"), "Nikogo nie ma przy stanowisku"},
		{"pause", form(), "przerwa"},
		{"open", form(), "otwarte"},
		{"close", form(), "Zamknąć stanowisko 1?"},
		{"close", form("confirm", "yes"), "zamknięte"},
		{"undo", form(), "otwarte"},
	}
	for _, s := range steps {
		b.get("/staff/console")
		st, page := b.post("/staff/console/"+s.action, s.form)
		if st != http.StatusOK || !strings.Contains(page, s.want) || strings.Contains(page, `class="alert error"`) {
			t.Fatalf("%s: %d, want %q on the console\n%s", s.action, st, s.want, page)
		}
	}
	var moved queue.TicketView
	_ = e.actor.Query(context.Background(), func(s *queue.State) { moved, _ = s.TicketView("A003", e.clock.Now()) })
	if moved.Service != "maintenance" || moved.Note != "zaświadczenie z ZUS" || moved.State != queue.Waiting {
		t.Errorf("after the transfer A003 is %+v", moved)
	}
	// The panel the console's script fetches is the same panel.
	if panel := b.get("/staff/console/panel"); !strings.Contains(panel, `data-key="n"`) || strings.Contains(panel, "<html") {
		t.Errorf("the live panel:\n%s", panel)
	}
}

func TestETicketAddressRevealsNothingElse(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	b := e.browser()
	b.get("/o/" + e.office.ID)
	st, page := b.post("/o/"+e.office.ID+"/ticket", url.Values{"service": {"family"}, "nonce": {"n1"}})
	if st != http.StatusOK || !strings.Contains(page, ">A001<") {
		t.Fatalf("phone ticket: %d\n%s", st, page)
	}
	// Another resident's ticket (one browser holds one per matter).
	b2 := e.browser()
	b2.get("/o/" + e.office.ID)
	b2.post("/o/"+e.office.ID+"/ticket", url.Values{"service": {"family"}, "nonce": {"n2"}})
	own := e.links.TicketPath(e.office.ID, "2026-11-23-A001")
	other := e.links.TicketPath(e.office.ID, "2026-11-23-A002")
	forged := own[:strings.LastIndex(own, "/")] + other[strings.LastIndex(other, "/"):]
	for _, p := range []string{forged, "/e/" + e.office.ID + "/2026-11-23-A001/aaaaaaaaaaaaaaaa", "/e/nowhere/2026-11-23-A001/x"} {
		if page := b.get(p); b.status != http.StatusNotFound || strings.Contains(stripAttrs(page), "A001") {
			t.Errorf("%s: %d, want 404 showing no ticket", p, b.status)
		}
	}
	// The ticket's stream carries that ticket only.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+own+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	updates := make(chan string, 100)
	go func() {
		defer close(updates)
		_ = sse.Read(resp.Body, func(m sse.Message) error { updates <- string(m.Data); return nil })
	}()
	next := func() string {
		u, ok := <-updates
		if !ok {
			t.Fatal("the stream ended")
		}
		return u
	}
	if first := next(); !strings.Contains(first, `"number":"A001"`) || !strings.Contains(first, `"state":"waiting"`) {
		t.Fatalf("first update %s", first)
	}
	if n := e.metric("numerek_event_streams_open", map[string]string{"stream": "page"}); n != 1 {
		t.Errorf("with the e-ticket's stream open, numerek_event_streams_open{stream=page} = %v, want 1", n)
	}
	// The office asks a phone ticket near the front to confirm; A001 is.
	e.do(queue.ConfirmPresence{Ticket: "A001", Presence: queue.PresenceHere})
	if confirmed := next(); !strings.Contains(confirmed, "presence-said") {
		t.Errorf("update after confirming: %s", confirmed)
	}
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	e.do(queue.CallNext{Counter: 1})
	called := next()
	if !strings.Contains(called, `"state":"called"`) || !strings.Contains(called, `"counter":1`) || strings.Contains(called, "A002") {
		t.Errorf("update after the call: %s", called)
	}
}

func TestRatingAfterService(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	b := e.browser()
	b.get("/o/" + e.office.ID + "?lang=en")
	b.post("/o/"+e.office.ID+"/ticket", url.Values{"service": {"documents"}, "nonce": {"r1"}})
	e.do(queue.ConfirmPresence{Ticket: "D001", Presence: queue.PresenceOnTheWay})
	e.do(queue.SetCounter{Counter: 6, Status: queue.CounterOpenStatus})
	e.do(queue.CallNext{Counter: 6})
	e.do(queue.Finish{Counter: 6})
	path := e.links.TicketPath(e.office.ID, "2026-11-23-D001")
	if page := b.get(path); !strings.Contains(page, "How was your visit?") {
		t.Fatalf("no rating after service:\n%s", page)
	}
	if st, page := b.post(path+"/rate", url.Values{"rating": {"good"}}); st != http.StatusOK || !strings.Contains(page, "Thank you for your rating.") {
		t.Fatalf("rating: %d", st)
	}
	var tv queue.TicketView
	_ = e.actor.Query(context.Background(), func(s *queue.State) { tv, _ = s.TicketView("D001", e.clock.Now()) })
	if tv.Rating != queue.RatingGood {
		t.Errorf("rating stored %q", tv.Rating)
	}
}

func TestAssistantIssuesAndMoves(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	b := e.browser()
	b.login("anna", "correct horse battery")
	b.get("/staff/assistant")
	st, page := b.post("/staff/assistant/issue", url.Values{"office": {e.office.ID}, "service": {"care"}, "lang": {"uk"},
		"note": {"dokumenty sprawdzone"}, "deliver": {"kiosk-lobby"}, "nonce": {"a1"}})
	if st != http.StatusOK || !strings.Contains(page, "Wydano bilet E001") || !strings.Contains(page, "kiosk-lobby") || !strings.Contains(page, `class="qr"`) {
		t.Fatalf("assistant issue: %d\n%s", st, page)
	}
	events, _ := e.actor.EventsAfter(0, 0)
	var issued queue.Ticket
	for _, ev := range events {
		if ti, ok := ev.Body.(queue.TicketIssued); ok {
			issued = ti.Ticket
		}
	}
	if issued.Channel != queue.ChannelAssistant || issued.Device != "kiosk-lobby" || issued.Note != "dokumenty sprawdzone" || issued.Lang != "uk" {
		t.Errorf("issued %+v", issued)
	}
	b.get("/staff/assistant")
	if st, page := b.post("/staff/assistant/move", url.Values{"office": {e.office.ID}, "ticket": {"E001"}, "to_service": {"family"}, "note": {"to świadczenia rodzinne"}}); st != http.StatusOK || !strings.Contains(page, "Bilet E001 przeniesiony.") {
		t.Fatalf("move: %d\n%s", st, page)
	}
}

func TestAdminPages(t *testing.T) {
	e := newEnv(t)
	clerk := e.browser()
	clerk.login("anna", "correct horse battery")
	for _, p := range []string{"/staff/admin/clerks", "/staff/admin/tokens", "/staff/stats"} {
		if clerk.get(p); clerk.status != http.StatusForbidden {
			t.Errorf("a clerk opening %s: %d, want 403", p, clerk.status)
		}
	}
	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	admin.get("/staff/admin/clerks")
	if st, page := admin.post("/staff/admin/clerks", url.Values{"name": {"piotr"}, "password": {"another long pass"}, "role": {"clerk"}, "offices": {e.office.ID}}); st != http.StatusOK || !strings.Contains(page, "piotr") {
		t.Fatalf("adding a clerk: %d", st)
	}
	e.browser().login("piotr", "another long pass")
	if _, page := admin.post("/staff/admin/clerks", url.Values{"name": {"x"}, "password": {"short"}, "role": {"clerk"}, "offices": {e.office.ID}}); !strings.Contains(page, "at least 10") {
		t.Error("a short password is not refused with a reason")
	}
	if st, _ := admin.post("/staff/admin/clerks", url.Values{"name": {"boss"}, "password": {"another long pass"}, "role": {"admin"}, "offices": {"*"}}); st != http.StatusForbidden {
		t.Errorf("an office's admin granting every office: %d, want 403", st)
	}
	admin.get("/staff/admin/tokens")
	st, page := admin.post("/staff/admin/tokens", url.Values{"office": {e.office.ID}, "role": {"counter"}, "counter": {"3"}, "label": {"counter-3"}})
	secret := regexp.MustCompile(`id="token-secret">([^<]+)<`).FindStringSubmatch(page)
	if st != http.StatusCreated || secret == nil {
		t.Fatalf("creating a token: %d\n%s", st, page)
	}
	e.tokens["new"] = secret[1]
	if st, _ := e.api("new", "POST", "/api/v1/offices/"+e.office.ID+"/counters/3/open", ""); st != http.StatusOK {
		t.Errorf("the new counter-3 token opening counter 3: %d", st)
	}
	id := regexp.MustCompile(`<code>([0-9a-f]+)</code></td><td>` + e.office.ID + `</td><td>counter 3`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("the new token is not listed")
	}
	admin.get("/staff/admin/tokens")
	admin.post("/staff/admin/tokens/revoke", url.Values{"id": {id[1]}})
	waitfor.Until(t, "the revoked token refused", 3*time.Second, func() bool {
		st, _ := e.api("new", "GET", "/api/v1/offices/"+e.office.ID+"/state", "")
		return st == http.StatusUnauthorized
	})
}

func TestStatisticsPageAndCSV(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	for _, ch := range []string{"kiosk", "kiosk", "phone"} {
		e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.Channel(ch)})
	}
	e.clock.Set(monday(e.office, "09:12"))
	e.do(queue.CallNext{Counter: 1})
	e.clock.Set(monday(e.office, "09:20"))
	e.do(queue.Finish{Counter: 1})
	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	page := admin.get("/staff/stats?lang=en&from=2026-11-20&to=2026-11-23")
	for _, want := range []string{"<svg", "Tickets issued per day, by channel", ">3<", "Download CSV", "target 20 min"} {
		if !strings.Contains(page, want) {
			t.Errorf("statistics page lacks %q", want)
		}
	}
	if admin.get("/staff/stats?from=2026-11-23&to=2026-11-01"); admin.status != http.StatusBadRequest {
		t.Errorf("a reversed range: %d, want 400", admin.status)
	}
	resp, err := admin.c.Get(e.url + "/staff/stats.csv?from=2026-11-23&to=2026-11-23")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("CSV: %v %v", rows, err)
	}
	if got := strings.Join(rows[1][:9], ","); got != "2026-11-23,day,all,3,2,1,0,0,1" {
		t.Errorf("CSV day row starts %s", got)
	}
	if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Error("the CSV is not offered as a download")
	}
}

func TestEveryPageInEveryLanguage(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	b := e.browser()
	confirmation, _ := b.book("family", "11:00", "Jan Kowalski", "jan@example.pl")
	ticket := e.links.TicketPath(e.office.ID, "2026-11-23-A001")
	b.get("/o/" + e.office.ID)
	b.post("/o/"+e.office.ID+"/ticket", url.Values{"service": {"family"}, "nonce": {"x"}})
	staff := e.browser()
	staff.login("kierownik", "correct horse battery")
	staff.post("/staff/counter", url.Values{"office": {e.office.ID}, "counter": {"1"}})
	pages := []struct {
		b    *browser
		path string
	}{
		{b, "/o/" + e.office.ID}, {b, "/book/" + e.office.ID}, {b, "/book/" + e.office.ID + "?service=family"},
		{b, "/book/" + e.office.ID + "?service=family&day=2026-11-23"}, {b, confirmation}, {b, ticket},
		{b, "/staff/login"}, {staff, "/staff"}, {staff, "/staff/console"}, {staff, "/staff/assistant"},
		{staff, "/staff/stats"}, {staff, "/staff/admin/clerks"}, {staff, "/staff/admin/tokens"}, {staff, "/staff/admin/messages"},
	}
	for _, lang := range i18n.Languages {
		for _, p := range pages {
			sep := "?"
			if strings.Contains(p.path, "?") {
				sep = "&"
			}
			page := p.b.get(p.path + sep + "lang=" + lang)
			if p.b.status != http.StatusOK {
				t.Errorf("%s in %s: %d", p.path, lang, p.b.status)
			}
			if m := regexp.MustCompile(`\b(web|refusal|when|wait)\.[a-z_.-]+`).FindString(stripAttrs(page)); m != "" {
				t.Errorf("%s in %s shows the raw key %q", p.path, lang, m)
			}
			if !strings.Contains(page, `<html lang="`+lang+`"`) {
				t.Errorf("%s in %s: the page does not declare its language", p.path, lang)
			}
		}
	}
}

// stripAttrs drops tags, so paths and class names do not look like keys.
func stripAttrs(page string) string { return regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " ") }

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	resp, err := http.Get(e.url + "/o/" + e.office.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{
		"Content-Security-Policy": "script-src 'self'", "Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
	} {
		if !strings.Contains(resp.Header.Get(h), want) {
			t.Errorf("%s: %q, want %q", h, resp.Header.Get(h), want)
		}
	}
	for _, c := range resp.Cookies() {
		if c.Name == "csrf" && (!c.HttpOnly || c.SameSite != http.SameSiteStrictMode) {
			t.Errorf("the CSRF cookie is %+v", c)
		}
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
