package queue

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Each action builds its command from the parameters it reads, and refuses
// what it does not read or what is missing.
func TestCounterActionCommands(t *testing.T) {
	tests := []struct {
		action string
		params CounterParams
		want   Command
		code   string // the error's code, when refused
	}{
		{"next", CounterParams{}, CallNext{Counter: 4}, ""},
		{"recall", CounterParams{}, Recall{Counter: 4}, ""},
		{"finish", CounterParams{}, Finish{Counter: 4}, ""},
		{"start", CounterParams{}, Start{Counter: 4}, ""},
		{"no-show", CounterParams{}, MarkNoShow{Counter: 4}, ""},
		{"park", CounterParams{}, Park{Counter: 4}, ""},
		{"pause", CounterParams{}, SetCounter{Counter: 4, Status: CounterPausedStatus}, ""},
		{"open", CounterParams{}, SetCounter{Counter: 4, Status: CounterOpenStatus}, ""},
		{"close", CounterParams{}, SetCounter{Counter: 4, Status: CounterClosedStatus}, ""},
		{"call", CounterParams{Ticket: " A012 "}, CallTicket{Counter: 4, Ticket: "A012"}, ""},
		{"call", CounterParams{}, nil, "call-ticket-missing"},
		{"call", CounterParams{Ticket: "  "}, nil, "call-ticket-missing"},
		{"transfer", CounterParams{ToService: "docs", ToCounter: 2, KeepPlace: true, Note: "  brings form 3\n"},
			Transfer{Counter: 4, ToService: "docs", ToCounter: 2, KeepPlace: true, Note: "brings form 3"}, ""},
		{"transfer", CounterParams{}, Transfer{Counter: 4}, ""}, // the command says where it may go
		{"rate", CounterParams{Rating: RatingGood}, RateAtCounter{Counter: 4, Rating: RatingGood}, ""},
		{"next", CounterParams{Note: "hello"}, nil, "counter-action-param"},
		{"transfer", CounterParams{ToService: "docs", Rating: RatingBad}, nil, "counter-action-param"},
		{"rate", CounterParams{Ticket: "A001", Rating: RatingGood}, nil, "counter-action-param"},
	}
	for _, tt := range tests {
		a, err := CounterActionNamed(tt.action)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Command(4, tt.params)
		var qe *Error
		switch {
		case tt.code != "" && (!errors.As(err, &qe) || qe.Code != tt.code || qe.Kind != Invalid):
			t.Errorf("%s %+v: %v, want an invalid %s", tt.action, tt.params, err, tt.code)
		case tt.code == "" && (err != nil || !reflect.DeepEqual(got, tt.want)):
			t.Errorf("%s %+v: %s, %v; want %s", tt.action, tt.params, cmdString(got), err, String(tt.want))
		}
	}
}

func cmdString(c Command) string {
	if c == nil {
		return "no command"
	}
	return String(c)
}

// A parameter the action does not take is named, with the action and what
// it takes.
func TestCounterActionNamesTheParameterItRefuses(t *testing.T) {
	a, _ := CounterActionNamed("transfer")
	_, err := a.Command(1, CounterParams{Rating: RatingBad})
	want := "rating: the transfer action does not take it; its parameters: to_service, to_counter, keep_place, note"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	a, _ = CounterActionNamed("next")
	if _, err := a.Command(1, CounterParams{Note: "x"}); err == nil || !strings.HasSuffix(err.Error(), "its parameters: none") {
		t.Errorf("a note for next: %v", err)
	}
}

// An unknown action is a not-found error that lists the actions there are.
func TestUnknownCounterAction(t *testing.T) {
	for _, name := range []string{"dance", "", "Next", "no_show", "rate "} {
		_, err := CounterActionNamed(name)
		var qe *Error
		if !errors.As(err, &qe) || qe.Kind != NotFound || qe.Code != "no-counter-action" || qe.Params["action"] != name {
			t.Fatalf("%q: %#v", name, err)
		}
		for _, a := range CounterActions() {
			if !strings.Contains(qe.Params["actions"], a.Name) {
				t.Errorf("%q: the error %q does not list %s", name, err, a.Name)
			}
		}
	}
}

