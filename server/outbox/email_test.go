package outbox

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/server/notice"
)

var visit = time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC) // 10:30 in Warsaw, a Monday

func bookedNotice(lang, contact string) notice.Notice {
	return notice.Notice{
		Kind: notice.Booked, Office: "ums", Lang: lang, Name: "Jan Kowalski", Contact: contact,
		Service: "id-card", Booking: "K7M2X9P4", Slot: visit,
		Links: notice.Links{Manage: "https://kolejka.example.pl/booking/ums/abc/mac"},
		Key:   "booked/K7M2X9P4/" + lang,
	}
}

// A booking's confirmation arrives at a real SMTP server in the
// resident's language, with the code large, its QR code readable, the
// visit in the office's time, the address and map, what to bring, the
// link to manage it and a calendar entry that parses.
func TestBookedEmailInTheResidentsLanguage(t *testing.T) {
	tests := []struct {
		lang, subject, when, bring, manage string
	}{
		{"pl", "Twoja wizyta poniedziałek 30.11.2026 o 10:30: kod K7M2-X9P4", "poniedziałek 30.11.2026, 10:30", testBring["pl"], "Odwołaj lub zmień wizytę"},
		{"en", "Your visit on Monday 30 Nov 2026 at 10:30: code K7M2-X9P4", "Monday 30 Nov 2026, 10:30", testBring["en"], "Cancel or change your visit"},
		{"lt", "Jūsų vizitas pirmadienis 2026-11-30 10:30: kodas K7M2-X9P4", "pirmadienis 2026-11-30, 10:30", testBring["lt"], "Atšaukti arba pakeisti vizitą"},
		{"ru", "Ваш визит понедельник 30.11.2026 в 10:30: код K7M2-X9P4", "понедельник 30.11.2026, 10:30", testBring["ru"], "Отменить или изменить визит"},
		{"uk", "Ваш візит понеділок 30.11.2026 о 10:30: код K7M2-X9P4", "понеділок 30.11.2026, 10:30", testBring["uk"], "Скасувати або змінити візит"},
	}
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), testComposer())})
	defer ob.Close()
	for _, tt := range tests {
		if err := ob.Send(context.Background(), bookedNotice(tt.lang, "jan.kowalski@example.pl")); err != nil {
			t.Fatal(err)
		}
	}
	waitfor.Until(t, "five e-mails at the SMTP server", 10*time.Second, func() bool { return len(sink.Messages()) == len(tests) })
	byLang := map[string]parsedMail{}
	for _, r := range sink.Messages() {
		if len(r.To) != 1 || r.To[0] != "jan.kowalski@example.pl" || r.From != "kolejka@example.pl" {
			t.Errorf("envelope from %q to %q", r.From, r.To)
		}
		pm := parseMail(t, r.Data)
		byLang[pm.Lang] = pm
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			pm, ok := byLang[tt.lang]
			if !ok {
				t.Fatalf("no e-mail with Content-Language %s", tt.lang)
			}
			if pm.Subject != tt.subject {
				t.Errorf("subject %q, want %q", pm.Subject, tt.subject)
			}
			for _, want := range []string{"K7M2-X9P4", tt.when, tt.bring, "ul. Radomska 45", "https://www.openstreetmap.org/", "https://kolejka.example.pl/booking/ums/abc/mac", tt.manage} {
				if !strings.Contains(pm.Text, want) {
					t.Errorf("text part lacks %q:\n%s", want, pm.Text)
				}
				if !strings.Contains(pm.HTML, strings.ReplaceAll(want, "&", "&amp;")) {
					t.Errorf("HTML part lacks %q", want)
				}
			}
			if !strings.Contains(pm.HTML, `src="cid:booking-qr@numerek"`) {
				t.Error("the HTML does not show the inline QR code")
			}
			if got := decodeQRPNG(t, pm.Parts["image/png"]); got != "K7M2X9P4" {
				t.Errorf("QR code reads %q, want the booking code", got)
			}
			if cid := pm.PartHeaders["image/png"]["Content-Id"]; len(cid) == 0 || !strings.Contains(cid[0], "booking-qr@numerek") {
				t.Errorf("QR part's Content-ID %q", cid)
			}
			cal := parseICS(t, pm.Parts["text/calendar"])
			checkCalendarEvent(t, cal, ics.MethodPublish, visit)
		})
	}
}

