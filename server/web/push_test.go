package web

import (
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/pushservice"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/server/push"
)

// pushWait bounds how long a test waits for a push; they take milliseconds.
const pushWait = 10 * time.Second

// subscribeTicket takes a phone ticket in lang behind waiting others and
// hands a new subscription of the stand-in push service to the server
// from the e-ticket page, as push.js does; it returns the ticket's
// number, id and the subscription.
func subscribeTicket(t *testing.T, e *env, lang string) (number, id string, sub *pushservice.Subscription) {
	t.Helper()
	res := e.do(queue.Issue{Service: "family", Lang: lang, Channel: queue.ChannelPhone})
	id = res.Decision.Ticket
	path := e.links.TicketPath(e.office.ID, id)
	b := e.browser()
	page := b.get(path + "?lang=en")
	if !strings.Contains(page, `id="push-notify"`) || !strings.Contains(page, `rel="manifest"`) {
		t.Fatalf("the e-ticket page offers no push or no manifest:\n%s", page)
	}
	sub = e.push.Subscribe()
	st, body := b.post(path+"/push", url.Values{"endpoint": {sub.Endpoint}, "p256dh": {sub.P256dh}, "auth": {sub.Auth}})
	if st != http.StatusNoContent {
		t.Fatalf("handing the subscription: %d\n%s", st, body)
	}
	tv, _, _ := ticketNow(t.Context(), e.actor, id, e.clock.Now())
	return tv.Number, id, sub
}

// nextPush waits for the next push at the stand-in and decodes it.
func nextPush(t *testing.T, e *env, what string) (pushservice.Push, push.Message) {
	t.Helper()
	p, ok := e.push.Next(pushWait)
	if !ok {
		t.Fatalf("no push for %s within %v", what, pushWait)
	}
	var m push.Message
	if p.Status == http.StatusCreated {
		if err := json.Unmarshal(p.Message, &m); err != nil {
			t.Fatalf("%s: the push is not a message: %v\n%s", what, err, p.Message)
		}
	}
	return p, m
}

// A resident's phone, told by Web Push: "3 ahead" once, the call and the
// recall, in the ticket's language (Ukrainian, the page read in English),
// encrypted for the subscription's keys and signed with the server's
// VAPID key; when the push service says the subscription is gone, the
// server forgets it.
// pushEnv is a server whose phone tickets are called without asking the
// resident "are you near?" first (docs/phone-tickets.md): these tests are
// about what the phone is told, and each call must reach the ticket.
func pushEnv(tb testing.TB, adjust ...func(*queue.Office)) *env {
	return newEnvIn(tb, tb.TempDir(), func(o *queue.Office) {
		o.Remote.PresenceAhead = 0
		for _, f := range adjust {
			f(o)
		}
	})
}