// A form's text fields give the action's parameters; only its own are
// read, and text that is not a value says so.
func TestCounterActionParseParams(t *testing.T) {
	tests := []struct {
		action string
		form   map[string]string
		want   CounterParams
		code   string
	}{
		{"next", map[string]string{"ticket": "A001", "note": "x"}, CounterParams{}, ""},
		{"call", map[string]string{"ticket": "A001"}, CounterParams{Ticket: "A001"}, ""},
		{"transfer", map[string]string{"to_service": "docs", "to_counter": "0", "keep_place": "yes", "note": "n", "rating": "good"},
			CounterParams{ToService: "docs", KeepPlace: true, Note: "n"}, ""},
		{"transfer", map[string]string{"to_counter": " 3 ", "keep_place": "no"}, CounterParams{ToCounter: 3}, ""},
		{"transfer", map[string]string{"keep_place": "true"}, CounterParams{KeepPlace: true}, ""},
		{"transfer", map[string]string{}, CounterParams{}, ""},
		{"transfer", map[string]string{"to_counter": "three"}, CounterParams{}, "bad-to-counter"},
		{"transfer", map[string]string{"to_counter": "-1"}, CounterParams{}, "bad-to-counter"},
		{"transfer", map[string]string{"keep_place": "maybe"}, CounterParams{}, "bad-keep-place"},
		{"rate", map[string]string{"rating": "neutral"}, CounterParams{Rating: RatingNeutral}, ""},
		{"finish", map[string]string{"outcomes": "id-card, passport,,id-card"}, CounterParams{Outcomes: []string{"id-card", "passport"}}, ""},
		{"finish", map[string]string{}, CounterParams{}, ""},
	}
	for _, tt := range tests {
		a, _ := CounterActionNamed(tt.action)
		got, err := a.ParseParams(func(name string) string { return tt.form[name] })
		var qe *Error
		switch {
		case tt.code != "" && (!errors.As(err, &qe) || qe.Code != tt.code):
			t.Errorf("%s %v: %v, want %s", tt.action, tt.form, err, tt.code)
		case tt.code == "" && (err != nil || !reflect.DeepEqual(got, tt.want)):
			t.Errorf("%s %v: %+v, %v; want %+v", tt.action, tt.form, got, err, tt.want)
		}
	}
}

// The parameters are spelt the same in JSON (the API and the devices) as
// the table names them (the console's forms).
func TestCounterParamsJSONNames(t *testing.T) {
	var tags []string
	rt := reflect.TypeFor[CounterParams]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		tags = append(tags, name)
	}
	if !slices.Equal(tags, allParams) {
		t.Errorf("JSON fields %v, parameters %v", tags, allParams)
	}
	for _, a := range CounterActions() {
		for _, p := range a.Params {
			if !slices.Contains(allParams, p) {
				t.Errorf("%s takes %q, which is no parameter", a.Name, p)
			}
		}
	}
	var p CounterParams
	if err := json.Unmarshal([]byte(`{"to_service":"docs","to_counter":2,"keep_place":true,"note":"n"}`), &p); err != nil ||
		!reflect.DeepEqual(p, CounterParams{ToService: "docs", ToCounter: 2, KeepPlace: true, Note: "n"}) {
		t.Errorf("decoded %+v, %v", p, err)
	}
	if b, _ := json.Marshal(CounterParams{}); string(b) != "{}" {
		t.Errorf("no parameters encode as %s", b)
	}
}

// Every action has a button unless its parameters are chosen at the
// moment; buttons have distinct names, keep the box's usual order first,
// and each does its action.
func TestCounterButtons(t *testing.T) {
	buttons := CounterButtons()
	var names []string
	for _, b := range buttons {
		names = append(names, b.Name)
	}
	if !slices.Equal(names[:6], []string{"next", "recall", "finish", "good", "neutral", "bad"}) {
		t.Errorf("buttons begin %v", names[:6])
	}
	seen := map[string]bool{}
	for _, b := range buttons {
		if seen[b.Name] {
			t.Errorf("two buttons named %s", b.Name)
		}
		seen[b.Name] = true
		a, err := CounterActionNamed(b.Action)
		if err != nil {
			t.Fatalf("button %s: %v", b.Name, err)
		}
		if _, err := a.Command(1, b.Params); err != nil {
			t.Errorf("button %s: %v", b.Name, err)
		}
		if got, ok := CounterButtonNamed(b.Name); !ok || !reflect.DeepEqual(got, b) {
			t.Errorf("button %s is found as %+v", b.Name, got)
		}
	}
	chosenAtTheMoment := map[string]bool{"call": true, "transfer": true}
	for _, a := range CounterActions() {
		has := slices.ContainsFunc(buttons, func(b CounterButton) bool { return b.Action == a.Name })
		if has == chosenAtTheMoment[a.Name] {
			t.Errorf("%s: a button: %v", a.Name, has)
		}
	}
	if _, ok := CounterButtonNamed("transfer"); ok {
		t.Error("a transfer button")
	}
}

