package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
)

// takePhoneTicket takes a phone ticket for service in English and returns
// the final page.
func (b *browser) takePhoneTicket(service, nonce string, extra ...string) (int, string) {
	b.e.t.Helper()
	b.get("/o/" + b.e.office.ID + "?lang=en")
	form := url.Values{"service": {service}, "nonce": {nonce}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	return b.post("/o/"+b.e.office.ID+"/ticket", form)
}

// ticketStream opens an e-ticket's event stream; next returns its next
// update ("state=<state>" and the status block's HTML), waiting at most
// 5 s.
func ticketStream(t *testing.T, e *env, path string) (next func() string) {
	t.Helper()
	return streamUpdates(t, e.url+path+"/events?lang=en", func(data []byte) (string, error) {
		var ev ticketEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return "", err
		}
		return fmt.Sprintf("state=%s\n%s", ev.State, ev.HTML), nil
	})
}

// streamUpdates opens a page's event stream at url; next returns its next
// event's data as decode puts it, waiting at most 5 s.
func streamUpdates(t *testing.T, url string, decode func([]byte) (string, error)) (next func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	updates := make(chan string, 100)
	last := ""
	go func() {
		defer close(updates)
		_ = sse.Read(resp.Body, func(m sse.Message) error {
			u, err := decode(m.Data)
			if err != nil {
				return err
			}
			updates <- u
			return nil
		})
	}()
	return func() string {
		select {
		case u, ok := <-updates:
			if !ok {
				t.Fatal("the stream ended")
			}
			last = u
			return u
		case <-time.After(5 * time.Second):
			t.Fatalf("no update within 5 s; the last:\n%s", last)
		}
		return ""
	}
}

func TestSecondPhoneTicketFromOneBrowserIsTheFirst(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	resident := e.browser()
	tests := []struct {
		name     string
		who      *browser
		service  string
		extra    []string
		want     string
		existing bool
	}{
		{"first ticket", resident, "family", nil, "A001", false},
		{"again, same matter", resident, "family", nil, "A001", true},
		{"another matter", resident, "maintenance", nil, "F001", false},
		{"another browser", e.browser(), "family", nil, "A002", false},
		{"a contact", e.browser(), "family", []string{"contact", "+48 600 100 200"}, "A003", false},
		{"the same contact, another browser", e.browser(), "family", []string{"contact", "600-100-200"}, "A003", true},
	}
	for i, tc := range tests {
		st, page := tc.who.takePhoneTicket(tc.service, fmt.Sprint("n", i), tc.extra...)
		if st != http.StatusOK || !strings.Contains(page, ">"+tc.want+"<") {
			t.Fatalf("%s: %d, want ticket %s\n%s", tc.name, st, tc.want, page)
		}
		said := strings.Contains(page, "You already have ticket "+tc.want+" for this matter")
		if said != tc.existing {
			t.Errorf("%s: says it is the ticket already held: %v, want %v", tc.name, said, tc.existing)
		}
	}
	if n := len(e.tickets()); n != 4 {
		t.Errorf("%d tickets issued, want 4", n)
	}
	// Only keyed hashes of the browser and the contact reach the log.
	raw, err := os.ReadFile(filepath.Join(e.dataDir, e.office.ID+".db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"600 100 200", "600100200", "600-100-200"} {
		if strings.Contains(e.logs.String(), secret) || strings.Contains(string(raw), secret) {
			t.Errorf("the server's log or the office's event log holds the contact %q", secret)
		}
	}
	if h := e.tickets()["2026-11-23-A003"].Holders; len(h) != 2 {
		t.Errorf("A003 holders %q, want the browser's and the contact's keys", h)
	}
}

func TestPresenceFormRefusesWhatItDoesNotKnow(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	b := e.browser()
	b.takePhoneTicket("family", "f1")
	path := e.links.TicketPath(e.office.ID, "2026-11-23-A001")
	tests := []struct {
		name, presence string
		csrf           bool
		status         int
		says           string
	}{
		{"no such answer", "maybe", true, http.StatusBadRequest, "alert error"},
		{"a forged form", "here", false, http.StatusForbidden, ""},
		{"here", "here", true, http.StatusOK, "you said you are here"},
		{"again, on the way", "on-the-way", true, http.StatusOK, "you said you are on your way"},
	}
	// The form's token is the browser's cookie: it stays the same after
	// the answer, when the page no longer shows the form.
	own := csrfField.FindStringSubmatch(b.get(path + "?lang=en"))[1]
	for _, tc := range tests {
		token := "forged-forged-forged-forged-forged"
		if tc.csrf {
			token = own
		}
		st, body := b.post(path+"/presence", url.Values{"presence": {tc.presence}, "csrf": {token}})
		if st != tc.status || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%s", tc.name, st, tc.status, tc.says, body)
		}
	}
	if p := e.tickets()["2026-11-23-A001"].Presence; p != queue.PresenceOnTheWay {
		t.Errorf("presence %q, want the last answer", p)
	}
}

