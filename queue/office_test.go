package queue

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(o *Office)
		path   string
		words  string
	}{
		{"bad id", func(o *Office) { o.ID = "Bad Id" }, "id", "lowercase"},
		{"two letters prefix", func(o *Office) { o.Services[0].Prefix = "AB" }, "service[0].prefix", "one capital letter"},
		{"duplicate prefix", func(o *Office) { o.Services[1].Prefix = "A" }, "service[1].prefix", "already used"},
		{"missing name in a language", func(o *Office) { delete(o.Services[1].Names, "en") }, "service[1].name", `"en"`},
		{"counter serves unknown service", func(o *Office) { o.Counters[0].Weights["tax"] = 1 }, "counter[0].services.tax", "no service"},
		{"duplicate counter", func(o *Office) { o.Counters[2].Number = 1 }, "counter[2].number", "already used"},
		{"service nobody serves", func(o *Office) {
			o.Counters[1].Weights["docs"] = 0
			o.Counters[2].Weights = map[string]float64{"family": 1}
		}, "service[1]", "served by no counter"},
		{"cap over 999", func(o *Office) { o.Services[0].DailyCap = 1200 }, "service[0].daily_cap", "999"},
		{"overlapping hours", func(o *Office) { o.Hours[time.Monday] = []Interval{{480, 720}, {700, 900}} }, "hours.mon", "overlaps"},
		{"no retention", func(o *Office) { o.Booking.Retention = 0 }, "booking.retention_days", "purged"},
		{"short name in a language not offered", func(o *Office) { o.Services[0].ShortNames = map[string]string{"uk": "Сім. допомоги"} }, "service[0].short_name.uk", "not one of the office's languages"},
		{"empty short name", func(o *Office) { o.Services[0].ShortNames = map[string]string{"pl": " "} }, "service[0].short_name.pl", "empty"},
		{"short name no shorter", func(o *Office) { o.Services[1].ShortNames = map[string]string{"en": "Document intake"} }, "service[1].short_name.en", `not shorter than the name "Documents"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOffice()
			tt.change(o)
			err := o.Validate()
			errs, ok := err.(ConfigErrors)
			if !ok {
				t.Fatalf("Validate() = %v, want ConfigErrors", err)
			}
			for _, e := range errs {
				if e.Path == tt.path && strings.Contains(e.Message, tt.words) {
					return
				}
			}
			t.Errorf("no error at %s saying %q in: %v", tt.path, tt.words, err)
		})
	}
	if err := testOffice().Validate(); err != nil {
		t.Errorf("the test office is invalid: %v", err)
	}
	o := testOffice()
	o.Services[0].ShortNames = map[string]string{"pl": "Św. rodzinne"}
	if err := o.Validate(); err != nil {
		t.Errorf("a shorter name in an office language is refused: %v", err)
	}
}

func TestHours(t *testing.T) {
	o := testOffice()
	tests := []struct {
		now        time.Time
		open       bool
		nextOpen   time.Time
		closingDay time.Time
	}{
		{at("07:59"), false, at("08:00"), at("16:00")},
		{at("08:00"), true, at("08:00", "2026-11-24"), at("16:00")},
		{at("15:59"), true, at("08:00", "2026-11-24"), at("16:00")},
		{at("16:00"), false, at("08:00", "2026-11-24"), at("16:00")},
		{at("12:00", "2026-11-25"), false, at("13:00", "2026-11-25"), at("16:00", "2026-11-25")},
		{at("11:00", "2026-11-27"), true, at("08:00", "2026-11-30"), at("12:00", "2026-11-27")},
		{at("10:00", "2026-12-24"), false, at("08:00", "2026-12-25"), time.Time{}},
		// Clocks go back on 2026-10-25: still 8-16 local time on Monday 26th.
		{at("08:30", "2026-10-26"), true, at("08:00", "2026-10-27"), at("16:00", "2026-10-26")},
		{at("07:30", "2026-03-30"), false, at("08:00", "2026-03-30"), at("16:00", "2026-03-30")},
	}
	for _, tt := range tests {
		_, _, open := o.OpenInterval(tt.now)
		next, _ := o.NextOpening(tt.now)
		closing, _ := o.ClosingToday(tt.now)
		if open != tt.open || !next.Equal(tt.nextOpen) || !closing.Equal(tt.closingDay) {
			t.Errorf("%s: open=%v next=%s closing=%s; want %v %s %s", tt.now.Format("Mon 01-02 15:04"),
				open, next.In(warsaw).Format("01-02 15:04"), closing.In(warsaw).Format("01-02 15:04"),
				tt.open, tt.nextOpen.Format("01-02 15:04"), tt.closingDay.Format("01-02 15:04"))
		}
	}
}

func TestParseInterval(t *testing.T) {
	for _, bad := range []string{"8-16", "08:00", "16:00-08:00", "08:00-25:00", "08:60-09:00", "ab:cd-ef:gh"} {
		if _, err := ParseInterval(bad); err == nil {
			t.Errorf("ParseInterval(%q) accepted", bad)
		}
	}
	if i, err := ParseInterval(" 07:30 - 17:00 "); err != nil || i.Open != 450 || i.Close != 1020 {
		t.Errorf("ParseInterval = %v, %v", i, err)
	}
}

// everyKindOfEvent is one body of each kind of event.
func everyKindOfEvent() []Body {
	ticket := Ticket{ID: "2026-11-23-A001", Day: "2026-11-23", Number: "A001", Service: "family", Channel: ChannelKiosk,
		Lang: "pl", State: Waiting, IssuedAt: at("09:00").UTC(), QueuedAt: at("09:00").UTC(), Order: 1}
	return []Body{
		DayRolledOver{Day: "2026-11-23"},
		TicketIssued{Ticket: ticket, RequestID: "r"},
		TicketCalled{Ticket: "t", Counter: 1, Specific: true},
		TicketRecalled{Ticket: "t", Counter: 1},
		ServiceStarted{Ticket: "t", Counter: 1},
		TicketFinished{Ticket: "t", Counter: 1},
		TicketNoShow{Ticket: "t", Counter: 1, AfterRecalls: true},
		TicketTransferred{Ticket: "t", FromCounter: 1, ToService: "docs", ToCounter: 2, KeepPlace: true, Note: "n"},
		TicketParked{Ticket: "t", Counter: 1},
		TicketCancelled{Ticket: "t", Reason: "withdrawn"},
		CounterOpened{Counter: 1}, CounterPaused{Counter: 1}, CounterClosed{Counter: 1},
		ReservationBooked{Reservation: Reservation{ID: "r", Service: "family", Slot: at("10:00").UTC(), Lang: "en", State: Booked, BookedAt: at("09:00").UTC()}},
		ReservationCancelled{Reservation: "r", Reason: "closed"},
		ReservationCheckedIn{Reservation: "r", Ticket: "t"},
		ReservationConfirmed{Reservation: "r"},
		ReservationRescheduled{Reservation: "r", Slot: at("11:00").UTC()},
		RatingGiven{Ticket: "t", Rating: RatingGood},
		DeviceFault{Device: "k", Fault: "paper-out", Detail: "d"},
		LeaseGranted{Lease: Lease{ID: "l", Device: "k", Service: "family", Day: "2026-11-23", First: 2, Last: 6, GrantedAt: at("09:00").UTC()}},
		RequestWithdrawn{RequestID: "tok/k-1", Ticket: "t"},
		RemoteTicketParked{Ticket: "t"},
		PresenceConfirmed{Ticket: "t", Presence: PresenceHere},
		ParkedTicketExpired{Ticket: "t"},
		BookingClosed{Closure: Closure{ID: "c", From: at("10:00").UTC(), To: at("12:00").UTC(), Reason: "training", ClosedAt: at("09:00").UTC()}},
		BookingReopened{Closure: "c"},
		Undone{Counter: 1, Seq: 7, Undid: "TicketFinished", Ticket: "t"},
		DepositReserved{Deposit: Deposit{ID: "d", Locker: "l", Compartment: "1", Document: "id-card", State: DepositStateReserved, ClerkCode: CodeHash{Lookup: "ABC", Salt: []byte("s"), Hash: []byte("h")}, ClerkCodeUntil: at("09:30").UTC(), PickupCode: CodeHash{Lookup: "DEF", Salt: []byte("s"), Hash: []byte("h")}, ReservedAt: at("09:00").UTC()}},
		DepositStored{Deposit: "d", At: at("09:05").UTC()},
		DepositPickedUp{Deposit: "d", At: at("10:00").UTC(), Offline: true},
		DepositExpired{Deposit: "d"},
		DepositRetrieved{Deposit: "d", At: at("10:00").UTC()},
		DepositCancelled{Deposit: "d", Reason: "wrong document"},
		LockerCodeReplaced{Deposit: "d", Which: "clerk", Code: CodeHash{Lookup: "GHJ", Salt: []byte("s"), Hash: []byte("h")}, Until: at("10:30").UTC()},
	}
}

// Every kind of event has one row in eventKinds, under its own name and
// its own body type, so that it decodes and folds as that kind.
func TestEveryKindOfEventIsInTheTable(t *testing.T) {
	bodies := everyKindOfEvent()
	for _, b := range bodies {
		byName, ok := eventKinds.byName[b.Kind()]
		if !ok || byName.typ != reflect.TypeOf(b) {
			t.Errorf("%s: decodes as %v", b.Kind(), byName.typ)
		}
		if byType, ok := eventKinds.byType[reflect.TypeOf(b)]; !ok || byType.name != b.Kind() {
			t.Errorf("%T: folds as %q", b, byType.name)
		}
	}
	if len(eventKinds.byName) != len(bodies) || len(eventKinds.byType) != len(bodies) {
		t.Errorf("the table has %d names and %d types for %d kinds of event", len(eventKinds.byName), len(eventKinds.byType), len(bodies))
	}
	s := NewState(testOffice())
	for _, b := range []Body{nil, &TicketCancelled{Ticket: "t"}} {
		if err := s.Apply(Event{Seq: 1, Body: b}); err == nil || !strings.Contains(err.Error(), "unknown event body") {
			t.Errorf("applying a %T: %v", b, err)
		}
	}
}

// Every kind of event survives the JSON of the log and the stream.
func TestEventJSONRoundTrip(t *testing.T) {
	for i, b := range everyKindOfEvent() {
		e := Event{Seq: uint64(i + 1), At: at("09:00").UTC(), Actor: "test", Body: b}
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("%s: %v", b.Kind(), err)
		}
		var back Event
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("%s: %v", b.Kind(), err)
		}
		if !reflect.DeepEqual(back, e) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", b.Kind(), back, e)
		}
	}
	var e Event
	if err := json.Unmarshal([]byte(`{"seq":1,"type":"TicketEaten","data":{}}`), &e); err == nil || !strings.Contains(err.Error(), "TicketEaten") {
		t.Errorf("unknown event type: %v", err)
	}
}

// FuzzEventDecode: events arrive at devices over the network; decoding
// must never panic and what decodes must encode again.
func FuzzEventDecode(f *testing.F) {
	f.Add([]byte(`{"seq":1,"at":"2026-11-23T08:00:00Z","type":"TicketCalled","data":{"ticket":"x","counter":1}}`))
	f.Add([]byte(`{"seq":2,"type":"TicketIssued","data":{"ticket":{"id":"a","number":"A001"}}}`))
	f.Add([]byte(`{"type":"DayRolledOver","data":null}`))
	f.Add([]byte(`{"seq":1,"type":"TicketIssued","data":{"ticket":{"id":"a","number":""}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Event
		if err := json.Unmarshal(data, &e); err != nil {
			return
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
		s := NewState(testOffice())
		_ = s.Apply(e)
	})
}

func TestOfficeJSONRoundTrip(t *testing.T) {
	o := testOffice()
	data, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var back Office
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Location.String() != "Europe/Warsaw" || !reflect.DeepEqual(back.Services, o.Services) ||
		!reflect.DeepEqual(back.Hours, o.Hours) || !reflect.DeepEqual(back.Counters, o.Counters) || !reflect.DeepEqual(back.Booking, o.Booking) {
		t.Errorf("office round trip lost something:\n%s", data)
	}
	if err := json.Unmarshal([]byte(`{"id":"x","time_zone":"Mars/Olympus"}`), &back); err == nil {
		t.Errorf("an unknown zone was accepted")
	}
}
