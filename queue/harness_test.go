package queue

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
	_ "time/tzdata"
)

var warsaw = mustLoc("Europe/Warsaw")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a Warsaw wall-clock time on Monday 2026-11-23 (or another day).
func at(hhmm string, day ...string) time.Time {
	d := "2026-11-23"
	if len(day) > 0 {
		d = day[0]
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", d+" "+hhmm, warsaw)
	if err != nil {
		panic(err)
	}
	return t
}

func iv(s string) Interval {
	i, err := ParseInterval(s)
	if err != nil {
		panic(err)
	}
	return i
}

// testOffice is a small office: family benefits (A) at counters 1-2,
// documents (D) at counter 2 and 3, open Mon-Fri 8-16 with a Wednesday
// lunch break.
func testOffice() *Office {
	weekday := []Interval{iv("08:00-16:00")}
	o := &Office{
		ID: "test", Name: "Test office", Location: warsaw, Languages: []string{"pl", "en"},
		Exceptions: map[string]DayException{
			"2026-12-24": {Name: "Wigilia"},
			"2026-11-27": {Name: "Short Friday", Hours: []Interval{iv("08:00-12:00")}},
		},
		Services: []Service{
			{ID: "family", Prefix: "A", Names: map[string]string{"pl": "Świadczenia rodzinne", "en": "Family benefits"}, Priority: 1, CutOff: 15 * time.Minute, ServiceTime: 6 * time.Minute, Bookable: true},
			{ID: "docs", Prefix: "D", Names: map[string]string{"pl": "Składanie dokumentów", "en": "Documents"}, Priority: 1, DailyCap: 3, ServiceTime: 2 * time.Minute},
		},
		Counters: []Counter{
			{Number: 1, Name: "Stanowisko 1", Weights: map[string]float64{"family": 1}},
			{Number: 2, Name: "Stanowisko 2", Weights: map[string]float64{"family": 1, "docs": 1}},
			{Number: 3, Name: "Stanowisko 3", Weights: map[string]float64{"docs": 1}},
		},
		Rules: Rules{RecallLimit: 2, AllowCallSpecific: true, CounterWord: "stanowisko", TargetWait: 20 * time.Minute},
		Booking: BookingRules{SlotLength: 15 * time.Minute, PerSlot: 1, Ahead: 30 * 24 * time.Hour,
			CheckInBefore: 30 * time.Minute, CheckInGrace: 10 * time.Minute, Retention: 30 * 24 * time.Hour},
	}
	for d := time.Monday; d <= time.Friday; d++ {
		o.Hours[d] = weekday
	}
	o.Hours[time.Wednesday] = []Interval{iv("08:00-12:00"), iv("13:00-16:00")}
	return o
}

// harness runs commands against a state with a clock the test moves, and
// keeps the log so tests can check that folding it gives the same state.
type harness struct {
	t   *testing.T
	s   *State
	now time.Time
	log []Event
}

func newHarness(t *testing.T, o *Office, now time.Time) *harness {
	t.Helper()
	if err := o.Validate(); err != nil {
		t.Fatalf("test office invalid: %v", err)
	}
	return &harness{t: t, s: NewState(o), now: now}
}

func (h *harness) try(cmd Command) (Decision, error) {
	events, d, err := h.s.Execute(h.now, "test", cmd)
	h.log = append(h.log, events...)
	return d, err
}

func (h *harness) do(cmd Command) Decision {
	h.t.Helper()
	d, err := h.try(cmd)
	if err != nil {
		h.t.Fatalf("%s at %s: %v", String(cmd), h.now.Format("15:04"), err)
	}
	return d
}

func (h *harness) issue(service string) *Ticket {
	h.t.Helper()
	d := h.do(Issue{Service: service, Lang: "pl", Channel: ChannelKiosk})
	return h.s.Tickets[d.Ticket]
}

func (h *harness) advance(d time.Duration) { h.now = h.now.Add(d) }

// callNext calls at counter n and returns the called number, or "".
func (h *harness) callNext(n int) string {
	h.t.Helper()
	d := h.do(CallNext{Counter: n})
	if d.Ticket == "" {
		return ""
	}
	return h.s.Tickets[d.Ticket].Number
}

func (h *harness) open(counters ...int) {
	h.t.Helper()
	for _, n := range counters {
		h.do(SetCounter{Counter: n, Status: CounterOpenStatus})
	}
}

// refold checks that the log, encoded and decoded as it is stored, folds to
// the same state the commands produced.
func (h *harness) refold() {
	h.t.Helper()
	data, err := json.Marshal(h.log)
	if err != nil {
		h.t.Fatal(err)
	}
	var events []Event
	if err := json.Unmarshal(data, &events); err != nil {
		h.t.Fatal(err)
	}
	s := NewState(h.s.Office)
	if err := s.ApplyAll(events); err != nil {
		h.t.Fatal(err)
	}
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(h.s)
	if string(a) != string(b) {
		h.t.Errorf("folding the log gives another state:\n got %s\nwant %s", a, b)
	}
}

func errKind(err error) ErrorKind {
	var qe *Error
	if errors.As(err, &qe) {
		return qe.Kind
	}
	return 0
}

func refusal(err error) Reason {
	var qe *Error
	if errors.As(err, &qe) && qe.Refusal != nil {
		return qe.Refusal.Reason
	}
	return ""
}
