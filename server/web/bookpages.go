package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/server/clientaddr"
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
	// Existing is the contact's booking that stands in the way of this
	// one (one per day), with a link to move it instead.
	Existing *existingBooking
}

type existingBooking struct {
	Slot time.Time
	Path string
}

// bookDay is a day of the booking window: free, full or closed. A full
// or closed day is listed, not left out, so the resident sees why.
type bookDay struct {
	Date   time.Time
	Key    string
	Free   int
	Full   bool
	Closed bool
}

// dayChoice is one day in a day list, linking to href when it has room.
type dayChoice struct {
	P    *page
	Day  bookDay
	Href string
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
		d.Name, d.Contact, d.Field, d.Existing = form.Name, form.Contact, form.Field, form.Existing
	}
	for _, s := range o.Services {
		if s.Bookable {
			d.Services = append(d.Services, s)
		}
	}
	svc, ok := o.Service(service)
	if ok && svc.Bookable {
		d.Step, d.Service = 2, svc
		days, slotsOf := w.bookDays(r.Context(), a, svc.ID)
		d.Days = days
		if dd, free, ok := pickSlot(o, slotsOf, day); ok {
			d.Step, d.Day, d.Slots = 3, dd, free
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

// bookDays lists every day of the booking window for service, each free,
// full or closed, and gives the free slots of each day with any.
func (w *Web) bookDays(ctx context.Context, a *actor.Actor, service string) ([]bookDay, func(time.Time) []queue.Slot) {
	o := a.Office()
	now := w.Clock()
	local := now.In(o.Location)
	today := time.Date(local.Year(), local.Month(), local.Day(), 12, 0, 0, 0, o.Location)
	byDay := map[string][]queue.Slot{}
	var days []bookDay
	_ = a.Query(ctx, func(s *queue.State) {
		for i := 0; i <= int(o.Booking.Ahead/(24*time.Hour)); i++ {
			dd := today.AddDate(0, 0, i)
			day := bookDay{Date: dd, Key: dd.Format(dayKey)}
			hours, _ := o.HoursOn(dd)
			if len(hours) == 0 || (len(o.Booking.Days) > 0 && !slices.Contains(o.Booking.Days, dd.Weekday())) {
				day.Closed = true
				days = append(days, day)
				continue
			}
			sl := s.Slots(now, service, dd)
			if len(sl) == 0 {
				// Closed for booking by staff (every slot in a closure),
				// today after the last slot, or past the window.
				if s.ClosedOn(dd) && !dd.After(now.Add(o.Booking.Ahead)) {
					day.Closed = true
					days = append(days, day)
				}
				continue
			}
			for _, x := range sl {
				if x.Free > 0 {
					day.Free += x.Free
					byDay[day.Key] = append(byDay[day.Key], x)
				}
			}
			day.Full = day.Free == 0
			days = append(days, day)
		}
	})
	return days, func(t time.Time) []queue.Slot { return byDay[t.Format(dayKey)] }
}

// pickSlot reads the chosen day: its noon and free slots, ok=false if the
// day has none (or is not a day).
func pickSlot(o *queue.Office, slotsOf func(time.Time) []queue.Slot, day string) (time.Time, []queue.Slot, bool) {
	dd, err := time.ParseInLocation(dayKey, day, o.Location)
	if err != nil {
		return time.Time{}, nil, false
	}
	noon := dd.Add(12 * time.Hour)
	free := slotsOf(noon)
	return noon, free, len(free) > 0
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
	var le *booking.LimitError
	switch {
	case errors.As(err, &fe):
		claim.release()
		fail(http.StatusBadRequest, fe.Field, w.Catalog.T(lang, fe.Key))
		return
	case errors.As(err, &le):
		claim.release()
		form.Existing = &existingBooking{Slot: le.Existing.Slot, Path: le.Path}
		loc := a.Office().Location
		fail(http.StatusConflict, "contact", w.Catalog.T(lang, "web.book.limit",
			"date", le.Existing.Slot.In(loc).Format(w.Catalog.T(lang, "web.date_short")), "time", le.Existing.Slot.In(loc).Format("15:04")))
		return
	case err != nil:
		claim.release()
		fail(statusOf(err), "", w.say(lang, a, err))
		return
	}
	claim.commit()
	redirect(rw, r, b.Path)
}
