package outbox

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/server/notice"
)

// Composer writes a notice as an e-mail or an SMS in the resident's
// language, from the office's settings.
type Composer struct {
	Catalog *i18n.Catalog
	// Offices give the time zone, names and slot length, by id.
	Offices map[string]*queue.Office
	// Places are the offices' addresses, map links and what to bring.
	Places map[string]officeconfig.OfficeMessages
	// PublicURL is where residents reach the server (links to book again,
	// the calendar entry's UID host).
	PublicURL string
	// Clock stamps calendar entries (DTSTAMP, SEQUENCE).
	Clock func() time.Time
}

// Mail is one e-mail's content.
type Mail struct {
	Subject string
	Text    string
	HTML    string
	// QR is the booking code's QR code as PNG, shown inline (content id
	// QRContentID); nil if the kind has none.
	QR []byte
	// Calendar is the .ics entry; nil if the kind has none.
	Calendar []byte
	// CalendarMethod is PUBLISH or CANCEL.
	CalendarMethod string
}

// QRContentID is the inline QR image's Content-ID.
const QRContentID = "booking-qr@numerek"

//go:embed mail.html
var mailHTML string

var mailTemplate = template.Must(template.New("mail").Parse(mailHTML))

// mailView is what the HTML and text bodies are drawn from.
type mailView struct {
	Lang      string
	Subject   string
	Greeting  string
	Lead      string
	CodeLabel string
	Code      string
	CodeHint  string
	QR        bool
	QRAlt     string
	Rows      []mailRow
	Actions   []mailLink
	Calendar  string
	Footer    string
}

type mailRow struct {
	Label, Value string
	Link         *mailLink
}

type mailLink struct{ Label, URL string }

func (c *Composer) t(n notice.Notice, id string, kv ...any) string {
	return c.Catalog.T(n.Lang, id, kv...)
}

func (c *Composer) office(n notice.Notice) *queue.Office {
	if o := c.Offices[n.Office]; o != nil {
		return o
	}
	return &queue.Office{ID: n.Office, Name: n.Office, Location: time.UTC}
}

// vars are the placeholders every text of n may use.
func (c *Composer) vars(n notice.Notice, sms bool) []any {
	o := c.office(n)
	if isLocker(n.Kind) {
		return append(c.lockerVars(n, sms), "office", o.Name)
	}
	date, clock := c.slotText(n, sms)
	code := links.FormatCode(n.Booking)
	if n.Kind == notice.ConfirmContact {
		code = n.Code
	}
	return []any{
		"office", o.Name, "date", date, "time", clock, "code", code,
		"service", c.serviceName(n), "ticket", n.Ticket, "counter", c.counterName(n),
		"reason", n.Reason, "link", c.mainLink(n), "name", n.Name,
	}
}

// slotText is the visit's date and time of day in the office's time
// zone, as the language writes them: the weekday and full date in an
// e-mail, day and month in an SMS.
func (c *Composer) slotText(n notice.Notice, short bool) (date, clock string) {
	loc := c.office(n).Location
	if loc == nil {
		loc = time.UTC
	}
	slot := n.Slot.In(loc)
	if short {
		return slot.Format(c.t(n, "web.date_short")), slot.Format("15:04")
	}
	return c.t(n, "weekday."+strconv.Itoa(int(slot.Weekday()))) + " " + slot.Format(c.t(n, "web.date_layout")), slot.Format("15:04")
}

func (c *Composer) serviceName(n notice.Notice) string {
	if s, ok := c.office(n).Service(n.Service); ok {
		return s.Name(n.Lang)
	}
	return n.Service
}

func (c *Composer) counterName(n notice.Notice) string {
	if ct, ok := c.office(n).Counter(n.Counter); ok && ct.Name != "" {
		return ct.Name
	}
	return strconv.Itoa(n.Counter)
}

// mainLink is the one link a short message carries.
func (c *Composer) mainLink(n notice.Notice) string {
	switch n.Kind {
	case notice.ConfirmContact:
		return n.Links.Confirm
	case notice.CancelledByOffice:
		return c.bookAgain(n)
	case notice.Called, notice.Recalled, notice.Ahead:
		return n.Links.Ticket
	case notice.Cancelled:
		return ""
	}
	return n.Links.Manage
}

func (c *Composer) bookAgain(n notice.Notice) string {
	if c.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(c.PublicURL, "/") + "/book/" + url.PathEscape(n.Office)
}

// text says message id for n, plural for Ahead.
func (c *Composer) text(n notice.Notice, id string, sms bool) string {
	kv := c.vars(n, sms)
	if n.Kind == notice.Ahead {
		return c.Catalog.N(n.Lang, id, n.Ahead, kv...)
	}
	return c.Catalog.T(n.Lang, id, kv...)
}

