package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/store"
)

// A counter another clerk works at is not taken silently: the page names
// who works there and asks; taken over, the other console loses the
// counter and its clerk is told who took it.
func TestConsoleTakeOver(t *testing.T) {
	e, anna, _ := clerkAtCounter1(t, 1)
	if _, err := e.web.Clerks.Put("ben", "correct horse battery", store.ClerkRole, []string{e.office.ID}); err != nil {
		t.Fatal(err)
	}
	ben := e.browser()
	ben.login("ben", "correct horse battery")
	pick := url.Values{"office": {e.office.ID}, "counter": {"1"}}
	st, page := ben.post("/staff/counter", pick)
	if st != http.StatusConflict || !strings.Contains(page, "<b>anna</b>") || !strings.Contains(page, `name="take_over" value="yes"`) {
		t.Fatalf("picking anna's counter: %d\n%s", st, page)
	}
	if page := anna.get("/staff/console"); anna.status != http.StatusOK || !strings.Contains(page, `id="panel"`) {
		t.Fatalf("asking took the counter from anna: %d", anna.status)
	}
	// Another counter nobody works at is taken at once.
	if st, page := ben.post("/staff/counter", url.Values{"office": {e.office.ID}, "counter": {"2"}}); st != http.StatusOK || !strings.Contains(page, `id="panel"`) {
		t.Fatalf("a free counter: %d\n%s", st, page)
	}
	ben.get("/staff")
	take := url.Values{"office": {e.office.ID}, "counter": {"1"}, "take_over": {"yes"}}
	if st, page := ben.post("/staff/counter", take); st != http.StatusOK || !strings.Contains(page, "Stanowisko 1") {
		t.Fatalf("taking over: %d\n%s", st, page)
	}
	if page := anna.get("/staff/console/panel"); anna.status != http.StatusConflict {
		t.Errorf("anna's panel after the take-over: %d\n%s", anna.status, page)
	}
	if page := anna.get("/staff/console"); !strings.Contains(page, "ben przejął(-ęła) Twoje stanowisko") {
		t.Errorf("anna is not told who took her counter:\n%s", page)
	}
	// Counter 2, which ben left, is free again.
	holders, err := e.db.CounterHolders(e.office.ID, 2, "", time.Now())
	if err != nil || len(holders) != 0 {
		t.Errorf("counter 2 after ben moved on: %v %v", holders, err)
	}
}

// At finish the clerk ticks what was handled and writes a note: the
// outcomes go into the event log, the note does not (it is personal data)
// but into web.db, until the office's retention is over. An outcome the
// service does not have finishes nothing.
func TestConsoleFinishOutcomesAndNote(t *testing.T) {
	e, b, form := clerkAtCounter1(t, 2)
	const note = "Przyniesie akt urodzenia jutro"
	b.get("/staff/console")
	b.post("/staff/console/open", form())
	b.post("/staff/console/next", form())
	if !strings.Contains(b.last, `value="claim-filed"`) || !strings.Contains(b.last, "Złożenie wniosku o świadczenie") {
		t.Fatalf("the finish form does not offer family's outcomes:\n%s", b.last)
	}
	long := form("finish_note", strings.Repeat("x", queue.MaxNote+1))
	if st, page := b.post("/staff/console/finish", long); st != http.StatusOK || !strings.Contains(page, "więcej niż 200 znaków") || !strings.Contains(page, `id="current-number">A001<`) {
		t.Fatalf("a note too long: %d\n%s", st, page)
	}
	bad := form("finish_note", note)
	bad["outcomes"] = []string{"claim-filed", "wedding"}
	st, page := b.post("/staff/console/finish", bad)
	if st != http.StatusOK || !strings.Contains(page, `class="alert error"`) || !strings.Contains(page, "wedding") || !strings.Contains(page, `id="current-number">A001<`) {
		t.Fatalf("an unknown outcome: %d\n%s", st, page)
	}
	good := form("finish_note", "  "+note+" ")
	good["outcomes"] = []string{"claim-filed", "advice"}
	if st, page := b.post("/staff/console/finish", good); st != http.StatusOK || strings.Contains(page, `class="alert error"`) || strings.Contains(page, `id="current-number"`) {
		t.Fatalf("finish: %d\n%s", st, page)
	}
	var finished *queue.TicketFinished
	var logged strings.Builder
	err := e.web.Logs[e.office.ID](0, func(ev queue.Event) bool {
		data, _ := json.Marshal(ev)
		logged.Write(data)
		if f, ok := ev.Body.(queue.TicketFinished); ok {
			finished = &f
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if finished == nil || !slices.Equal(finished.Outcomes, []string{"claim-filed", "advice"}) {
		t.Errorf("the log's finish: %+v", finished)
	}
	if strings.Contains(logged.String(), "akt urodzenia") {
		t.Error("the note went into the event log")
	}
	kept, found, err := e.db.FinishNoteOf(e.office.ID, finished.Ticket)
	if err != nil || !found || kept.Note != note || kept.Clerk != "anna" {
		t.Fatalf("the note kept: %+v %v %v", kept, found, err)
	}
	if !kept.PurgeAt.Equal(kept.At.Add(e.office.Booking.Retention)) {
		t.Errorf("the note is purged at %v, want %v after %v", kept.PurgeAt, e.office.Booking.Retention, kept.At)
	}
	e.clock.Set(kept.PurgeAt.Add(time.Minute))
	if _, err := e.desk.Purge(); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := e.db.FinishNoteOf(e.office.ID, finished.Ticket); found {
		t.Error("the note outlived the office's retention")
	}
}

// The waiting list says each ticket's language, how long it has waited,
// and for a booked visit who booked it and for when.
func TestConsoleWaitingListDetails(t *testing.T) {
	e, b, _ := clerkAtCounter1(t, 0)
	ctx := context.Background()
	booked, err := e.desk.Book(ctx, e.actor, "test", booking.Request{Service: "family",
		Slot: monday(e.office, "10:00"), Lang: "uk", Name: "Olena Kovalenko", Contact: "olena@example.pl", Terms: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.desk.Confirm(ctx, e.actor, "test", booked.ID, e.links.ConfirmCode(e.office.ID, booked.ID)); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(monday(e.office, "09:35"))
	if st, body := e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/checkins", `{"code":"`+booked.Code+`","lang":"uk","request_id":"k-1"}`); st != http.StatusCreated {
		t.Fatalf("check-in: %d %v", st, body)
	}
	e.api("kiosk", "POST", "/api/v1/offices/"+e.office.ID+"/tickets", `{"service":"family","lang":"lt"}`)
	e.clock.Set(monday(e.office, "09:47"))
	page := b.get("/staff/console")
	i := strings.Index(page, `id="queue"`)
	if i < 0 {
		t.Fatalf("no waiting list:\n%s", page)
	}
	list := page[i:]
	for _, want := range []string{"Olena Kovalenko", "10:00", `lang="uk"`, "Українська", `lang="lt"`, "Lietuvių", "12\u00a0min"} {
		if !strings.Contains(list, want) {
			t.Errorf("the waiting list lacks %q:\n%s", want, list)
		}
	}
}
