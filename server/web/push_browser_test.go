package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/notice"
)

// fakeSubscribe stands in for PushManager.subscribe, which never settles
// in a Chromium that cannot reach its vendor's push service: it returns
// the stand-in's subscription (endpoint and keys filled in with Sprintf)
// and keeps the applicationServerKey the page asked with, base64url.
const fakeSubscribe = `(() => {
	const sub = {endpoint: %q, expirationTime: null, keys: {p256dh: %q, auth: %q}};
	const bytes = s => {
		const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) %% 4));
		return Uint8Array.from(b, c => c.charCodeAt(0)).buffer;
	};
	const fake = {endpoint: sub.endpoint, expirationTime: null, options: null,
		getKey: name => bytes(sub.keys[name]), toJSON: () => sub, unsubscribe: () => Promise.resolve(true)};
	PushManager.prototype.subscribe = function (opts) {
		const k = new Uint8Array(opts.applicationServerKey);
		window.__serverKey = btoa(String.fromCharCode(...k)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
		return Promise.resolve(fake);
	};
	PushManager.prototype.getSubscription = function () { return Promise.resolve(null); };
})()`

// shownNotification is a notification the service worker showed, as the
// page reads it back.
type shownNotification struct {
	Title              string `json:"title"`
	Body               string `json:"body"`
	Tag                string `json:"tag"`
	RequireInteraction bool   `json:"requireInteraction"`
	Vibrate            []int  `json:"vibrate"`
}

// A phone in Chromium: the resident taps "notify me" on the e-ticket, the
// page subscribes with the server's VAPID key and hands the subscription
// over; the clerk calls the ticket; the push reaches the (stand-in) push
// service and decrypts to the call; delivered to the page's service
// worker, it shows the notification the resident sees.
func TestBrowserPushNotification(t *testing.T) {
	t.Parallel() // its own server and browser: it runs beside the other browser tests
	e := pushEnv(t)
	ctx := newChrome(t)
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	res := e.do(queue.Issue{Service: "family", Lang: "en", Channel: queue.ChannelPhone})
	id := res.Decision.Ticket
	sub := e.push.Subscribe()

	var mu sync.Mutex
	registration := serviceworker.RegistrationID("")
	scope := e.url + "/e/"
	if err := chromedp.Listen(ctx, func(ev any) {
		if u, ok := ev.(*serviceworker.EventWorkerRegistrationUpdated); ok {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range u.Registrations {
				if r.ScopeURL == scope && !r.IsDeleted {
					registration = r.RegistrationID
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: e.url,
	}); err != nil {
		t.Fatalf("granting notifications: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: fmt.Sprintf(fakeSubscribe, sub.Endpoint, sub.P256dh, sub.Auth),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, serviceworker.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}

	do(t, ctx, "e-ticket", chromedp.EmulateViewport(phone[0], phone[1], chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(e.url+e.links.TicketPath(e.office.ID, id)+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("#push-notify")))
	review(t, ctx, "eticket-push", phone)
	do(t, ctx, "notify me", chromedp.Click(chromedp.CSS("#push-notify")), chromedp.WaitVisible(chromedp.CSS(`#push[data-subscribed="1"]`)))
	if key, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`window.__serverKey`)); key != e.web.PushKeys.Public {
		t.Errorf("the page subscribed with key %q, want the server's %q", key, e.web.PushKeys.Public)
	}
	if s := text(t, ctx, "#push-status"); !strings.Contains(s, "this phone will be notified") {
		t.Errorf("after subscribing the page says %q", s)
	}

	if r := e.do(queue.CallNext{Counter: 1}); r.Ticket == nil || r.Ticket.ID != id {
		t.Fatalf("called %+v", r.Ticket)
	}
	p, m := nextPush(t, e, "the call")
	if p.Err != nil || m.Kind != notice.Called || m.Number != res.Ticket.Number || m.Counter != 1 || m.Lang != "en" {
		t.Fatalf("the push service got %+v (%v)", m, p.Err)
	}

	// The push service hands the push to the browser's service worker.
	waitfor.Until(t, "the service worker registered for /e/", pushWait, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return registration != ""
	})
	mu.Lock()
	reg := registration
	mu.Unlock()
	if _, err := chromedp.Call(ctx, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
		Origin: scope, RegistrationID: reg, Data: string(p.Message),
	}); err != nil {
		t.Fatalf("delivering the push: %v", err)
	}
	const shown = `navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns => ns.map(n =>
		({title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction, vibrate: Array.from(n.vibrate)})))`
	var got []shownNotification
	waitfor.Until(t, "the notification shown", pushWait, func() bool {
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		got, _ = chromedp.Run(tctx, chromedp.Evaluate[[]shownNotification](shown, chromedp.EvalAwaitPromise))
		return len(got) > 0
	})
	want := shownNotification{Title: m.Title, Body: "Please go to counter 1.", Tag: "numerek-" + res.Ticket.Number, RequireInteraction: true}
	if g := got[0]; len(got) != 1 || g.Title != want.Title || !strings.Contains(g.Title, res.Ticket.Number) || g.Body != want.Body || g.Tag != want.Tag || !g.RequireInteraction {
		data, _ := json.Marshal(got)
		t.Errorf("the phone shows %s, want one %+v", data, want)
	}
}

// Safari on an iPhone, in a tab: no Push API there (only home-screen apps
// get it), and navigator.standalone says it is a tab. The page offers no
// button that cannot work, and says how to add the ticket to the home
// screen instead.
func TestBrowserPushExplainsHomeScreenOnIOS(t *testing.T) {
	t.Parallel() // its own server and browser: it runs beside the other browser tests
	e := newEnv(t)
	ctx := newChrome(t)
	e.clock.Set(monday(e.office, "09:00"))
	res := e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelPhone})
	if _, err := chromedp.Call(ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{
		Source: `delete window.PushManager; Object.defineProperty(navigator, 'standalone', {value: false});`,
	}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "e-ticket in a Safari tab", chromedp.EmulateViewport(phone[0], phone[1], chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(e.url+e.links.TicketPath(e.office.ID, res.Decision.Ticket)+"?lang=en"), chromedp.WaitVisible(chromedp.CSS("#push-ios")))
	if s := text(t, ctx, "#push-ios"); !strings.Contains(s, "Add to Home Screen") {
		t.Errorf("the hint says %q", s)
	}
	if visible, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('push-notify').offsetParent !== null`)); visible {
		t.Error("the page offers a notify button that cannot work in this tab")
	}
	review(t, ctx, "eticket-ios", phone)
}
