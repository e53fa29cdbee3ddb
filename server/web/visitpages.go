package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/store"
)

// The pages of one booking, all under its signed address
// /booking/{office}/{id}/{mac}: the booking (confirming the contact while
// held), moving it, cancelling it (asked once), and what is stored about
// the resident, with deleting it.

// bookingData is a booking's page.
type bookingData struct {
	Booking     store.Booking
	Found       bool
	Code        string
	QR          string
	State       queue.ReservationState
	TicketPath  string
	CheckInFrom time.Time
	CheckInTo   time.Time
	Path        string
	Service     string
	// Expired: a hold nobody confirmed in time.
	Expired bool
	// Deleted: the resident has just deleted their data.
	Deleted bool
	// Moved: the booking has just moved to another time.
	Moved bool
	// Days and Slots are the reschedule page's choices; Day the one chosen.
	Days  []bookDay
	Day   time.Time
	Slots []queue.Slot
	// Retention is when the stored data goes.
	RetentionDays int
}

func (w *Web) bookingOf(rw http.ResponseWriter, r *http.Request) (*actor.Actor, string, bool) {
	a := w.Server.Office(r.PathValue("office"))
	id := r.PathValue("id")
	if a == nil || !w.links.CheckBooking(a.Office().ID, id, r.PathValue("mac")) {
		w.problem(rw, r, http.StatusNotFound, "web.booking.no_such")
		return nil, "", false
	}
	return a, id, true
}