func TestPushTellsTheTicketsMoments(t *testing.T) {
	e := pushEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	for range 5 {
		e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	}
	number, id, sub := subscribeTicket(t, e, "uk")
	cat := i18n.Messages()

	// The page cannot make the server post anywhere but to a push
	// service, nor with keys that are none.
	b := e.browser()
	b.get(e.links.TicketPath(e.office.ID, id))
	csrf := b.csrf()
	for _, bad := range []url.Values{
		{"endpoint": {"https://10.0.0.1/admin"}, "p256dh": {sub.P256dh}, "auth": {sub.Auth}},
		{"endpoint": {"http://" + e.push.Host() + "/push/1"}, "p256dh": {sub.P256dh}, "auth": {sub.Auth}},
		{"endpoint": {sub.Endpoint}, "p256dh": {sub.Auth}, "auth": {sub.Auth}},
	} {
		bad.Set("csrf", csrf)
		if st, _ := b.post(e.links.TicketPath(e.office.ID, id)+"/push", bad); st != http.StatusBadRequest {
			t.Errorf("subscription %v: %d, want 400", bad, st)
		}
	}
	if r, _, _ := e.db.TicketReach(e.office.ID, id); len(r.Subscriptions) != 1 {
		t.Errorf("kept %d subscriptions, want the one good", len(r.Subscriptions))
	}
	wantKey := e.web.PushKeys.Public
	path := e.links.TicketPath(e.office.ID, id)

	check := func(what string, p pushservice.Push, m push.Message, want push.Message, urgency string, ttl int) {
		t.Helper()
		if p.Err != nil || p.Status != http.StatusCreated {
			t.Fatalf("%s: the push service refused the push (%d): %v", what, p.Status, p.Err)
		}
		if p.Endpoint != sub.Endpoint {
			t.Errorf("%s: pushed to %s, want %s", what, p.Endpoint, sub.Endpoint)
		}
		if p.VAPIDKey != wantKey {
			t.Errorf("%s: VAPID k=%s, want the server's key %s", what, p.VAPIDKey, wantKey)
		}
		if p.Claims.Sub != "mailto:it@example.pl" {
			t.Errorf("%s: VAPID sub %q", what, p.Claims.Sub)
		}
		if p.Urgency != urgency || p.TTL != ttl || p.Topic == "" || strings.Contains(p.Topic, number) {
			t.Errorf("%s: Urgency %q TTL %d Topic %q, want %q, %d and a topic not naming the ticket", what, p.Urgency, p.TTL, p.Topic, urgency, ttl)
		}
		if p.RecordSize != 1024 {
			t.Errorf("%s: body of %d bytes, want padded to 1024", what, p.RecordSize)
		}
		if m != want {
			t.Errorf("%s: the phone got\n %+v\nwant\n %+v", what, m, want)
		}
	}

	// Five ahead; two calls later three are.
	for range 2 {
		e.do(queue.CallNext{Counter: 1})
		e.do(queue.Finish{Counter: 1})
	}
	p, m := nextPush(t, e, "3 ahead")
	check("3 ahead", p, m, push.Message{Kind: notice.Ahead, Number: number, Ahead: 3, Lang: "uk", Tag: "numerek-" + number, URL: path,
		Title: cat.T("uk", "push.ahead.title", "number", number), Body: cat.N("uk", "push.ahead.body", 3)}, "normal", 1200)
	if !strings.Contains(m.Body, "3 особи") {
		t.Errorf("the Ukrainian message says %q", m.Body)
	}

	// "Ahead" is said once: the next push is the call.
	for range 3 {
		e.do(queue.CallNext{Counter: 1})
		e.do(queue.Finish{Counter: 1})
	}
	if r := e.do(queue.CallNext{Counter: 1}); r.Ticket == nil || r.Ticket.ID != id {
		t.Fatalf("called %+v, want the phone ticket", r.Ticket)
	}
	p, m = nextPush(t, e, "the call")
	check("the call", p, m, push.Message{Kind: notice.Called, Number: number, Counter: 1, Lang: "uk", Tag: "numerek-" + number, URL: path, Urgent: true,
		Title: cat.T("uk", "push.called.title", "number", number), Body: cat.T("uk", "push.called.body", "counter", 1)}, "high", 300)
	if !strings.Contains(m.Body, "віконця 1") {
		t.Errorf("the call says %q", m.Body)
	}

	e.do(queue.Recall{Counter: 1})
	p, m = nextPush(t, e, "the recall")
	check("the recall", p, m, push.Message{Kind: notice.Recalled, Number: number, Counter: 1, Lang: "uk", Tag: "numerek-" + number, URL: path, Urgent: true,
		Title: cat.T("uk", "push.recalled.title", "number", number), Body: cat.T("uk", "push.recalled.body", "counter", 1)}, "high", 300)

	// The browser unsubscribed: the push service answers 410 and the
	// server drops the subscription (the record with it: no phone).
	e.push.Unsubscribe(sub)
	e.do(queue.Recall{Counter: 1})
	if p, _ = nextPush(t, e, "a recall to a gone subscription"); p.Status != http.StatusGone {
		t.Fatalf("the stand-in answered %d, want 410", p.Status)
	}
	waitfor.Until(t, "the gone subscription dropped", pushWait, func() bool {
		_, found, err := e.db.TicketReach(e.office.ID, id)
		return err == nil && !found
	})
	if logs := e.logs.String(); strings.Contains(logs, sub.Endpoint) || strings.Contains(logs, sub.P256dh) {
		t.Errorf("the log holds the browser's push address or key:\n%s", logs)
	}
}

