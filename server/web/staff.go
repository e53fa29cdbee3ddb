package web

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/clientaddr"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/store"
)

// SessionTTL is how long a clerk stays logged in: a working day.
const SessionTTL = 12 * time.Hour

const sessionCookie = "numerek_session"

// staffInfo is the logged-in clerk, as handlers and templates see them.
type staffInfo struct {
	Name    string
	Role    string
	IsAdmin bool
	// IsManager: statistics and bookings (a manager, or an admin).
	IsManager bool
	// Office and Counter are where the clerk works, once picked.
	Office  string
	Counter int
	key     string
	sess    store.Session
}

// sees reports whether the clerk may work in office.
func (s *staffInfo) sees(office string) bool {
	return slices.Contains(s.sess.Offices, office) || slices.Contains(s.sess.Offices, "*")
}

type staffHandler func(rw http.ResponseWriter, r *http.Request, st *staffInfo)

// staff lets a handler run only for a logged-in clerk, and a post only
// with the session's CSRF token.
func (w *Web) staff(next staffHandler) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		st := w.session(r)
		if st == nil {
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "/events") && !strings.HasSuffix(r.URL.Path, "/panel") {
				redirect(rw, r, "/staff/login?next="+url.QueryEscape(r.URL.RequestURI()))
				return
			}
			w.problem(rw, r, http.StatusUnauthorized, "web.staff.logged_out")
			return
		}
		if r.Method == http.MethodPost && !equalTokens(st.sess.CSRF, r.PostFormValue("csrf")) {
			w.problem(rw, r, http.StatusForbidden, "web.error.csrf")
			return
		}
		next(rw, r, st)
	}
}

// admin is staff for admins only.
func (w *Web) admin(next staffHandler) http.HandlerFunc {
	return w.staff(func(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
		if !st.IsAdmin {
			w.problem(rw, r, http.StatusForbidden, "web.staff.admins_only")
			return
		}
		next(rw, r, st)
	})
}

// manager is staff for managers and admins: statistics and bookings.
func (w *Web) manager(next staffHandler) http.HandlerFunc {
	return w.staff(func(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
		if !st.IsManager {
			w.problem(rw, r, http.StatusForbidden, "web.staff.managers_only")
			return
		}
		next(rw, r, st)
	})
}

func (w *Web) session(r *http.Request) *staffInfo {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) < 32 {
		return nil
	}
	key := store.Hash(c.Value)
	s, ok, err := w.DB.Session(key, time.Now())
	if err != nil {
		w.Logger.Error("reading a session", "err", err)
		return nil
	}
	if !ok {
		return nil
	}
	return &staffInfo{Name: s.Clerk, Role: s.Role, IsAdmin: s.Role == store.AdminRole,
		IsManager: s.Role == store.AdminRole || s.Role == store.ManagerRole, Office: s.Office, Counter: s.Counter, key: key, sess: s}
}

// staffPage starts a staff page.
func (w *Web) staffPage(rw http.ResponseWriter, r *http.Request, st *staffInfo, title string) *page {
	p := w.newPage(rw, r, title)
	p.Staff = st
	p.CSRF = st.sess.CSRF
	// Staff work at desks: their pages use the width.
	p.Wide = true
	if st.IsAdmin {
		p.Alerts = w.loginAlerts()
	}
	if msg := takeFlash(rw, r); msg != "" {
		if strings.HasPrefix(msg, "!") {
			p.Error = msg[1:]
		} else {
			p.Notice = msg
		}
	}
	return p
}

