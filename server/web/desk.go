package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/links"
)

// The booking desk (/staff/bookings): a day's visits per service, with
// the residents' names, languages and check-ins; booking for a resident
// who phones, moving and cancelling with the office's reason; closing
// hours for booking. Every clerk of the office may see, book, move and
// cancel (the front desk answers the phone); closing and reopening hours
// is for managers and admins. Every handler checks st.sees(office).

// deskData is the booking desk page.
type deskData struct {
	Offices []*queue.Office
	// Day is the day shown ("2006-01-02"), Noon its middle for dates.
	Day        string
	Noon       time.Time
	Prev, Next string
	Groups     []deskGroup
	// Free are the free slots of the day, per bookable service.
	Free     []deskSlots
	Closures []queue.Closure
	Langs    []langLink
	// Moving is the visit being moved (?move=id), and MoveSlots where it
	// may go on the day shown.
	Moving    *booking.Entry
	MoveSlots []queue.Slot
	// Cancelling is the visit being cancelled (?cancel=id), asking the
	// reason.
	Cancelling *booking.Entry
	CanClose   bool
	Back       string
}

// deskGroup is one service's visits of the day.
type deskGroup struct {
	Service string
	Entries []booking.Entry
}

// deskSlots is one service's free slots.
type deskSlots struct {
	Service string
	Slots   []queue.Slot
}

// deskBack is the desk's address for office and day.
func deskBack(office, day string) string {
	return "/staff/bookings?" + url.Values{"office": {office}, "day": {day}}.Encode()
}

// deskDay reads ?day (default: today at the office); ok=false when it is
// no date.
func (w *Web) deskDay(a *actor.Actor, v string) (string, bool) {
	if v == "" {
		return w.Clock().In(a.Office().Location).Format(dayKey), true
	}
	if _, err := time.ParseInLocation(dayKey, v, a.Office().Location); err != nil {
		return w.Clock().In(a.Office().Location).Format(dayKey), false
	}
	return v, true
}

func (w *Web) deskPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a := w.assistantOffice(r, st)
	if a == nil {
		w.problem(rw, r, http.StatusForbidden, "web.staff.not_your_office")
		return
	}
	o := a.Office()
	p := w.staffPage(rw, r, st, "web.desk.title")
	p.Office = o
	day, ok := w.deskDay(a, r.URL.Query().Get("day"))
	status := 0
	if !ok {
		p.Error, status = p.T("web.desk.error.day"), http.StatusBadRequest
	}
	dd, _ := time.ParseInLocation(dayKey, day, o.Location)
	noon := dd.Add(12 * time.Hour)
	d := deskData{Day: day, Noon: noon, Prev: noon.AddDate(0, 0, -1).Format(dayKey), Next: noon.AddDate(0, 0, 1).Format(dayKey),
		CanClose: st.IsManager, Back: deskBack(o.ID, day)}
	for _, x := range w.visibleOffices(st) {
		d.Offices = append(d.Offices, x.Office())
	}
	for _, l := range o.Languages {
		d.Langs = append(d.Langs, langLink{Code: l, Name: i18n.NativeName(l)})
	}
	entries, err := w.Booking.Day(r.Context(), a, day)
	if err != nil {
		w.Logger.Error("listing a day's bookings", "office", o.ID, "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	if d.Closures, err = w.Booking.Closures(r.Context(), a); err != nil {
		w.Logger.Error("listing closures", "office", o.ID, "err", err)
	}
	d.Moving = w.deskVisit(o.ID, r.URL.Query().Get("move"))
	d.Cancelling = w.deskVisit(o.ID, r.URL.Query().Get("cancel"))
	var moving string
	if d.Moving != nil {
		moving = d.Moving.Service
	}
	now := w.Clock()
	_ = a.Query(r.Context(), func(s *queue.State) {
		for _, svc := range o.Services {
			if !svc.Bookable {
				continue
			}
			var free []queue.Slot
			for _, sl := range s.Slots(now, svc.ID, noon) {
				if sl.Free > 0 {
					free = append(free, sl)
				}
			}
			d.Free = append(d.Free, deskSlots{Service: svc.ID, Slots: free})
			if svc.ID == moving {
				d.MoveSlots = free
			}
		}
	})
	for _, svc := range o.Services {
		g := deskGroup{Service: svc.ID}
		for _, e := range entries {
			if e.Service == svc.ID {
				g.Entries = append(g.Entries, e)
			}
		}
		if svc.Bookable || len(g.Entries) > 0 {
			d.Groups = append(d.Groups, g)
		}
	}
	p.Data = d
	w.render(rw, status, "desk", p)
}

