package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/notice"
)

// hold fills the booking form and returns the page that asks for the
// code, and the confirmation path.
func (b *browser) hold(lang, hhmm, name, contact string) (int, string, string) {
	b.e.t.Helper()
	o := b.e.office.ID
	slot := monday(b.e.office, hhmm).Format(time.RFC3339)
	// The office's page has a form, so a CSRF token, even when the slot
	// has gone since the resident opened the booking form.
	b.get("/o/" + o + "?lang=" + lang)
	st, page := b.post("/book/"+o, url.Values{"service": {"family"}, "day": {"2026-11-23"}, "slot": {slot},
		"name": {name}, "contact": {contact}, "terms": {"yes"}})
	m := regexp.MustCompile(`action="(/booking/[^"]+/confirm)"`).FindStringSubmatch(page)
	if m == nil {
		return st, page, ""
	}
	return st, page, m[1]
}

func (e *env) freeAt(hhmm string) int {
	slot := monday(e.office, hhmm)
	free := -1
	_ = e.actor.Query(context.Background(), func(s *queue.State) {
		if sl, ok := s.Slot(e.clock.Now(), "family", slot); ok {
			free = sl.Free
		}
	})
	return free
}

func TestHoldWrongCodeThenRightCode(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	st, page, confirm := b.hold("en", "10:00", "Jan Kowalski", "Jan@Example.pl")
	if st != http.StatusOK || confirm == "" || !strings.Contains(page, "We have sent a 6-digit code to Jan@Example.pl") || !strings.Contains(page, "by 08:15") {
		t.Fatalf("the form gives %d:\n%s", st, page)
	}
	if e.freeAt("10:00") != 0 {
		t.Fatal("the hold does not keep 10:00")
	}
	sent, _ := e.notices.Last("Jan@Example.pl")
	if sent.Kind != notice.ConfirmContact || !strings.HasPrefix(sent.Links.Confirm, e.url+"/booking/") {
		t.Fatalf("sent %+v", sent)
	}
	wrong := "000000"
	if sent.Code == wrong {
		wrong = "999999"
	}
	st, page = b.post(confirm, url.Values{"code": {wrong}})
	if st != http.StatusBadRequest || !strings.Contains(page, "This code is not right") || strings.Contains(page, `id="booking-code"`) {
		t.Fatalf("a wrong code: %d\n%s", st, page)
	}
	st, page = b.post(confirm, url.Values{"code": {sent.Code}})
	if st != http.StatusOK || !codeOnPage.MatchString(page) {
		t.Fatalf("the right code: %d\n%s", st, page)
	}
	if n, _ := e.notices.Last("Jan@Example.pl"); n.Kind != notice.Booked || n.Booking != codeOnPage.FindStringSubmatch(page)[1] {
		t.Errorf("after confirming: %+v", n)
	}
}

// The link in the message confirms as the typed code does.
func TestConfirmLinkConfirms(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.hold("en", "10:00", "Jan Kowalski", "600100200")
	sent, _ := e.notices.Last("600100200")
	if page := e.browser().get(strings.TrimPrefix(sent.Links.Confirm, e.url) + "?lang=en"); !codeOnPage.MatchString(page) {
		t.Fatalf("the link from the message:\n%s", page)
	}
}

func TestHoldExpiresAndFreesTheSlot(t *testing.T) {
	e := newEnv(t)
	first := e.browser()
	_, _, confirm := first.hold("en", "10:00", "Jan Kowalski", "jan@example.pl")
	sent, _ := e.notices.Last("jan@example.pl")
	other := e.browser()
	if st, page, _ := other.hold("en", "10:00", "Ewa Lis", "ewa@example.pl"); st != http.StatusConflict || !strings.Contains(page, "already taken") {
		t.Fatalf("booking the held slot: %d\n%s", st, page)
	}
	e.clock.Set(monday(e.office, "08:16"))
	if st, _, c := other.hold("en", "10:00", "Ewa Lis", "ewa@example.pl"); st != http.StatusOK || c == "" {
		t.Fatalf("after the hold expired, 10:00 is not free: %d", st)
	}
	page := first.get(strings.TrimSuffix(confirm, "/confirm") + "?lang=en")
	if !strings.Contains(page, "not confirmed in time") {
		t.Errorf("the expired hold's page:\n%s", page)
	}
	first.get("/o/" + e.office.ID + "?lang=en") // a page with the form's CSRF token
	if st, page := first.post(confirm, url.Values{"code": {sent.Code}}); st != http.StatusGone || !strings.Contains(page, "time to confirm has passed") {
		t.Errorf("confirming late: %d\n%s", st, page)
	}
}

