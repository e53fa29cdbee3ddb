package web

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// deskForm is a booking desk form for the example office on Monday.
func deskForm(e *env, kv ...string) url.Values {
	v := url.Values{"office": {e.office.ID}, "day": {"2026-11-23"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func deskSlotValue(e *env, service, hhmm string) string {
	return service + "|" + monday(e.office, hhmm).Format("2006-01-02T15:04:05Z07:00")
}

func TestDeskWhoMayDoWhat(t *testing.T) {
	e := newEnv(t)
	if _, err := e.web.Clerks.Put("iza", "correct horse battery", store.ManagerRole, []string{"um-czestochowa"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, clerk string
		page        int
		book        int
		close       int
	}{
		// The front desk books for callers: clerks may see, book, move
		// and cancel, but closing hours is the manager's.
		{"a clerk of the office", "anna", http.StatusOK, http.StatusOK, http.StatusForbidden},
		{"an admin", "kierownik", http.StatusOK, http.StatusOK, http.StatusOK},
		// Asking for another office's desk shows the manager's own (as
		// statistics do); posting to it is refused.
		{"a manager of another office", "iza", http.StatusOK, http.StatusForbidden, http.StatusForbidden},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser()
			b.get("/staff/login")
			if st, body := b.post("/staff/login", url.Values{"name": {c.clerk}, "password": {"correct horse battery"}}); st != http.StatusOK || !strings.Contains(body, "/staff/logout") {
				t.Fatalf("login as %s: %d", c.clerk, st)
			}
			page := b.get("/staff/bookings?office=" + e.office.ID + "&day=2026-11-23")
			if b.status != c.page {
				t.Fatalf("the desk page: %d, want %d", b.status, c.page)
			}
			shown := strings.Contains(page, `name="office" value="`+e.office.ID+`"`)
			if shown != (c.book == http.StatusOK) {
				t.Errorf("the desk of %s shown: %v", e.office.ID, shown)
			}
			csrf := b.csrf()
			hhmm := []string{"10:00", "10:30", "11:00"}[i]
			st, body := b.post("/staff/bookings/book", deskForm(e, "slot", deskSlotValue(e, "family", hhmm),
				"name", "Olena Kovalenko", "contact", "olena"+hhmm[:2]+"@example.ua", "lang", "uk", "terms", "yes", "csrf", csrf))
			if st != c.book {
				t.Errorf("booking: %d, want %d", st, c.book)
			}
			if c.book == http.StatusOK && !strings.Contains(html.UnescapeString(body), "Olena Kovalenko") {
				t.Errorf("after booking the desk does not list the caller:\n%s", body)
			}
			if c.page == http.StatusOK && strings.Contains(page, `action="/staff/bookings/close"`) != (c.close == http.StatusOK || c.clerk == "iza") {
				t.Errorf("the close form shown: %v, want %v", strings.Contains(page, `action="/staff/bookings/close"`), c.close == http.StatusOK)
			}
			st, _ = b.post("/staff/bookings/close", deskForm(e, "close_day", "2026-11-24", "from", "09:00", "to", "10:00", "reason", "Szkolenie "+c.clerk, "csrf", csrf))
			if st != c.close {
				t.Errorf("closing hours: %d, want %d", st, c.close)
			}
		})
	}
}

func TestDeskRefusesWithReasons(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("kierownik", "correct horse battery")
	b.get("/staff/bookings?office=" + e.office.ID)
	cases := []struct {
		name, path string
		form       url.Values
		want       string
	}{
		{"no terms", "/staff/bookings/book", deskForm(e, "slot", deskSlotValue(e, "family", "10:00"), "name", "Jan Nowak", "contact", "jan@example.pl"), "terms"},
		{"a slot that is no choice", "/staff/bookings/book", deskForm(e, "slot", "family|tomorrow", "name", "Jan Nowak", "contact", "jan@example.pl", "terms", "yes"), "Choose a time from the list."},
		{"a bad phone number", "/staff/bookings/book", deskForm(e, "slot", deskSlotValue(e, "family", "10:00"), "name", "Jan Nowak", "contact", "12ab", "terms", "yes"), "phone"},
		{"a closure without a reason", "/staff/bookings/close", deskForm(e, "close_day", "2026-11-24", "reason", " "), "Give a reason: the resident is told it."},
		{"a closure with times that are none", "/staff/bookings/close", deskForm(e, "close_day", "2026-11-24", "from", "9", "reason", "x"), "Give a day, and times as hh:mm."},
		{"a closure that ends before it starts", "/staff/bookings/close", deskForm(e, "close_day", "2026-11-24", "from", "12:00", "to", "10:00", "reason", "x"), "must be after the start"},
		{"cancelling without a reason", "/staff/bookings/cancel", deskForm(e, "booking", "nosuch", "reason", ""), "Give a reason: the resident is told it."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b.get("/staff/bookings?office=" + e.office.ID + "&lang=en")
			_, body := b.post(c.path, c.form)
			if !strings.Contains(html.UnescapeString(body), c.want) || !strings.Contains(body, `role="alert"`) {
				t.Errorf("the page does not say %q in an alert:\n%s", c.want, body)
			}
		})
	}
	if got := e.notices.Sent(); len(got) != 0 {
		t.Errorf("refused forms sent %d notices", len(got))
	}
}

func TestDeskMoveCancelAndClose(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.login("kierownik", "correct horse battery")
	b.get("/staff/bookings?office=" + e.office.ID + "&lang=en")
	b.post("/staff/bookings/book", deskForm(e, "slot", deskSlotValue(e, "family", "10:00"), "name", "Olena Kovalenko", "contact", "olena@example.ua", "lang", "uk", "terms", "yes"))
	list, err := e.desk.Day(t.Context(), e.actor, "2026-11-23")
	if err != nil || len(list) != 1 {
		t.Fatalf("the day after booking: %+v %v", list, err)
	}
	id := list[0].ID
	page := b.get("/staff/bookings?office=" + e.office.ID + "&day=2026-11-23&move=" + id)
	if !strings.Contains(page, `action="/staff/bookings/move"`) {
		t.Fatalf("no move form:\n%s", page)
	}
	b.post("/staff/bookings/move", deskForm(e, "booking", id, "slot", deskSlotValue(e, "family", "11:00"), "reason", "Urzędnik jest chory"))
	if n, _ := e.notices.Last("olena@example.ua"); n.Kind != notice.Rescheduled || n.Reason != "Urzędnik jest chory" {
		t.Errorf("after the move the resident was sent %+v", n)
	}
	b.post("/staff/bookings/close", deskForm(e, "close_day", "2026-11-23", "from", "10:45", "to", "12:00", "reason", "Awaria systemu"))
	if n, _ := e.notices.Last("olena@example.ua"); n.Kind != notice.HoursClosed || !strings.HasSuffix(n.Links.Manage, "/move") {
		t.Errorf("after the closure the resident was sent %+v", n)
	}
	page = b.get("/staff/bookings?office=" + e.office.ID + "&day=2026-11-23")
	if !strings.Contains(page, "Awaria systemu") || !strings.Contains(page, `action="/staff/bookings/reopen"`) {
		t.Errorf("the closure is not listed with a reopen button:\n%s", page)
	}
	if strings.Contains(html.UnescapeString(page), deskSlotValue(e, "family", "11:15")) {
		t.Errorf("the booking form offers 11:15, inside the closure")
	}
	b.post("/staff/bookings/cancel", deskForm(e, "booking", id, "reason", "Sprawa załatwiona telefonicznie"))
	if n, _ := e.notices.Last("olena@example.ua"); n.Kind != notice.CancelledByOffice || n.Reason != "Sprawa załatwiona telefonicznie" {
		t.Errorf("after the cancel the resident was sent %+v", n)
	}
	// A day closed whole shows on the residents' booking page as closed.
	b.post("/staff/bookings/close", deskForm(e, "close_day", "2026-11-24", "reason", "Awaria systemu w całym urzędzie"))
	resident := e.browser()
	if page := resident.get("/book/" + e.office.ID + "?service=family&lang=en"); strings.Contains(page, "day=2026-11-24") || !strings.Contains(page, "<strong>24 Nov</strong><span>closed</span>") {
		t.Errorf("the residents' booking page offers the closed Tuesday, or leaves it out:\n%s", page)
	}
	if page := resident.get("/book/" + e.office.ID + "?service=family&day=2026-11-24&lang=en"); strings.Contains(page, "T09%3a00") {
		t.Errorf("the closed Tuesday offers times")
	}
	closures, _ := e.desk.Closures(t.Context(), e.actor)
	tuesday := closures[len(closures)-1]
	b.post("/staff/bookings/reopen", deskForm(e, "closure", tuesday.ID))
	closures, _ = e.desk.Closures(t.Context(), e.actor)
	if len(closures) != 1 {
		t.Fatalf("closures %+v", closures)
	}
	b.post("/staff/bookings/reopen", deskForm(e, "closure", closures[0].ID))
	if page := b.get("/staff/bookings?office=" + e.office.ID + "&day=2026-11-23"); !strings.Contains(html.UnescapeString(page), deskSlotValue(e, "family", "11:15")) {
		t.Errorf("11:15 not offered after reopening")
	}
}
