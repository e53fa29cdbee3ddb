package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/numerek/numerek/server/outbox"
)

// Outbox is what the staff's messages page reads and asks of the message
// outbox.
type Outbox interface {
	Recent(limit int, sees func(office string) bool) ([]outbox.Entry, error)
	Retry(id uint64, sees func(office string) bool) error
}

// outboxRows is how many recent messages the page lists.
const outboxRows = 200

type outboxRow struct {
	outbox.Entry
	OfficeName string
	When       string
	NextTry    string
}

type outboxData struct {
	Configured bool
	Rows       []outboxRow
	Failed     int
}

// outboxPage lists the recent messages of the admin's offices: what,
// how, where it stands, and why a failed one failed, the contact masked.
func (w *Web) outboxPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	p := w.staffPage(rw, r, st, "web.outbox.title")
	d := outboxData{Configured: w.Outbox != nil}
	if w.Outbox != nil {
		entries, err := w.Outbox.Recent(outboxRows, st.sees)
		if err != nil {
			w.Logger.Error("listing the outbox", "err", err)
			p.Error = p.T("web.outbox.unreadable")
		}
		for _, e := range entries {
			row := outboxRow{Entry: e, OfficeName: e.Office}
			loc := time.Local
			if a := w.Server.Office(e.Office); a != nil {
				row.OfficeName = a.Office().Name
				loc = a.Office().Location
			}
			row.When = e.Updated.In(loc).Format("2006-01-02 15:04:05")
			if e.State == outbox.Pending && e.Attempts > 0 {
				row.NextTry = e.Next.In(loc).Format("15:04:05")
			}
			if e.State == outbox.Failed {
				d.Failed++
			}
			d.Rows = append(d.Rows, row)
		}
	}
	p.Data = d
	w.render(rw, 0, "outbox", p)
}

// outboxRetry puts a failed message back to be sent now.
func (w *Web) outboxRetry(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	lang := w.language(rw, r)
	id, err := strconv.ParseUint(r.PostFormValue("id"), 10, 64)
	switch {
	case w.Outbox == nil || err != nil:
		flash(rw, w.Catalog.T(lang, "web.error.not_found"), true)
	default:
		if err := w.Outbox.Retry(id, st.sees); err != nil {
			flash(rw, w.Catalog.T(lang, "web.outbox.not_retried"), true)
			break
		}
		w.Logger.Info("message retry asked for on the admin page", "message", id, "by", st.Name)
		flash(rw, w.Catalog.T(lang, "web.outbox.retrying", "id", id), false)
	}
	redirect(rw, r, "/staff/admin/messages")
}
