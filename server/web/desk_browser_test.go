package web

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/outbox"
)

// deskMail is an e-mail the test SMTP server took, as a resident's mail
// program shows it.
type deskMail struct {
	To, Subject, Text string
}

// readMail decodes a message: its subject and its text/plain part.
func readMail(t testing.TB, data []byte) deskMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading an e-mail: %v", err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	out := deskMail{To: m.Header.Get("To"), Subject: subject}
	var walk func(h mail.Header, body io.Reader)
	walk = func(h mail.Header, body io.Reader) {
		ct, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
		switch {
		case strings.HasPrefix(ct, "multipart/"):
			r := multipart.NewReader(body, params["boundary"])
			for {
				p, err := r.NextRawPart()
				if err != nil {
					return
				}
				walk(mail.Header(p.Header), p)
			}
		case ct == "text/plain" && out.Text == "":
			if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
				body = quotedprintable.NewReader(body)
			}
			b, _ := io.ReadAll(body)
			out.Text = string(b)
		}
	}
	walk(m.Header, m.Body)
	return out
}

// mailTo waits for an e-mail to contact whose text holds want.
func mailTo(t testing.TB, sink *smtpsink.Sink, contact, want string) deskMail {
	t.Helper()
	var got deskMail
	waitfor.Until(t, "an e-mail to "+contact+" saying "+want, 10*time.Second, func() bool {
		for _, m := range sink.Messages() {
			dm := readMail(t, m.Data)
			if strings.Contains(dm.To, contact) && strings.Contains(dm.Text, want) {
				got = dm
				return true
			}
		}
		return false
	})
	return got
}

