package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// managerEnv is the example office whose family matter has outcomes to
// record, a manager of it (marta), and a day of work: Anna served A001
// (an ID card application, rated good) and marked A002 a no-show;
// a visit booked for 10:00 nobody came to; at 12:00.
func managerEnv(t *testing.T) *env {
	t.Helper()
	e := newEnvIn(t, t.TempDir(), func(o *queue.Office) {
		for i := range o.Services {
			if o.Services[i].ID == "family" {
				o.Services[i].Outcomes = []queue.Outcome{
					{ID: "id-card", Names: map[string]string{"pl": "wniosek o dowód", "en": "ID card application"}},
					{ID: "certificate", Names: map[string]string{"pl": "zaświadczenie", "en": "certificate"}},
				}
			}
		}
	})
	if _, err := e.web.Clerks.Put("marta", "correct horse battery", store.ManagerRole, []string{e.office.ID}); err != nil {
		t.Fatal(err)
	}
	anna := func(at string, cmd queue.Command) {
		t.Helper()
		e.clock.Set(monday(e.office, at))
		if res := e.actor.Do(context.Background(), "clerk:anna", cmd); res.Err != nil {
			t.Fatalf("%s: %v", queue.String(cmd), res.Err)
		}
	}
	e.clock.Set(monday(e.office, "08:30"))
	e.do(queue.Book{ID: "r1", Service: "family", Slot: monday(e.office, "10:00"), Lang: "pl"})
	anna("09:00", queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	e.do(queue.Issue{Service: "family", Lang: "en", Channel: queue.ChannelKiosk})
	anna("09:12", queue.CallNext{Counter: 1})
	anna("09:20", queue.Finish{Counter: 1, Outcomes: []string{"id-card"}})
	e.do(queue.Rate{Ticket: "2026-11-23-A001", Rating: queue.RatingGood})
	anna("09:21", queue.CallNext{Counter: 1})
	anna("09:30", queue.MarkNoShow{Counter: 1})
	e.clock.Set(monday(e.office, "12:00"))
	return e
}

func TestManagerStatistics(t *testing.T) {
	e := managerEnv(t)
	marta := e.browser()
	marta.login("marta", "correct horse battery")
	page := marta.get("/staff/stats?lang=en&from=2026-11-23&to=2026-11-23")
	if marta.status != http.StatusOK {
		t.Fatalf("the manager's statistics: %d", marta.status)
	}
	for _, want := range []string{
		`<svg class="chart heat"`, "Arrivals per hour on an average weekday", "Mon, 9: 2.0", // two tickets at 9 on the one Monday
		`<th scope="row">anna</th><td class="num">1</td><td class="num">8</td>` + "\n" + `<td class="num">1</td><td class="num">1/0/0</td>`,
		"ID card application", "<td class=\"num\">1</td><td class=\"num\">100%</td>", // the one family visit finished handled an ID card
		"No-show rate", `<td class="num">1</td><td class="num">100%</td>`, // the 10:00 booking nobody came to
		`/o/` + e.office.ID + `/queue`, "&lt;iframe src=",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the manager's statistics lack %q", want)
		}
	}
	if !strings.Contains(page, `href="/staff/stats"`) || strings.Contains(page, `href="/staff/admin/clerks"`) {
		t.Error("a manager's menu: want statistics and no admin pages")
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/staff/admin/clerks", http.StatusForbidden},
		{"/staff/admin/tokens", http.StatusForbidden},
		{"/staff/fleet", http.StatusForbidden},
		{"/staff/stats?office=um-czestochowa", http.StatusForbidden},
		{"/staff/stats.csv?office=um-czestochowa&from=2026-11-23&to=2026-11-23", http.StatusForbidden},
		{"/staff/stats.csv?from=2026-11-23&to=2026-11-23&table=salaries", http.StatusBadRequest},
	} {
		if marta.get(c.path); marta.status != c.status {
			t.Errorf("the manager opening %s: %d, want %d", c.path, marta.status, c.status)
		}
	}
}