// deskVisit is a visit still to be moved or cancelled, by id; nil for
// none.
func (w *Web) deskVisit(office, id string) *booking.Entry {
	if id == "" {
		return nil
	}
	b, found, err := w.Booking.Booking(office, id)
	if err != nil || !found || b.Cancelled || b.Held() {
		return nil
	}
	return &booking.Entry{ID: b.ID, Service: b.Service, Slot: b.Slot, Lang: b.Lang, Name: b.Name}
}

// deskOffice is the office a desk form posts for, and where to go back
// to; nil (answered 403) when the clerk does not work there.
func (w *Web) deskOffice(rw http.ResponseWriter, r *http.Request, st *staffInfo) (*actor.Actor, string) {
	id := r.PostFormValue("office")
	a := w.Server.Office(id)
	if a == nil || !st.sees(id) {
		w.problem(rw, r, http.StatusForbidden, "web.staff.not_your_office")
		return nil, ""
	}
	day, _ := w.deskDay(a, r.PostFormValue("day"))
	return a, deskBack(id, day)
}

// deskRefusal flashes why the desk refused, in the clerk's language.
func (w *Web) deskRefusal(rw http.ResponseWriter, r *http.Request, a *actor.Actor, err error) {
	lang := w.language(rw, r)
	var fe *booking.FieldError
	var le *booking.LimitError
	switch {
	case errors.As(err, &fe):
		flash(rw, w.Catalog.T(lang, fe.Key), true)
	case errors.As(err, &le):
		loc := a.Office().Location
		flash(rw, w.Catalog.T(lang, "web.desk.limit", "date", le.Existing.Slot.In(loc).Format(w.Catalog.T(lang, "web.date_short")),
			"time", le.Existing.Slot.In(loc).Format("15:04")), true)
	default:
		flash(rw, w.Catalog.T(lang, "web.console.refused", "why", w.explain(lang, a, err)), true)
	}
}

// deskSlot reads a slot choice, "service|RFC 3339 start".
func deskSlot(v string) (string, time.Time, bool) {
	service, start, ok := strings.Cut(v, "|")
	if !ok {
		return "", time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, start)
	return service, t, err == nil
}

// deskBook books a visit for a resident on the phone.
func (w *Web) deskBook(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, back := w.deskOffice(rw, r, st)
	if a == nil {
		return
	}
	lang := w.language(rw, r)
	service, slot, ok := deskSlot(r.PostFormValue("slot"))
	if !ok {
		flash(rw, w.Catalog.T(lang, "web.desk.error.slot"), true)
		redirect(rw, r, back)
		return
	}
	visitLang := r.PostFormValue("lang")
	if !i18n.Supported(visitLang) {
		visitLang = a.Office().DefaultLanguage()
	}
	b, err := w.Booking.BookForCaller(r.Context(), a, "clerk:"+st.Name, booking.Request{
		Service: service, Slot: slot, Lang: visitLang, Name: r.PostFormValue("name"), Contact: r.PostFormValue("contact"),
		Terms: r.PostFormValue("terms") == "yes",
	})
	if err != nil {
		w.deskRefusal(rw, r, a, err)
		redirect(rw, r, back)
		return
	}
	loc := a.Office().Location
	flash(rw, w.Catalog.T(lang, "web.desk.booked", "time", slot.In(loc).Format("15:04"), "code", links.FormatCode(b.Code)), false)
	redirect(rw, r, deskBack(a.Office().ID, slot.In(loc).Format(dayKey)))
}

