package outbox

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/notice"
)

// lockerDeadline is a Thursday evening in Warsaw.
var lockerDeadline = time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)

// lockerComposer composes for the test office with one locker.
func lockerComposer() *Composer {
	c := testComposer()
	o := c.Offices["ums"]
	o.Lockers = []queue.Locker{{
		ID: "hall",
		Names: map[string]string{"pl": "Urzędomat w holu", "en": "Hall locker", "lt": "Salės spintelė",
			"ru": "Постамат в холле", "uk": "Поштомат у холі"},
		Place: map[string]string{"pl": "parter, przy wejściu B", "en": "ground floor, by entrance B", "lt": "pirmas aukštas, prie B įėjimo",
			"ru": "первый этаж, у входа B", "uk": "перший поверх, біля входу B"},
		Compartments: []queue.Compartment{{ID: "7", Size: "M"}},
		Deadline:     168 * time.Hour, RemindBefore: 24 * time.Hour,
		Documents: []queue.LockerDocument{{ID: "id-card", Names: map[string]string{"pl": "dowód osobisty", "en": "identity card",
			"lt": "asmens tapatybės kortelė", "ru": "удостоверение личности", "uk": "посвідчення особи"}, SecondFactor: true}},
	}}
	return c
}

func lockerNotice(kind notice.Kind, lang, contact string) notice.Notice {
	return notice.Notice{
		Kind: kind, Office: "ums", Lang: lang, Name: "Jan Kowalski", Contact: contact, Code: "K7M2X9P4",
		Locker: &notice.LockerDeposit{Deposit: "d1", Locker: "hall", Compartment: "7", Document: "id-card", Deadline: lockerDeadline, SecondFactor: true},
		Key:    string(kind) + "/d1/" + lang,
	}
}

// The ready notice reaches a real SMTP server in the resident's language:
// the pickup code large and as a QR code the locker's scanner reads, the
// document, the locker and where it stands, the deadline in the office's
// time, and that a one-time code will be asked for.
func TestLockerReadyEmailInEveryLanguage(t *testing.T) {
	tests := []struct {
		lang, subject, deadline, place, secondFactor string
	}{
		{"pl", "Twój dokument czeka na odbiór: dowód osobisty", "czwartek 03.12.2026, 18:00", "parter, przy wejściu B", "kod jednorazowy"},
		{"en", "Your document is ready to collect: identity card", "Thursday 3 Dec 2026, 18:00", "ground floor, by entrance B", "one-time code"},
		{"lt", "Jūsų dokumentą galima atsiimti: asmens tapatybės kortelė", "ketvirtadienis 2026-12-03, 18:00", "pirmas aukštas, prie B įėjimo", "vienkartinio kodo"},
		{"ru", "Ваш документ можно получить: удостоверение личности", "четверг 03.12.2026, 18:00", "первый этаж, у входа B", "одноразовый код"},
		{"uk", "Ваш документ можна отримати: посвідчення особи", "четвер 03.12.2026, 18:00", "перший поверх, біля входу B", "одноразовий код"},
	}
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), lockerComposer())})
	defer ob.Close()
	for _, tt := range tests {
		if err := ob.Send(context.Background(), lockerNotice(notice.LockerReady, tt.lang, "jan.kowalski@example.pl")); err != nil {
			t.Fatal(err)
		}
	}
	waitfor.Until(t, "five e-mails at the SMTP server", 10*time.Second, func() bool { return len(sink.Messages()) == len(tests) })
	byLang := map[string]parsedMail{}
	for _, r := range sink.Messages() {
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
			for _, want := range []string{"K7M2-X9P4", tt.deadline, tt.place, tt.secondFactor, "Jan Kowalski"} {
				if !strings.Contains(pm.Text, want) {
					t.Errorf("text part lacks %q:\n%s", want, pm.Text)
				}
				if !strings.Contains(pm.HTML, want) {
					t.Errorf("HTML part lacks %q", want)
				}
			}
			if !strings.Contains(pm.HTML, `src="cid:booking-qr@numerek"`) {
				t.Error("the HTML does not show the inline QR code")
			}
			if got := decodeQRPNG(t, pm.Parts["image/png"]); got != "K7M2X9P4" {
				t.Errorf("QR code reads %q, want the pickup code", got)
			}
			if _, ok := pm.Parts["text/calendar"]; ok {
				t.Error("a locker's notice has no calendar entry")
			}
		})
	}
}

