package queue

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// everyCommand has one command of each type with every field set, so a
// field the codec dropped would show.
func everyCommand() []Command {
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	code := CodeHash{Lookup: "ab12", Salt: []byte{1, 2}, Hash: []byte{3, 4, 5}}
	return []Command{
		Issue{Service: "s1", Lang: "pl", Priority: true, Channel: ChannelPhone, RequestID: "r1", Device: "k1", Note: "zaświadczenie", Holders: []string{"h1", "h2"}},
		IssueLeased{RequestID: "r2", Device: "k1", Service: "s1", Number: 7, IssuedAt: at, Lang: "uk", Priority: true},
		GrantLease{ID: "l1", Device: "k1", Service: "s1", Count: 20},
		CallNext{Counter: 3},
		CallTicket{Counter: 3, Ticket: "2026-11-23/A007"},
		Recall{Counter: 4},
		Start{Counter: 5},
		Finish{Counter: 6, Outcomes: []string{"passport"}},
		MarkNoShow{Counter: 7},
		Transfer{Counter: 1, Ticket: "t", ToService: "s2", ToCounter: 2, KeepPlace: true, Note: "n"},
		Park{Counter: 8},
		CancelTicket{Ticket: "t", Reason: "duplicate"},
		SetCounter{Counter: 9, Status: CounterPausedStatus},
		Rate{Ticket: "t", Rating: RatingGood},
		RateAtCounter{Counter: 10, Rating: RatingBad},
		ReportFault{Device: "k1", Fault: "paper-out", Detail: "roll empty"},
		Undo{Counter: 11},
		CloseBooking{ID: "c1", From: at, To: at.Add(time.Hour), Reason: "training"},
		ReopenBooking{ID: "c1"},
		Book{ID: "b1", Service: "s1", Slot: at, Lang: "lt", Hold: 15 * time.Minute},
		CancelReservation{ID: "b1", Reason: "closed"},
		ConfirmReservation{ID: "b1"},
		Reschedule{ID: "b1", Slot: at.Add(2 * time.Hour)},
		CheckIn{Reservation: "b1", RequestID: "r3", Device: "k2", Channel: ChannelBooking, Lang: "ru"},
		WithdrawRequest{RequestID: "r1"},
		ConfirmPresence{Ticket: "t", Presence: PresenceOnTheWay},
		ReserveCompartment{Deposit: "d1", Locker: "L1", Document: "passport", Size: "s", Accessible: true, ClerkCode: code, PickupCode: code},
		StoreDeposit{Deposit: "d1", At: at},
		PickUpDeposit{Deposit: "d1", At: at, Offline: true},
		ExpireDeposits{},
		RetrieveDeposit{Deposit: "d1", At: at},
		CancelDeposit{Deposit: "d1", Reason: "mistake"},
		ReplaceLockerCode{Deposit: "d1", Which: "pickup", Code: code, Until: at},
	}
}

