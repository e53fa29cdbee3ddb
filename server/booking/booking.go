// Package booking is the server's booking desk: it books visits (the
// visit goes to the office's event log, the resident's name and contact
// to a separate store), finds a booking by its code for check-in at the
// kiosk or on a phone with guessing throttled per device, per code and
// per address, cancels, and purges personal data once the office's
// retention has passed. The API and the web pages share it.
package booking

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// Desk books, checks in and purges.
type Desk struct {
	// Notices takes the messages to residents (contact confirmation,
	// booked, moved, cancelled); nil sends none and changes nothing else.
	// Set it before the desk is used.
	Notices notice.Sender

	db     *store.WebDB
	links  *links.Signer
	clock  func() time.Time
	log    *slog.Logger
	guards *Guards
	// mu makes a contact's check of its day's bookings and the booking
	// that follows one step, and counts confirmation tries one at a time.
	mu sync.Mutex
}

// New returns a desk over the web store, signing with signer.
func New(db *store.WebDB, signer *links.Signer, clock func() time.Time, log *slog.Logger) *Desk {
	return &Desk{db: db, links: signer, clock: clock, log: log, guards: NewGuards(clock)}
}

// Links is the signer of codes and addresses.
func (d *Desk) Links() *links.Signer { return d.links }

// Guards are the desk's throttles.
func (d *Desk) Guards() *Guards { return d.guards }

// The errors of check-in by code that are not the office's refusals.
var (
	// ErrNoSuchCode: the code matches no booking of this office.
	ErrNoSuchCode = errors.New("no booking has this code")
	// ErrMalformedCode: the text cannot be a code at all.
	ErrMalformedCode = errors.New("a booking code is 8 letters and digits, e.g. ABCD-EFGH")
)

// CancelledError is the refusal of a check-in whose visit was cancelled,
// as the office gives it (queue.ReasonCancelled).
func CancelledError(service string) error {
	return &queue.Error{Kind: queue.Refused, Message: "the booking was cancelled",
		Refusal: &queue.Refusal{Reason: queue.ReasonCancelled, Service: service}}
}

// Request is a resident's booking.
type Request struct {
	Service string
	Slot    time.Time
	Lang    string
	Name    string
	Contact string
	Terms   bool
}

// FieldError says which field of a booking is wrong.
type FieldError struct {
	Field string
	// Key is the message id (web.toml) that says it to the resident.
	Key string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Key }

// Validate checks the personal data: a name, an e-mail address or a phone
// number, and the terms accepted. It returns the cleaned name and contact.
func (r Request) Validate() (name, contact string, err error) {
	name = strings.Join(strings.Fields(r.Name), " ")
	switch {
	case utf8.RuneCountInString(name) < 2:
		return "", "", &FieldError{"name", "web.book.error.name"}
	case utf8.RuneCountInString(name) > 100:
		return "", "", &FieldError{"name", "web.book.error.name_long"}
	}
	if contact, err = CheckContact(r.Contact); err != nil {
		return "", "", err
	}
	if !r.Terms {
		return "", "", &FieldError{"terms", "web.book.error.terms"}
	}
	return name, contact, nil
}

// CheckContact checks an e-mail address or a phone number (9 to 15
// digits, with spaces, dashes, brackets and a plus allowed) and returns it
// trimmed; its error is a *FieldError of field "contact".
func CheckContact(contact string) (string, error) {
	contact = strings.TrimSpace(contact)
	switch {
	case contact == "":
		return "", &FieldError{"contact", "web.book.error.contact"}
	case strings.Contains(contact, "@"):
		a, perr := mail.ParseAddress(contact)
		if perr != nil || a.Address != contact || len(contact) > 254 {
			return "", &FieldError{"contact", "web.book.error.email"}
		}
	default:
		digits := 0
		for _, c := range contact {
			switch {
			case unicode.IsDigit(c):
				digits++
			case c == ' ' || c == '-' || c == '+' || c == '(' || c == ')':
			default:
				return "", &FieldError{"contact", "web.book.error.phone"}
			}
		}
		if digits < 9 || digits > 15 {
			return "", &FieldError{"contact", "web.book.error.phone"}
		}
	}
	return contact, nil
}