// loadBooking reads what the booking's pages show: the stored record and
// where the office has the visit.
func (w *Web) loadBooking(rw http.ResponseWriter, r *http.Request, a *actor.Actor, id string) (*page, bookingData, bool) {
	o := a.Office()
	p := w.newPage(rw, r, "web.booking.title")
	p.Office = o
	p.CSRF = w.publicCSRF(rw, r)
	b, found, err := w.Booking.Booking(o.ID, id)
	if err != nil {
		w.Logger.Error("reading a booking", "office", o.ID, "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return nil, bookingData{}, false
	}
	d := bookingData{Booking: b, Found: found, Path: w.links.BookingPath(o.ID, id),
		RetentionDays: int(o.Booking.Retention / (24 * time.Hour))}
	if !found {
		return p, d, true
	}
	code := w.links.BookingCode(o.ID, id)
	d.Code = links.FormatCode(code)
	d.CheckInFrom = b.Slot.Add(-o.Booking.CheckInBefore)
	d.CheckInTo = b.Slot.Add(o.Booking.CheckInGrace)
	d.State = queue.Booked
	switch {
	case b.Cancelled:
		d.State = queue.ReservationDrop
	case b.Held():
		d.State = queue.Held
	}
	_ = a.Query(r.Context(), func(s *queue.State) {
		if res := s.Reservations[id]; res != nil {
			d.State = res.State
			if res.Ticket != "" {
				d.TicketPath = w.links.TicketPath(o.ID, res.Ticket)
			}
		}
	})
	if d.State == queue.Held && !b.Active(w.Clock()) {
		d.Expired = true
	}
	if d.State == queue.Booked {
		d.QR = qrSVG(code, p.T("web.booking.qr_label", "code", d.Code))
	}
	return p, d, true
}

func (w *Web) bookingPage(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok {
		return
	}
	w.renderBooking(rw, r, a, id, 0, "")
}

func (w *Web) renderBooking(rw http.ResponseWriter, r *http.Request, a *actor.Actor, id string, status int, errMsg string) {
	p, d, ok := w.loadBooking(rw, r, a, id)
	if !ok {
		return
	}
	q := r.URL.Query()
	d.Deleted, d.Moved = q.Has("deleted"), q.Has("moved") && d.Found
	p.Error = errMsg
	p.Data = d
	w.render(rw, status, "booking", p)
}

// confirmBooking takes the short code typed on the booking's page.
func (w *Web) confirmBooking(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok || !w.checkPublicCSRF(rw, r) {
		return
	}
	w.confirmWith(rw, r, a, id, r.PostFormValue("code"))
}

// confirmLink is the link in the confirmation message: the code is in it.
func (w *Web) confirmLink(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok {
		return
	}
	w.confirmWith(rw, r, a, id, r.PathValue("code"))
}

func (w *Web) confirmWith(rw http.ResponseWriter, r *http.Request, a *actor.Actor, id, code string) {
	if err := w.Booking.Confirm(r.Context(), a, "web:booking", id, code); err != nil {
		lang := w.language(rw, r)
		w.renderBooking(rw, r, a, id, statusOf(err), w.say(lang, a, err))
		return
	}
	redirect(rw, r, w.links.BookingPath(a.Office().ID, id))
}

// answeredYes reports whether the resident's form says yes to the
// question of page tmpl; otherwise it asks the question (or refuses a
// forged form) and the caller stops there.
func (w *Web) answeredYes(rw http.ResponseWriter, r *http.Request, a *actor.Actor, id, tmpl, title string) bool {
	if r.Method != http.MethodPost || r.PostFormValue("confirm") != "yes" {
		if r.Method != http.MethodPost || w.checkPublicCSRF(rw, r) {
			w.askBooking(rw, r, a, id, tmpl, title)
		}
		return false
	}
	return w.checkPublicCSRF(rw, r)
}

// cancelBooking asks once (a page with the question, its answer a form)
// and cancels only when the answer says yes.
func (w *Web) cancelBooking(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok {
		return
	}
	if !w.answeredYes(rw, r, a, id, "booking_cancel", "web.cancel.title") {
		return
	}
	if err := w.Booking.Cancel(r.Context(), a, "web:booking", id); err != nil {
		w.bookingError(rw, r, a, id, err)
		return
	}
	redirect(rw, r, w.links.BookingPath(a.Office().ID, id))
}

// askBooking shows one of the booking's question pages.
func (w *Web) askBooking(rw http.ResponseWriter, r *http.Request, a *actor.Actor, id, page, title string) {
	p, d, ok := w.loadBooking(rw, r, a, id)
	if !ok {
		return
	}
	if !d.Found {
		redirect(rw, r, d.Path)
		return
	}
	p.Title = title
	p.Data = d
	w.render(rw, 0, page, p)
}

func (w *Web) bookingError(rw http.ResponseWriter, r *http.Request, a *actor.Actor, id string, err error) {
	lang := w.language(rw, r)
	p := w.newPage(rw, r, "web.error.title")
	p.Data = errorData{Message: w.say(lang, a, err), Back: w.links.BookingPath(a.Office().ID, id)}
	w.render(rw, statusOf(err), "error", p)
}

// moveBooking shows the days and times a booking can move to.
func (w *Web) moveBooking(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok {
		return
	}
	w.renderMove(rw, r, a, id, 0, "")
}

func (w *Web) renderMove(rw http.ResponseWriter, r *http.Request, a *actor.Actor, id string, status int, errMsg string) {
	p, d, ok := w.loadBooking(rw, r, a, id)
	if !ok {
		return
	}
	if !d.Found || d.State != queue.Booked {
		redirect(rw, r, d.Path)
		return
	}
	p.Title, p.Error = "web.move.title", errMsg
	days, slotsOf := w.bookDays(r.Context(), a, d.Booking.Service)
	d.Days = days
	day := r.FormValue("day")
	if day == "" {
		day = d.Booking.Slot.In(a.Office().Location).Format(dayKey)
	}
	if dd, free, ok := pickSlot(a.Office(), slotsOf, day); ok {
		d.Day, d.Slots = dd, free
	}
	p.Data = d
	w.render(rw, status, "booking_move", p)
}

// moveBookingPost moves the booking to the time chosen; if it went
// meanwhile, the booking stays where it was and the page says so.
func (w *Web) moveBookingPost(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok || !w.checkPublicCSRF(rw, r) {
		return
	}
	lang := w.language(rw, r)
	slot, err := time.Parse(time.RFC3339, r.PostFormValue("slot"))
	if err != nil {
		w.renderMove(rw, r, a, id, http.StatusBadRequest, w.Catalog.T(lang, "refusal.slot-unavailable"))
		return
	}
	err = w.Booking.Reschedule(r.Context(), a, "web:booking", id, slot)
	var le *booking.LimitError
	switch {
	case errors.As(err, &le):
		loc := a.Office().Location
		w.renderMove(rw, r, a, id, http.StatusConflict, w.Catalog.T(lang, "web.book.limit",
			"date", le.Existing.Slot.In(loc).Format(w.Catalog.T(lang, "web.date_short")), "time", le.Existing.Slot.In(loc).Format("15:04")))
		return
	case err != nil:
		w.renderMove(rw, r, a, id, statusOf(err), w.say(lang, a, err))
		return
	}
	redirect(rw, r, w.links.BookingPath(a.Office().ID, id)+"?moved=1")
}

// dataPage lists what is stored about the resident for this booking.
func (w *Web) dataPage(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok {
		return
	}
	w.askBooking(rw, r, a, id, "booking_data", "web.data.title")
}

// forgetBooking deletes the resident's data after asking once; a visit
// still to come is cancelled first.
func (w *Web) forgetBooking(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok {
		return
	}
	if !w.answeredYes(rw, r, a, id, "booking_forget", "web.forget.title") {
		return
	}
	if err := w.Booking.Forget(r.Context(), a, "web:booking", id); err != nil {
		w.bookingError(rw, r, a, id, err)
		return
	}
	redirect(rw, r, w.links.BookingPath(a.Office().ID, id)+"?deleted=1")
}
