package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// renderFigures times GET path through the whole server (routing, the
// office's view, templates) and reports p50 and p99 in ms and the page's
// weight: its HTML, and HTML plus the style sheet and scripts it loads,
// raw and gzipped.
func renderFigures(b *testing.B, e *env, path string, cookie *http.Cookie) {
	srv := e.web.Server
	var times []time.Duration
	var body []byte
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("GET", path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		srv.ServeHTTP(rec, req)
		times = append(times, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d", path, rec.Code)
		}
		body = rec.Body.Bytes()
	}
	b.StopTimer()
	slices.Sort(times)
	ms := func(q float64) float64 {
		return float64(times[min(int(q*float64(len(times))), len(times)-1)]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(float64(len(body)), "html-bytes")
	total := append([]byte(nil), body...)
	for _, asset := range []string{"app.css", "eticket.js"} {
		if !strings.Contains(string(body), "/static/"+asset) {
			continue
		}
		data, err := fs.ReadFile(e.web.static, asset)
		if err != nil {
			b.Fatal(err)
		}
		total = append(total, data...)
	}
	b.ReportMetric(float64(len(total)), "page-bytes")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(total)
	zw.Close()
	b.ReportMetric(float64(gz.Len()), "page-gzip-bytes")
	b.ReportMetric(0, "ns/op")
}

// The booking page at its heaviest step: the days with free times over
// the office's 30 days ahead, with 40 visits already booked.
func BenchmarkBookingPageRender(b *testing.B) {
	e := newEnv(b)
	for i := range 40 {
		slot := monday(e.office, "09:00").Add(time.Duration(i%24)*15*time.Minute).AddDate(0, 0, i/24*7)
		e.do(queue.Book{ID: fmt.Sprintf("r%02d", i), Service: "family", Slot: slot, Lang: "pl"})
	}
	renderFigures(b, e, "/book/"+e.office.ID+"?service=family", nil)
}

// The e-ticket page of a resident with 60 people in the office's queues.
func BenchmarkTicketPageRender(b *testing.B) {
	e := newEnv(b)
	e.clock.Set(monday(e.office, "09:00"))
	for _, n := range []int{1, 2, 3, 5} {
		e.do(queue.SetCounter{Counter: n, Status: queue.CounterOpenStatus})
	}
	services := []string{"family", "maintenance", "child800", "documents"}
	for i := range 60 {
		e.do(queue.Issue{Service: services[i%len(services)], Lang: "pl", Channel: queue.ChannelKiosk})
	}
	res := e.do(queue.Issue{Service: "family", Lang: "en", Channel: queue.ChannelPhone})
	renderFigures(b, e, e.links.TicketPath(e.office.ID, res.Decision.Ticket), nil)
}

// From the clerk's call (the command returning durable) to the e-ticket
// page in a real browser showing "called": the ticket's event stream,
// its update rendered by the server, and the page's script. Measured 20
// times once, whatever b.N; with 20 samples p99 is the slowest.
func BenchmarkETicketCalledDelay(b *testing.B) {
	e := newEnv(b)
	ctx := newChrome(b)
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	const watch = `new Promise(resolve => {
		const done = () => { window.__calledAt = Date.now(); resolve(true); };
		if (document.querySelector('.called')) return done();
		new MutationObserver((_, o) => { if (document.querySelector('.called')) { o.disconnect(); done(); } })
			.observe(document.getElementById('status'), {childList: true, subtree: true});
	})`
	var delays []float64
	// The first call after the browser starts pays its one-time set-up
	// (about 0.3 s here): it is a warm-up, not counted.
	for i := range 21 {
		res := e.do(queue.Issue{Service: "family", Lang: "en", Channel: queue.ChannelPhone, RequestID: fmt.Sprint("bench-", i)})
		// The example office asks a phone ticket to confirm before it is called.
		e.do(queue.ConfirmPresence{Ticket: res.Decision.Ticket, Presence: queue.PresenceHere})
		path := e.links.TicketPath(e.office.ID, res.Decision.Ticket)
		do(b, ctx, "open the e-ticket", chromedp.Navigate(e.url+path), chromedp.WaitVisible(chromedp.CSS(`#ticket[data-live="1"]`)))
		observed := make(chan error, 1)
		go func() {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](watch, chromedp.EvalAwaitPromise))
			observed <- err
		}()
		time.Sleep(50 * time.Millisecond) // the observer is in place
		start := time.Now()
		if r := e.do(queue.CallNext{Counter: 1}); r.Ticket == nil || r.Ticket.ID != res.Decision.Ticket {
			b.Fatalf("the call took %+v", r.Ticket)
		}
		wait, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		select {
		case err := <-observed:
			cancel()
			if err != nil {
				b.Fatal(err)
			}
		case <-wait.Done():
			cancel()
			b.Fatal("the e-ticket never showed the call")
		}
		at, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.__calledAt`))
		if err != nil {
			b.Fatal(err)
		}
		if i > 0 {
			delays = append(delays, at-float64(start.UnixMicro())/1000)
		}
	}
	for b.Loop() {
	}
	b.Logf("delays in ms, in order: %.1f", delays)
	slices.Sort(delays)
	b.ReportMetric(delays[len(delays)/2], "p50-ms")
	b.ReportMetric(delays[len(delays)-1], "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// From the clerk's call (the command answered, durable) to the push
// request for the called ticket arriving at the push endpoint (the
// stand-in push service on loopback, over TLS): the pusher's watcher,
// the record's lookup, the worker's encryption and VAPID signature.
// Measured 50 times once, whatever b.N; the first call, which opens the
// TLS connection, is a warm-up.
func BenchmarkCallToPush(b *testing.B) {
	e := pushEnv(b, func(o *queue.Office) { o.Push.NotifyWhenAhead = 0 }) // only the calls are pushed
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	sub := e.push.Subscribe()
	kept := store.PushSubscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth}
	var delays []float64
	for i := range 51 {
		res := e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelPhone})
		if err := e.web.push.Subscribe(e.office, res.Decision.Ticket, "pl", kept); err != nil {
			b.Fatal(err)
		}
		e.do(queue.CallNext{Counter: 1})
		answered := time.Now()
		p, ok := e.push.Next(10 * time.Second)
		if !ok || p.Status != http.StatusCreated {
			b.Fatalf("call %d: no push taken (%d %v)", i, p.Status, p.Err)
		}
		if i > 0 {
			delays = append(delays, float64(p.At.Sub(answered).Microseconds())/1000)
		}
		e.do(queue.Finish{Counter: 1})
	}
	for b.Loop() {
	}
	slices.Sort(delays)
	b.ReportMetric(delays[len(delays)/2], "p50-ms")
	b.ReportMetric(delays[len(delays)*99/100], "p99-ms")
	b.ReportMetric(0, "ns/op")
}
