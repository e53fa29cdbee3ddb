package booking

import (
	"cmp"
	"strings"
	"time"
	"unicode"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// ContactKey normalises a contact as Validate accepted it, so that one
// person's contact compares equal however it is typed: an e-mail address
// in lower case, a phone number as its digits with the country's calling
// code (country, e.g. "48", for a 9-digit number given without one).
func ContactKey(contact, country string) string {
	contact = strings.TrimSpace(contact)
	if strings.Contains(contact, "@") {
		return "mailto:" + strings.ToLower(contact)
	}
	var digits strings.Builder
	for _, c := range contact {
		if unicode.IsDigit(c) {
			digits.WriteRune(c)
		}
	}
	d := digits.String()
	switch {
	case strings.HasPrefix(contact, "+"):
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case len(d) == 9:
		d = cmp.Or(country, "48") + d
	}
	return "tel:+" + d
}

// LimitError refuses a booking because the contact already has as many
// active bookings for the service on that day as the office allows.
type LimitError struct {
	// Existing is the contact's booking on that day, to reschedule.
	Existing store.Booking
	// Path is its page.
	Path string
}

func (e *LimitError) Error() string {
	return "this contact already has a booking for this matter on that day"
}

// sameDayBookings returns the contact's active bookings of service on the
// office-local day of slot, leaving out the booking except.
func (d *Desk) sameDayBookings(o *queue.Office, key, service string, slot time.Time, except string) ([]store.Booking, error) {
	all, err := d.db.BookingsOfContact(o.ID, key)
	if err != nil {
		return nil, err
	}
	now := d.clock()
	var out []store.Booking
	for _, b := range all {
		if b.ID != except && b.Service == service && b.Active(now) && o.LocalDate(b.Slot) == o.LocalDate(slot) {
			out = append(out, b)
		}
	}
	return out, nil
}

// checkLimit refuses a booking (or a move) of key's contact to slot when
// the contact has its day's share already.
func (d *Desk) checkLimit(o *queue.Office, key, service string, slot time.Time, except string) error {
	same, err := d.sameDayBookings(o, key, service, slot, except)
	if err != nil {
		return err
	}
	if len(same) >= max(o.Booking.PerContactPerDay, 1) {
		return &LimitError{Existing: same[0], Path: d.links.BookingPath(o.ID, same[0].ID)}
	}
	return nil
}
