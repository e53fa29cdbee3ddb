// Package web serves Numerek's web pages from cmd/queue-server: online
// booking with a code, the resident's e-ticket on a phone, the clerk
// console, the hall assistant's page, the admin pages (clerks, device
// tokens) and the office manager's statistics. Pages are html/template
// from the web package, in pl, en, lt, ru and uk; forms post and redirect
// so every page works without JavaScript, and scripts add live updates
// through resident-safe event streams, keyboard shortcuts and alerts.
package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/keyedlimit"
	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/clientaddr"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/server/push"
	"github.com/numerek/numerek/stats"
	"github.com/numerek/numerek/store"
	webfiles "github.com/numerek/numerek/web"
)

// Clerks keeps the clerk accounts: the clerks' file of this node
// (store.ClerkStore) or the database every node shares
// (pgstore.ClerkStore).
type Clerks interface {
	Put(name, password, role string, offices []string) (store.Clerk, error)
	Get(name string) (store.Clerk, bool, error)
	Check(name, password string) (store.Clerk, error)
	List() ([]store.Clerk, error)
	Delete(name string) (bool, error)
}

// Tokens are the bearer tokens the admin pages list, make and revoke
// (store.TokenStore or pgstore.TokenStore).
type Tokens interface {
	List() ([]store.Token, error)
	Create(t store.Token) (string, store.Token, error)
	Revoke(id string) (bool, error)
}

// Config is what the pages are built from.
type Config struct {
	Server  *server.Server
	Booking *booking.Desk
	DB      *store.WebDB
	Clerks  Clerks
	Tokens  Tokens
	// Logs give statistics their history, by office id.
	Logs    map[string]stats.Scanner
	Clock   func() time.Time
	Logger  *slog.Logger
	Catalog *i18n.Catalog
	// SecureCookies marks cookies Secure (set it when residents reach the
	// server over https, e.g. through a proxy); requests over TLS get
	// Secure cookies anyway.
	SecureCookies bool
	// PushKeys turn on Web Push for e-tickets (the "notify me" button and
	// the installable page's service worker); nil: no push.
	PushKeys *push.Keys
	// PushSubscriber is the contact push services may use about the
	// server's pushes (an e-mail address or an https URL).
	PushSubscriber string
	// PushClient posts to push services; nil is the default client.
	PushClient *http.Client
	// PushHosts are the push services subscriptions may point at; empty
	// is push.DefaultPushHosts.
	PushHosts []string
	// Notices takes SMS notices where no push reached a resident (and the
	// office allows it); nil sends none.
	Notices notice.Sender
	// Outbox is the message outbox the admins' messages page shows; nil
	// when [messages] is not configured.
	Outbox Outbox
	// TicketRefresh is how often an idle e-ticket stream re-sends the
	// ticket so its wait counts down; 0 means 20 s.
	TicketRefresh time.Duration
	// Voices say calls on the hall page (the office's recorded packs over
	// the built-in ones); nil: the built-in packs, loaded on first use.
	Voices *audio.Voices
}

// Web holds the parsed templates and what the handlers need.
type Web struct {
	Config
	links  *links.Signer
	pages  map[string]*template.Template
	static fs.FS
	limits *limits
	// pairCodes counts each admin's wrong pairing codes.
	pairCodes *keyedlimit.Limiter
	started   time.Time
	// push sends e-tickets' pushes; nil when PushKeys is.
	push *push.Service
	// voices are the hall page's voice packs, loaded once when first
	// needed.
	voices func() (*audio.Voices, error)
}