// The table's commands do the counter's day: each action, by its name,
// changes the office as its command does, and the status actions are the
// ones that set the counter's status.
func TestCounterActionsDoTheirWork(t *testing.T) {
	h := newHarness(t, testOffice(), at("09:00"))
	for range 4 {
		h.issue("family")
	}
	act := func(name string, p CounterParams) Decision {
		t.Helper()
		a, err := CounterActionNamed(name)
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := a.Command(1, p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return h.do(cmd)
	}
	state := func(number string) TicketState { return h.s.findTicket(number).State }
	steps := []struct {
		action string
		params CounterParams
		check  func() bool
	}{
		{"open", CounterParams{}, func() bool { return h.s.Counters[1].Status == CounterOpenStatus }},
		{"next", CounterParams{}, func() bool { return state("A001") == Called }},
		{"recall", CounterParams{}, func() bool { return h.s.findTicket("A001").Recalls == 1 }},
		{"start", CounterParams{}, func() bool { return state("A001") == Serving }},
		{"finish", CounterParams{}, func() bool { return state("A001") == Done }},
		{"rate", CounterParams{Rating: RatingGood}, func() bool { return h.s.findTicket("A001").Rating == RatingGood }},
		{"next", CounterParams{}, func() bool { return state("A002") == Called }},
		{"no-show", CounterParams{}, func() bool { return state("A002") == NoShow }},
		{"next", CounterParams{}, func() bool { return state("A003") == Called }},
		{"park", CounterParams{}, func() bool { return state("A003") == Parked }},
		{"call", CounterParams{Ticket: "A003"}, func() bool { return state("A003") == Called }},
		{"transfer", CounterParams{ToService: "docs", KeepPlace: true, Note: "form 3"},
			func() bool { t := h.s.findTicket("A003"); return t.State == Waiting && t.Service == "docs" }},
		{"pause", CounterParams{}, func() bool { return h.s.Counters[1].Status == CounterPausedStatus }},
		{"close", CounterParams{}, func() bool { return h.s.Counters[1].Status == CounterClosedStatus }},
		{"undo", CounterParams{}, func() bool { return h.s.Counters[1].Status == CounterPausedStatus }},
	}
	done := map[string]bool{}
	for _, s := range steps {
		act(s.action, s.params)
		if !s.check() {
			t.Fatalf("after %s the office is not as it should be", s.action)
		}
		done[s.action] = true
	}
	for _, a := range CounterActions() {
		if !done[a.Name] {
			t.Errorf("%s is not done here", a.Name)
		}
		var p CounterParams
		if a.Name == "call" {
			p.Ticket = "A001"
		}
		cmd, _ := a.Command(1, p)
		sc, sets := cmd.(SetCounter)
		if sets != (a.Status != "") || (sets && sc.Status != a.Status) {
			t.Errorf("%s: status %q, command %s", a.Name, a.Status, String(cmd))
		}
	}
}

// Whatever a form sends, each action's parser answers without panicking,
// and the outcomes it reads are clean: no blanks, no commas, no repeats.
func FuzzCounterActionParseParams(f *testing.F) {
	f.Add("id-card, passport,,id-card", "3", "yes")
	f.Add(" ,\t,", "-1", "maybe")
	f.Fuzz(func(t *testing.T, outcomes, toCounter, keepPlace string) {
		form := map[string]string{ParamOutcomes: outcomes, ParamToCounter: toCounter, ParamKeepPlace: keepPlace, ParamTicket: outcomes, ParamNote: outcomes}
		for _, a := range CounterActions() {
			p, err := a.ParseParams(func(name string) string { return form[name] })
			if err != nil {
				continue
			}
			seen := map[string]bool{}
			for _, id := range p.Outcomes {
				if id == "" || id != strings.TrimSpace(id) || strings.Contains(id, ",") || seen[id] {
					t.Fatalf("%s read outcomes %q from %q", a.Name, p.Outcomes, outcomes)
				}
				seen[id] = true
			}
			_, _ = a.Command(1, p)
		}
	})
}
