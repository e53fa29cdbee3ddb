package web

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// The statistics page's lockers section and CSV, as a manager reads them:
// on Monday two documents go into the hall locker, one is collected at
// 15:30 (5 h after), the other collected offline the next morning.
func TestLockerStatistics(t *testing.T) {
	e := newEnvIn(t, t.TempDir(), func(o *queue.Office) {
		o.Lockers = []queue.Locker{{
			ID: "hall", Names: map[string]string{"pl": "Urzędomat w holu", "en": "Hall locker"},
			Compartments: []queue.Compartment{{ID: "1", Size: "M"}, {ID: "2", Size: "M"}},
			Deadline:     48 * time.Hour,
			Documents:    []queue.LockerDocument{{ID: "passport", Names: map[string]string{"pl": "paszport", "en": "passport"}}},
		}}
	})
	if _, err := e.web.Clerks.Put("marta", "correct horse battery", store.ManagerRole, []string{e.office.ID}); err != nil {
		t.Fatal(err)
	}
	do := func(at time.Time, cmd queue.Command) {
		t.Helper()
		e.clock.Set(at)
		if res := e.actor.Do(context.Background(), "test", cmd); res.Err != nil {
			t.Fatalf("%s: %v", queue.String(cmd), res.Err)
		}
	}
	for _, id := range []string{"d1", "d2"} {
		_, clerk, err := queue.NewLockerCode(nil, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		_, pickup, err := queue.NewLockerCode(nil, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		do(monday(e.office, "10:00"), queue.ReserveCompartment{Deposit: id, Locker: "hall", Document: "passport", Size: "M", ClerkCode: clerk, PickupCode: pickup})
		do(monday(e.office, "10:30"), queue.StoreDeposit{Deposit: id, At: monday(e.office, "10:30")})
	}
	do(monday(e.office, "15:30"), queue.PickUpDeposit{Deposit: "d1", At: monday(e.office, "15:30")})
	tuesday := monday(e.office, "08:30").AddDate(0, 0, 1)
	do(tuesday.Add(time.Hour), queue.PickUpDeposit{Deposit: "d2", At: tuesday, Offline: true})

	marta := e.browser()
	marta.login("marta", "correct horse battery")
	for _, c := range []struct {
		lang  string
		wants []string
	}{
		{"en", []string{`<h2 id="lockers-h">Document lockers</h2>`, "<caption>Hall locker</caption>",
			`<th scope="row">2026-11-23</th><td class="num">2</td><td class="num">1 (0)</td>` + "\n" + `<td class="num">5.0 / 5.0</td>`,
			`<th scope="row">2026-11-24</th><td class="num">0</td><td class="num">1 (1)</td>` + "\n" + `<td class="num">22.0 / 22.0</td>`,
			`<th scope="row">All days</th><td class="num">2</td><td class="num">2 (1)</td>` + "\n" + `<td class="num">5.0 / 22.0</td>`}},
		{"pl", []string{"<caption>Urzędomat w holu</caption>", `<td class="num">5,0 / 22,0</td>`}},
	} {
		page := marta.get("/staff/stats?lang=" + c.lang + "&from=2026-11-23&to=2026-11-24")
		if marta.status != http.StatusOK {
			t.Fatalf("statistics: %d", marta.status)
		}
		for _, want := range c.wants {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the statistics lack %q", c.lang, want)
			}
		}
	}
	resp, err := marta.c.Get(e.url + "/staff/stats.csv?from=2026-11-23&to=2026-11-24&table=lockers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("lockers CSV: %d %v", resp.StatusCode, err)
	}
	want := "date,locker,deposits,pickups,offline_pickups,pickup_median_s,pickup_p90_s,expired,retrieved\n" +
		"2026-11-23,hall,2,1,0,18000,18000,0,0\n2026-11-24,hall,0,1,1,79200,79200,0,0\n2026-11-23..2026-11-24,hall,2,2,1,18000,79200,0,0"
	var got []string
	for _, r := range rows {
		got = append(got, strings.Join(r, ","))
	}
	if strings.Join(got, "\n") != want {
		t.Errorf("lockers CSV:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
}