// New parses the templates; an error here is a broken build.
func New(cfg Config) (*Web, error) {
	if cfg.Catalog == nil {
		cfg.Catalog = i18n.Messages()
	}
	if cfg.TicketRefresh <= 0 {
		cfg.TicketRefresh = 20 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	w := &Web{Config: cfg, links: cfg.Booking.Links(), pages: map[string]*template.Template{}, limits: newLimits(cfg.Clock), pairCodes: newPairCodeLimit(), started: time.Now()}
	w.voices = sync.OnceValues(loadVoices(cfg))
	static, err := fs.Sub(webfiles.Static, "static")
	if err != nil {
		return nil, err
	}
	w.static = static
	if cfg.PushKeys != nil {
		w.push = push.New(push.Config{
			DB: cfg.DB, Keys: *cfg.PushKeys, Subscriber: cfg.PushSubscriber, Links: w.links, Catalog: cfg.Catalog,
			Clock: cfg.Clock, Logger: cfg.Logger, Notices: cfg.Notices, HTTPClient: cfg.PushClient, PushHosts: cfg.PushHosts,
		})
	}
	names, err := fs.Glob(webfiles.Templates, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(webfiles.Templates, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", n, err)
		}
		w.pages[base] = t
	}
	return w, nil
}

// Mount adds the pages' routes to the server.
func (w *Web) Mount(s *server.Server) {
	h := func(pattern string, fn http.HandlerFunc) { s.Handle(pattern, w.secure(fn)) }
	s.Handle("GET /static/", http.StripPrefix("/static/", w.staticFiles()))
	s.Handle("GET /favicon.ico", http.RedirectHandler("/static/icon.svg", http.StatusMovedPermanently))

	h("GET /{$}", w.home)
	h("GET /o/{office}", w.officePage)
	h("POST /o/{office}/ticket", w.takeTicket)
	h("POST /o/{office}/checkin", w.checkInByCode)
	h("GET /e/{office}/{ticket}/{mac}", w.eTicket)
	h("GET /e/{office}/{ticket}/{mac}/events", s.Stream(w.eTicketEvents))
	h("POST /e/{office}/{ticket}/{mac}/rate", w.rateTicket)
	w.mountPush(h)
	h("POST /e/{office}/{ticket}/{mac}/presence", w.confirmPresence)
	h("GET /book/{office}", w.bookPage)
	h("POST /book/{office}", w.bookPost)
	h("GET /booking/{office}/{id}/{mac}", w.bookingPage)
	h("POST /booking/{office}/{id}/{mac}/confirm", w.confirmBooking)
	h("GET /booking/{office}/{id}/{mac}/confirm/{code}", w.confirmLink)
	h("GET /booking/{office}/{id}/{mac}/cancel", w.cancelBooking)
	h("POST /booking/{office}/{id}/{mac}/cancel", w.cancelBooking)
	h("GET /booking/{office}/{id}/{mac}/move", w.moveBooking)
	h("POST /booking/{office}/{id}/{mac}/move", w.moveBookingPost)
	h("GET /booking/{office}/{id}/{mac}/data", w.dataPage)
	h("GET /booking/{office}/{id}/{mac}/forget", w.forgetBooking)
	h("POST /booking/{office}/{id}/{mac}/forget", w.forgetBooking)

	h("GET /staff/login", w.loginPage)
	h("POST /staff/login", w.loginPost)
	h("POST /staff/logout", w.staff(w.logout))
	h("GET /staff", w.staff(w.staffHome))
	h("POST /staff/counter", w.staff(w.pickCounter))
	h("GET /staff/console", w.staff(w.console))
	h("GET /staff/console/panel", w.staff(w.consolePanel))
	h("POST /staff/console/{action}", w.staff(w.consoleAction))
	h("GET /staff/events", s.Stream(w.staff(w.staffEvents)))
	h("GET /staff/assistant", w.staff(w.assistantPage))
	h("POST /staff/assistant/issue", w.staff(w.assistantIssue))
	h("POST /staff/assistant/move", w.staff(w.assistantMove))
	h("GET /staff/admin/clerks", w.admin(w.clerksPage))
	h("POST /staff/admin/clerks", w.admin(w.clerkAdd))
	h("POST /staff/admin/clerks/delete", w.admin(w.clerkDelete))
	h("GET /staff/admin/tokens", w.admin(w.tokensPage))
	h("POST /staff/admin/tokens", w.admin(w.tokenAdd))
	h("POST /staff/admin/tokens/revoke", w.admin(w.tokenRevoke))
	h("GET /staff/admin/messages", w.admin(w.outboxPage))
	h("POST /staff/admin/messages/retry", w.admin(w.outboxRetry))
	h("POST /staff/admin/alerts/seen", w.admin(w.loginAlertsSeen))
	h("GET /staff/devices/{id}/remote", w.admin(w.devActionsPage))
	h("POST /staff/devices/{id}/actions", w.admin(w.devActionAsk))
	h("GET /staff/devices/{id}/screenshot.png", w.admin(w.devScreenshot))
	w.mountDevices(h)
	h("GET /staff/fleet", w.admin(w.fleetPage))
	w.mountUpdates(h)
	h("GET /staff/fleet/{id}", w.admin(w.fleetDevicePage))
	// desk: the booking desk (desk.go). Clerks see, book, move and
	// cancel; closing hours is for managers.
	h("GET /staff/bookings", w.staff(w.deskPage))
	h("POST /staff/bookings/book", w.staff(w.deskBook))
	h("POST /staff/bookings/move", w.staff(w.deskMove))
	h("POST /staff/bookings/cancel", w.staff(w.deskCancel))
	h("POST /staff/bookings/close", w.manager(w.deskClose))
	h("POST /staff/bookings/reopen", w.manager(w.deskReopen))
	// Issue 14, stats: the manager's statistics and the public live queue.
	h("GET /staff/stats", w.manager(w.statsPage))
	h("GET /staff/stats.csv", w.manager(w.statsCSV))
	h("GET /o/{office}/queue", w.queuePage)
	h("GET /o/{office}/queue/events", s.Stream(w.queueEvents))
	// hallweb (issue 14): the hall screen as a web page for any TV.
	w.mountHall(h)
	// Issue 15, desk: the document locker's staff pages (locker.go).
	w.mountLockers(h)
	// What no page takes gets a page in the reader's language, not the
	// mux's plain text (the API keeps its own JSON fallback under /api/).
	h("/", w.noPage)
}

// noPage answers a path no page takes (404), or takes with another
// method (405, with Allow).
func (w *Web) noPage(rw http.ResponseWriter, r *http.Request) {
	if allowed := w.Server.Allowed(r); len(allowed) > 0 {
		rw.Header().Set("Allow", strings.Join(allowed, ", "))
		w.problem(rw, r, http.StatusMethodNotAllowed, "web.error.method")
		return
	}
	w.problem(rw, r, http.StatusNotFound, "web.error.no_page")
}

// secure sets the headers every page carries: a strict content policy (no
// inline script or style, so injected markup cannot run), no framing, and
// no Referer, so that the secret in an e-ticket or booking address never
// leaks to another site.
func (w *Web) secure(next http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		h := rw.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if r.Method == http.MethodPost && !sameOrigin(r) {
			w.problem(rw, r, http.StatusForbidden, "web.error.csrf")
			return
		}
		next(rw, r)
	}
}

