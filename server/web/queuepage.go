package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// The public live queue page, /o/{office}/queue: how many wait for each
// matter and the expected wait of a ticket taken now, for the office's
// website to link to or embed in an iframe. It shows what the lobby's
// screens show and less: counts and waits, never a ticket, name or
// number, so it needs no login and may be framed by any site (it has no
// form to trick anyone into pressing).

// queueData is the public queue page.
type queueData struct {
	View   *queue.View
	Events string
}

// queueUpdate is one event of the page's stream: the lines block the
// server rendered.
type queueUpdate struct {
	HTML string `json:"html"`
}

// queueMinGap keeps a busy office's stream of calls from making every
// open page re-render more than once a second.
const queueMinGap = time.Second

func (w *Web) queuePage(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil {
		return
	}
	v, err := a.View(r.Context())
	if err != nil {
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	p := w.newPage(rw, r, "web.stats.public_title")
	p.Office = a.Office()
	p.Title = p.T("web.stats.public_title") + " · " + a.Office().Name
	p.Refresh = 30
	p.Scripts = []string{"queue.js"}
	p.Data = queueData{View: &v, Events: "/o/" + a.Office().ID + "/queue/events?lang=" + p.Lang}
	allowFraming(rw)
	w.render(rw, http.StatusOK, "queue", p)
}

// allowFraming lets any site embed the page: the policy secure set,
// with frame-ancestors opened and X-Frame-Options dropped.
func allowFraming(rw http.ResponseWriter) {
	h := rw.Header()
	h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), "frame-ancestors 'none'", "frame-ancestors *", 1))
	h.Del("X-Frame-Options")
}

// queueEvents streams the page's lines block whenever it changes: at the
// office's events (at most once a second) and every TicketRefresh, as
// waits count down with no event.
func (w *Web) queueEvents(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil {
		return
	}
	p := w.newPage(rw, r, "")
	p.Office = a.Office()
	w.streamOffice(rw, r, a, queueMinGap, "queue", func() ([]byte, bool, bool) {
		html, err := w.queueLines(r, a, p)
		if err != nil {
			w.Logger.Error("rendering the public queue", "office", a.Office().ID, "err", err)
			return nil, false, false
		}
		data, _ := json.Marshal(queueUpdate{HTML: html})
		return data, true, true
	})
}

// streamOffice answers with a stream of one kind of update of office a:
// next renders the update as it is now (ok false ends the stream at once,
// more false after this update). An update is sent when it differs from
// the last one sent: at once, after each batch of the office's events (no
// sooner than gap after the last look) and every TicketRefresh, as waits
// shown count down with no event.
func (w *Web) streamOffice(rw http.ResponseWriter, r *http.Request, a *actor.Actor, gap time.Duration, kind string, next func() (data []byte, more, ok bool)) {
	sw, tail, done, opened := w.openStream(rw, a)
	if !opened {
		return
	}
	defer done()
	var last []byte
	send := func() bool {
		data, more, ok := next()
		if !ok {
			return false
		}
		if !bytes.Equal(data, last) {
			last = data
			sw.Event("", kind, data)
			if sw.Flush() != nil {
				return false
			}
		}
		return more
	}
	ctx := r.Context()
	if !send() {
		return
	}
	tick := time.NewTicker(w.TicketRefresh)
	defer tick.Stop()
	var looked time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-tail.Ready():
			if wait := gap - time.Since(looked); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
			// What came meanwhile makes one update.
			if _, open := tail.Skip(); !open {
				return
			}
		}
		looked = time.Now()
		if !send() {
			return
		}
	}
}

// queueLines renders the page's live block from the office's view now.
func (w *Web) queueLines(r *http.Request, a *actor.Actor, p *page) (string, error) {
	v, err := a.View(r.Context())
	if err != nil {
		return "", err
	}
	p.Data = queueData{View: &v}
	return w.fragment("queue", "lines", p)
}