// The booking desk as the office's front desk and manager use it, in a
// real browser, with the residents' e-mails delivered by the real outbox
// to a real SMTP server: book for a caller in Ukrainian, move the visit
// with a reason, close hours where a second resident is booked (they are
// sent their move link), cancel with a reason, reopen. Every state of the
// page passes axe-core's WCAG 2.1 AA rules.
func TestBrowserBookingDesk(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	o := e.office.ID
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	ob, err := outbox.Open(outbox.Options{Path: filepath.Join(e.dataDir, "outbox.db"), Clock: e.clock.Now,
		Email: outbox.NewMailer(officeconfig.Email{Host: "127.0.0.1", Port: sink.Port(), From: "Urząd <kolejka@example.pl>", TLS: officeconfig.TLSNone},
			&outbox.Composer{Catalog: i18n.Messages(), Offices: map[string]*queue.Office{o: e.office}, PublicURL: e.url, Clock: e.clock.Now})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	e.desk.Notices = ob

	tab := newChrome(t)
	do(t, tab, "manager login", chromedp.EmulateViewport(desktop[0], desktop[1]),
		chromedp.Navigate(e.url+"/staff/login?lang=en"),
		chromedp.SendKeys(chromedp.CSS("#name"), "kierownik"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(`main a[href="/staff/bookings"]`)))
	do(t, tab, "the desk from the staff home", chromedp.Click(chromedp.CSS(`main a[href="/staff/bookings"]`)), chromedp.WaitVisible(chromedp.CSS("#book-h")))
	review(t, tab, "desk-empty", desktop)

	// Each form's answer is a new page with its own alert: the old one is
	// removed first so that waiting for an alert waits for the answer.
	clearAlerts := chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.alert').forEach(a => a.remove())`)
	slot := func(hhmm string) string { return "family|" + monday(e.office, hhmm).Format(time.RFC3339) }
	bookCaller := func(name, contact, lang, hhmm string) {
		t.Helper()
		do(t, tab, "book "+name+" by phone",
			chromedp.SetValue(chromedp.CSS("#book-slot"), slot(hhmm)),
			chromedp.SendKeys(chromedp.CSS("#book-name"), name), chromedp.SendKeys(chromedp.CSS("#book-contact"), contact),
			chromedp.SetValue(chromedp.CSS("#book-lang"), lang), chromedp.Click(chromedp.CSS(`input[name=terms]`)), clearAlerts,
			chromedp.Click(chromedp.CSS(`#book-h ~ form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".alert.notice")))
		if msg := text(t, tab, ".alert.notice"); !strings.Contains(msg, "Booked for "+hhmm) {
			t.Fatalf("after booking %s the page says %q", name, msg)
		}
	}
	bookCaller("Olena Kovalenko", "olena@example.ua", "uk", "10:00")
	booked := mailTo(t, sink, "olena@example.ua", "10:00")
	if !strings.Contains(booked.Subject, "Ваш візит") {
		t.Errorf("the booked e-mail's subject %q is not in Ukrainian", booked.Subject)
	}
	if row := text(t, tab, "table.desk-visits tbody tr"); !strings.Contains(row, "Olena Kovalenko") || !strings.Contains(row, "Українська") || !strings.Contains(row, "booked") {
		t.Errorf("the desk lists %q", row)
	}
	review(t, tab, "desk-booked", desktop)

	do(t, tab, "move asks where", chromedp.Click(chromedp.CSS(`table.desk-visits a[href*="move="]`)), chromedp.WaitVisible(chromedp.CSS("#move-slot")))
	review(t, tab, "desk-moving", desktop)
	do(t, tab, "move to 11:00",
		chromedp.SetValue(chromedp.CSS("#move-slot"), slot("11:00")),
		chromedp.SendKeys(chromedp.CSS("#move-reason"), "Urzędnik jest chory"), clearAlerts,
		chromedp.Click(chromedp.CSS(`#move-h ~ form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(".alert.notice")))
	moved := mailTo(t, sink, "olena@example.ua", "Urzędnik jest chory")
	if !strings.Contains(moved.Text, "11:00") {
		t.Errorf("the move e-mail does not give the new time:\n%s", moved.Text)
	}

	bookCaller("Jan Nowak", "jan.nowak@example.pl", "pl", "13:00")
	do(t, tab, "close 12:30-14:00",
		chromedp.SetValue(chromedp.CSS("#close-from"), "12:30"), chromedp.SetValue(chromedp.CSS("#close-to"), "14:00"),
		chromedp.SendKeys(chromedp.CSS("#close-reason"), "Szkolenie pracowników"), clearAlerts,
		chromedp.Click(chromedp.CSS(`#close-h ~ form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("#closures")))
	if msg := text(t, tab, ".alert.notice"); !strings.Contains(msg, "1 resident") {
		t.Errorf("after closing the page says %q", msg)
	}
	closedMail := mailTo(t, sink, "jan.nowak@example.pl", "Szkolenie pracowników")
	if !strings.Contains(closedMail.Text, "/move") {
		t.Errorf("the closure e-mail has no move link:\n%s", closedMail.Text)
	}
	if row := text(t, tab, "table.desk-visits tbody tr:last-child"); !strings.Contains(row, "Hours closed: Szkolenie pracowników") {
		t.Errorf("the visit in the closed hours is listed as %q", row)
	}
	review(t, tab, "desk-closed", desktop)

	do(t, tab, "cancel asks why", chromedp.Click(chromedp.CSS(`table.desk-visits tbody tr:first-child a[href*="cancel="]`)), chromedp.WaitVisible(chromedp.CSS("#cancel-reason")))
	review(t, tab, "desk-cancelling", desktop)
	do(t, tab, "cancel Olena's visit",
		chromedp.SendKeys(chromedp.CSS("#cancel-reason"), "Sprawa załatwiona telefonicznie"),
		chromedp.Click(chromedp.CSS(`#cancel-h ~ form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("tr.desk-cancelled")))
	mailTo(t, sink, "olena@example.ua", "Sprawa załatwiona telefonicznie")

	do(t, tab, "reopen", chromedp.Click(chromedp.CSS(`#closures button[type=submit]`)), chromedp.WaitNotPresent(chromedp.CSS("#closures")))
	review(t, tab, "desk-reopened", desktop)
}
