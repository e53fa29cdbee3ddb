package web

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"time"

	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/push"
)

// The e-ticket as an installable web app told of the call by Web Push:
// its manifest, its service worker and the "notify me" subscription. The
// pushes themselves are sent by server/push.

// pushData is the e-ticket's "notify me" part.
type pushData struct {
	// Key is the server's VAPID public key (applicationServerKey).
	Key string
	// SMS offers a text message to a phone number, where the office
	// allows it; PhoneSaved says one is kept.
	SMS        bool
	PhoneSaved bool
	// PhoneError says what is wrong with the number typed.
	PhoneError string
}

// serviceWorkerPath is where the service worker is served: its scope, /e/,
// covers every e-ticket page without a Service-Worker-Allowed header.
const serviceWorkerPath = "/e/sw.js"

func (w *Web) mountPush(h func(string, http.HandlerFunc)) {
	h("GET "+serviceWorkerPath, w.serviceWorker)
	h("GET /e/{office}/{ticket}/{mac}/manifest.webmanifest", w.manifest)
	h("POST /e/{office}/{ticket}/{mac}/push", w.pushSubscribe)
	h("POST /e/{office}/{ticket}/{mac}/phone", w.pushPhone)
}

// RunPush sends e-tickets' pushes until ctx ends, purging subscriptions
// and phone numbers past their time every purgeEvery; without PushKeys it
// returns at once.
func (w *Web) RunPush(ctx context.Context, purgeEvery time.Duration) {
	if w.push == nil {
		return
	}
	var offices []*actor.Actor
	for _, id := range w.Server.OfficeIDs() {
		offices = append(offices, w.Server.Office(id))
	}
	w.push.Run(ctx, offices, purgeEvery)
}

// offerPush makes a live e-ticket page installable and, with push on,
// gives it the "notify me" part.
func (w *Web) offerPush(p *page, a *actor.Actor, id string) {
	p.Manifest = w.links.TicketPath(a.Office().ID, id) + "/manifest.webmanifest?lang=" + p.Lang
	if w.push == nil {
		return
	}
	d := p.Data.(ticketData)
	d.Push = &pushData{Key: w.push.PublicKey(), SMS: a.Office().Push.SMSFallback}
	if d.Push.SMS {
		r, found, err := w.DB.TicketReach(a.Office().ID, id)
		d.Push.PhoneSaved = err == nil && found && r.Phone != ""
	}
	p.Data = d
	p.Scripts = append(p.Scripts, "push.js")
}

// webManifest is a web app manifest (W3C Web Application Manifest).
type webManifest struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	ShortName       string         `json:"short_name"`
	Description     string         `json:"description"`
	Lang            string         `json:"lang"`
	StartURL        string         `json:"start_url"`
	Scope           string         `json:"scope"`
	Display         string         `json:"display"`
	ThemeColor      string         `json:"theme_color"`
	BackgroundColor string         `json:"background_color"`
	Icons           []manifestIcon `json:"icons"`
}

type manifestIcon struct {
	Src   string `json:"src"`
	Sizes string `json:"sizes"`
	Type  string `json:"type"`
}

// manifest describes the e-ticket as an app in the resident's language,
// opening on this ticket.
func (w *Web) manifest(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.ticketOf(rw, r)
	if !ok {
		return
	}
	p := w.newPage(rw, r, "")
	path := w.links.TicketPath(a.Office().ID, id)
	name := p.T("push.app_name")
	m := webManifest{
		ID: path, Name: name + " · " + a.Office().Name, ShortName: name, Description: p.T("push.app_description"),
		Lang: p.Lang, StartURL: path, Scope: "/e/", Display: "standalone",
		// The colours of the site's header and page (app.css).
		ThemeColor: "#1f5fbf", BackgroundColor: "#ffffff",
		Icons: []manifestIcon{
			{Src: "/static/icon-192.png", Sizes: "192x192", Type: "image/png"},
			{Src: "/static/icon-512.png", Sizes: "512x512", Type: "image/png"},
		},
	}
	data, err := json.Marshal(m)
	if err != nil {
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "application/manifest+json")
	rw.Header().Set("Cache-Control", "no-store")
	_, _ = rw.Write(data)
}

// serviceWorker serves the e-ticket's service worker from /e/ so that its
// scope is the e-tickets; browsers check it for updates at every visit.
func (w *Web) serviceWorker(rw http.ResponseWriter, r *http.Request) {
	data, err := fs.ReadFile(w.static, "push-sw.js")
	if err != nil {
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-cache")
	_, _ = rw.Write(data)
}

// pushSubscribe keeps the subscription the page's "notify me" made for
// this ticket. The signed address says which ticket; the CSRF token that
// the request comes from the page.
func (w *Web) pushSubscribe(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.ticketOf(rw, r)
	if !ok || !w.checkPublicCSRF(rw, r) {
		return
	}
	if w.push == nil {
		w.problem(rw, r, http.StatusNotFound, "web.error.no_page")
		return
	}
	sub, err := push.ParseSubscription(r.PostFormValue("endpoint"), r.PostFormValue("p256dh"), r.PostFormValue("auth"))
	if err != nil {
		w.problem(rw, r, http.StatusBadRequest, "push.failed")
		return
	}
	tv, _, found := ticketNow(r.Context(), a, id, w.Clock())
	if !found || tv.State.Final() {
		w.problem(rw, r, http.StatusNotFound, "web.ticket.no_such")
		return
	}
	lang := tv.Lang
	if lang == "" {
		lang = w.language(rw, r)
	}
	err = w.push.Subscribe(a.Office(), id, lang, sub)
	if errors.Is(err, push.ErrPushHost) {
		w.problem(rw, r, http.StatusBadRequest, "push.failed")
		return
	}
	if err != nil {
		w.Logger.Error("keeping a push subscription", "office", a.Office().ID, "ticket", id, "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

// pushPhone keeps the phone number a resident gave on the e-ticket for a
// text message when the call cannot be pushed (the office allowing it).
func (w *Web) pushPhone(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.ticketOf(rw, r)
	if !ok || !w.checkPublicCSRF(rw, r) {
		return
	}
	tv, _, found := ticketNow(r.Context(), a, id, w.Clock())
	if w.push == nil || !a.Office().Push.SMSFallback || !found || tv.State.Final() {
		w.problem(rw, r, http.StatusNotFound, "web.ticket.no_such")
		return
	}
	phone, err := push.ParsePhone(r.PostFormValue("phone"))
	if err != nil {
		p := w.ticketPage(rw, r, a, id)
		p.Scripts = []string{"eticket.js"}
		w.offerPush(p, a, id)
		d := p.Data.(ticketData)
		d.Push.PhoneError = p.T("push.phone_invalid")
		p.Data = d
		w.render(rw, http.StatusBadRequest, "eticket", p)
		return
	}
	if err := w.push.SetPhone(a.Office(), id, tv.Lang, phone); err != nil {
		w.Logger.Error("keeping a phone number for a ticket", "office", a.Office().ID, "ticket", id, "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	redirect(rw, r, w.links.TicketPath(a.Office().ID, id))
}
