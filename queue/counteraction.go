package queue

import (
	"slices"
	"strconv"
	"strings"
)

// The counter's actions are one table for the three edges that offer them:
// the API (POST …/counters/{n}/{action} with a JSON body), the clerk's
// console (POST /staff/console/{action} with a form) and the counter's
// buttons (a button's fixed parameters). Each edge reads an action's name
// and parameters in its own way and asks this table for the command, so a
// name, a parameter's spelling and its checks are written once, and an
// unknown action gets the same error everywhere.

// The parameters of the counter actions, as every edge spells them: the
// JSON fields of the API's bodies and the fields of the console's forms.
const (
	ParamTicket    = "ticket"
	ParamToService = "to_service"
	ParamToCounter = "to_counter"
	ParamKeepPlace = "keep_place"
	ParamNote      = "note"
	ParamRating    = "rating"
	ParamOutcomes  = "outcomes"
)

// CounterParams are the parameters of a counter action. Each action reads
// only its own (CounterAction.Params) and refuses the others.
type CounterParams struct {
	// Ticket is the ticket "call" calls: its id or today's number ("A012").
	Ticket string `json:"ticket,omitempty"`
	// ToService, ToCounter, KeepPlace and Note say where "transfer" moves
	// the counter's ticket.
	ToService string `json:"to_service,omitempty"`
	ToCounter int    `json:"to_counter,omitempty"`
	KeepPlace bool   `json:"keep_place,omitempty"`
	Note      string `json:"note,omitempty"`
	// Rating is the resident's rating "rate" records.
	Rating Rating `json:"rating,omitempty"`
	// Outcomes are what "finish" records as handled: ids of the
	// service's outcomes.
	Outcomes []string `json:"outcomes,omitempty"`
}

// given names the parameters set in p, in the order of allParams.
func (p CounterParams) given() []string {
	set := map[string]bool{
		ParamTicket: p.Ticket != "", ParamToService: p.ToService != "", ParamToCounter: p.ToCounter != 0,
		ParamKeepPlace: p.KeepPlace, ParamNote: p.Note != "", ParamRating: p.Rating != "",
		ParamOutcomes: len(p.Outcomes) > 0,
	}
	var out []string
	for _, name := range allParams {
		if set[name] {
			out = append(out, name)
		}
	}
	return out
}

var allParams = []string{ParamTicket, ParamToService, ParamToCounter, ParamKeepPlace, ParamNote, ParamRating, ParamOutcomes}

// CounterAction is one move at a counter, as the table gives it.
type CounterAction struct {
	// Name is the action's name on every edge: the API's and the
	// console's last path element, and the button's name for an action
	// without parameters.
	Name string
	// Params are the parameters the action reads; nil: none.
	Params []string
	// Optional says every parameter may be left out: the action has a
	// button of its own name, and the API takes it without a body.
	Optional bool
	// Status is the counter status the action sets ("open", "pause",
	// "close"); empty for an action on a ticket. The API answers the
	// first kind with the counter, the second with the ticket.
	Status CounterStatus
	// buttons are the counter's buttons for an action with parameters
	// fixed in advance (one per rating); an action without parameters has
	// one button of its own name.
	buttons []CounterButton
	build   func(counter int, p CounterParams) Command
}

// counterActions is the table. The actions the counter's box has always
// had buttons for come first, so buttons list in their usual order.
var counterActions = []CounterAction{
	{Name: "next", build: func(n int, _ CounterParams) Command { return CallNext{Counter: n} }},
	{Name: "recall", build: func(n int, _ CounterParams) Command { return Recall{Counter: n} }},
	{Name: "finish", Params: []string{ParamOutcomes}, Optional: true,
		build: func(n int, p CounterParams) Command { return Finish{Counter: n, Outcomes: p.Outcomes} }},
	{Name: "rate", Params: []string{ParamRating},
		buttons: []CounterButton{
			{Name: string(RatingGood), Action: "rate", Params: CounterParams{Rating: RatingGood}},
			{Name: string(RatingNeutral), Action: "rate", Params: CounterParams{Rating: RatingNeutral}},
			{Name: string(RatingBad), Action: "rate", Params: CounterParams{Rating: RatingBad}},
		},
		build: func(n int, p CounterParams) Command { return RateAtCounter{Counter: n, Rating: p.Rating} }},
	{Name: "start", build: func(n int, _ CounterParams) Command { return Start{Counter: n} }},
	{Name: "no-show", build: func(n int, _ CounterParams) Command { return MarkNoShow{Counter: n} }},
	{Name: "park", build: func(n int, _ CounterParams) Command { return Park{Counter: n} }},
	{Name: "call", Params: []string{ParamTicket},
		build: func(n int, p CounterParams) Command { return CallTicket{Counter: n, Ticket: p.Ticket} }},
	{Name: "transfer", Params: []string{ParamToService, ParamToCounter, ParamKeepPlace, ParamNote},
		build: func(n int, p CounterParams) Command {
			return Transfer{Counter: n, ToService: p.ToService, ToCounter: p.ToCounter, KeepPlace: p.KeepPlace, Note: p.Note}
		}},
	{Name: "pause", Status: CounterPausedStatus, build: setCounter(CounterPausedStatus)},
	{Name: "open", Status: CounterOpenStatus, build: setCounter(CounterOpenStatus)},
	{Name: "close", Status: CounterClosedStatus, build: setCounter(CounterClosedStatus)},
	{Name: "undo", build: func(n int, _ CounterParams) Command { return Undo{Counter: n} }},
}