// flash carries one message across a redirect, in a short-lived cookie.
func flash(rw http.ResponseWriter, msg string, isError bool) {
	if isError {
		msg = "!" + msg
	}
	http.SetCookie(rw, &http.Cookie{Name: "flash", Value: base64.RawURLEncoding.EncodeToString([]byte(msg)),
		Path: "/staff", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func takeFlash(rw http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie("flash")
	if err != nil {
		return ""
	}
	http.SetCookie(rw, &http.Cookie{Name: "flash", Path: "/staff", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) > 500 {
		return ""
	}
	return string(b)
}

type loginData struct {
	Name string
	Next string
}

func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request) {
	w.renderLogin(rw, r, 0, "", loginData{Next: r.URL.Query().Get("next")})
}

func (w *Web) renderLogin(rw http.ResponseWriter, r *http.Request, status int, errID string, d loginData) {
	p := w.newPage(rw, r, "web.login.title")
	tok := randomToken()
	http.SetCookie(rw, &http.Cookie{Name: "login_csrf", Value: tok, Path: "/staff", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: w.secureCookies(r)})
	p.CSRF = tok
	if errID != "" {
		p.Error = p.T(errID)
	}
	d.Next = staffNext(d.Next)
	p.Data = d
	w.render(rw, status, "login", p)
}

func (w *Web) loginPost(rw http.ResponseWriter, r *http.Request) {
	d := loginData{Name: r.PostFormValue("name"), Next: r.PostFormValue("next")}
	if c, err := r.Cookie("login_csrf"); err != nil || !equalTokens(c.Value, r.PostFormValue("csrf")) {
		w.problem(rw, r, http.StatusForbidden, "web.error.csrf")
		return
	}
	account := loginAccount(d.Name)
	browser := staffBrowserKey(account, w.browserID(rw, r))
	claim, ok, retry := w.limits.hold(w.accountBudget(account, browser), budgetKey{w.limits.loginAddr, clientaddr.From(r)})
	if !ok {
		retryAfter(rw, retry)
		w.renderLogin(rw, r, http.StatusTooManyRequests, "web.login.too_many", d)
		return
	}
	c, err := w.Clerks.Check(d.Name, r.PostFormValue("password"))
	if errors.Is(err, store.ErrBadLogin) {
		claim.commit()
		w.watchAccount(account)
		w.renderLogin(rw, r, http.StatusUnauthorized, "web.login.wrong", d)
		return
	}
	claim.release()
	if err != nil {
		w.Logger.Error("checking a login", "err", err)
		w.renderLogin(rw, r, http.StatusServiceUnavailable, "web.error.unavailable", d)
		return
	}
	if err := w.DB.PutStaffBrowser(browser, w.Clock()); err != nil {
		w.Logger.Error("remembering a clerk's browser", "err", err)
	}
	secret := randomToken()
	now := time.Now()
	s := store.Session{Clerk: c.Name, Role: c.Role, Offices: c.Offices, CSRF: randomToken(), Created: now, Expires: now.Add(SessionTTL)}
	if err := w.DB.PutSession(store.Hash(secret), s); err != nil {
		w.Logger.Error("storing a session", "err", err)
		w.renderLogin(rw, r, http.StatusServiceUnavailable, "web.error.unavailable", d)
		return
	}
	http.SetCookie(rw, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/staff", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: w.secureCookies(r), Expires: s.Expires})
	http.SetCookie(rw, &http.Cookie{Name: "login_csrf", Path: "/staff", MaxAge: -1})
	w.Logger.Info("clerk logged in", "clerk", c.Name)
	next := staffNext(d.Next)
	if next == "" {
		next = "/staff"
	}
	redirect(rw, r, next)
}

// staffNext is where a login may send the browser on: a staff page of
// this site, judged after the path is decoded and cleaned as a browser
// would read it, or "" when next is anything else. A prefix check on the
// raw text lets "/staff/../..//evil.com" or "/staff/..\/evil.com" through,
// which browsers follow to another site.
func staffNext(next string) string {
	if next == "" || len(next) > 2000 || !strings.HasPrefix(next, "/") {
		return ""
	}
	// Browsers read a backslash as a slash and drop tabs and newlines, so
	// a text holding them cannot be judged as the browser will read it.
	for _, c := range next {
		if c == '\\' || c < 0x20 || c == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	if strings.ContainsAny(u.Path, "\\") || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	clean := path.Clean(u.Path)
	if clean != "/staff" && !strings.HasPrefix(clean, "/staff/") {
		return ""
	}
	if clean == "/staff/login" || strings.HasPrefix(clean, "/staff/login/") || clean == "/staff/logout" {
		return ""
	}
	out := (&url.URL{Path: clean, RawQuery: u.RawQuery}).String()
	if !strings.HasPrefix(out, "/staff") || strings.HasPrefix(out, "//") {
		return ""
	}
	return out
}

func (w *Web) logout(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	if err := w.DB.DeleteSession(st.key); err != nil {
		w.Logger.Error("ending a session", "err", err)
	}
	http.SetCookie(rw, &http.Cookie{Name: sessionCookie, Path: "/staff", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	redirect(rw, r, "/staff/login")
}

// visibleOffices are the offices the clerk works in, in order.
func (w *Web) visibleOffices(st *staffInfo) []*actor.Actor {
	var out []*actor.Actor
	for _, id := range w.Server.OfficeIDs() {
		if st.sees(id) {
			out = append(out, w.Server.Office(id))
		}
	}
	return out
}

type homeOffice struct {
	Office *queue.Office
	View   *queue.View
	// Cancelled are the bookings the office cancelled by closing their
	// hours, still to come: staff see whom to expect no longer.
	Cancelled []officeCancelled
}

type officeCancelled struct {
	Code string
	// Service is the matter's name in the page's language.
	Service string
	Slot    time.Time
	Reason  string
}

func (w *Web) staffHome(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	p := w.staffPage(rw, r, st, "web.staff.title")
	if st.Counter == 0 && st.sess.TakenOverBy != "" && p.Notice == "" {
		p.Notice = p.T("web.console.taken_over", "clerk", st.sess.TakenOverBy)
	}
	var offices []homeOffice
	for _, a := range w.visibleOffices(st) {
		v, err := a.View(r.Context())
		if err != nil {
			w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
			return
		}
		h := homeOffice{Office: a.Office(), View: &v}
		cancelled, err := w.DB.CancelledByOffice(a.Office().ID)
		if err != nil {
			w.Logger.Error("listing bookings the office cancelled", "office", a.Office().ID, "err", err)
		}
		for _, b := range cancelled {
			if b.Slot.After(w.Clock()) {
				name := b.Service
				if s, ok := a.Office().Service(b.Service); ok {
					name = s.Name(p.Lang)
				}
				h.Cancelled = append(h.Cancelled, officeCancelled{Code: links.FormatCode(w.links.BookingCode(b.Office, b.ID)),
					Service: name, Slot: b.Slot, Reason: b.CancelReason})
			}
		}
		slices.SortFunc(h.Cancelled, func(a, b officeCancelled) int { return a.Slot.Compare(b.Slot) })
		offices = append(offices, h)
	}
	p.Data = offices
	w.render(rw, 0, "staff", p)
}

// pickCounter binds the session to a counter: from now on the console acts
// only there. A counter another session works at is taken over only when
// the clerk, told who works there, confirms (take_over=yes); that session
// loses the counter.
func (w *Web) pickCounter(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	office := r.PostFormValue("office")
	n, _ := strconv.Atoi(r.PostFormValue("counter"))
	a := w.Server.Office(office)
	if a == nil || !st.sees(office) {
		w.problem(rw, r, http.StatusForbidden, "web.staff.not_your_office")
		return
	}
	cfg, ok := a.Office().Counter(n)
	if !ok {
		w.problem(rw, r, http.StatusNotFound, "web.error.not_found")
		return
	}
	if r.PostFormValue("take_over") != "yes" {
		holders, err := w.DB.CounterHolders(office, n, st.key, time.Now())
		if err != nil {
			w.Logger.Error("listing who works at a counter", "err", err)
			w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
			return
		}
		if len(holders) > 0 {
			w.askTakeOver(rw, r, st, a.Office(), cfg, holders)
			return
		}
	}
	if err := w.DB.TakeCounter(st.key, st.sess, office, n); err != nil {
		w.Logger.Error("storing a session", "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	redirect(rw, r, "/staff/console")
}

// consoleData is a counter's panel.
type consoleData struct {
	Counter   queue.CounterView
	Current   *queue.TicketView
	Waited    time.Duration
	AtCounter time.Duration
	Lines     []consoleLine
	Queue     []consoleTicket
	Parked    []queue.TicketView
	// Away are phone tickets set aside unconfirmed that this counter
	// would call once confirmed.
	Away          []queue.TicketView
	Services      []queue.Service
	Counters      []queue.Counter
	AllowSpecific bool
	Seq           uint64
	Faults        []queue.DeviceFault
	// Outcomes are what the current ticket's service lets the clerk
	// record at finish.
	Outcomes []queue.Outcome
	// Undo is the move the counter may take back ("finish", "no-show",
	// "close"), for UndoLeft more; empty when none. The page counts the
	// time left on its own clock, which may differ from the server's.
	Undo     string
	UndoLeft time.Duration
	// Targets are the counters a transfer can name, with their lines.
	Targets []transferTarget
}

type consoleLine struct {
	Service queue.ServiceView
	Serves  bool
}

func (w *Web) consoleFor(r *http.Request, st *staffInfo) (*actor.Actor, consoleData, bool) {
	a := w.Server.Office(st.Office)
	if a == nil || st.Counter == 0 || !st.sees(st.Office) {
		return nil, consoleData{}, false
	}
	o := a.Office()
	cfg, ok := o.Counter(st.Counter)
	if !ok {
		return nil, consoleData{}, false
	}
	v, err := a.View(r.Context())
	if err != nil {
		return nil, consoleData{}, false
	}
	now := w.Clock()
	d := consoleData{Services: o.Services, Counters: o.Counters, AllowSpecific: o.Rules.AllowCallSpecific, Seq: v.Seq, Faults: v.Faults}
	for _, c := range v.Counters {
		if c.Number == st.Counter {
			d.Counter = c
		}
	}
	if cur := d.Counter.Current; cur != nil {
		d.Current = cur
		if !cur.CalledAt.IsZero() {
			d.Waited = cur.CalledAt.Sub(cur.IssuedAt)
			d.AtCounter = now.Sub(cur.CalledAt)
		}
	}
	for _, s := range v.Services {
		d.Lines = append(d.Lines, consoleLine{Service: s, Serves: cfg.Serves(s.ID)})
	}
	slices.SortStableFunc(d.Lines, func(a, b consoleLine) int {
		switch {
		case a.Serves == b.Serves:
			return 0
		case a.Serves:
			return -1
		}
		return 1
	})
	for _, t := range v.Waiting {
		if (cfg.Serves(t.Service) && t.TargetCounter == 0) || t.TargetCounter == st.Counter {
			d.Queue = append(d.Queue, w.consoleTicket(o, t, now))
		}
		if len(d.Queue) == consoleQueueRows {
			break
		}
	}
	if d.Current != nil {
		if svc, ok := o.Service(d.Current.Service); ok {
			d.Outcomes = svc.Outcomes
		}
	}
	var undoUntil time.Time
	if err := a.Query(r.Context(), func(s *queue.State) { d.Undo, undoUntil, _ = s.UndoUntil(st.Counter, now) }); err != nil {
		return nil, consoleData{}, false
	}
	d.UndoLeft = undoUntil.Sub(now)
	d.Targets = transferTargets(o, v, st.Counter)
	for _, t := range v.Parked {
		if t.Counter == st.Counter {
			d.Parked = append(d.Parked, t)
		}
	}
	d.Away = awayFor(v, cfg)
	return a, d, true
}

func (w *Web) console(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, d, ok := w.consoleFor(r, st)
	if !ok {
		redirect(rw, r, "/staff")
		return
	}
	p := w.staffPage(rw, r, st, "")
	p.Office = a.Office()
	p.Title = p.T("web.console.title", "counter", st.Counter)
	p.Data = d
	p.Scripts = []string{"console.js"}
	p.Wide = true
	w.render(rw, 0, "console", p)
}

// consolePanel is the live part of the console, for its script.
func (w *Web) consolePanel(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, d, ok := w.consoleFor(r, st)
	if !ok {
		http.Error(rw, "no counter chosen", http.StatusConflict)
		return
	}
	p := w.staffPage(rw, r, st, "")
	p.Office = a.Office()
	p.Data = d
	html, err := w.fragment("console", "panel", p)
	if err != nil {
		w.Logger.Error("rendering the console", "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	_, _ = rw.Write([]byte(html))
}

// notOnConsole are the counter's actions the console does not do, with
// the message saying why.
var notOnConsole = map[string]string{
	// The rating is the resident's, given on the counter's buttons: a
	// clerk does not rate their own service.
	"rate": "web.console.rating_is_residents",
}

// consoleAction does one move at the clerk's counter, by queue's table of
// the counter's actions, with the action's parameters from the form. The
// form names the counter it was drawn for; a move for any other counter is
// refused, so a stale tab or a crafted form cannot act at a colleague's
// counter.
func (w *Web) consoleAction(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	n, _ := strconv.Atoi(r.PostFormValue("counter"))
	if st.Counter == 0 || n != st.Counter || r.PostFormValue("office") != st.Office {
		w.Logger.Warn("clerk refused at another counter", "clerk", st.Name, "own", st.Counter, "asked", n)
		w.problem(rw, r, http.StatusForbidden, "web.console.other_counter", "own", st.Counter, "asked", n)
		return
	}
	a := w.Server.Office(st.Office)
	if a == nil {
		w.problem(rw, r, http.StatusNotFound, "web.error.no_office")
		return
	}
	act, err := queue.CounterActionNamed(r.PathValue("action"))
	if err != nil {
		w.refuse(rw, r, http.StatusNotFound, a, err)
		return
	}
	if msgID, refused := notOnConsole[act.Name]; refused {
		w.problem(rw, r, http.StatusForbidden, msgID)
		return
	}
	lang := w.language(rw, r)
	if act.Name == "close" && !w.confirmClose(rw, r, st) {
		return
	}
	var note string
	if act.Name == "finish" {
		var errID string
		if note, errID = finishNote(r); errID != "" {
			flash(rw, w.Catalog.T(lang, errID, "max", queue.MaxNote), true)
			redirect(rw, r, "/staff/console")
			return
		}
	}
	params, err := act.ParseParams(formParams(r))
	var cmd queue.Command
	if err == nil {
		cmd, err = act.Command(n, params)
	}
	if err != nil {
		flash(rw, w.Catalog.T(lang, "web.console.refused", "why", w.explain(lang, a, err)), true)
		redirect(rw, r, "/staff/console")
		return
	}
	res := a.Do(r.Context(), "clerk:"+st.Name, cmd)
	switch {
	case res.Err != nil:
		flash(rw, w.Catalog.T(lang, "web.console.refused", "why", w.explain(lang, a, res.Err)), true)
	case act.Name == "next" && res.Ticket == nil:
		flash(rw, w.Catalog.T(lang, "web.console.nobody"), false)
	case act.Name == "finish":
		w.keepFinishNote(a.Office(), res.Decision.Ticket, st.Name, note)
	}
	redirect(rw, r, "/staff/console")
}

// staffEvents tells the console that its office changed, with the seq
// only: the console then fetches its panel.
func (w *Web) staffEvents(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a := w.Server.Office(st.Office)
	if a == nil {
		http.Error(rw, "no counter chosen", http.StatusConflict)
		return
	}
	sw, tail, done, ok := w.openStream(rw, a)
	if !ok {
		return
	}
	defer done()
	changed := func(seq uint64) { sw.Event("", "changed", []byte(strconv.FormatUint(seq, 10))) }
	tick := time.NewTicker(w.TicketRefresh)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			// Waits shown keep counting.
			changed(a.Seq())
		case <-tail.Ready():
			seq, open := tail.Skip()
			if !open {
				return
			}
			changed(seq)
		}
		if sw.Flush() != nil {
			return
		}
	}
}