// Each table's CSV, as the manager downloads it.
func TestStatisticsTablesCSV(t *testing.T) {
	e := managerEnv(t)
	marta := e.browser()
	marta.login("marta", "correct horse battery")
	for _, c := range []struct {
		table string
		want  []string // rows, whole
	}{
		{"heatmap", []string{"weekday,hour,days,arrivals,arrivals_per_day,called,wait_median_s", "1,9,1,2,2.00,2,720"}}, // waits of 12 and 21 min: the nearest-rank median is 12
		{"clerks", []string{"actor,served,no_shows,service_mean_s,rating_good,rating_neutral,rating_bad", "clerk:anna,1,1,480,1,0,0"}},
		{"bookings", []string{"service,booked,cancelled,checked_in,no_shows,upcoming,no_show_pct,late_pct,lateness_median_s,lateness_p90_s",
			"all,1,0,0,1,0,100.0,,0,0", "family,1,0,0,1,0,100.0,,0,0"}},
		// Every service the example office records outcomes for is listed,
		// the ones that finished nothing with zeros.
		{"outcomes", []string{"service,outcome,count,finished,share_pct", "family,id-card,1,1,100.0", "family,certificate,0,1,0.0", "family,,0,1,0.0",
			"documents,documents-filed,0,0,0.0", "documents,certificate,0,0,0.0", "documents,,0,0,0.0"}},
	} {
		resp, err := marta.c.Get(e.url + "/staff/stats.csv?from=2026-11-23&to=2026-11-23&table=" + c.table)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(resp.Body).ReadAll()
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v", c.table, resp.StatusCode, err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, strings.Join(r, ","))
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got %s\nwant %s", c.table, strings.Join(got, "\n     "), strings.Join(c.want, "\n     "))
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, c.table) || !strings.Contains(cd, "attachment") {
			t.Errorf("%s is downloaded as %q", c.table, cd)
		}
	}
}

// queueStream opens the public queue page's stream; next returns the
// lines block of its next update, waiting at most 5 s.
func queueStream(t *testing.T, e *env) (next func() string) {
	t.Helper()
	return streamUpdates(t, e.url+"/o/"+e.office.ID+"/queue/events?lang=en", func(data []byte) (string, error) {
		var u queueUpdate
		err := json.Unmarshal(data, &u)
		return u.HTML, err
	})
}

func TestPublicQueuePage(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(monday(e.office, "09:00"))
	e.do(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	resident := e.browser()
	resident.book("family", "11:00", "Jan Kowalski", "jan@example.pl")
	for range 3 {
		e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	}
	visitor := e.browser()
	resp, err := visitor.c.Get(e.url + "/o/" + e.office.ID + "/queue?lang=en")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *") || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("the public queue cannot be embedded: CSP %q, X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	page := visitor.get("/o/" + e.office.ID + "/queue?lang=en")
	if visitor.status != http.StatusOK {
		t.Fatalf("the public queue: %d", visitor.status)
	}
	if !strings.Contains(page, `<li data-service="family"><h2>Family benefits</h2>`) || !strings.Contains(page, `<b class="waiting">3</b>`) {
		t.Errorf("the page does not show 3 waiting for family:\n%s", page)
	}
	// Nothing personal, nothing of a ticket's: no name, contact or number.
	for _, never := range []string{"Kowalski", "jan@example", "A001", "A003"} {
		if strings.Contains(page, never) {
			t.Errorf("the public queue shows %q", never)
		}
	}
	// Other pages keep refusing frames.
	if resp, err := visitor.c.Get(e.url + "/o/" + e.office.ID); err == nil {
		resp.Body.Close()
		if resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Error("the office's ticket page may be framed")
		}
	}

	// Live: a ticket issued and one called change the lines on the stream.
	next := queueStream(t, e)
	if first := next(); !strings.Contains(first, `<b class="waiting">3</b>`) {
		t.Fatalf("the stream starts with:\n%s", first)
	}
	e.do(queue.Issue{Service: "family", Lang: "pl", Channel: queue.ChannelKiosk})
	if u := next(); !strings.Contains(u, `<b class="waiting">4</b>`) {
		t.Errorf("after a fourth ticket the stream says:\n%s", u)
	}
	e.do(queue.CallNext{Counter: 1})
	if u := next(); !strings.Contains(u, `<b class="waiting">3</b>`) {
		t.Errorf("after a call the stream says:\n%s", u)
	}
	if st := resident.get("/o/no-such-office/queue"); resident.status != http.StatusNotFound {
		t.Errorf("an unknown office's queue: %d %s", resident.status, st[:min(len(st), 80)])
	}
}

// The manager's statistics with every section filled, and the public
// queue, say everything in each language: no raw message key shows.
func TestStatisticsInEveryLanguage(t *testing.T) {
	e := managerEnv(t)
	marta := e.browser()
	marta.login("marta", "correct horse battery")
	rawKey := regexp.MustCompile(`\b(web|refusal|when|wait|weekday)\.[a-z_.-]+`)
	for _, lang := range i18n.Languages {
		for _, path := range []string{"/staff/stats?from=2026-11-23&to=2026-11-23&lang=" + lang, "/o/" + e.office.ID + "/queue?lang=" + lang} {
			page := marta.get(path)
			if marta.status != http.StatusOK {
				t.Errorf("%s: %d", path, marta.status)
			}
			if m := rawKey.FindString(stripAttrs(page)); m != "" {
				t.Errorf("%s shows the raw key %q", path, m)
			}
		}
	}
}
