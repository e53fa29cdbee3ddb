package booking

import (
	"cmp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// ContactKey is a contact as one person's: the same however it is typed,
// for the per-contact rules and limits. An e-mail address is lower-cased;
// a phone number becomes its international form (+48600100200 for "600
// 100 200", "0048 600-100-200" or "+48 (600) 100 200"), a number without
// its country code read as one of country (a calling code such as "48";
// Polish when empty). It is "" for what is neither.
func ContactKey(contact, country string) string {
	c := strings.TrimSpace(contact)
	if c == "" {
		return ""
	}
	if strings.Contains(c, "@") {
		return "mailto:" + strings.ToLower(c)
	}
	region := "PL"
	if code, err := strconv.Atoi(cmp.Or(country, "48")); err == nil {
		if r := phonenumbers.GetRegionCodeForCountryCode(code); r != "ZZ" {
			region = r
		}
	}
	if len(c) <= 64 {
		if n, err := phonenumbers.Parse(c, region); err == nil {
			return "tel:" + phonenumbers.Format(n, phonenumbers.E164)
		}
	}
	// Not a number the library knows (Validate accepted it): its digits,
	// so that it still compares equal to itself typed another way.
	var digits strings.Builder
	for _, r := range c {
		if unicode.IsDigit(r) {
			digits.WriteRune(r)
		}
	}
	d := strings.TrimPrefix(digits.String(), "00")
	if d == "" {
		return ""
	}
	return "tel:+" + d[:min(len(d), 32)]
}

// ContactKey is the request's contact as ContactKey gives it, a Polish
// number assumed for one without its country code; "" when the contact is
// not one at all, so a form the desk refuses anyway is not counted.
func (r Request) ContactKey() string {
	if strings.TrimSpace(r.Contact) == "" || len(r.Contact) > 254 {
		return ""
	}
	return ContactKey(r.Contact, "")
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