// checkCalendarEvent checks the one VEVENT a resident's calendar reads.
func checkCalendarEvent(t *testing.T, cal *ics.Calendar, method ics.Method, start time.Time) {
	t.Helper()
	if m := cal.CalendarProperties; len(m) == 0 {
		t.Fatal("calendar without properties")
	}
	gotMethod := ""
	for _, p := range cal.CalendarProperties {
		if p.IANAToken == string(ics.PropertyMethod) {
			gotMethod = p.Value
		}
	}
	if gotMethod != string(method) {
		t.Errorf("METHOD %q, want %q", gotMethod, method)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	e := events[0]
	if uid := e.Id(); uid != "K7M2X9P4@kolejka.example.pl" {
		t.Errorf("UID %q, want the code at the server's host", uid)
	}
	s, err := e.GetStartAt()
	if err != nil || !s.Equal(start) {
		t.Errorf("DTSTART %v (%v), want %v", s, err, start)
	}
	end, err := e.GetEndAt()
	if err != nil || !end.Equal(start.Add(15*time.Minute)) {
		t.Errorf("DTEND %v (%v), want the slot's end", end, err)
	}
	loc := e.GetProperty(ics.ComponentPropertyLocation)
	if loc == nil || !strings.Contains(loc.Value, "Radomska 45") {
		t.Errorf("LOCATION %v, want the office's address", loc)
	}
	desc := e.GetProperty(ics.ComponentPropertyDescription)
	if desc == nil || !strings.Contains(desc.Value, "K7M2-X9P4") {
		t.Errorf("DESCRIPTION %v, want the code", desc)
	}
}

// When the office cancels, the e-mail says why, offers to book again,
// and its calendar entry cancels the one sent before (same UID).
func TestCancelledByOfficeCancelsTheCalendarEntry(t *testing.T) {
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), testComposer())})
	defer ob.Close()
	n := bookedNotice("en", "jan@example.pl")
	n.Kind, n.Reason, n.Key = notice.CancelledByOffice, "The office is closed for a staff training.", "office-cancel/K7M2X9P4"
	if err := ob.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "the e-mail", 10*time.Second, func() bool { return len(sink.Messages()) == 1 })
	pm := parseMail(t, sink.Messages()[0].Data)
	if pm.Subject != "The office has cancelled your visit on Monday 30 Nov 2026" {
		t.Errorf("subject %q", pm.Subject)
	}
	for _, want := range []string{"closed for a staff training", "https://kolejka.example.pl/book/ums", "Book a new visit"} {
		if !strings.Contains(pm.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, pm.Text)
		}
	}
	if _, ok := pm.Parts["image/png"]; ok {
		t.Error("a cancelled visit's e-mail carries a QR code to check in with")
	}
	checkCalendarEvent(t, parseICS(t, pm.Parts["text/calendar"]), ics.MethodCancel, visit)
	if ct := pm.PartHeaders["text/calendar"]["Content-Type"]; len(ct) == 0 || !strings.Contains(ct[0], "method=CANCEL") {
		t.Errorf("calendar part's Content-Type %q lacks method=CANCEL", ct)
	}
}

// Through STARTTLS with a login, as an office's mail server wants it.
func TestEmailOverSTARTTLSWithLogin(t *testing.T) {
	serverTLS, clientTLS := selfSigned(t)
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{TLS: serverTLS, User: "kolejka", Password: "s3cret-password"})
	cfg := emailConfig(sink.Port())
	cfg.TLS, cfg.Username, cfg.Password = officeconfig.TLSStartTLS, "kolejka", "s3cret-password"
	m := NewMailer(cfg, testComposer())
	m.TLSConfig = clientTLS
	if err := m.Deliver(context.Background(), bookedNotice("pl", "jan@example.pl")); err != nil {
		t.Fatal(err)
	}
	if len(sink.Messages()) != 1 {
		t.Fatalf("%d messages arrived", len(sink.Messages()))
	}
	cfg.Password = "wrong"
	m = NewMailer(cfg, testComposer())
	m.TLSConfig = clientTLS
	if err := m.Deliver(context.Background(), bookedNotice("pl", "jan@example.pl")); err == nil {
		t.Fatal("a wrong password was accepted")
	}
}