func setCounter(st CounterStatus) func(int, CounterParams) Command {
	return func(n int, _ CounterParams) Command { return SetCounter{Counter: n, Status: st} }
}

// CounterActions lists every counter action, in the table's order.
func CounterActions() []CounterAction {
	out := make([]CounterAction, len(counterActions))
	for i, a := range counterActions {
		out[i] = a.clone()
	}
	return out
}

// clone is a copy of a whose lists the caller may change: the table stays.
func (a CounterAction) clone() CounterAction {
	a.Params = slices.Clone(a.Params)
	a.buttons = slices.Clone(a.buttons)
	return a
}

// CounterActionNamed finds an action by its name, or says which names
// there are.
func CounterActionNamed(name string) (CounterAction, error) {
	for _, a := range counterActions {
		if a.Name == name {
			return a.clone(), nil
		}
	}
	return CounterAction{}, notFound("no counter action %q; the actions are %s", name, counterActionNames())
}

func counterActionNames() string {
	names := make([]string, len(counterActions))
	for i, a := range counterActions {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// Command is the action's command at counter n with the parameters p:
// every edge's check of what it was given. A parameter the action does
// not read is refused, not dropped, so a mistyped request is not done
// half-way; a note is kept without its surrounding blanks.
func (a CounterAction) Command(n int, p CounterParams) (Command, error) {
	for _, name := range p.given() {
		if !slices.Contains(a.Params, name) {
			takes := strings.Join(a.Params, ", ")
			if takes == "" {
				takes = "none"
			}
			return nil, invalid("%s: the %s action does not take it; its parameters: %s", name, a.Name, takes)
		}
	}
	p.Note = strings.TrimSpace(p.Note)
	p.Ticket = strings.TrimSpace(p.Ticket)
	p.Outcomes = cleanOutcomes(p.Outcomes)
	if slices.Contains(a.Params, ParamTicket) && p.Ticket == "" {
		return nil, invalid("ticket: missing; name the ticket to call")
	}
	return a.build(n, p), nil
}

// ParseParams reads the action's parameters from text fields, as a form
// sends them: value gives a field's text, "" when absent. Only the
// action's own parameters are read.
func (a CounterAction) ParseParams(value func(name string) string) (CounterParams, error) {
	var p CounterParams
	for _, name := range a.Params {
		v := value(name)
		switch name {
		case ParamTicket:
			p.Ticket = v
		case ParamToService:
			p.ToService = v
		case ParamToCounter:
			if v = strings.TrimSpace(v); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					return CounterParams{}, invalid("to_counter: %q is not a counter number", v)
				}
				p.ToCounter = n
			}
		case ParamKeepPlace:
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "yes", "true", "on", "1":
				p.KeepPlace = true
			case "", "no", "false", "off", "0":
			default:
				return CounterParams{}, invalid("keep_place: %q is not yes or no", v)
			}
		case ParamNote:
			p.Note = v
		case ParamRating:
			p.Rating = Rating(strings.TrimSpace(v))
		case ParamOutcomes:
			// A form gives the ticked boxes as one text, comma-separated
			// (outcome ids hold no commas: see Outcome).
			p.Outcomes = cleanOutcomes(strings.Split(v, ","))
		}
	}
	return p, nil
}

// cleanOutcomes drops blanks around outcome ids, empty ones and repeats.
func cleanOutcomes(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// CounterButton is one of the buttons a counter's box may have: the
// action it does and the parameters it does it with. An action without
// parameters has a button of its own name; "rate" has one per rating;
// an action whose parameters are chosen at the moment ("call" a ticket,
// "transfer" somewhere) has none.
type CounterButton struct {
	Name   string
	Action string
	Params CounterParams
}

// CounterButtons lists every button a counter's box may have, in the
// table's order.
func CounterButtons() []CounterButton {
	var out []CounterButton
	for _, a := range counterActions {
		if len(a.Params) == 0 || a.Optional {
			out = append(out, CounterButton{Name: a.Name, Action: a.Name})
		}
		out = append(out, a.buttons...)
	}
	return out
}

// CounterButtonNamed finds a button by its name.
func CounterButtonNamed(name string) (CounterButton, bool) {
	for _, b := range CounterButtons() {
		if b.Name == name {
			return b, true
		}
	}
	return CounterButton{}, false
}