// deskMove moves a visit at the office's initiative.
func (w *Web) deskMove(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, back := w.deskOffice(rw, r, st)
	if a == nil {
		return
	}
	lang := w.language(rw, r)
	_, slot, ok := deskSlot(r.PostFormValue("slot"))
	if !ok {
		flash(rw, w.Catalog.T(lang, "web.desk.error.slot"), true)
		redirect(rw, r, back+"&move="+url.QueryEscape(r.PostFormValue("booking")))
		return
	}
	if err := w.Booking.MoveForOffice(r.Context(), a, "clerk:"+st.Name, r.PostFormValue("booking"), slot, r.PostFormValue("reason")); err != nil {
		w.deskRefusal(rw, r, a, err)
		redirect(rw, r, back+"&move="+url.QueryEscape(r.PostFormValue("booking")))
		return
	}
	loc := a.Office().Location
	flash(rw, w.Catalog.T(lang, "web.desk.moved", "date", slot.In(loc).Format(w.Catalog.T(lang, "web.date_short")), "time", slot.In(loc).Format("15:04")), false)
	redirect(rw, r, deskBack(a.Office().ID, slot.In(loc).Format(dayKey)))
}

// deskCancel cancels a visit at the office's initiative.
func (w *Web) deskCancel(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, back := w.deskOffice(rw, r, st)
	if a == nil {
		return
	}
	id := r.PostFormValue("booking")
	if err := w.Booking.CancelForOffice(r.Context(), a, "clerk:"+st.Name, id, r.PostFormValue("reason")); err != nil {
		w.deskRefusal(rw, r, a, err)
		back += "&cancel=" + url.QueryEscape(id)
	} else {
		flash(rw, w.Catalog.T(w.language(rw, r), "web.desk.cancelled"), false)
	}
	redirect(rw, r, back)
}

// deskHours reads the closure form: a day and, optionally, from and to
// times (none: the whole day).
func deskHours(loc *time.Location, day, from, to string) (time.Time, time.Time, bool) {
	start, err := time.ParseInLocation(dayKey, day, loc)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	end := start.AddDate(0, 0, 1)
	if from != "" {
		if start, err = time.ParseInLocation(dayKey+" 15:04", day+" "+from, loc); err != nil {
			return time.Time{}, time.Time{}, false
		}
	}
	if to != "" {
		if end, err = time.ParseInLocation(dayKey+" 15:04", day+" "+to, loc); err != nil {
			return time.Time{}, time.Time{}, false
		}
	}
	return start, end, true
}

// deskClose closes hours for booking (managers and admins).
func (w *Web) deskClose(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, back := w.deskOffice(rw, r, st)
	if a == nil {
		return
	}
	lang := w.language(rw, r)
	from, to, ok := deskHours(a.Office().Location, r.PostFormValue("close_day"), r.PostFormValue("from"), r.PostFormValue("to"))
	if !ok {
		flash(rw, w.Catalog.T(lang, "web.desk.error.hours"), true)
		redirect(rw, r, back)
		return
	}
	closed, err := w.Booking.Close(r.Context(), a, "clerk:"+st.Name, from, to, r.PostFormValue("reason"))
	if err != nil {
		w.deskRefusal(rw, r, a, err)
		redirect(rw, r, back)
		return
	}
	flash(rw, w.Catalog.N(lang, "web.desk.closed", closed.Told), false)
	redirect(rw, r, back)
}

// deskReopen lifts a closure (managers and admins).
func (w *Web) deskReopen(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, back := w.deskOffice(rw, r, st)
	if a == nil {
		return
	}
	if err := w.Booking.Reopen(r.Context(), a, "clerk:"+st.Name, r.PostFormValue("closure")); err != nil {
		w.deskRefusal(rw, r, a, err)
	} else {
		flash(rw, w.Catalog.T(w.language(rw, r), "web.desk.reopened"), false)
	}
	redirect(rw, r, back)
}

// LangName names a language in itself ("українська").
func (p *page) LangName(code string) string { return i18n.NativeName(code) }
