package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The configuration is read at start: an afternoon closed in it after a
// visit was booked there cancels the visit when the server starts again,
// and the booking's page says why.
func TestClosedAfternoonCancelsBookingsAtStart(t *testing.T) {
	bin := buildServer(t)
	data, dir := t.TempDir(), t.TempDir()
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "offices", "starachowice.toml"))
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "office.toml")
	text := strings.Replace(string(example), "confirm_contact = true", "confirm_contact = false", 1)
	if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() (*process, string) {
		p := startServerWith(t, bin, "--config", config, "--data", data, "--clock", "2026-11-23T07:45:00")
		return p, strings.TrimSuffix(p.base, "/api/v1/offices/"+officeID)
	}
	srv, site := start()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	get := func(u string) string {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	slot := "2026-11-23T14:00:00+01:00"
	form := get(site + "/book/" + officeID + "?service=family&day=2026-11-23&slot=" + url.QueryEscape(slot) + "&lang=en")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(form)
	if csrf == nil {
		t.Fatalf("no booking form:\n%s", form)
	}
	resp, err := c.PostForm(site+"/book/"+officeID, url.Values{"csrf": {csrf[1]}, "service": {"family"}, "day": {"2026-11-23"},
		"slot": {slot}, "name": {"Ewa Lis"}, "contact": {"ewa@example.pl"}, "terms": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	booking := resp.Request.URL.Path
	if !strings.HasPrefix(booking, "/booking/") || !strings.Contains(get(site+booking), `id="booking-code"`) {
		t.Fatalf("booking 14:00 ended at %s", booking)
	}
	_ = srv.cmd.Process.Kill()
	_ = srv.cmd.Wait()

	closed := text + "\n[[office.exception]]\ndate = \"2026-11-23\"\nname = \"staff training\"\nhours = [\"07:30-12:00\"]\n"
	if err := os.WriteFile(config, []byte(closed), 0o600); err != nil {
		t.Fatal(err)
	}
	_, site = start()
	waitFor(t, 10*time.Second, func() bool {
		return strings.Contains(get(site+booking+"?lang=en"), "The office has cancelled this visit (staff training)")
	})
}
