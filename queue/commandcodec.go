package queue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Commands, decisions and command errors cross between the nodes that
// share an office as JSON: a node that does not write the office's log
// forwards its commands to the one that does and gets the answer back.

// commandKinds holds every command a node may forward: a new command is a
// type with a decide method and a line here (the codec's test fails until
// it has one).
var commandKinds = newKindTable(
	newCommandKind[Issue](),
	newCommandKind[IssueLeased](),
	newCommandKind[GrantLease](),
	newCommandKind[CallNext](),
	newCommandKind[CallTicket](),
	newCommandKind[Recall](),
	newCommandKind[Start](),
	newCommandKind[Finish](),
	newCommandKind[MarkNoShow](),
	newCommandKind[Transfer](),
	newCommandKind[Park](),
	newCommandKind[CancelTicket](),
	newCommandKind[SetCounter](),
	newCommandKind[Rate](),
	newCommandKind[RateAtCounter](),
	newCommandKind[ReportFault](),
	newCommandKind[Undo](),
	newCommandKind[CloseBooking](),
	newCommandKind[ReopenBooking](),
	newCommandKind[Book](),
	newCommandKind[CancelReservation](),
	newCommandKind[ConfirmReservation](),
	newCommandKind[Reschedule](),
	newCommandKind[CheckIn](),
	newCommandKind[WithdrawRequest](),
	newCommandKind[ConfirmPresence](),
	newCommandKind[ReserveCompartment](),
	newCommandKind[StoreDeposit](),
	newCommandKind[PickUpDeposit](),
	newCommandKind[ExpireDeposits](),
	newCommandKind[RetrieveDeposit](),
	newCommandKind[CancelDeposit](),
	newCommandKind[ReplaceLockerCode](),
)

// commandKind is one type of command: its name on the wire and how to
// decode its data.
type commandKind struct {
	name   string
	typ    reflect.Type
	decode func(data []byte) (Command, error)
}

// newCommandKind names command type C by its Go name. Its data is decoded
// strictly: a field this build does not know is an error, not silently
// dropped, since a command that loses a field may decide something else.
func newCommandKind[C Command]() commandKind {
	typ := reflect.TypeFor[C]()
	return commandKind{
		name: typ.Name(),
		typ:  typ,
		decode: func(data []byte) (Command, error) {
			var c C
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				return nil, err
			}
			return c, nil
		},
	}
}

func (k commandKind) key() (string, reflect.Type) { return k.name, k.typ }

// CommandTypes names every command MarshalCommand encodes.
func CommandTypes() []string {
	names := make([]string, 0, len(commandKinds.byName))
	for name := range commandKinds.byName {
		names = append(names, name)
	}
	return names
}

type wireCommand struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// MarshalCommand encodes a command as {"type":"CallNext","data":{…}}.
func MarshalCommand(cmd Command) ([]byte, error) {
	if cmd == nil {
		return nil, errors.New("encoding a command: no command")
	}
	k, ok := commandKinds.byType[reflect.TypeOf(cmd)]
	if !ok {
		return nil, fmt.Errorf("encoding a command: %T is not a command that can be forwarded", cmd)
	}
	data, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encoding command %s: %w", k.name, err)
	}
	return json.Marshal(wireCommand{Type: k.name, Data: data})
}

// UnmarshalCommand decodes what MarshalCommand encodes; an unknown type or
// field is an error naming it.
func UnmarshalCommand(b []byte) (Command, error) {
	var w wireCommand
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("decoding a command: %w", err)
	}
	if w.Type == "" {
		return nil, errors.New("decoding a command: no type")
	}
	k, ok := commandKinds.byName[w.Type]
	if !ok {
		return nil, fmt.Errorf("decoding a command: unknown type %q", w.Type)
	}
	if len(w.Data) == 0 || string(w.Data) == "null" {
		return nil, fmt.Errorf("decoding command %s: no data", w.Type)
	}
	cmd, err := k.decode(w.Data)
	if err != nil {
		return nil, fmt.Errorf("decoding command %s: %w", w.Type, err)
	}
	return cmd, nil
}

