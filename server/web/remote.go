package web

import (
	"net/http"
	"strings"
	"unicode"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
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
	keys := []string{w.links.HolderKey("browser", day, w.browserOnce(rw, r))}
	if c := normalContact(r.PostFormValue("contact")); c != "" {
		keys = append(keys, w.links.HolderKey("contact", day, c))
	}
	return keys
}

// browserOnce is browserID, the same for every caller in one request: on
// a browser's first visit browserID gives it a new id each time it is
// asked, and the limits ask too; the id this answer already sets is the
// one the browser keeps.
func (w *Web) browserOnce(rw http.ResponseWriter, r *http.Request) string {
	for _, line := range rw.Header().Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == browserCookie {
			return c.Value
		}
	}
	return w.browserID(rw, r)
}

// normalContact is a contact in the one form two spellings of it share:
// an e-mail address in lower case; a phone number by its last nine digits,
// so "+48 600 100 200" and "600-100-200" are one contact. Anything else
// (too short to be either) is no contact.
func normalContact(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "@") {
		return strings.ToLower(s)
	}
	var digits []rune
	for _, c := range s {
		switch {
		case unicode.IsDigit(c):
			digits = append(digits, c)
		case strings.ContainsRune(" +-()./", c):
		default:
			return ""
		}
	}
	if len(digits) < 9 {
		return ""
	}
	return string(digits[len(digits)-9:])
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