func TestRemoteCapPausesPhoneTicketsNotTheKiosk(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	// The example office's cap is 20 phone tickets waiting; the per-address
	// limit would stop one test address well before, so the first 20 come
	// straight to the office, each from its own browser.
	for i := range e.office.Remote.MaxWaiting {
		e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelPhone, Holders: []string{fmt.Sprint("b", i)}})
	}
	b := e.browser()
	if page := b.get("/o/" + e.office.ID + "?lang=en"); !strings.Contains(page, "Phone tickets are paused for now") {
		t.Errorf("the office page does not say phone tickets are paused:\n%s", page)
	}
	st, page := b.post("/o/"+e.office.ID+"/ticket", url.Values{"service": {"family"}, "nonce": {"cap"}})
	if st != http.StatusConflict || !strings.Contains(page, "come to the office and take a ticket at the machine") {
		t.Errorf("a phone ticket past the cap: %d\n%s", st, page)
	}
	if st, body := e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl"}`); st != http.StatusCreated {
		t.Errorf("the kiosk at the phone cap: %d %v", st, body)
	}
	if n := len(e.tickets()); n != e.office.Remote.MaxWaiting+1 {
		t.Errorf("%d tickets, want the %d phone tickets and the kiosk's", n, e.office.Remote.MaxWaiting)
	}
}

// The presence question, live: asked on the stream when the ticket is
// near the front; unanswered, the ticket is set aside and the next one
// called; answered, it is called next.
func TestUnconfirmedPhoneTicketIsSetAsideThenCalledOnceConfirmed(t *testing.T) {
	e, clerk, form := clerkAtCounter1(t, 0)
	resident := e.browser()
	for range 4 {
		e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl"}`)
	}
	if _, page := resident.takePhoneTicket("family", "p1"); !strings.Contains(page, ">A005<") || strings.Contains(page, "presence-here") {
		t.Fatalf("a phone ticket with 4 ahead should not be asked yet:\n%s", page)
	}
	path := e.links.TicketPath(e.office.ID, "2026-11-23-A005")
	next := ticketStream(t, e, path)
	if first := next(); strings.Contains(first, "presence-here") {
		t.Fatalf("asked with 4 ahead: %s", first)
	}
	clerk.post("/staff/console/open", form())
	clerk.post("/staff/console/next", form()) // A001: 3 ahead of A005 now
	awaitUpdate(next, `<b>3</b>`, "presence-here", "Are you near the office?")
	for range 3 {
		clerk.post("/staff/console/next", form()) // A002, A003, A004
	}
	awaitUpdate(next, `<b>0</b>`, "presence-here")
	// A005 is at the front, unconfirmed: the clerk's next is A006.
	e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl"}`)
	_, console := clerk.post("/staff/console/next", form())
	if !strings.Contains(console, `id="current-number"`) || !strings.Contains(console, "A006") {
		t.Fatalf("the clerk's next did not call A006:\n%s", console)
	}
	if !strings.Contains(console, `id="away-h"`) || !strings.Contains(stripAttrs(console[strings.Index(console, `id="away-h"`):]), "A005") {
		t.Errorf("the console does not list A005 as set aside:\n%s", console)
	}
	awaitUpdate(next, "state=parked-away", "Your ticket has been set aside", "by 09:10", "presence-here")
	tk := e.tickets()["2026-11-23-A005"]
	if tk.Recalls != 0 || !tk.CalledAt.IsZero() {
		t.Errorf("A005 was called (%v) or recalled (%d) while away", tk.CalledAt, tk.Recalls)
	}

	// "I'm here", from the page's own form.
	page := resident.get(path + "?lang=en")
	if st, page := resident.post(path+"/presence", url.Values{"presence": {"here"}, "csrf": {csrfField.FindStringSubmatch(page)[1]}}); st != http.StatusOK || !strings.Contains(page, "you said you are here") {
		t.Fatalf("confirming: %d\n%s", st, page)
	}
	awaitUpdate(next, "state=waiting", "you said you are here")
	e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl"}`)
	if _, console := clerk.post("/staff/console/next", form()); !strings.Contains(console, "A005") || strings.Contains(console, `id="away-h"`) {
		t.Errorf("after confirming, the next call is not A005:\n%s", console)
	}
	awaitUpdate(next, "state=called")
}