// sameOrigin refuses posts a browser says come from another site; the
// CSRF tokens check the rest.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	return true
}

func (w *Web) staticFiles() http.Handler {
	files := http.FileServerFS(w.static)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "public, max-age=3600")
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(rw, r)
	})
}

// page is what every template gets.
type page struct {
	w       *Web
	Lang    string
	Title   string
	Langs   []langLink
	CSRF    string
	Staff   *staffInfo
	Office  *queue.Office
	Error   string
	Notice  string
	Scripts []string
	// Manifest is the page's web app manifest (an installable page).
	Manifest string
	// Refresh, when set, reloads the page that often without JavaScript.
	Refresh int
	// Wide pages (console, statistics) use the whole desktop width.
	Wide bool
	// Alerts are staff accounts under attack, on an admin's pages.
	Alerts []store.LoginAlert
	Data   any
}

type langLink struct {
	Code, Name, Href string
	Current          bool
}

// T says message id in the page's language.
func (p *page) T(id string, kv ...any) string { return p.w.Catalog.T(p.Lang, id, kv...) }

// N says the plural form of id for n.
func (p *page) N(id string, n int, kv ...any) string { return p.w.Catalog.N(p.Lang, id, n, kv...) }

// ServiceName names a service of the page's office in the page's language.
func (p *page) ServiceName(id string) string {
	if p.Office != nil {
		if s, ok := p.Office.Service(id); ok {
			return s.Name(p.Lang)
		}
	}
	return id
}

// ShortServiceName is the service's short name in the page's language
// where the office gave one, for dense lists; its name otherwise.
func (p *page) ShortServiceName(id string) string {
	if p.Office != nil {
		if s, ok := p.Office.Service(id); ok && s.ShortNames[p.Lang] != "" {
			return s.ShortNames[p.Lang]
		}
	}
	return p.ServiceName(id)
}

// Wait says an expected wait in seconds (-1 unknown).
func (p *page) Wait(secs int64) string {
	if secs < 0 {
		return localize.Wait(p.w.Catalog, p.Lang, -1)
	}
	return localize.Wait(p.w.Catalog, p.Lang, time.Duration(secs)*time.Second)
}

// Duration says a duration.
func (p *page) Duration(d time.Duration) string { return localize.Duration(p.w.Catalog, p.Lang, d) }