// When the ticket ends its subscriptions and phone number go; where no
// push gets through and the office allows SMS, the outbox is handed the
// call instead; what the office's retention allows is purged.
func TestPushEndsWithTheTicketAndFallsBackToSMS(t *testing.T) {
	e := pushEnv(t)
	// Set before any event reaches the pusher; no "ahead" in this test.
	e.office.Push.SMSFallback, e.office.Push.NotifyWhenAhead = true, 0
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})

	// A ticket with a push that gets through and a phone: no SMS.
	_, pushed, _ := subscribeTicket(t, e, "pl")
	givePhone(t, e, pushed, "+48 600-100-200")
	// A ticket whose only subscription is gone, with a phone: SMS.
	number, gone, sub := subscribeTicket(t, e, "lt")
	e.push.Unsubscribe(sub)
	givePhone(t, e, gone, "600 100 201")

	e.do(queue.CallNext{Counter: 1})
	if p, _ := nextPush(t, e, "the first call"); p.Status != http.StatusCreated {
		t.Fatalf("first call: %d %v", p.Status, p.Err)
	}
	e.do(queue.Finish{Counter: 1})
	waitfor.Until(t, "the finished ticket's record deleted", pushWait, func() bool {
		_, found, err := e.db.TicketReach(e.office.ID, pushed)
		return err == nil && !found
	})
	e.do(queue.CallNext{Counter: 1})
	if p, _ := nextPush(t, e, "the second call"); p.Status != http.StatusGone {
		t.Fatalf("second call: %d, want 410 from the stand-in", p.Status)
	}
	waitfor.Until(t, "an SMS notice for the second call", pushWait, func() bool { return len(e.notices.Sent()) > 0 })
	sent := e.notices.Sent()
	want := notice.Notice{Kind: notice.Called, Office: e.office.ID, Lang: "lt", Contact: "600100201", Ticket: number, Counter: 1,
		Links: notice.Links{Ticket: e.links.TicketURL(e.office.ID, gone)}, Key: fmt.Sprintf("called/%s/%s/%d", e.office.ID, gone, e.actor.Seq())}
	if len(sent) != 1 || sent[0] != want {
		t.Errorf("the outbox got %+v\nwant [%+v]", sent, want)
	}
	// The numbers as typed and as stored; not "600" alone, which a
	// request's duration (took=600.5µs) may hold.
	for _, phone := range []string{"600-100-200", "600100200", "600 100 201", "600100201", "100-200", "100 201", "+48"} {
		if strings.Contains(e.logs.String(), phone) {
			t.Errorf("the phone number %q is in the log:\n%s", phone, e.logs.String())
		}
	}

	// The day after, a record left behind (the server was down when its
	// ticket ended) is purged.
	if n, err := e.db.PurgeTicketReaches(e.clock.Now().Add(25 * time.Hour)); err != nil || n != 1 {
		t.Errorf("purge a day later: %d records, %v; want the one left", n, err)
	}
}

// givePhone types a phone number into the e-ticket's SMS form.
func givePhone(t *testing.T, e *env, id, phone string) {
	t.Helper()
	b := e.browser()
	path := e.links.TicketPath(e.office.ID, id)
	if page := b.get(path); !strings.Contains(page, `name="phone"`) {
		t.Fatalf("the e-ticket offers no SMS:\n%s", page)
	}
	if st, body := b.post(path+"/phone", url.Values{"phone": {"12ab"}}); st != http.StatusBadRequest || !strings.Contains(body, `id="phone-error"`) {
		t.Fatalf("a wrong number: %d\n%s", st, body)
	}
	if st, body := b.post(path+"/phone", url.Values{"phone": {phone}}); st != http.StatusOK || strings.Contains(body, `name="phone"`) {
		t.Fatalf("giving the number: %d\n%s", st, body)
	}
}

// The e-ticket is an installable app: its manifest, in the resident's
// language, opens on the ticket in its own window with the PNG icons it
// names; the service worker is served from /e/ so its scope covers the
// e-tickets; the page's content policy stays as strict as every page's.
func TestETicketIsInstallable(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	res := e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelPhone})
	path := e.links.TicketPath(e.office.ID, res.Decision.Ticket)
	for _, c := range []struct{ lang, name string }{{"pl", "Mój bilet"}, {"lt", "Mano bilietas"}, {"uk", "Мій талон"}} {
		t.Run(c.lang, func(t *testing.T) {
			page := e.browser().get(path + "?lang=" + c.lang)
			href := path + "/manifest.webmanifest?lang=" + c.lang
			if !strings.Contains(page, `<link rel="manifest" href="`+href+`">`) {
				t.Fatalf("the page links no manifest %s:\n%s", href, page)
			}
			resp, err := http.Get(e.url + href)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m webManifest
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.Header.Get("Content-Type") != "application/manifest+json" {
				t.Fatalf("manifest: %v, %s", err, resp.Header.Get("Content-Type"))
			}
			if m.ShortName != c.name || !strings.HasPrefix(m.Name, c.name) || m.Lang != c.lang || m.StartURL != path || m.Scope != "/e/" || m.Display != "standalone" || m.ThemeColor == "" {
				t.Errorf("manifest %+v", m)
			}
			for _, icon := range m.Icons {
				r, err := http.Get(e.url + icon.Src)
				if err != nil {
					t.Fatal(err)
				}
				img, err := png.DecodeConfig(r.Body)
				r.Body.Close()
				if err != nil || icon.Sizes != fmt.Sprintf("%dx%d", img.Width, img.Height) {
					t.Errorf("icon %s (%s): %v %dx%d", icon.Src, icon.Sizes, err, img.Width, img.Height)
				}
			}
			if len(m.Icons) != 2 || m.Icons[0].Sizes != "192x192" || m.Icons[1].Sizes != "512x512" {
				t.Errorf("icons %+v, want 192 and 512", m.Icons)
			}
		})
	}
	resp, err := http.Get(e.url + "/e/sw.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("service worker: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("service worker's policy %q", csp)
	}
}
