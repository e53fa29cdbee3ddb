package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/clientaddr"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/store"
)

// bookData is the booking flow: choose the matter, the day, the time, then
// give a name and a contact and accept the terms.
type bookData struct {
	Step     int
	Services []queue.Service
	Service  queue.Service
	Days     []bookDay
	Day      time.Time
	Slots    []queue.Slot
	Slot     time.Time
	// Form fields sent back after an error.
	Name, Contact string
	Field         string
	RetentionDays int
}

type bookDay struct {
	Date time.Time
	Key  string
	Free int
}

const dayKey = "2006-01-02"

// bookPage shows the step the query has reached: ?service, &day, &slot.
func (w *Web) bookPage(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil {
		return
	}
	q := r.URL.Query()
	w.renderBook(rw, r, a, 0, q.Get("service"), q.Get("day"), q.Get("slot"), nil, "")
}

// renderBook draws the booking step for what is chosen so far; a choice
// that is no longer possible drops back a step.
func (w *Web) renderBook(rw http.ResponseWriter, r *http.Request, a *actor.Actor, status int, service, day, slot string, form *bookData, errMsg string) {
	o := a.Office()
	p := w.newPage(rw, r, "web.book.title")
	p.Office = o
	p.CSRF = w.publicCSRF(rw, r)
	p.Error = errMsg
	d := bookData{Step: 1, RetentionDays: int(o.Booking.Retention / (24 * time.Hour))}
	if form != nil {
		d.Name, d.Contact, d.Field = form.Name, form.Contact, form.Field
	}
	for _, s := range o.Services {
		if s.Bookable {
			d.Services = append(d.Services, s)
		}
	}
	now := w.Clock()
	svc, ok := o.Service(service)
	if ok && svc.Bookable {
		d.Step, d.Service = 2, svc
		var slotsOf func(time.Time) []queue.Slot
		_ = a.Query(r.Context(), func(s *queue.State) {
			// Copy out what the steps need while inside the actor.
			today := time.Date(now.In(o.Location).Year(), now.In(o.Location).Month(), now.In(o.Location).Day(), 12, 0, 0, 0, o.Location)
			byDay := map[string][]queue.Slot{}
			for i := 0; i <= int(o.Booking.Ahead/(24*time.Hour)); i++ {
				dd := today.AddDate(0, 0, i)
				sl := s.Slots(now, svc.ID, dd)
				free := 0
				for _, x := range sl {
					free += x.Free
				}
				if free > 0 {
					d.Days = append(d.Days, bookDay{Date: dd, Key: dd.Format(dayKey), Free: free})
					byDay[dd.Format(dayKey)] = sl
				}
			}
			slotsOf = func(t time.Time) []queue.Slot { return byDay[t.Format(dayKey)] }
		})
		if dd, err := time.ParseInLocation(dayKey, day, o.Location); err == nil && slotsOf != nil && len(slotsOf(dd.Add(12*time.Hour))) > 0 {
			d.Step, d.Day = 3, dd.Add(12*time.Hour)
			for _, sl := range slotsOf(d.Day) {
				if sl.Free > 0 {
					d.Slots = append(d.Slots, sl)
				}
			}
			if st, err := time.Parse(time.RFC3339, slot); err == nil {
				for _, sl := range d.Slots {
					if sl.Start.Equal(st) {
						d.Step, d.Slot = 4, st
					}
				}
				if d.Step != 4 && p.Error == "" && form == nil {
					p.Error = p.T("refusal.slot-full")
				}
			}
		}
	}
	p.Data = d
	w.render(rw, status, "book", p)
}

// bookPost books the visit and shows its confirmation with the code.
func (w *Web) bookPost(rw http.ResponseWriter, r *http.Request) {
	a := w.officeOf(rw, r)
	if a == nil || !w.checkPublicCSRF(rw, r) {
		return
	}
	lang := w.language(rw, r)
	service, day, slotText := r.PostFormValue("service"), r.PostFormValue("day"), r.PostFormValue("slot")
	form := &bookData{Name: r.PostFormValue("name"), Contact: r.PostFormValue("contact")}
	fail := func(status int, field, msg string) {
		form.Field = field
		w.renderBook(rw, r, a, status, service, day, slotText, form, msg)
	}
	slot, err := time.Parse(time.RFC3339, slotText)
	if err != nil {
		fail(http.StatusBadRequest, "", w.Catalog.T(lang, "refusal.slot-unavailable"))
		return
	}
	req := booking.Request{
		Service: service, Slot: slot, Lang: lang, Name: form.Name, Contact: form.Contact,
		Terms: r.PostFormValue("terms") == "yes",
	}
	claim, ok, retry := w.limits.hold(budgetKey{w.limits.bookingBrowser, w.browserID(rw, r)},
		budgetKey{w.limits.bookingContact, req.ContactKey()}, budgetKey{w.limits.bookingAddr, clientaddr.From(r)})
	if !ok {
		retryAfter(rw, retry)
		fail(http.StatusTooManyRequests, "", w.Catalog.T(lang, "web.book.too_many", "time", w.againAt(a, retry)))
		return
	}
	b, err := w.Booking.Book(r.Context(), a, "web:booking", req)
	var fe *booking.FieldError
	switch {
	case errors.As(err, &fe):
		claim.release()
		fail(http.StatusBadRequest, fe.Field, w.Catalog.T(lang, fe.Key))
		return
	case err != nil:
		claim.release()
		fail(statusOf(err), "", w.say(lang, a, err))
		return
	}
	claim.commit()
	redirect(rw, r, b.Path)
}

// bookingData is a booking's confirmation page.
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

func (w *Web) bookingPage(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok {
		return
	}
	o := a.Office()
	p := w.newPage(rw, r, "web.booking.title")
	p.Office = o
	p.CSRF = w.publicCSRF(rw, r)
	b, found, err := w.Booking.Booking(o.ID, id)
	if err != nil {
		w.Logger.Error("reading a booking", "office", o.ID, "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	d := bookingData{Booking: b, Found: found, Path: w.links.BookingPath(o.ID, id)}
	if found {
		code := w.links.BookingCode(o.ID, id)
		d.Code = links.FormatCode(code)
		d.QR = qrSVG(code, p.T("web.booking.qr_label", "code", d.Code))
		d.CheckInFrom = b.Slot.Add(-o.Booking.CheckInBefore)
		d.CheckInTo = b.Slot.Add(o.Booking.CheckInGrace)
		d.State = queue.Booked
		if b.Cancelled {
			d.State = queue.ReservationDrop
		}
		_ = a.Query(r.Context(), func(s *queue.State) {
			if res := s.Reservations[id]; res != nil {
				d.State = res.State
				if res.Ticket != "" {
					d.TicketPath = w.links.TicketPath(o.ID, res.Ticket)
				}
			}
		})
	}
	p.Data = d
	w.render(rw, 0, "booking", p)
}

func (w *Web) cancelBooking(rw http.ResponseWriter, r *http.Request) {
	a, id, ok := w.bookingOf(rw, r)
	if !ok || !w.checkPublicCSRF(rw, r) {
		return
	}
	if err := w.Booking.Cancel(r.Context(), a, "web:booking", id); err != nil {
		lang := w.language(rw, r)
		p := w.newPage(rw, r, "web.error.title")
		p.Data = errorData{Message: w.say(lang, a, err), Back: w.links.BookingPath(a.Office().ID, id)}
		w.render(rw, statusOf(err), "error", p)
		return
	}
	redirect(rw, r, w.links.BookingPath(a.Office().ID, id))
}