// Booked is a booking made.
type Booked struct {
	ID   string
	Code string
	// Path is the booking's page: the confirmation of the contact while
	// Held, then the code, the cancel and reschedule links.
	Path string
	// Held is set when the slot is only held until the contact is
	// confirmed.
	Held bool
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func newID() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making a booking id: %w", err)
	}
	return strings.ToLower(idEncoding.EncodeToString(b)), nil
}

// Book books a visit: the personal data is stored first, under a new id
// whose code no other booking has, then the office decides; if it refuses
// (the slot went meanwhile), the personal data is deleted again. Where the
// office confirms contacts, the slot is only held and the contact is sent
// a short code; otherwise the booking holds at once. A contact that has
// its day's share of bookings for the service gets a *LimitError.
func (d *Desk) Book(ctx context.Context, a *actor.Actor, who string, req Request) (Booked, error) {
	return d.book(ctx, a, who, req, true)
}

// book books req; confirm asks the contact to be confirmed where the
// office wants it (staff who book for a caller heard them give it).
func (d *Desk) book(ctx context.Context, a *actor.Actor, who string, req Request, confirm bool) (Booked, error) {
	name, contact, err := req.Validate()
	if err != nil {
		return Booked{}, err
	}
	o := a.Office()
	rules := o.Booking
	key := ContactKey(contact, rules.PhoneCountry)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkLimit(o, key, req.Service, req.Slot, ""); err != nil {
		return Booked{}, err
	}
	now := d.clock()
	rec := store.Booking{
		Office: o.ID, Service: req.Service, Slot: req.Slot, Lang: req.Lang,
		Name: name, Contact: contact, ContactKey: key, BookedAt: now,
		TermsAccepted: now, PurgeAt: req.Slot.Add(rules.Retention), Confirmed: true,
	}
	var hold time.Duration
	// A contact no message can reach (no [messages], or a phone number
	// without an SMS gateway) could never confirm: it books at once.
	if confirm && rules.ConfirmContact && d.Notices != nil && d.Notices.Reaches(contact) {
		hold = rules.HoldFor
		// An unconfirmed hold's data goes soon after the hold.
		rec.Confirmed, rec.HoldUntil, rec.PurgeAt = false, now.Add(hold), now.Add(hold+unconfirmedKept)
	}
	var code string
	for try := 0; ; try++ {
		if rec.ID, err = newID(); err != nil {
			return Booked{}, err
		}
		code = d.links.BookingCode(o.ID, rec.ID)
		rec.CodeKey = d.links.CodeKey(code)
		err = d.db.PutBooking(rec)
		if !errors.Is(err, store.ErrCodeTaken) || try > 5 {
			break
		}
	}
	if err != nil {
		return Booked{}, fmt.Errorf("storing the booking: %w", err)
	}
	res := a.Do(ctx, who, queue.Book{ID: rec.ID, Service: req.Service, Slot: req.Slot, Lang: req.Lang, Hold: hold})
	if res.Err != nil {
		if derr := d.db.DeleteBooking(o.ID, rec.ID); derr != nil {
			d.log.Error("deleting a refused booking's personal data", "office", o.ID, "booking", rec.ID, "err", derr)
		}
		return Booked{}, res.Err
	}
	if hold > 0 {
		d.notify(ctx, o, rec, notice.ConfirmContact, "confirm-contact/"+rec.ID, func(n *notice.Notice) {
			n.Code = d.links.ConfirmCode(o.ID, rec.ID)
			n.Links.Confirm = d.links.URL(d.links.ConfirmPath(o.ID, rec.ID))
		})
	} else {
		d.notifyBooked(ctx, o, rec)
	}
	return Booked{ID: rec.ID, Code: code, Path: d.links.BookingPath(o.ID, rec.ID), Held: hold > 0}, nil
}