// wireBody is an event's body without its seq, time and actor: a decision's
// events are numbered only when applied.
type wireBody struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type wireDecision struct {
	Events      []wireBody `json:"events,omitempty"`
	Ticket      string     `json:"ticket,omitempty"`
	Reservation string     `json:"reservation,omitempty"`
	Lease       *Lease     `json:"lease,omitempty"`
	Expired     bool       `json:"expired,omitempty"`
	Held        bool       `json:"held,omitempty"`
	Deposit     string     `json:"deposit,omitempty"`
	Compartment string     `json:"compartment,omitempty"`
}

// MarshalJSON writes the decision with each event as {"type","data"}.
func (d Decision) MarshalJSON() ([]byte, error) {
	w := wireDecision{Ticket: d.Ticket, Reservation: d.Reservation, Lease: d.Lease, Expired: d.Expired,
		Held: d.Held, Deposit: d.Deposit, Compartment: d.Compartment}
	for i, b := range d.Events {
		if b == nil {
			return nil, fmt.Errorf("encoding a decision: event %d has no body", i)
		}
		data, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encoding a decision's %s event: %w", b.Kind(), err)
		}
		w.Events = append(w.Events, wireBody{Type: b.Kind(), Data: data})
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes; an event of a kind this
// build does not know is an error wrapping ErrUnknownKind.
func (d *Decision) UnmarshalJSON(b []byte) error {
	var w wireDecision
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decoding a decision: %w", err)
	}
	out := Decision{Ticket: w.Ticket, Reservation: w.Reservation, Lease: w.Lease, Expired: w.Expired,
		Held: w.Held, Deposit: w.Deposit, Compartment: w.Compartment}
	for i, wb := range w.Events {
		body, ok := newBody(wb.Type)
		if !ok {
			return fmt.Errorf("decoding a decision's event %d of type %q: %w", i, wb.Type, ErrUnknownKind)
		}
		if len(wb.Data) == 0 {
			return fmt.Errorf("decoding a decision's %s event: no data", wb.Type)
		}
		if err := json.Unmarshal(wb.Data, body); err != nil {
			return fmt.Errorf("decoding a decision's %s event: %w", wb.Type, err)
		}
		out.Events = append(out.Events, deref(body))
	}
	*d = out
	return nil
}

// errorKindNames are the kinds of errors on the wire.
var errorKindNames = map[ErrorKind]string{
	Invalid: "invalid", NotFound: "not-found", Conflict: "conflict", Refused: "refused",
}

// String names the kind as the wire does.
func (k ErrorKind) String() string {
	if name, ok := errorKindNames[k]; ok {
		return name
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

type wireError struct {
	Kind    string            `json:"kind"`
	Message string            `json:"message"`
	Code    string            `json:"code,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	Refusal *Refusal          `json:"refusal,omitempty"`
}

// MarshalJSON writes the error with its kind by name, so the node that
// forwarded the command answers its caller exactly as the writer would.
func (e Error) MarshalJSON() ([]byte, error) {
	name, ok := errorKindNames[e.Kind]
	if !ok {
		return nil, fmt.Errorf("encoding an error: unknown kind %d", int(e.Kind))
	}
	return json.Marshal(wireError{Kind: name, Message: e.Message, Code: e.Code, Params: e.Params, Refusal: e.Refusal})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Error) UnmarshalJSON(b []byte) error {
	var w wireError
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decoding an error: %w", err)
	}
	for kind, name := range errorKindNames {
		if name == w.Kind {
			*e = Error{Kind: kind, Message: w.Message, Code: w.Code, Params: w.Params, Refusal: w.Refusal}
			return nil
		}
	}
	return fmt.Errorf("decoding an error: unknown kind %q", w.Kind)
}