// ShortDuration says a duration in short units ("15 min").
func (p *page) ShortDuration(d time.Duration) string {
	return localize.ShortDuration(p.w.Catalog, p.Lang, d)
}

// Clock is a time of day in the office's zone.
func (p *page) Clock(t time.Time) string { return t.In(p.loc()).Format("15:04") }

// Date is a date in the office's zone, as the language writes it.
func (p *page) Date(t time.Time) string {
	lt := t.In(p.loc())
	return p.T("weekday."+fmt.Sprint(int(lt.Weekday()))) + " " + lt.Format(p.T("web.date_layout"))
}

// Weekday names the day of the week of t.
func (p *page) Weekday(t time.Time) string {
	return p.T("weekday." + fmt.Sprint(int(t.In(p.loc()).Weekday())))
}

// ShortDate is day and month, as the language writes them.
func (p *page) ShortDate(t time.Time) string { return t.In(p.loc()).Format(p.T("web.date_short")) }

// When names a coming moment ("today at 13:00").
func (p *page) When(t time.Time) string {
	return localize.When(p.w.Catalog, p.Lang, t, p.loc(), p.w.Clock())
}

// Refusal says why a service refuses, in the page's language.
func (p *page) Refusal(r *queue.Refusal) string {
	return localize.Refusal(p.w.Catalog, p.Lang, r, p.loc(), p.w.Clock())
}

func (p *page) loc() *time.Location {
	if p.Office != nil && p.Office.Location != nil {
		return p.Office.Location
	}
	return time.Local
}

// actButton is one move's button on the console.
type actButton struct {
	P       *page
	Action  string
	Key     string
	Enabled bool
}

// statRow is one row of a statistics table.
type statRow struct {
	P       *page
	Label   string
	Figures *stats.Figures
	// ShowIssued is false for counters: tickets are issued to services.
	ShowIssued bool
}

// truth is a template value's truth, as {{if}} judges it.
func truth(v any) bool {
	if v == nil {
		return false
	}
	rv := reflect.ValueOf(v)
	return rv.IsValid() && !rv.IsZero()
}

var funcs = template.FuncMap{
	"button": func(p *page, action, key string, enabled any) actButton {
		return actButton{P: p, Action: action, Key: key, Enabled: truth(enabled)}
	},
	"statrow": func(p *page, label string, f *stats.Figures, showIssued bool) statRow {
		return statRow{P: p, Label: label, Figures: f, ShowIssued: showIssued}
	},
	"channel": func(f *stats.Figures, ch string) int { return f.ByChannel[queue.Channel(ch)] },
	"rating":  func(f *stats.Figures, r string) int { return f.Ratings[queue.Rating(r)] },
	"add":     func(a, b int) int { return a + b },
	"html": func(s string) template.HTML {
		// Only for markup the server drew itself (SVG charts and QR codes).
		return template.HTML(s)
	},
	"join": strings.Join,
	"dayChoice": func(p *page, d bookDay, href string) dayChoice {
		return dayChoice{P: p, Day: d, Href: href}
	},
	"anyFree": func(days []bookDay) bool {
		return slices.ContainsFunc(days, func(d bookDay) bool { return d.Free > 0 })
	},
	"minutes": func(d time.Duration) int64 {
		return int64(d.Round(time.Minute) / time.Minute)
	},
	"pct": func(v float64) string {
		if v < 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f%%", 100*v)
	},
}

// newPage starts a page in the request's language.
func (w *Web) newPage(rw http.ResponseWriter, r *http.Request, title string) *page {
	lang := w.language(rw, r)
	p := &page{w: w, Lang: lang, Title: title}
	q := r.URL.Query()
	for _, l := range i18n.Languages {
		q.Set("lang", l)
		u := *r.URL
		u.RawQuery = q.Encode()
		p.Langs = append(p.Langs, langLink{Code: l, Name: i18n.NativeName(l), Href: u.RequestURI(), Current: l == lang})
	}
	if title != "" {
		p.Title = p.T(title)
	}
	return p
}

// language is ?lang= (remembered in a cookie), else the cookie, else the
// browser's Accept-Language.
func (w *Web) language(rw http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); i18n.Supported(l) {
		if c, err := r.Cookie("lang"); err != nil || c.Value != l {
			http.SetCookie(rw, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				SameSite: http.SameSiteLaxMode, Secure: w.secureCookies(r), HttpOnly: true})
		}
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && i18n.Supported(c.Value) {
		return c.Value
	}
	return i18n.Normalize(r.Header.Get("Accept-Language"))
}