// unconfirmedKept is how long the data of a hold nobody confirmed is kept
// after the hold ends, so its page can still say what became of it.
const unconfirmedKept = time.Hour

// Booking returns a booking's stored data; ok=false once purged.
func (d *Desk) Booking(office, id string) (store.Booking, bool, error) {
	return d.db.Booking(office, id)
}

// Cancel cancels a booked visit and drops its personal data; the
// resident is told (Cancelled).
func (d *Desk) Cancel(ctx context.Context, a *actor.Actor, who, id string) error {
	o := a.Office()
	before, found, err := d.db.Booking(o.ID, id)
	if err != nil {
		return err
	}
	if err := d.cancelVisit(ctx, a, who, id, ""); err != nil {
		return err
	}
	if err := d.db.CancelBooking(o.ID, id); err != nil {
		return err
	}
	if found && !before.Cancelled && !before.Held() {
		d.notify(ctx, o, before, notice.Cancelled, "cancelled/"+id, nil)
	}
	return nil
}

// cancelVisit cancels the visit in the office's log; one the office has
// already forgotten (a past day) needs no cancelling.
func (d *Desk) cancelVisit(ctx context.Context, a *actor.Actor, who, id, reason string) error {
	res := a.Do(ctx, who, queue.CancelReservation{ID: id, Reason: reason})
	var qe *queue.Error
	if res.Err != nil && (!errors.As(res.Err, &qe) || qe.Kind != queue.NotFound) {
		return res.Err
	}
	return nil
}

// CheckIn confirms the booking with code at office a, issuing its ticket.
// src is where the code was typed, for the guards (a *ThrottledError when
// they refuse). The office's refusals (too early, too late) come back as
// *queue.Error.
func (d *Desk) CheckIn(ctx context.Context, a *actor.Actor, src Source, typed string, cmd queue.CheckIn, who string) (actor.Result, error) {
	code, ok := links.NormalizeCode(typed)
	if !ok {
		code = ""
	}
	if err := d.guards.Try(src, code); err != nil {
		return actor.Result{}, err
	}
	if !ok {
		// Not a code at all: no booking was looked up, so there is
		// nothing for a guesser to learn and nothing to count.
		return actor.Result{}, ErrMalformedCode
	}
	b, found, err := d.db.BookingByCode(d.links.CodeKey(code))
	if err != nil {
		return actor.Result{}, err
	}
	if !found || b.Office != a.Office().ID || b.Held() {
		d.guards.Wrong(src)
		return actor.Result{}, ErrNoSuchCode
	}
	if b.Cancelled {
		// The office may have forgotten the visit (a past day), but the
		// record says what became of it.
		return actor.Result{}, CancelledError(b.Service)
	}
	cmd.Reservation = b.ID
	if cmd.Lang == "" {
		cmd.Lang = b.Lang
	}
	res := a.Do(ctx, who, cmd)
	return res, res.Err
}

// Purge deletes personal data whose retention has passed and expired
// sessions, and says how many bookings went.
func (d *Desk) Purge() (int, error) {
	now := d.clock()
	n, err := d.db.PurgeBookings(now)
	if err != nil {
		return 0, err
	}
	if err := d.db.PurgeSessions(time.Now()); err != nil {
		return n, fmt.Errorf("purging sessions: %w", err)
	}
	// The clerks' notes at finish are personal data with the same retention.
	if _, err := d.db.PurgeFinishNotes(now); err != nil {
		return n, err
	}
	return n, nil
}

// RunPurge purges at once and then every period until ctx ends.
func (d *Desk) RunPurge(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := d.Purge(); err != nil {
			d.log.Error("purging personal data", "err", err)
		} else if n > 0 {
			d.log.Info("purged the personal data of past bookings", "bookings", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
