package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// Every action of queue's table is reachable over the API by its name, with
// its parameters as JSON fields of the same names, and does its work: a
// counter's day done by the counter's own token.
func TestEveryCounterActionOverAPI(t *testing.T) {
	e := newEnv(t, actor.Options{})
	for range 4 {
		e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), `{"service":"documents","lang":"pl"}`)
	}
	steps := []struct {
		action, body string
		want         string // the ticket's state, or the counter's status
	}{
		{"open", "", "open"},
		{"next", "{}", "called"},
		{"recall", "", "called"},
		{"start", "", "serving"},
		{"finish", "", "done"},
		{"rate", `{"rating":"good"}`, "done"},
		{"next", "", "called"},
		{"no-show", "", "no-show"},
		{"undo", "", "called"},
		{"no-show", "", "no-show"},
		{"next", "", "called"},
		{"park", "", "parked"},
		{"call", `{"ticket":"D003"}`, "called"},
		{"transfer", `{"to_service":"family","keep_place":true,"note":" form 3 "}`, "waiting"},
		{"pause", "", "paused"},
		{"open", "", "open"},
		{"close", "", "closed"},
	}
	done := map[string]bool{}
	for _, s := range steps {
		status, data := e.call("counter5", "POST", e.path("/counters/5/"+s.action), s.body)
		var got struct {
			Ticket  *queue.TicketView  `json:"ticket"`
			Counter *queue.CounterView `json:"counter"`
		}
		_ = json.Unmarshal(data, &got)
		var state string
		switch {
		case got.Ticket != nil:
			state = string(got.Ticket.State)
		case got.Counter != nil:
			state = string(got.Counter.Status)
		}
		if status != http.StatusOK || state != s.want {
			t.Fatalf("%s %s: %d %s; want 200 and %s", s.action, s.body, status, data, s.want)
		}
		done[s.action] = true
	}
	for _, a := range queue.CounterActions() {
		if !done[a.Name] {
			t.Errorf("the API test does not reach %s", a.Name)
		}
	}
	tv, _ := e.lookUpTicket("D003")
	if tv.Service != "family" || tv.Note != "form 3" {
		t.Errorf("after the transfer D003 is %+v", tv)
	}
}

func (e *env) lookUpTicket(id string) (queue.TicketView, bool) {
	e.t.Helper()
	status, data := e.call("admin", "GET", e.path("/tickets/"+id), "")
	return decode[protocol.TicketResponse](e.t, data).Ticket, status == http.StatusOK
}

// An unknown action and a parameter the action does not take are refused
// with what is wrong and where, in the table's words, changing nothing.
func TestCounterActionRefusals(t *testing.T) {
	e := newEnv(t, actor.Options{})
	e.must(http.StatusOK, "admin", "POST", e.path("/counters/5/open"), "")
	start := e.seq()
	tests := []struct {
		path, body string
		status     int
		code       string
		field      string
		words      string
	}{
		{"/counters/5/dance", ``, 404, "no-counter-action", "", `no counter action "dance"; the actions are next, recall, finish, rate, start, no-show, park, call, transfer, pause, open, close`},
		{"/counters/5/call", `{"ticket":"D001","rating":"good"}`, 400, "counter-action-param", "rating", "the call action does not take it; its parameters: ticket"},
		{"/counters/5/call", `{}`, 400, "call-ticket-missing", "ticket", "ticket: missing"},
		{"/counters/5/transfer", `{"to_counter":"two"}`, 400, "", "to_counter", "must be"},
		{"/counters/5/transfer", `{"colour":"red"}`, 400, "", "colour", "unknown field"},
		{"/counters/5/rate", `{"rating":"great"}`, 400, "bad-rating", "rating", `"great" is not good, neutral or bad`},
	}
	for _, tt := range tests {
		status, data := e.call("admin", "POST", e.path(tt.path), tt.body)
		resp := decode[protocol.ErrorResponse](t, data)
		if status != tt.status || resp.Code != tt.code || resp.Field != tt.field || !strings.Contains(resp.Error, tt.words) {
			t.Errorf("%s %s: %d %+v; want %d, code %q, field %q, saying %q", tt.path, tt.body, status, resp, tt.status, tt.code, tt.field, tt.words)
		}
	}
	// The message also comes in the client's language.
	req, _ := http.NewRequest("POST", e.path("/counters/5/dance"), nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	req.Header.Set("Accept-Language", "pl")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var er protocol.ErrorResponse
	_ = json.NewDecoder(resp.Body).Decode(&er)
	resp.Body.Close()
	if !strings.Contains(er.Message, "Stanowisko nie ma czynności dance") {
		t.Errorf("in Polish: %+v", er)
	}
	if e.seq() != start {
		t.Errorf("refused actions changed the state from seq %d to %d", start, e.seq())
	}
}

// The protocol's request bodies for counter actions are spelt as queue's
// table spells the action's parameters.
func TestCounterWireBodiesSpeakTheTable(t *testing.T) {
	bodies := map[string]any{
		"call":     protocol.CallRequest{Ticket: "A001"},
		"transfer": protocol.TransferRequest{ToService: "x", ToCounter: 1, KeepPlace: true, Note: "n"},
		"rate":     protocol.RateRequest{Rating: "good"},
	}
	for name, body := range bodies {
		a, err := queue.CounterActionNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(body)
		var fields map[string]any
		_ = json.Unmarshal(data, &fields)
		var keys []string
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := slices.Sorted(slices.Values(a.Params))
		if !slices.Equal(keys, want) {
			t.Errorf("%s: the wire body has %v, the table %v", name, keys, want)
		}
	}
}
