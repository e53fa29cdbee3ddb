package web

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// What the console adds to a counter's moves so that a clerk's mistake is
// caught or mended: a counter in use is taken over only when confirmed,
// closing the counter asks first, a no-show, finish or close can be undone
// for a few seconds (queue.Undo), and a finish records what was handled.

// consoleQueueRows is how many waiting tickets the console lists: as many
// as fit a 1366×768 screen beside the counter's card.
const consoleQueueRows = 12

// consoleTicket is a waiting ticket as the clerk sees it in the list.
type consoleTicket struct {
	queue.TicketView
	// LangName is the ticket's language in that language.
	LangName string
	// Waited is how long since the ticket was issued.
	Waited time.Duration
	// Name and Slot are a booked visit's: who booked, for when.
	Name string
	Slot time.Time
}

func (w *Web) consoleTicket(o *queue.Office, t queue.TicketView, now time.Time) consoleTicket {
	ct := consoleTicket{TicketView: t, LangName: i18n.NativeName(t.Lang), Waited: max(now.Sub(t.IssuedAt), 0), Slot: t.BookedFor}
	if t.ReservationID != "" {
		b, found, err := w.DB.Booking(o.ID, t.ReservationID)
		if err != nil {
			w.Logger.Error("reading a booking for the console", "office", o.ID, "err", err)
		}
		if found {
			ct.Name, ct.Slot = b.Name, b.Slot
		}
	}
	return ct
}

// transferTarget is a counter a ticket can be transferred to, with how
// long its line is: tickets waiting for it alone, and its status.
type transferTarget struct {
	Number  int
	Name    string
	Status  queue.CounterStatus
	Waiting int
}

func transferTargets(o *queue.Office, v queue.View, own int) []transferTarget {
	var out []transferTarget
	for _, c := range v.Counters {
		if c.Number == own {
			continue
		}
		t := transferTarget{Number: c.Number, Name: c.Name, Status: c.Status}
		for _, tk := range v.Waiting {
			if tk.TargetCounter == c.Number {
				t.Waiting++
			}
		}
		out = append(out, t)
	}
	return out
}

// takeOverData is the question asked before taking a counter over.
type takeOverData struct {
	Counter queue.Counter
	Office  string
	// Clerks work at the counter now, Since their login.
	Clerks []takeOverClerk
}

type takeOverClerk struct {
	Name  string
	Since time.Time
}

func (w *Web) askTakeOver(rw http.ResponseWriter, r *http.Request, st *staffInfo, o *queue.Office, c queue.Counter, holders []store.CounterHolder) {
	p := w.staffPage(rw, r, st, "")
	p.Office = o
	p.Title = p.T("web.console.take_over_title", "counter", c.Name)
	d := takeOverData{Counter: c, Office: o.ID}
	for _, h := range holders {
		d.Clerks = append(d.Clerks, takeOverClerk{Name: h.Session.Clerk, Since: h.Session.Created})
	}
	p.Data = d
	w.render(rw, http.StatusConflict, "console_takeover", p)
}

// askClose is the question asked before closing the counter: who waits
// for it alone would wait on.
type askClose struct {
	Counter int
	Office  string
	// Only are the tickets waiting that only this counter serves.
	Only int
}

// confirmClose asks before a close; it reports whether the close may go on.
func (w *Web) confirmClose(rw http.ResponseWriter, r *http.Request, st *staffInfo) bool {
	if r.PostFormValue("confirm") == "yes" {
		return true
	}
	a, d, ok := w.consoleFor(r, st)
	if !ok {
		redirect(rw, r, "/staff")
		return false
	}
	p := w.staffPage(rw, r, st, "")
	p.Office = a.Office()
	p.Title = p.T("web.console.close_title", "counter", st.Counter)
	ask := askClose{Counter: st.Counter, Office: st.Office}
	for _, t := range d.Queue {
		if t.TargetCounter == st.Counter || onlyHere(a.Office(), t.Service, st.Counter) {
			ask.Only++
		}
	}
	p.Data = ask
	w.render(rw, 0, "console_close", p)
	return false
}

// onlyHere reports whether counter n is the only one serving service.
func onlyHere(o *queue.Office, service string, n int) bool {
	for _, c := range o.Counters {
		if c.Number != n && c.Serves(service) {
			return false
		}
	}
	return true
}

// finishNote reads the note a clerk writes at finish; ok is false, with
// the message id, when it is too long.
func finishNote(r *http.Request) (note string, errID string) {
	note = strings.TrimSpace(r.PostFormValue("finish_note"))
	if utf8.RuneCountInString(note) > queue.MaxNote {
		return "", "web.console.note_too_long"
	}
	return note, ""
}

// keepFinishNote stores the note on a finished ticket apart from the
// event log, for the office's retention of personal data.
func (w *Web) keepFinishNote(o *queue.Office, ticket, clerk, note string) {
	if note == "" || ticket == "" {
		return
	}
	now := w.Clock()
	keep := o.Booking.Retention
	if keep <= 0 {
		keep = 24 * time.Hour
	}
	n := store.FinishNote{Office: o.ID, Ticket: ticket, Clerk: clerk, Note: note, At: now, PurgeAt: now.Add(keep)}
	if err := w.DB.PutFinishNote(n); err != nil {
		w.Logger.Error("keeping a note at finish", "office", o.ID, "err", err)
	}
}

// formParams gives the console's form fields to queue's parser: ticked
// outcome boxes come as several fields, joined as the parser reads them.
func formParams(r *http.Request) func(string) string {
	return func(name string) string {
		if name == queue.ParamOutcomes {
			return strings.Join(r.PostForm[name], ",")
		}
		return r.PostFormValue(name)
	}
}
