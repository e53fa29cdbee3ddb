package web

import (
	"net/http"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
)

// The phone ticket's limits on the web side (docs/phone-tickets.md): the
// office decides them (queue's remote rules); the pages name the holders,
// say what was decided, and carry the resident's "I'm here / on my way".

// holders are the keys a phone ticket taken by this request is held by:
// the browser, and the contact when the form gives one. Only keyed
// hashes reach the office's log (links.HolderKey); the contact itself is
// neither kept nor logged.
func (w *Web) holders(rw http.ResponseWriter, r *http.Request, a *actor.Actor) []string {
	day := a.Office().LocalDate(w.Clock())
	keys := []string{w.links.HolderKey("browser", day, w.browserID(rw, r))}
	if c := booking.ContactKey(r.PostFormValue("contact"), a.Office().Booking.PhoneCountry); c != "" {
		keys = append(keys, w.links.HolderKey("contact", day, c))
	}
	return keys
}

// confirmPresence records the resident's "I'm here" or "I'm on my way"
// and shows the e-ticket again.
func (w *Web) confirmPresence(rw http.ResponseWriter, r *http.Request) {
	w.ticketAction(rw, r, func(id string) queue.Command {
		return queue.ConfirmPresence{Ticket: id, Presence: queue.Presence(r.PostFormValue("presence"))}
	}, "")
}

// awayFor are the phone tickets set aside unconfirmed that counter c
// would call: the console lists them apart from the line.
func awayFor(v queue.View, c queue.Counter) []queue.TicketView {
	var out []queue.TicketView
	for _, t := range v.Away {
		if t.TargetCounter == c.Number || (t.TargetCounter == 0 && c.Serves(t.Service)) {
			out = append(out, t)
		}
	}
	return out
}