// The office's admins hear of a document not collected by e-mail and by
// their webhook: which locker, compartment and document, and the lockers
// page; never the resident's name.
func TestLockerExpiredAlertsAdmins(t *testing.T) {
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	hook := &alertHookStandIn{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	c := lockerComposer()
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), c), Webhook: NewAlertHook(c, hookSrv.Client())})
	defer ob.Close()
	for _, to := range []string{"admin@example.pl", hookSrv.URL + "/alerts"} {
		n := lockerNotice(notice.LockerExpired, "pl", to)
		n.Name, n.Code = "", ""
		n.Key += to
		if err := ob.Send(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	waitfor.Until(t, "the alert by e-mail and webhook", 10*time.Second, func() bool {
		return len(sink.Messages()) == 1 && len(hook.messages()) == 1
	})
	pm := parseMail(t, sink.Messages()[0].Data)
	if want := "Urzędomat w holu: dokument nieodebrany (skrytka 7)"; pm.Subject != want {
		t.Errorf("subject %q, want %q", pm.Subject, want)
	}
	for _, want := range []string{"dowód osobisty", "czwartek 03.12.2026, 18:00", "https://kolejka.example.pl/staff/lockers?office=ums"} {
		if !strings.Contains(pm.Text, want) {
			t.Errorf("the alert's text lacks %q:\n%s", want, pm.Text)
		}
	}
	if _, ok := pm.Parts["image/png"]; ok {
		t.Error("the admins' alert carries a QR code")
	}
	m := hook.messages()[0]
	if m.Event != "locker-expired" || m.Office != "ums" || m.Locker != "hall" || m.Compartment != "7" || m.Document != "id-card" ||
		!m.Deadline.Equal(lockerDeadline) || m.Page != "https://kolejka.example.pl/staff/lockers?office=ums" || !strings.Contains(m.Text, "skrytka 7") {
		t.Errorf("webhook got %+v", m)
	}
	if m.DeviceID != "" || m.Fault != "" {
		t.Errorf("a locker's alert names a device fault: %+v", m)
	}
}

// What a resident reads, kept as files to review by eye: the ready
// e-mail in Polish and English, every locker SMS in every language.
func TestGoldenLockerMessages(t *testing.T) {
	c := lockerComposer()
	for _, lang := range []string{"pl", "en"} {
		m, err := c.Mail(lockerNotice(notice.LockerReady, lang, "jan@example.pl"))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "locker-ready-"+lang+".txt", "Subject: "+m.Subject+"\n\n"+m.Text)
		checkGolden(t, "locker-ready-"+lang+".html", m.HTML)
	}
	var sms strings.Builder
	for _, lang := range []string{"pl", "en", "lt", "ru", "uk"} {
		for _, kind := range []notice.Kind{notice.LockerReady, notice.LockerReminder, notice.LockerSecondFactor, notice.LockerExpired} {
			n := lockerNotice(kind, lang, "+48500600123")
			if kind == notice.LockerSecondFactor {
				n.Code = "048213"
			}
			writeSMS(&sms, c, lang, string(kind), n)
		}
	}
	checkGolden(t, "locker-sms.txt", sms.String())
}

// Each SMS a resident gets about a locker says its code as typed at the
// locker and fits the texts' usual length.
func TestLockerSMS(t *testing.T) {
	c := lockerComposer()
	for _, lang := range []string{"pl", "en", "lt", "ru", "uk"} {
		t.Run(lang, func(t *testing.T) {
			ready := c.SMS(lockerNotice(notice.LockerReady, lang, "+48500600123"))
			if !strings.Contains(ready, "K7M2-X9P4") || !strings.Contains(ready, "03.12") && !strings.Contains(ready, "12-03") && !strings.Contains(ready, "3 Dec") {
				t.Errorf("ready SMS %q lacks the code or the deadline", ready)
			}
			if strings.Contains(ready, "Kowalski") {
				t.Errorf("the SMS names the resident: %q", ready)
			}
			reminder := c.SMS(lockerNotice(notice.LockerReminder, lang, "+48500600123"))
			if strings.Contains(reminder, "K7M2") {
				t.Errorf("the reminder repeats a code the server no longer has: %q", reminder)
			}
			n := lockerNotice(notice.LockerSecondFactor, lang, "+48500600123")
			n.Code = "048213"
			if sf := c.SMS(n); !strings.HasPrefix(sf, "048213 ") || SMSParts(sf) != 1 {
				t.Errorf("second factor SMS %q: want the code first, in one SMS", sf)
			}
		})
	}
}
