package outbox

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numerek/numerek/server/notice"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// checkGolden compares got with testdata/name; -update writes it instead.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from what is composed now (review, then -update):\n%s", path, got)
	}
}

// What a resident reads: the booking's e-mail in Polish and English, and
// every SMS in every language, kept as files to review by eye.
func writeSMS(w *strings.Builder, c *Composer, lang, label string, n notice.Notice) {
	text := c.SMS(n)
	units, gsm := SMSLength(text)
	enc := "UCS-2"
	if gsm {
		enc = "GSM-7"
	}
	fmt.Fprintf(w, "%s %-19s %s %3d units, %d SMS: %s\n", lang, label, enc, units, SMSParts(text), text)
}

func TestGoldenMessages(t *testing.T) {
	c := testComposer()
	for _, lang := range []string{"pl", "en"} {
		m, err := c.Mail(bookedNotice(lang, "jan@example.pl"))
		if err != nil {
			t.Fatal(err)
		}
		checkGolden(t, "booked-"+lang+".txt", "Subject: "+m.Subject+"\n\n"+m.Text)
		checkGolden(t, "booked-"+lang+".html", m.HTML)
	}
	var sms strings.Builder
	for _, lang := range []string{"pl", "en", "lt", "ru", "uk"} {
		for _, kind := range []notice.Kind{notice.ConfirmContact, notice.Booked, notice.Rescheduled, notice.Cancelled,
			notice.CancelledByOffice, notice.HoursClosed, notice.Reminder, notice.Called, notice.Recalled, notice.Ahead} {
			n := bookedNotice(lang, "+48500600123")
			n.Kind, n.Code, n.Ticket, n.Counter, n.Ahead, n.Reason = kind, "482913", "A012", 3, 2, "awaria sieci"
			n.Links.Confirm, n.Links.Ticket = "https://kolejka.example.pl/c/x7", "https://kolejka.example.pl/e/ums/A012/x7"
			label := string(kind)
			if kind == notice.Rescheduled {
				// A move with a reason is the office's; the resident's own has none.
				n.Reason = ""
			}
			writeSMS(&sms, c, lang, label, n)
		}
		moved := bookedNotice(lang, "+48500600123")
		moved.Kind, moved.Reason = notice.Rescheduled, "awaria sieci"
		writeSMS(&sms, c, lang, "rescheduled+reason", moved)
	}
	checkGolden(t, "sms.txt", sms.String())
}