func TestSecondBookingOfAContactRefusedWithLink(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	first, _ := b.book("family", "10:00", "Jan Kowalski", "+48 600 100 200")
	st, page, _ := b.hold("en", "13:00", "Jan Kowalski", "600-100-200")
	if st != http.StatusConflict || !strings.Contains(page, "You already have a booking for this matter on") || !strings.Contains(page, "at 10:00") ||
		!strings.Contains(page, `href="`+first+`"`) {
		t.Fatalf("a second booking the same day: %d\n%s", st, page)
	}
	p := e.browser()
	_, page, _ = p.hold("pl", "13:00", "Jan Kowalski", "0048600100200")
	if !strings.Contains(page, "Masz już rezerwację w tej sprawie") {
		t.Errorf("in Polish:\n%s", page)
	}
	if _, _, c := p.hold("en", "13:00", "Anna Kowalska", "600100201"); c == "" {
		t.Error("another contact was refused")
	}
}

func TestFullDayShownAsFull(t *testing.T) {
	e := newEnv(t)
	tuesday := monday(e.office, "12:00").AddDate(0, 0, 1)
	var slots []queue.Slot
	_ = e.actor.Query(context.Background(), func(s *queue.State) { slots = s.Slots(e.clock.Now(), "family", tuesday) })
	for i, sl := range slots {
		if res := e.do(queue.Book{ID: "fill" + string(rune('a'+i/26)) + string(rune('a'+i%26)), Service: "family", Slot: sl.Start, Lang: "pl"}); res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	page := e.browser().get("/book/" + e.office.ID + "?service=family&lang=en")
	day := func(key string) string {
		m := regexp.MustCompile(`<li>(<[^>]+class="choice day[^"]*"[^>]*>(?:[^<]|<[^/]|</[^al])*</(?:a|span)>)</li>`).FindAllStringSubmatch(page, -1)
		for _, x := range m {
			if strings.Contains(x[1], key) {
				return x[1]
			}
		}
		return ""
	}
	if d := day("24 Nov"); !strings.Contains(d, "full") || strings.Contains(d, "href") {
		t.Errorf("the full Tuesday is %q", d)
	}
	if d := day("28 Nov"); !strings.Contains(d, "closed") || strings.Contains(d, "href") {
		t.Errorf("Saturday is %q", d)
	}
	if d := day("25 Nov"); !strings.Contains(d, `href="/book/`+e.office.ID+`?service=family&amp;day=2026-11-25"`) {
		t.Errorf("Wednesday is %q", d)
	}
	if strings.Count(page, `class="choice day`) != 30 {
		t.Errorf("%d days listed, want the 30 days of the window", strings.Count(page, `class="choice day`))
	}
}

func TestRescheduleKeepsTheCodeAndMoves(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	path, code := b.book("family", "10:00", "Jan Kowalski", "jan@example.pl")
	page := b.get(path + "/move?lang=en")
	if !strings.Contains(page, `value="2026-11-23T11:00:00`) {
		t.Fatalf("the move page does not offer 11:00:\n%s", page)
	}
	st, page := b.post(path+"/move", url.Values{"slot": {monday(e.office, "11:00").Format(time.RFC3339)}})
	if st != http.StatusOK || !strings.Contains(page, "Your visit has been moved") || codeOnPage.FindStringSubmatch(page)[1] != code || !strings.Contains(page, "11:00") {
		t.Fatalf("moving: %d\n%s", st, page)
	}
	if e.freeAt("10:00") != 1 || e.freeAt("11:00") != 0 {
		t.Errorf("after the move 10:00 has %d free, 11:00 %d", e.freeAt("10:00"), e.freeAt("11:00"))
	}
	if n, _ := e.notices.Last("jan@example.pl"); n.Kind != notice.Rescheduled || !n.Slot.Equal(monday(e.office, "11:00")) || n.Booking != code {
		t.Errorf("notice %+v", n)
	}
}

// Two residents move to the last free place at once: one gets it, the
// other keeps their booking where it was and is told.
func TestRescheduleRaceOneWins(t *testing.T) {
	e := newEnv(t)
	one, two := e.browser(), e.browser()
	p1, _ := one.book("family", "10:00", "Jan Kowalski", "jan@example.pl")
	p2, _ := two.book("family", "10:15", "Ewa Lis", "ewa@example.pl")
	one.get(p1 + "/move?lang=en")
	two.get(p2 + "/move?lang=en")
	target := url.Values{"slot": {monday(e.office, "12:00").Format(time.RFC3339)}}
	var wg sync.WaitGroup
	pages := make([]string, 2)
	status := make([]int, 2)
	for i, x := range []struct {
		b    *browser
		path string
	}{{one, p1}, {two, p2}} {
		wg.Add(1)
		form := url.Values{"slot": target["slot"], "csrf": {x.b.csrf()}}
		go func() {
			defer wg.Done()
			var err error
			if status[i], pages[i], err = x.b.send(x.path+"/move", form); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	won := 0
	for i := range 2 {
		switch {
		case status[i] == http.StatusOK && strings.Contains(pages[i], "Your visit has been moved"):
			won++
		case status[i] == http.StatusConflict && strings.Contains(pages[i], "already taken"):
		default:
			t.Errorf("move %d: %d\n%s", i, status[i], pages[i][strings.Index(pages[i], "<main"):])
		}
	}
	if won != 1 || e.freeAt("12:00") != 0 || e.freeAt("10:00")+e.freeAt("10:15") != 1 {
		t.Errorf("%d moves won; free at 12:00 %d, 10:00 %d, 10:15 %d", won, e.freeAt("12:00"), e.freeAt("10:00"), e.freeAt("10:15"))
	}
}

func TestDataPageAndDeleting(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	path, code := b.book("family", "10:00", "Zofia Wiśniewska", "zofia@example.pl")
	page := b.get(path + "/data?lang=en")
	for _, want := range []string{"Zofia Wiśniewska", "zofia@example.pl", code, "Family benefits", "confirmed", "code to confirm", "booking confirmed", "23 Dec 2026"} {
		if !strings.Contains(page, want) {
			t.Errorf("the data page does not show %q", want)
		}
	}
	st, page := b.post(path+"/forget", url.Values{})
	if st != http.StatusOK || !strings.Contains(page, "Delete my data now") || !strings.Contains(page, `name="confirm" value="yes"`) {
		t.Fatalf("the first press: %d, want the question\n%s", st, page)
	}
	if _, found, _ := e.db.Booking(e.office.ID, strings.Split(path, "/")[3]); !found {
		t.Fatal("deleted before the resident said yes")
	}
	st, page = b.post(path+"/forget", url.Values{"confirm": {"yes"}})
	if st != http.StatusOK || !strings.Contains(page, "Your data has been deleted") {
		t.Fatalf("deleting: %d\n%s", st, page)
	}
	if n, _ := e.db.CountBookings(); n != 0 {
		t.Errorf("%d bookings still stored", n)
	}
	if e.freeAt("10:00") != 1 {
		t.Error("the visit still to come was not cancelled")
	}
}

// The office closes the afternoon after bookings were made: at the next
// start the bookings in it are cancelled, their residents told, and the
// staff's page lists them.
func TestOfficeClosingAnAfternoonCancels(t *testing.T) {
	dir := t.TempDir()
	e := newEnvIn(t, dir, nil)
	b := e.browser()
	morning, _ := b.book("family", "10:00", "Jan Kowalski", "jan@example.pl")
	afternoon, code := b.book("family", "14:00", "Ewa Lis", "ewa@example.pl")
	e.close()

	e = newEnvIn(t, dir, func(o *queue.Office) {
		o.Exceptions["2026-11-23"] = queue.DayException{Name: "szkolenie", Names: map[string]string{"en": "staff training"},
			Hours: []queue.Interval{{Open: 7*60 + 30, Close: 12 * 60}}}
	})
	if _, err := e.desk.CancelOutsideHours(context.Background(), e.actor); err != nil {
		t.Fatal(err)
	}
	sent := e.notices.Sent()
	if len(sent) != 1 || sent[0].Kind != notice.CancelledByOffice || sent[0].Contact != "ewa@example.pl" || sent[0].Reason != "staff training" ||
		sent[0].Links.Manage != e.url+"/book/"+e.office.ID+"?service=family" {
		t.Fatalf("sent %+v", sent)
	}
	r := e.browser()
	if page := r.get(afternoon + "?lang=en"); !strings.Contains(page, "The office has cancelled this visit (staff training)") {
		t.Errorf("the cancelled booking's page:\n%s", page)
	}
	if page := r.get(morning + "?lang=en"); !codeOnPage.MatchString(page) {
		t.Errorf("the morning booking:\n%s", page)
	}
	staff := e.browser()
	staff.login("anna", "correct horse battery")
	family, _ := e.office.Service("family")
	if page := staff.get("/staff?lang=en"); !strings.Contains(page, "Bookings the office cancelled") || !strings.Contains(page, code) ||
		!strings.Contains(page, family.Name("en")+" · "+code) {
		t.Errorf("the staff page does not list %s with its matter's name:\n%s", code, page)
	}
}
