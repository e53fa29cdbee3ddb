package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/numerek/numerek/queue"
)

// The console reaches every action of queue's table by its name, with the
// table's parameter names as its form fields, except the ones it says it
// does not do; and every form the console draws posts an action of the
// table. A clerk's day at counter 1, with the panel's forms collected on
// the way.
func TestConsoleReachesEveryCounterAction(t *testing.T) {
	e, b, form := clerkAtCounter1(t, 4)
	formAction := regexp.MustCompile(`<form method="post" action="/staff/console/([^"]+)"`)
	drawn := map[string]bool{}
	steps := []struct {
		action string
		form   url.Values
		want   string
	}{
		{"open", form(), "otwarte"},
		{"next", form(), `id="current-number">A001<`},
		{"recall", form(), "wywołany ponownie 1×"},
		{"start", form(), "w obsłudze"},
		{"finish", form(), "Nikogo nie ma przy stanowisku"},
		{"next", form(), `id="current-number">A002<`},
		{"no-show", form(), "Nikogo nie ma przy stanowisku"},
		{"next", form(), `id="current-number">A003<`},
		{"park", form(), "Odłożone tutaj"},
		{"next", form(), `id="current-number">A004<`},
		{"transfer", form("to_service", "maintenance", "to_counter", "2", "note", " z ZUS "), "Nikogo nie ma przy stanowisku"},
		{"call", form("ticket", "A003"), `id="current-number">A003<`},
		{"finish", form(), "Nikogo nie ma przy stanowisku"},
		{"pause", form(), "przerwa"},
		{"open", form(), "otwarte"},
		{"close", form(), "Zamknąć stanowisko 1?"},
		{"close", form("confirm", "yes"), "zamknięte"},
		{"undo", form(), "otwarte"},
	}
	done := map[string]bool{}
	for _, s := range steps {
		for _, m := range formAction.FindAllStringSubmatch(b.get("/staff/console"), -1) {
			drawn[m[1]] = true
		}
		st, page := b.post("/staff/console/"+s.action, s.form)
		if st != http.StatusOK || !strings.Contains(page, s.want) || strings.Contains(page, `class="alert error"`) {
			t.Fatalf("%s: %d, want %q on the console\n%s", s.action, st, s.want, page)
		}
		done[s.action] = true
	}
	for _, a := range queue.CounterActions() {
		_, refused := notOnConsole[a.Name]
		if done[a.Name] == refused {
			t.Errorf("%s: done on the console %v, refused by it %v", a.Name, done[a.Name], refused)
		}
		if drawn[a.Name] == refused {
			t.Errorf("%s: drawn on the console %v, refused by it %v", a.Name, drawn[a.Name], refused)
		}
	}
	for name := range drawn {
		if _, err := queue.CounterActionNamed(name); err != nil {
			t.Errorf("the console draws a form for %s: %v", name, err)
		}
	}
	var moved queue.TicketView
	_ = e.actor.Query(context.Background(), func(s *queue.State) { moved, _ = s.TicketView("A004", e.clock.Now()) })
	if moved.Service != "maintenance" || moved.TargetCounter != 2 || moved.Note != "z ZUS" {
		t.Errorf("after the transfer A004 is %+v", moved)
	}
}

// What the console does not do, and what is not an action, are refused in
// the clerk's language, saying what is wrong; a value that is not one is
// refused on the console, changing nothing.
func TestConsoleRefusesWhatTheTableRefuses(t *testing.T) {
	e, b, counterForm := clerkAtCounter1(t, 1)
	b.get("/staff/console")
	form := counterForm()
	b.post("/staff/console/open", form)
	b.post("/staff/console/next", form)
	seq := e.actor.Seq()
	tests := []struct {
		action string
		form   url.Values
		status int
		want   string
	}{
		{"dance", url.Values{}, http.StatusNotFound, "Stanowisko nie ma czynności dance; jego czynności to: next, recall, finish, rate, start"},
		{"rate", url.Values{"rating": {"good"}}, http.StatusForbidden, "Ocenę wystawia interesant przyciskami przy stanowisku"},
		{"transfer", url.Values{"to_counter": {"dwa"}}, http.StatusOK, "dwa to nie numer stanowiska."},
		{"transfer", url.Values{"to_service": {"maintenance"}, "keep_place": {"maybe"}}, http.StatusOK, "Zachowanie miejsca w kolejce: tak albo nie, a nie maybe."},
		{"call", url.Values{"ticket": {" "}}, http.StatusOK, "Wybierz bilet do wywołania."},
	}
	for _, tt := range tests {
		b.get("/staff/console?lang=pl")
		tt.form.Set("office", e.office.ID)
		tt.form.Set("counter", "1")
		st, page := b.post("/staff/console/"+tt.action, tt.form)
		if st != tt.status || !strings.Contains(page, template.HTMLEscapeString(tt.want)) {
			t.Errorf("%s %v: %d, want %d saying %q\n%s", tt.action, tt.form, st, tt.status, tt.want, page)
		}
	}
	if e.actor.Seq() != seq {
		t.Errorf("refused moves changed the office from seq %d to %d", seq, e.actor.Seq())
	}
}
