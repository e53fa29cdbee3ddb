package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
)

// assistantData is the hall assistant's page (seed 002): issue a ticket
// for the right service on a resident's behalf, or move a waiting ticket,
// with a note for the clerk.
type assistantData struct {
	Offices  []*queue.Office
	View     *queue.View
	Langs    []langLink
	Kiosks   []string
	Issued   *queue.TicketView
	QR       string
	URL      string
	PrintAt  string
	Nonce    string
	Services []queue.ServiceView
}

// assistantOffice is the office the page works on: ?office, else the
// clerk's, else the first they see.
func (w *Web) assistantOffice(r *http.Request, st *staffInfo) *actor.Actor {
	for _, id := range []string{r.FormValue("office"), st.Office} {
		if a := w.Server.Office(id); a != nil && st.sees(id) {
			return a
		}
	}
	if offices := w.visibleOffices(st); len(offices) > 0 {
		return offices[0]
	}
	return nil
}

func (w *Web) assistantPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a := w.assistantOffice(r, st)
	if a == nil {
		w.problem(rw, r, http.StatusForbidden, "web.staff.not_your_office")
		return
	}
	o := a.Office()
	p := w.staffPage(rw, r, st, "web.assistant.title")
	p.Office = o
	v, err := a.View(r.Context())
	if err != nil {
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	d := assistantData{View: &v, Services: v.Services, Nonce: randomToken()[:16]}
	for _, x := range w.visibleOffices(st) {
		d.Offices = append(d.Offices, x.Office())
	}
	for _, l := range o.Languages {
		d.Langs = append(d.Langs, langLink{Code: l, Name: i18n.NativeName(l)})
	}
	d.Kiosks = w.kiosks(o.ID)
	if id := r.URL.Query().Get("issued"); id != "" {
		var tv queue.TicketView
		found := false
		_ = a.Query(r.Context(), func(s *queue.State) { tv, found = s.TicketView(id, w.Clock()) })
		if found {
			d.Issued = &tv
			d.URL = w.links.TicketURL(o.ID, tv.ID)
			d.QR = qrSVG(d.URL, p.T("web.assistant.qr_label", "number", tv.Number))
			d.PrintAt = r.URL.Query().Get("print")
		}
	}
	p.Data = d
	p.Wide = true
	w.render(rw, 0, "assistant", p)
}

// kiosks are the labels of the office's ticket kiosks: the assistant may
// send a ticket to one to be printed.
func (w *Web) kiosks(office string) []string {
	toks, err := w.Tokens.List()
	if err != nil {
		w.Logger.Error("listing device tokens", "err", err)
		return nil
	}
	var out []string
	for _, t := range toks {
		if t.Office == office && t.Role == string(server.RoleTicket) && t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

// assistantIssue issues a ticket with channel "assistant". Printing at a
// kiosk is asked by naming the kiosk as the ticket's device: the kiosk
// prints assistant tickets issued in its name when it sees them in the
// event stream.
func (w *Web) assistantIssue(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a := w.assistantOffice(r, st)
	if a == nil {
		w.problem(rw, r, http.StatusForbidden, "web.staff.not_your_office")
		return
	}
	o := a.Office()
	lang := r.PostFormValue("lang")
	if !i18n.Supported(lang) {
		lang = o.DefaultLanguage()
	}
	device, printAt := "web:assistant", ""
	if k := r.PostFormValue("deliver"); k != "" && k != "qr" {
		for _, known := range w.kiosks(o.ID) {
			if known == k {
				device, printAt = k, k
			}
		}
	}
	nonce := r.PostFormValue("nonce")
	if len(nonce) > 32 {
		nonce = nonce[:32]
	}
	res := a.Do(r.Context(), "clerk:"+st.Name, queue.Issue{
		Service: r.PostFormValue("service"), Lang: lang, Priority: r.PostFormValue("priority") == "yes",
		Channel: queue.ChannelAssistant, RequestID: "assistant/" + nonce, Device: device,
		Note: strings.TrimSpace(r.PostFormValue("note")),
	})
	back := "/staff/assistant?office=" + url.QueryEscape(o.ID)
	if res.Err != nil {
		flash(rw, w.explain(w.language(rw, r), a, res.Err), true)
		redirect(rw, r, back)
		return
	}
	redirect(rw, r, back+"&issued="+url.QueryEscape(res.Decision.Ticket)+"&print="+url.QueryEscape(printAt))
}

// assistantMove moves a waiting ticket to another service, keeping its
// place, with a note.
func (w *Web) assistantMove(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a := w.assistantOffice(r, st)
	if a == nil {
		w.problem(rw, r, http.StatusForbidden, "web.staff.not_your_office")
		return
	}
	lang := w.language(rw, r)
	res := a.Do(r.Context(), "clerk:"+st.Name, queue.Transfer{
		Ticket: strings.TrimSpace(r.PostFormValue("ticket")), ToService: r.PostFormValue("to_service"),
		KeepPlace: true, Note: strings.TrimSpace(r.PostFormValue("note")),
	})
	if res.Err != nil {
		flash(rw, w.Catalog.T(lang, "web.console.refused", "why", w.explain(lang, a, res.Err)), true)
	} else if res.Ticket != nil {
		flash(rw, w.Catalog.T(lang, "web.assistant.moved", "number", res.Ticket.Number), false)
	}
	redirect(rw, r, "/staff/assistant?office="+url.QueryEscape(a.Office().ID))
}
