package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/clientaddr"
)

// home lists the offices, or goes straight to the only one.
func (w *Web) home(rw http.ResponseWriter, r *http.Request) {
	ids := w.Server.OfficeIDs()
	if len(ids) == 1 {
		http.Redirect(rw, r, "/o/"+ids[0], http.StatusFound)
		return
	}
	p := w.newPage(rw, r, "web.home.title")
	var offices []*queue.Office
	for _, id := range ids {
		offices = append(offices, w.Server.Office(id).Office())
	}
	p.Data = offices
	w.render(rw, 0, "home", p)
}

// officeData is the office page: services to take a phone ticket for, the
// check-in form and the way to booking.
type officeData struct {
	View     *queue.View
	Services []queue.ServiceView
	Bookable bool
	// Nonce makes a resubmitted ticket form give the same ticket.
	Nonce string
	Code  string
}

func (w *Web) officePage(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil {
		return
	}
	w.renderOffice(rw, r, a, 0, "", "")
}

func (w *Web) renderOffice(rw http.ResponseWriter, r *http.Request, a *actor.Actor, status int, errMsg, code string) {
	p := w.newPage(rw, r, "")
	p.Office = a.Office()
	p.Title = a.Office().Name
	p.CSRF = w.publicCSRF(rw, r)
	p.Error = errMsg
	v, err := a.View(r.Context())
	if err != nil {
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	d := officeData{View: &v, Services: v.Services, Nonce: randomToken()[:16], Code: code}
	for _, s := range v.Services {
		d.Bookable = d.Bookable || s.Bookable
	}
	p.Data = d
	w.render(rw, status, "office", p)
}

// takeTicket issues a phone ticket and opens its e-ticket page.
func (w *Web) takeTicket(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil || !w.checkPublicCSRF(rw, r) {
		return
	}
	lang := w.language(rw, r)
	claim, ok, retry := w.limits.hold(budgetKey{w.limits.ticketBrowser, w.browserID(rw, r)}, budgetKey{w.limits.ticketAddr, clientaddr.From(r)})
	if !ok {
		retryAfter(rw, retry)
		w.renderOffice(rw, r, a, http.StatusTooManyRequests, w.Catalog.T(lang, "web.office.too_many", "time", w.againAt(a, retry)), "")
		return
	}
	nonce := r.PostFormValue("nonce")
	if len(nonce) > 32 {
		nonce = nonce[:32]
	}
	reqID := ""
	if nonce != "" {
		reqID = "web/" + nonce
	}
	res := a.Do(r.Context(), "web:phone", queue.Issue{
		Service: r.PostFormValue("service"), Lang: lang, Channel: queue.ChannelPhone, RequestID: reqID, Device: "web",
		Holders: w.holders(rw, r, a),
	})
	if res.Err != nil {
		claim.release()
		w.renderOffice(rw, r, a, statusOf(res.Err), w.say(lang, a, res.Err), "")
		return
	}
	// A browser asking again for the ticket it has counts like one
	// taking a ticket: a repeated ask is not free.
	claim.commit()
	path := w.links.TicketPath(a.Office().ID, res.Decision.Ticket)
	if res.Decision.Held {
		// One active phone ticket per browser and matter: the one it has.
		path += "?already=1"
	}
	redirect(rw, r, path)
}

// explain says why the office refused a clerk, in the page's language;
// the English message is for the log only.
func (w *Web) explain(lang string, a *actor.Actor, err error) string {
	if text, ok := localize.Error(w.Catalog, lang, err, a.Office(), w.Clock()); ok {
		return text
	}
	return w.say(lang, a, err)
}

// say puts a command's failure in the resident's words.
func (w *Web) say(lang string, a *actor.Actor, err error) string {
	var qe *queue.Error
	switch {
	case errors.As(err, &qe) && (qe.Refusal != nil || qe.Code != ""):
		text, _ := localize.Error(w.Catalog, lang, err, a.Office(), w.Clock())
		return text
	case errors.As(err, &qe) && qe.Kind == queue.NotFound:
		return w.Catalog.T(lang, "web.error.not_found")
	case errors.As(err, &qe):
		return w.Catalog.T(lang, "web.error.conflict")
	case errors.Is(err, booking.ErrThrottled):
		return w.Catalog.T(lang, "web.checkin.throttled")
	case errors.Is(err, booking.ErrMalformedCode):
		return w.Catalog.T(lang, "web.checkin.malformed")
	case errors.Is(err, booking.ErrNoSuchCode):
		return w.Catalog.T(lang, "web.checkin.unknown")
	case errors.Is(err, booking.ErrWrongCode), errors.Is(err, booking.ErrHoldExpired),
		errors.Is(err, booking.ErrTooManyTries), errors.Is(err, booking.ErrNoBooking):
		// Their text is the message's id.
		return w.Catalog.T(lang, err.Error())
	}
	w.Logger.Error("a resident's request failed", "office", a.Office().ID, "err", err)
	return w.Catalog.T(lang, "web.error.unavailable")
}

func statusOf(err error) int {
	var qe *queue.Error
	switch {
	case errors.Is(err, booking.ErrThrottled):
		return http.StatusTooManyRequests
	case errors.Is(err, booking.ErrMalformedCode):
		return http.StatusBadRequest
	case errors.Is(err, booking.ErrNoSuchCode), errors.Is(err, booking.ErrNoBooking):
		return http.StatusNotFound
	case errors.Is(err, booking.ErrWrongCode):
		return http.StatusBadRequest
	case errors.Is(err, booking.ErrTooManyTries):
		return http.StatusTooManyRequests
	case errors.Is(err, booking.ErrHoldExpired):
		return http.StatusGone
	case errors.As(err, &qe) && qe.Kind == queue.Invalid:
		return http.StatusBadRequest
	case errors.As(err, &qe) && qe.Kind == queue.NotFound:
		return http.StatusNotFound
	case errors.As(err, &qe):
		return http.StatusConflict
	}
	return http.StatusServiceUnavailable
}

// checkInByCode confirms a booked visit from the phone and opens its
// e-ticket.
func (w *Web) checkInByCode(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil || !w.checkPublicCSRF(rw, r) {
		return
	}
	lang := w.language(rw, r)
	code := r.PostFormValue("code")
	src := booking.Source{Device: "browser:" + w.browserID(rw, r), Addr: clientaddr.From(r)}
	res, err := w.Booking.CheckIn(r.Context(), a, src, code,
		queue.CheckIn{Channel: queue.ChannelBooking, Lang: lang, Device: "web"}, "web:phone")
	if err != nil {
		if errors.Is(err, booking.ErrThrottled) {
			retryAfter(rw, booking.RetryAfter(err))
		}
		if len(code) > 20 {
			code = code[:20]
		}
		w.renderOffice(rw, r, a, statusOf(err), w.say(lang, a, err), code)
		return
	}
	redirect(rw, r, w.links.TicketPath(a.Office().ID, res.Decision.Ticket))
}

// ticketOf checks an e-ticket address; it answers 404 itself when wrong.
func (w *Web) ticketOf(rw http.ResponseWriter, r *http.Request) (*actor.Actor, string, bool) {
	a := w.Server.Office(r.PathValue("office"))
	id := r.PathValue("ticket")
	if a == nil || !w.links.CheckTicket(a.Office().ID, id, r.PathValue("mac")) {
		w.problem(rw, r, http.StatusNotFound, "web.ticket.no_such")
		return nil, "", false
	}
	return a, id, true
}

// ticketData is the e-ticket's state as the page shows it.
type ticketData struct {
	Found   bool
	Ticket  queue.TicketView
	Day     string
	Serving string
	Path    string
	Rated   bool
	// Push is set where the page offers Web Push (push.go).
	Push *pushData
}

// ticketNow describes a ticket as the office stands now, and the number
// last called for its service. It reads the office's shared view (one
// forecast for every e-ticket watching) and asks the office itself only
// for tickets the view does not hold (served, gone).
func ticketNow(ctx context.Context, a *actor.Actor, id string, now time.Time) (queue.TicketView, string, bool) {
	v, err := a.View(ctx)
	if err != nil {
		return queue.TicketView{}, "", false
	}
	serving := func(service string) string {
		for _, c := range v.Calls {
			if c.Service == service {
				return c.Number
			}
		}
		return ""
	}
	for _, t := range v.Waiting {
		if t.ID == id {
			return t, serving(t.Service), true
		}
	}
	for _, c := range v.Counters {
		if c.Current != nil && c.Current.ID == id {
			return *c.Current, serving(c.Current.Service), true
		}
	}
	var tv queue.TicketView
	found := false
	if err := a.Query(ctx, func(s *queue.State) { tv, found = s.TicketView(id, now) }); err != nil {
		return tv, "", false
	}
	return tv, serving(tv.Service), found
}

func (w *Web) ticketPage(rw http.ResponseWriter, r *http.Request, a *actor.Actor, id string) *page {
	p := w.newPage(rw, r, "web.ticket.title")
	p.Office = a.Office()
	p.CSRF = w.publicCSRF(rw, r)
	tv, serving, found := ticketNow(r.Context(), a, id, w.Clock())
	d := ticketData{Found: found, Ticket: tv, Serving: serving, Path: w.links.TicketPath(a.Office().ID, id)}
	if !found {
		if len(id) >= 10 {
			d.Day = id[:10]
		}
	}
	p.Data = d
	return p
}

func (w *Web) eTicket(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.ticketOf(rw, r)
	if !ok {
		return
	}
	p := w.ticketPage(rw, r, a, id)
	if d := p.Data.(ticketData); d.Found && !d.Ticket.State.Final() {
		p.Scripts = []string{"eticket.js"}
		p.Refresh = 30
		w.offerPush(p, a, id)
		if r.URL.Query().Get("already") == "1" {
			p.Notice = p.T("web.remote.already", "number", d.Ticket.Number)
		}
	}
	w.render(rw, 0, "eticket", p)
}

// ticketEvent is one update of the e-ticket stream: the ticket's state and
// its status block, rendered by the same template as the page.
type ticketEvent struct {
	State  queue.TicketState `json:"state"`
	Number string            `json:"number"`
	// Counter is set while the ticket is called or served.
	Counter int    `json:"counter,omitempty"`
	Notice  string `json:"notice,omitempty"`
	HTML    string `json:"html"`
}

// eTicketEvents streams one ticket's view (and nothing of any other
// resident) as Server-Sent Events until the ticket's life ends.
func (w *Web) eTicketEvents(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.ticketOf(rw, r)
	if !ok {
		return
	}
	p := w.newPage(rw, r, "")
	p.Office = a.Office()
	// The status block may carry the presence form.
	p.CSRF = w.publicCSRF(rw, r)
	w.streamOffice(rw, r, a, 0, "ticket", func() ([]byte, bool, bool) {
		tv, serving, found := ticketNow(r.Context(), a, id, w.Clock())
		if !found {
			return nil, false, false
		}
		p.Data = ticketData{Found: true, Ticket: tv, Serving: serving, Path: w.links.TicketPath(a.Office().ID, id)}
		html, err := w.fragment("eticket", "status", p)
		if err != nil {
			w.Logger.Error("rendering a ticket update", "err", err)
			return nil, false, false
		}
		ev := ticketEvent{State: tv.State, Number: tv.Number, HTML: html}
		if tv.State == queue.Called || tv.State == queue.Serving {
			ev.Counter = tv.Counter
		}
		if tv.State == queue.Called {
			ev.Notice = p.T("web.ticket.called_notice", "number", tv.Number, "counter", tv.Counter)
		}
		data, _ := json.Marshal(ev)
		return data, !tv.State.Final(), true
	})
}

// rateTicket records the resident's rating of a served ticket.
func (w *Web) rateTicket(rw http.ResponseWriter, r *http.Request) {
	w.ticketAction(rw, r, func(id string) queue.Command {
		return queue.Rate{Ticket: id, Rating: queue.Rating(r.PostFormValue("rating"))}
	}, "?rated=1")
}

// ticketAction runs a resident's form on their own e-ticket: the command
// cmd makes for the ticket, then the e-ticket again (its address and
// after), or the e-ticket with why the office refused.
func (w *Web) ticketAction(rw http.ResponseWriter, r *http.Request, cmd func(id string) queue.Command, after string) {
	a, id, ok := w.ticketOf(rw, r)
	if !ok || !w.checkPublicCSRF(rw, r) {
		return
	}
	res := a.Do(r.Context(), "web:phone", cmd(id))
	if res.Err != nil {
		lang := w.language(rw, r)
		p := w.ticketPage(rw, r, a, id)
		p.Error = w.say(lang, a, res.Err)
		w.render(rw, statusOf(res.Err), "eticket", p)
		return
	}
	redirect(rw, r, w.links.TicketPath(a.Office().ID, id)+after)
}
