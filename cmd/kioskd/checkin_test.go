package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

var (
	csrfOnPage = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	codeOnPage = regexp.MustCompile(`id="booking-code">([A-Z0-9-]+)<`)
)

// book books a visit through the office's booking pages, as a resident
// without JavaScript does, and returns the code on the confirmation.
func (o *office) book(service string, slot time.Time) string {
	o.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	page := func(resp *http.Response, err error) string {
		o.t.Helper()
		if err != nil {
			o.t.Fatalf("booking %s at %v: %v", service, slot, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			o.t.Fatalf("booking %s at %v: %s\n%s", service, slot, resp.Status, body)
		}
		return string(body)
	}
	day := slot.Format("2006-01-02")
	form := page(c.Get(o.url() + "/book/" + officeID + "?service=" + service + "&day=" + day + "&slot=" + url.QueryEscape(slot.Format(time.RFC3339))))
	csrf := csrfOnPage.FindStringSubmatch(form)
	if csrf == nil {
		o.t.Fatalf("the booking form has no CSRF field:\n%s", form)
	}
	// Each booking by its own resident: one contact has one booking a day.
	// This server sends no messages, so no contact can be asked to
	// confirm itself: the visit is booked at once.
	confirmation := page(c.PostForm(o.url()+"/book/"+officeID, url.Values{
		"csrf": {csrf[1]}, "service": {service}, "day": {day}, "slot": {slot.Format(time.RFC3339)},
		"name": {"Jan Kowalski"}, "contact": {"jan." + slot.Format("1504") + "@example.pl"}, "terms": {"yes"},
	}))
	code := codeOnPage.FindStringSubmatch(confirmation)
	if code == nil {
		o.t.Fatalf("no code on the booking's confirmation:\n%s", confirmation)
	}
	return code[1]
}

// Residents who booked online confirm their visit at the kiosk: one taps
// the code on the keypad, one holds the confirmation's code to the barcode
// scanner (it types like a keyboard and presses Enter); each gets a
// printed ticket of the booked service, queued on the server as a booking.
// One who comes too early gets no ticket.
func TestKioskChecksInBookedVisits(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	var office queue.Office
	o.api(o.tokens["kiosk"], "GET", "/config", "", &office)
	at := func(hh, mm int) time.Time { return time.Date(2026, 11, 23, hh, mm, 0, 0, office.Location) }
	// The server's day starts at 9:00; check-in opens 30 min before a slot.
	keyed, scanned, early := o.book("family", at(9, 15)), o.book("family", at(9, 30)), o.book("family", at(11, 0))

	paper := t.TempDir()
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", smallPanel+fmt.Sprintf("[printer]\nuri = \"emulator://%s\"\n", paper), noFrames)
	kiosk.waitTarget("confirm", 10*time.Second)

	kiosk.tap("confirm")
	for _, r := range strings.ReplaceAll(keyed, "-", "") {
		kiosk.tap("key:" + string(r))
	}
	kiosk.tap("ok")
	kiosk.waitTarget("done", 10*time.Second)
	kiosk.tap("done")

	win, err := displaytest.FindWindowOn(displayOf(t), "numerek-kiosk", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	scan := func(code string) {
		t.Helper()
		kiosk.waitTarget("confirm", 10*time.Second)
		kiosk.tap("confirm")
		kiosk.waitTarget("key:A", 10*time.Second)
		if err := win.Type(strings.ToLower(code) + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	scan(scanned)
	kiosk.waitTarget("done", 10*time.Second)
	kiosk.tap("done")
	waitUntil(t, "two tickets printed", 10*time.Second, func() bool { return len(ticketPNGs(paper)) == 2 && len(kiosk.printedTickets()) == 2 })

	var v queue.View
	o.api(o.tokens["clerk"], "GET", "/state", "", &v)
	booked := map[string]time.Time{}
	for _, w := range v.Waiting {
		if w.Channel == queue.ChannelBooking {
			booked[w.Number] = w.BookedFor
		}
	}
	for i, p := range kiosk.printedTickets() {
		want := []time.Time{at(9, 15), at(9, 30)}[i]
		if p.service != "family" || !booked[p.number].Equal(want) {
			t.Errorf("ticket %d printed %s of %s; the server has it booked for %v, want %v", i+1, p.number, p.service, booked[p.number], want)
		}
	}

	scan(early)
	waitUntil(t, "the early check-in refused", 10*time.Second, func() bool {
		return kiosk.kiosk().Journal.ByPhase[store.PhaseRefused] == 1
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(ticketPNGs(paper)); n != 2 {
		t.Errorf("%d tickets printed after a check-in 1.5 h early, want still 2", n)
	}
}