// render writes a page; status 0 is 200.
func (w *Web) render(rw http.ResponseWriter, status int, name string, p *page) {
	t := w.pages[name]
	if t == nil {
		w.Logger.Error("no such page template", "page", name)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		w.Logger.Error("rendering a page", "page", name, "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang)
	if status == 0 {
		status = http.StatusOK
	}
	rw.WriteHeader(status)
	_, _ = rw.Write(buf.Bytes())
}

// fragment renders one named template of a page (live updates).
func (w *Web) fragment(name, tmpl string, p *page) (string, error) {
	var buf bytes.Buffer
	if err := w.pages[name].ExecuteTemplate(&buf, tmpl, p); err != nil {
		return "", fmt.Errorf("rendering %s/%s: %w", name, tmpl, err)
	}
	return buf.String(), nil
}

// problem renders the error page with a message id.
func (w *Web) problem(rw http.ResponseWriter, r *http.Request, status int, msgID string, kv ...any) {
	p := w.newPage(rw, r, "web.error.title")
	p.Data = errorData{Message: p.T(msgID, kv...), Back: problemBack(r)}
	w.render(rw, status, "error", p)
}

// refuse is problem for an office's refusal, said in the reader's language.
func (w *Web) refuse(rw http.ResponseWriter, r *http.Request, status int, a *actor.Actor, err error) {
	p := w.newPage(rw, r, "web.error.title")
	p.Data = errorData{Message: w.explain(p.Lang, a, err), Back: problemBack(r)}
	w.render(rw, status, "error", p)
}

// problemBack is where an error page leads back to.
func problemBack(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/staff") {
		return "/staff/console"
	}
	return "/"
}

// errorData is the error page: what went wrong and where to go back to.
type errorData struct {
	Message string
	Back    string
}

// officeOf finds the office named in the path, or answers 404.
func (w *Web) officeOf(rw http.ResponseWriter, r *http.Request) *actor.Actor {
	a := w.Server.Office(r.PathValue("office"))
	if a == nil {
		w.problem(rw, r, http.StatusNotFound, "web.error.no_office")
	}
	return a
}

// secureCookies reports whether cookies must be Secure: the public
// address is https, or this request reached the office encrypted (over TLS
// to this server, or to a trusted proxy that says so).
func (w *Web) secureCookies(r *http.Request) bool { return w.SecureCookies || clientaddr.HTTPS(r) }

// randomToken is 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// publicCSRF returns the double-submit token of the resident's browser,
// setting its cookie on first use. Residents' forms carry it back.
func (w *Web) publicCSRF(rw http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie("csrf"); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(rw, &http.Cookie{Name: "csrf", Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: w.secureCookies(r)})
	return tok
}

// checkPublicCSRF checks a resident's form against the cookie.
func (w *Web) checkPublicCSRF(rw http.ResponseWriter, r *http.Request) bool {
	c, err := r.Cookie("csrf")
	if err != nil || len(c.Value) < 32 || !equalTokens(c.Value, r.PostFormValue("csrf")) {
		w.problem(rw, r, http.StatusForbidden, "web.error.csrf")
		return false
	}
	return true
}

// redirect answers a form post with 303 See Other.
func redirect(rw http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(rw, r, to, http.StatusSeeOther)
}

// openStream answers with a Server-Sent Events stream following the
// office's events; done ends the following. The page only needs to know
// something happened (it draws itself again from the office's view), so
// it follows with a tail of the hub: no queue of events of its own, which
// for thousands of phones on their e-tickets would be most of the
// server's memory. ok=false when the connection cannot stream (the error
// is already written). Every write may take up to a few refresh periods,
// so a page streams for as long as it is open despite the server's write
// timeout for requests.
func (w *Web) openStream(rw http.ResponseWriter, a *actor.Actor) (sw *sse.Writer, tail *actor.Tail, done func(), ok bool) {
	tail, _ = a.Hub().Tail()
	sw, err := sse.Open(rw, sse.Options{Retry: 3 * time.Second, WriteWait: max(10*time.Second, 4*w.TicketRefresh)})
	if err == nil {
		err = sw.Flush()
	}
	if err != nil {
		tail.Stop()
		return nil, nil, nil, false
	}
	closed := w.Server.StreamOpened(server.PageStream)
	return sw, tail, func() { tail.Stop(); closed() }, true
}