func isBooking(k notice.Kind) bool {
	switch k {
	case notice.Booked, notice.Rescheduled, notice.Cancelled, notice.CancelledByOffice, notice.HoursClosed, notice.Reminder:
		return true
	}
	return false
}

// textKind names n's lead and short text: a visit the office moved says
// so, and why.
func textKind(n notice.Notice) string {
	if n.Kind == notice.Rescheduled && n.Reason != "" {
		return "rescheduled-by-office"
	}
	return string(n.Kind)
}

// SMS is n as a short text: Polish and Lithuanian letters are written
// without their marks so the text fits GSM-7's 160 characters; Cyrillic
// stays as it is (UCS-2).
func (c *Composer) SMS(n notice.Notice) string {
	s := strings.Join(strings.Fields(c.text(n, "msg.sms."+textKind(n), true)), " ")
	return ToGSM(s)
}

// Mail is n as an e-mail.
func (c *Composer) Mail(n notice.Notice) (Mail, error) {
	if isDeviceAlert(n.Kind) {
		return c.render(n, c.alertMail(n), Mail{})
	}
	if isLocker(n.Kind) {
		v, m, err := c.lockerMail(n)
		if err != nil {
			return Mail{}, err
		}
		return c.render(n, v, m)
	}
	o := c.office(n)
	place := c.Places[n.Office]
	kv := c.vars(n, false)
	v := mailView{Lang: n.Lang, Subject: c.text(n, "msg.subject."+string(n.Kind), false), Lead: c.text(n, "msg.lead."+textKind(n), false)}
	if n.Name != "" {
		v.Greeting = c.t(n, "msg.greeting", "name", n.Name)
	} else {
		v.Greeting = c.t(n, "msg.greeting_anon")
	}
	v.Footer = c.t(n, "msg.footer", kv...)
	var m Mail
	switch {
	case n.Kind == notice.ConfirmContact:
		v.CodeLabel, v.Code = c.t(n, "msg.confirm_code_label"), n.Code
		if n.Links.Confirm != "" {
			v.Actions = append(v.Actions, mailLink{c.t(n, "msg.confirm"), n.Links.Confirm})
		}
	case isBooking(n.Kind):
		date, clock := c.slotText(n, false)
		v.Rows = append(v.Rows, mailRow{Label: c.t(n, "msg.when"), Value: date + ", " + clock})
		v.Rows = append(v.Rows, mailRow{Label: c.t(n, "msg.service"), Value: c.serviceName(n)})
		where := mailRow{Label: c.t(n, "msg.where"), Value: o.Name}
		if place.Address != "" {
			where.Value = o.Name + ", " + place.Address
		}
		if place.MapURL != "" {
			where.Link = &mailLink{c.t(n, "msg.map"), place.MapURL}
		}
		v.Rows = append(v.Rows, where)
		if n.Reason != "" {
			v.Rows = append(v.Rows, mailRow{Label: c.t(n, "msg.reason"), Value: n.Reason})
		}
		active := n.Kind == notice.Booked || n.Kind == notice.Rescheduled || n.Kind == notice.Reminder || n.Kind == notice.HoursClosed
		if active {
			if bring := bringText(place, n); bring != "" {
				v.Rows = append(v.Rows, mailRow{Label: c.t(n, "msg.bring"), Value: bring})
			}
			if n.Booking != "" {
				v.CodeLabel, v.Code, v.CodeHint = c.t(n, "msg.code_label"), links.FormatCode(n.Booking), c.t(n, "msg.code_hint")
				png, err := qrcode.Encode(n.Booking, qrcode.Medium, 256)
				if err != nil {
					return Mail{}, fmt.Errorf("drawing the booking's QR code: %w", err)
				}
				m.QR, v.QR, v.QRAlt = png, true, c.t(n, "msg.qr_label", "code", v.Code)
			}
			if n.Links.Manage != "" {
				v.Actions = append(v.Actions, mailLink{c.t(n, "msg.manage"), n.Links.Manage})
			}
		}
		if n.Kind == notice.CancelledByOffice || n.Kind == notice.Cancelled {
			if link := c.bookAgain(n); link != "" {
				v.Actions = append(v.Actions, mailLink{c.t(n, "msg.book_again"), link})
			}
		}
		if n.Booking != "" && !n.Slot.IsZero() {
			cal, method, err := c.calendar(n)
			if err != nil {
				return Mail{}, err
			}
			m.Calendar, m.CalendarMethod = cal, method
			v.Calendar = c.t(n, "msg.calendar")
			if method == string(ics.MethodCancel) {
				v.Calendar = c.t(n, "msg.calendar_cancel")
			}
		}
	default:
		if n.Links.Ticket != "" {
			v.Actions = append(v.Actions, mailLink{c.t(n, "msg.ticket_link"), n.Links.Ticket})
		}
	}
	return c.render(n, v, m)
}

