// Package ticketfmt puts a ticket's raw values into words in the resident's
// language: the one step between the queue (numbers, times, durations) and
// package printer, which prints only finished strings. The kiosk daemon and
// `kioskctl ticket-preview` both use it.
package ticketfmt

import (
	"image"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/printer"
)

// Input is a ticket as the queue knows it. OfficeName and ServiceName are
// already in Lang (the office config holds them per language).
type Input struct {
	Lang        string
	OfficeName  string
	ServiceName string
	Number      string // "A123"
	Ahead       int    // people waiting before this ticket
	// IssuedAt is shown as it is: pass it in the office's time zone.
	IssuedAt time.Time
	// EstimatedWait below zero means unknown: the line is left off.
	EstimatedWait time.Duration
	ETicketURL    string
	Footer        string // the office's line; empty: the catalog's default
	Priority      bool
	Logo          image.Image
	PaperMM       int
}

// Compose returns the ticket in.Lang (or the default language, if that is
// not one Numerek speaks) with every line in words.
func Compose(cat *i18n.Catalog, in Input) printer.Ticket {
	lang := i18n.Normalize(in.Lang)
	t := printer.Ticket{
		Office:      in.OfficeName,
		Service:     in.ServiceName,
		NumberLabel: cat.T(lang, "ticket.number_label"),
		Number:      in.Number,
		Logo:        in.Logo,
		PaperMM:     in.PaperMM,
		Footer:      in.Footer,
	}
	if in.Priority {
		t.Priority = cat.T(lang, "ticket.priority")
	}
	if in.Ahead > 0 {
		t.Ahead = cat.N(lang, "ticket.ahead", in.Ahead)
	} else {
		t.Ahead = cat.T(lang, "ticket.ahead_none")
	}
	// The wait is worded and rounded where the screens word it, so the
	// paper and the screen give the same figure.
	t.Wait = localize.TicketWait(cat, lang, in.EstimatedWait)
	if !in.IssuedAt.IsZero() {
		t.Issued = cat.T(lang, "ticket.issued",
			"date", in.IssuedAt.Format(cat.T(lang, "ticket.date_layout")),
			"time", in.IssuedAt.Format("15:04"))
	}
	if in.ETicketURL != "" {
		t.QRURL = in.ETicketURL
		t.QRCaption = cat.T(lang, "ticket.qr_caption")
	}
	if t.Footer == "" {
		t.Footer = cat.T(lang, "ticket.footer")
	}
	return t
}

// Example is the sample ticket `kioskctl ticket-preview` prints and the
// golden tests draw: a plausible day at a Polish city hall, in lang.
func Example(lang string) Input {
	in := Input{
		Lang:          lang,
		Number:        "A123",
		Ahead:         3,
		IssuedAt:      time.Date(2026, 11, 21, 14, 5, 0, 0, time.FixedZone("CET", 3600)),
		EstimatedWait: 14*time.Minute + 20*time.Second,
		ETicketURL:    "https://kolejka.krakow.pl/e/A123-7F3K9Q",
	}
	switch i18n.Normalize(lang) {
	case "en":
		in.OfficeName, in.ServiceName = "Kraków City Hall", "Vehicle registration"
	case "lt":
		in.OfficeName, in.ServiceName = "Krokuvos miesto savivaldybė", "Transporto priemonių registracija"
	case "ru":
		in.OfficeName, in.ServiceName = "Мэрия Кракова", "Регистрация транспортных средств"
	case "uk":
		in.OfficeName, in.ServiceName = "Міська рада Кракова", "Реєстрація транспортних засобів"
	default:
		in.OfficeName, in.ServiceName = "Urząd Miasta Krakowa", "Rejestracja pojazdów"
	}
	return in
}