// The confirmation code's e-mail carries the code and the link, and the
// ticket's moments say the number and the counter.
func TestShortKindsByEmail(t *testing.T) {
	c := testComposer()
	tests := []struct {
		n    notice.Notice
		want []string
	}{
		{notice.Notice{Kind: notice.ConfirmContact, Office: "ums", Lang: "pl", Code: "482913", Links: notice.Links{Confirm: "https://kolejka.example.pl/c/xyz"}},
			[]string{"482913 to Twój kod potwierdzenia", "https://kolejka.example.pl/c/xyz", "Potwierdź mój adres"}},
		{notice.Notice{Kind: notice.Called, Office: "ums", Lang: "en", Ticket: "A012", Counter: 3, Links: notice.Links{Ticket: "https://kolejka.example.pl/e/ums/A012/m"}},
			[]string{"Ticket A012: please come to counter 3", "https://kolejka.example.pl/e/ums/A012/m"}},
		{notice.Notice{Kind: notice.Ahead, Office: "ums", Lang: "pl", Ticket: "A012", Ahead: 3},
			[]string{"przed Tobą są 3 osoby"}},
	}
	for _, tt := range tests {
		m, err := c.Mail(tt.n)
		if err != nil {
			t.Fatal(err)
		}
		all := m.Subject + "\n" + m.Text
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: lacks %q:\n%s", tt.n.Kind, w, all)
			}
		}
		if m.Calendar != nil || m.QR != nil {
			t.Errorf("%s carries a calendar entry or QR code", tt.n.Kind)
		}
	}
}

// Every kind's e-mail in every language is whole: no message id, no
// placeholder left, a subject and a body.
func TestEveryKindInEveryLanguage(t *testing.T) {
	c := testComposer()
	for _, lang := range []string{"pl", "en", "lt", "ru", "uk"} {
		for _, kind := range []notice.Kind{notice.ConfirmContact, notice.Booked, notice.Rescheduled, notice.Cancelled,
			notice.CancelledByOffice, notice.HoursClosed, notice.Reminder, notice.Called, notice.Recalled, notice.Ahead} {
			n := bookedNotice(lang, "jan@example.pl")
			n.Kind, n.Code, n.Ticket, n.Counter, n.Ahead, n.Reason = kind, "482913", "A012", 3, 2, "awaria"
			m, err := c.Mail(n)
			if err != nil {
				t.Fatalf("%s %s: %v", lang, kind, err)
			}
			for _, part := range []string{m.Subject, m.Text, m.HTML} {
				if strings.Contains(part, "msg.") || strings.Contains(part, "web.") || strings.Contains(part, "weekday.") || strings.Contains(part, "{") {
					t.Errorf("%s %s: an id or placeholder is left:\n%s", lang, kind, part)
				}
			}
			if m.Subject == "" || len(m.Text) < 40 {
				t.Errorf("%s %s: subject %q, text %q", lang, kind, m.Subject, m.Text)
			}
		}
	}
}

// A moved visit's calendar entry has the booking's UID and a higher
// SEQUENCE than the first, so the resident's calendar moves the visit
// rather than adding a second one.
func TestRescheduledReplacesTheCalendarEntry(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	c := testComposer()
	c.Clock = clock.Now
	first, err := c.Mail(bookedNotice("pl", "jan@example.pl"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(clock.Now().Add(time.Second))
	moved := bookedNotice("pl", "jan@example.pl")
	moved.Kind, moved.Slot = notice.Rescheduled, visit.Add(24*time.Hour)
	second, err := c.Mail(moved)
	if err != nil {
		t.Fatal(err)
	}
	seq := func(data []byte) (string, int) {
		e := parseICS(t, data).Events()[0]
		p := e.GetProperty(ics.ComponentPropertySequence)
		if p == nil {
			t.Fatal("no SEQUENCE")
		}
		n, err := strconv.Atoi(p.Value)
		if err != nil {
			t.Fatal(err)
		}
		return e.Id(), n
	}
	uid1, seq1 := seq(first.Calendar)
	uid2, seq2 := seq(second.Calendar)
	if uid1 != uid2 || seq2 <= seq1 {
		t.Errorf("moved entry UID %s SEQUENCE %d after UID %s SEQUENCE %d: want the same UID, a higher SEQUENCE", uid2, seq2, uid1, seq1)
	}
	checkCalendarEvent(t, parseICS(t, second.Calendar), ics.MethodPublish, visit.Add(24*time.Hour))
	if !strings.Contains(second.Subject, "wtorek 01.12.2026, godz. 10:30") {
		t.Errorf("subject %q", second.Subject)
	}
}