func TestSetAsidePhoneTicketEndsAfterTheTimeout(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	resident := e.browser()
	resident.takePhoneTicket("family", "t1")
	e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"pl"}`)
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	if res := e.do(queue.CallNext{Counter: 1}); res.Decision.Ticket != "2026-11-23-A002" {
		t.Fatalf("called %s, want A002 with A001 set aside", res.Decision.Ticket)
	}
	path := e.links.TicketPath(e.office.ID, "2026-11-23-A001")
	next := ticketStream(t, e, path)
	awaitUpdate(next, "state=parked-away")
	tests := []struct {
		at   string
		want queue.TicketState
	}{
		{"09:09", queue.ParkedAway},
		{"09:10", queue.Cancelled},
	}
	for _, tc := range tests {
		e.clock.Set(monday(e.office, tc.at))
		// Any command brings the office to the time first, as the actor's
		// own timer does every ViewEvery.
		e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
		if got := e.tickets()["2026-11-23-A001"].State; got != tc.want {
			t.Errorf("at %s: %s, want %s", tc.at, got, tc.want)
		}
	}
	awaitUpdate(next, "state=cancelled")
	if page := resident.get(path + "?lang=en"); !strings.Contains(page, "it was set aside and not confirmed in time") {
		t.Errorf("the ended ticket's page:\n%s", page)
	}
}

// awaitUpdate reads updates until one holds every part of want, and
// returns it; the stream ends the test if it ends first.
func awaitUpdate(next func() string, want ...string) string {
	for {
		u := next()
		all := true
		for _, w := range want {
			all = all && strings.Contains(u, w)
		}
		if all {
			return u
		}
	}
}

// tickets are today's tickets of the office, by id.
func (e *env) tickets() map[string]queue.Ticket {
	e.t.Helper()
	out := map[string]queue.Ticket{}
	if err := e.actor.Query(context.Background(), func(s *queue.State) {
		for id, t := range s.Tickets {
			out[id] = *t
		}
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// On a browser's first visit the limits and the holder key ask for its
// id in the same request: both must get the one id the browser keeps.
func TestBrowserIDIsOnePerRequest(t *testing.T) {
	e := newEnv(t)
	rw := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/o/"+e.office.ID+"/ticket", nil)
	first := e.web.browserID(rw, r)
	if again := e.web.browserID(rw, r); again != first {
		t.Errorf("a second ask in the request gave %q, want %q", again, first)
	}
	if n := len(rw.Result().Cookies()); n != 1 {
		t.Errorf("%d cookies set, want the one id", n)
	}
	r.AddCookie(rw.Result().Cookies()[0])
	if later := e.web.browserID(httptest.NewRecorder(), r); later != first {
		t.Errorf("the next request's id %q, want %q", later, first)
	}
}