// decidingTypes names every type of this package's source with a decide
// method, but idle: the commands that must cross between nodes.
func decidingTypes(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, entry := range entries {
		if !strings.HasSuffix(entry.Name(), ".go") || strings.HasSuffix(entry.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), entry.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "decide" || fn.Recv == nil {
				continue
			}
			if id, ok := fn.Recv.List[0].Type.(*ast.Ident); ok && id.Name != "idle" {
				names = append(names, id.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func TestCodecKnowsEveryCommand(t *testing.T) {
	want := decidingTypes(t)
	got := CommandTypes()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the codec encodes %v\nthe package's commands are %v", got, want)
	}
	var sampled []string
	for _, c := range everyCommand() {
		sampled = append(sampled, reflect.TypeOf(c).Name())
	}
	slices.Sort(sampled)
	if !slices.Equal(sampled, want) {
		t.Errorf("the test's samples are %v\nthe package's commands are %v", sampled, want)
	}
	if len(want) != 33 {
		t.Errorf("%d commands, the contract counts 33", len(want))
	}
}

func TestCommandsRoundTrip(t *testing.T) {
	for _, cmd := range everyCommand() {
		name := reflect.TypeOf(cmd).Name()
		t.Run(name, func(t *testing.T) {
			v := reflect.ValueOf(cmd)
			for i := range v.NumField() {
				if v.Field(i).IsZero() {
					t.Fatalf("sample leaves %s zero, so a lost field would not show", v.Type().Field(i).Name)
				}
			}
			b, err := MarshalCommand(cmd)
			if err != nil {
				t.Fatal(err)
			}
			var w struct{ Type string }
			if err := json.Unmarshal(b, &w); err != nil || w.Type != name {
				t.Errorf("wire %s has type %q, want %q (%v)", b, w.Type, name, err)
			}
			got, err := UnmarshalCommand(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, cmd) {
				t.Errorf("round trip gave %#v\nwant %#v", got, cmd)
			}
		})
	}
}

func TestBadCommandsAreRefusedSayingWhy(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`{"type":"Teleport","data":{}}`, `unknown type "Teleport"`},
		{`{"data":{"Counter":1}}`, "no type"},
		{`{"type":"CallNext"}`, "CallNext: no data"},
		{`{"type":"CallNext","data":null}`, "CallNext: no data"},
		{`{"type":"CallNext","data":{"Counter":1,"Urgent":true}}`, `unknown field "Urgent"`},
		{`{"type":"CallNext","data":{"Counter":"one"}}`, "CallNext"},
		{`[1,2]`, "decoding a command"},
		{`{"type":"CallNext","data":{"Counter":1}} trailing`, "decoding a command"},
	} {
		_, err := UnmarshalCommand([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("UnmarshalCommand(%s) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
	for _, cmd := range []Command{nil, idle{}, &CallNext{Counter: 1}} {
		if _, err := MarshalCommand(cmd); err == nil {
			t.Errorf("MarshalCommand(%#v) encoded it", cmd)
		}
	}
}

func TestDecisionsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	lease := &Lease{ID: "l1", Device: "k1", Service: "s1", Day: "2026-11-23", First: 500, Last: 519, GrantedAt: at}
	for _, d := range []Decision{
		{},
		{Ticket: "2026-11-23/A001", Events: []Body{
			TicketIssued{Ticket: Ticket{ID: "2026-11-23/A001", Number: "A001", Service: "s1", State: Waiting, IssuedAt: at, QueuedAt: at}, RequestID: "r1"},
			TicketCalled{Ticket: "2026-11-23/A001", Counter: 2, Specific: true},
		}},
		{Lease: lease, Events: []Body{LeaseGranted{Lease: *lease}}},
		{Ticket: "t", Expired: true, Held: true, Reservation: "b1", Deposit: "d1", Compartment: "c3"},
	} {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var got Decision
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Errorf("round trip of %s gave %#v\nwant %#v", b, got, d)
		}
	}
	var d Decision
	if err := json.Unmarshal([]byte(`{"events":[{"type":"Teleported","data":{}}]}`), &d); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("an unknown event kind gave %v, want ErrUnknownKind", err)
	}
}

func TestErrorsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	office := &Office{ID: "o"}
	for _, e := range []*Error{
		invalid("lang: missing"),
		notFound("no service %q in office %s", "s9", office.ID),
		conflict("counter %d is %s", 3, CounterClosedStatus),
		(&Refusal{Reason: ReasonCutOff, Service: "s1", Until: at, Closing: at, Holiday: "Wigilia", HolidayNames: map[string]string{"en": "Christmas Eve"}}).err("service s1 stopped issuing"),
	} {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		got := new(Error)
		if err := json.Unmarshal(b, got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Errorf("round trip of %s gave %#v\nwant %#v", b, got, e)
		}
	}
	if _, err := json.Marshal(&Error{Message: "no kind"}); err == nil {
		t.Error("an error without a kind was encoded")
	}
	if err := json.Unmarshal([]byte(`{"kind":"bored","message":"x"}`), new(Error)); err == nil || !strings.Contains(err.Error(), "bored") {
		t.Errorf("an unknown kind gave %v", err)
	}
}

// FuzzUnmarshalCommand feeds the codec what another node (or anyone who
// reaches the internal route) might send: it never panics, and what it
// accepts encodes back to something that decodes to the same command.
func FuzzUnmarshalCommand(f *testing.F) {
	for _, cmd := range everyCommand() {
		b, err := MarshalCommand(cmd)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"CallNext","data":{"Counter":1,"Counter":2}}`))
	f.Add([]byte(`{"type":"Book","data":{"Slot":"2026-11-23T10:00:00+01:00","Hold":1e3}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cmd, err := UnmarshalCommand(b)
		if err != nil {
			return
		}
		again, err := MarshalCommand(cmd)
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode it: %v", cmd, err)
		}
		back, err := UnmarshalCommand(again)
		if err != nil {
			t.Fatalf("cannot decode %s, which it encoded: %v", again, err)
		}
		third, err := MarshalCommand(back)
		if err != nil || string(third) != string(again) {
			t.Errorf("encoding is not stable: %s then %s (%v)", again, third, err)
		}
	})
}

// FuzzUnmarshalDecision does the same for a writer's answer.
func FuzzUnmarshalDecision(f *testing.F) {
	f.Add([]byte(`{"ticket":"t","events":[{"type":"TicketCalled","data":{"ticket":"t","counter":2}}]}`))
	f.Add([]byte(`{"lease":{"id":"l","first":1,"last":2},"events":[{"type":"LeaseGranted","data":{"lease":{"id":"l"}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decision
		if err := json.Unmarshal(b, &d); err != nil {
			return
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode it: %v", d, err)
		}
		var back Decision
		if err := json.Unmarshal(again, &back); err != nil {
			t.Fatalf("cannot decode %s, which it encoded: %v", again, err)
		}
		if third, err := json.Marshal(back); err != nil || string(third) != string(again) {
			t.Errorf("encoding is not stable: %s then %s (%v)", again, third, err)
		}
	})
}