// render draws v as m's HTML and text bodies.
func (c *Composer) render(n notice.Notice, v mailView, m Mail) (Mail, error) {
	var html bytes.Buffer
	if err := mailTemplate.Execute(&html, v); err != nil {
		return Mail{}, fmt.Errorf("writing a %s e-mail: %w", n.Kind, err)
	}
	m.Subject, m.HTML, m.Text = v.Subject, html.String(), plainText(v)
	return m, nil
}

// bringText is what to bring for n's service, in n's language, else in
// Polish, else in any language given.
func bringText(place officeconfig.OfficeMessages, n notice.Notice) string {
	by := place.Bring[n.Service]
	for _, l := range []string{n.Lang, i18n.Default, "en"} {
		if t := by[l]; t != "" {
			return t
		}
	}
	return ""
}

func plainText(v mailView) string {
	var b strings.Builder
	b.WriteString(v.Greeting + "\n\n" + v.Lead + "\n\n")
	if v.Code != "" {
		fmt.Fprintf(&b, "%s: %s\n", v.CodeLabel, v.Code)
		if v.CodeHint != "" {
			b.WriteString(v.CodeHint + "\n")
		}
		b.WriteString("\n")
	}
	for _, r := range v.Rows {
		fmt.Fprintf(&b, "%s: %s\n", r.Label, r.Value)
		if r.Link != nil {
			fmt.Fprintf(&b, "  %s: %s\n", r.Link.Label, r.Link.URL)
		}
	}
	if len(v.Rows) > 0 {
		b.WriteString("\n")
	}
	for _, a := range v.Actions {
		fmt.Fprintf(&b, "%s: %s\n", a.Label, a.URL)
	}
	if v.Calendar != "" {
		b.WriteString("\n" + v.Calendar + "\n")
	}
	b.WriteString("\n-- \n" + v.Footer + "\n")
	return b.String()
}

// calendar is the visit as an iCalendar entry whose UID is the booking
// code at the server's host, so a later entry (moved, cancelled) replaces
// it in the resident's calendar.
func (c *Composer) calendar(n notice.Notice) ([]byte, string, error) {
	o := c.office(n)
	now := time.Now()
	if c.Clock != nil {
		now = c.Clock()
	}
	cal := ics.NewCalendarFor("Numerek")
	method := ics.MethodPublish
	if n.Kind == notice.Cancelled || n.Kind == notice.CancelledByOffice {
		method = ics.MethodCancel
	}
	cal.SetMethod(method)
	e := cal.AddEvent(n.Booking + "@" + c.host())
	e.SetDtStampTime(now)
	// Each message about a visit supersedes the one before: seconds since
	// 2026 grow with every message and fit iCalendar's integer for decades.
	e.SetSequence(int(now.Unix() - sequenceEpoch))
	length := o.Booking.SlotLength
	if length <= 0 {
		length = 15 * time.Minute
	}
	e.SetStartAt(n.Slot.UTC())
	e.SetEndAt(n.Slot.Add(length).UTC())
	e.SetSummary(c.t(n, "msg.ics.summary", "service", c.serviceName(n)) + " – " + o.Name)
	loc := o.Name
	if p := c.Places[n.Office]; p.Address != "" {
		loc += ", " + p.Address
	}
	e.SetLocation(loc)
	desc := c.t(n, "msg.ics.description", "code", links.FormatCode(n.Booking))
	if n.Links.Manage != "" && method == ics.MethodPublish {
		desc += "\n" + c.t(n, "msg.manage") + ": " + n.Links.Manage
		e.SetURL(n.Links.Manage)
	}
	e.SetDescription(desc)
	if method == ics.MethodCancel {
		e.SetStatus(ics.ObjectStatusCancelled)
	}
	var buf bytes.Buffer
	if err := cal.SerializeTo(&buf); err != nil {
		return nil, "", fmt.Errorf("writing the calendar entry: %w", err)
	}
	return buf.Bytes(), string(method), nil
}

// sequenceEpoch is 2026-01-01 UTC, where calendar SEQUENCE numbers start.
const sequenceEpoch = 1767225600

func (c *Composer) host() string {
	if u, err := url.Parse(c.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "numerek.invalid"
}
