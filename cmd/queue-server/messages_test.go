package main

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/smtpsink"
)

// The whole server with [messages]: a visit booked on the web page at
// 15:59 on Monday is reminded by e-mail at 16:00, in the language the
// resident booked in, through a real SMTP server. The clock starts 20 s
// before the hour: time enough to book and confirm the contact by the
// e-mailed link on a loaded machine.
func TestDayBeforeReminderFromTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server process")
	}
	t.Parallel()
	bin := buildServer(t)
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	setting := fmt.Sprintf("[messages]\nreminder_at = \"16:00\"\n[messages.email]\nhost = \"127.0.0.1\"\nport = %d\ntls = \"none\"\nfrom = \"CUS <kolejka@example.pl>\"\n\n", sink.Port())
	cfg := exampleOfficeWith(t, setting)
	data := t.TempDir()
	srv := startServerWith(t, bin, "--config", cfg, "--data", data, "--clock", "2026-11-23T15:59:40")
	site := strings.TrimSuffix(srv.base, "/api/v1/offices/"+officeID)

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := client.Get(site + "/book/" + officeID + "?service=family&day=2026-11-24&slot=2026-11-24T08%3a00%3a00%2b01%3a00&lang=en")
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	_, _ = page.ReadFrom(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.String())
	if csrf == nil {
		t.Fatalf("no booking form:\n%s", page.String())
	}
	form := url.Values{"csrf": {csrf[1]}, "service": {"family"}, "day": {"2026-11-24"}, "slot": {"2026-11-24T08:00:00+01:00"},
		"name": {"Anna Nowak"}, "contact": {"anna.nowak@example.pl"}, "terms": {"yes"}}
	req, _ := http.NewRequest(http.MethodPost, site+"/book/"+officeID, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", site)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Request.URL.Path, "/booking/") {
		t.Fatalf("booking: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	// The slot is held until the contact is confirmed: by the link in
	// the e-mail the outbox sent (its text quoted-printable).
	confirmLink := regexp.MustCompile(`/booking/[^\s"<>]+/confirm/[0-9]{6}`)
	var confirm string
	waitFor(t, 15*time.Second, func() bool {
		for _, m := range sink.Messages() {
			text := strings.ReplaceAll(string(m.Data), "=\r\n", "")
			if l := confirmLink.FindString(text); l != "" && m.To[0] == "anna.nowak@example.pl" {
				confirm = l
				return true
			}
		}
		return false
	})
	resp, err = client.Get(site + confirm)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirming the contact by the e-mail's link: %d", resp.StatusCode)
	}

	var subject string
	waitFor(t, 30*time.Second, func() bool {
		for _, m := range sink.Messages() {
			msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				continue
			}
			s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
			if strings.HasPrefix(s, "Reminder:") && m.To[0] == "anna.nowak@example.pl" {
				subject = s
				return true
			}
		}
		return false
	})
	if subject != "Reminder: your visit tomorrow at 08:00" {
		t.Errorf("reminder subject %q", subject)
	}
	if _, err := os.Stat(filepath.Join(data, outboxFile)); err != nil {
		t.Errorf("no outbox file in the data directory: %v", err)
	}
	// A copy of the running server holds its outbox (what it sent and
	// still owes residents) and the fleet's record, both checked.
	copyDir := filepath.Join(t.TempDir(), "copy")
	code, stdout, stderr := runBin(t, bin, "backup", "--data", data, "--to", copyDir)
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runBin(t, bin, "check", "--data", copyDir)
	outboxLine := regexp.MustCompile(`(?m)^.*outbox\.db.*$`).FindString(stdout)
	if code != 0 || !regexp.MustCompile(`\b[1-9][0-9]* messages\b`).MatchString(outboxLine) || !strings.Contains(stdout, "fleet.db") {
		t.Errorf("the copy's check (exit %d) shows no outbox with messages, or no fleet.db:\n%s%s", code, stdout, stderr)
	}
}
