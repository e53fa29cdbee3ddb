package main

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

// sound makes n samples of a tone no other call has, none of them zero.
func sound(seed, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(1 + (seed*7919+i*31)%3000)
	}
	return out
}

func silence(n int) []int16 { return make([]int16, n) }

func cat(parts ...[]int16) []int16 { return slices.Concat(parts...) }

// heard is what the recording device gets for samples: floats, with a
// dropout (inserted silence) in the middle of each part when asked.
func heard(samples []int16) []float32 {
	out := make([]float32, len(samples))
	for i, v := range samples {
		out[i] = float32(v) / 32768
	}
	return out
}

func TestWhichCalls(t *testing.T) {
	chime := sound(99, 4000)
	mk := func(seed int) call {
		sp := sound(seed, 6000)
		return call{number: string(rune('A'+seed)) + "001", speech: sp, opening: cat(chime, silence(2000), sp)}
	}
	a, b, c := mk(1), mk(2), mk(3)
	calls := []call{a, b, c}
	pause := silence(5000)
	for _, tc := range []struct {
		name  string
		audio []int16
		want  []int
	}{
		{"chime, then the calls one after another", cat(a.opening, pause, b.speech, pause, c.speech), []int{1, 1, 1}},
		{"killed half-way through the second", cat(a.opening, pause, b.speech[:3000]), []int{1, 0, 0}},
		{"killed in the chime", chime[:2000], []int{0, 0, 0}},
		{"a chime with its call cut, then the call again", cat(chime, silence(2000), b.speech[:1000], pause, b.opening), []int{0, 1, 0}},
		{"said twice", cat(c.opening, pause, c.speech, pause, a.speech), []int{1, 0, 2}},
		{"nothing", silence(9000), []int{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := whichCalls(heard(tc.audio), calls); !slices.Equal(got, tc.want) {
				t.Errorf("calls found %v, want %v", got, tc.want)
			}
		})
	}
	// A dropout (silence the device inserted) inside a call does not
	// hide it.
	got := heard(cat(a.opening[:7000], silence(300), a.opening[7000:]))
	if n := whichCalls(got, calls); n[0] != 1 {
		t.Errorf("a call with a dropout found %d times, want 1", n[0])
	}
}

func issuedEvent(day, number, request string) queue.Event {
	return queue.Event{Body: queue.TicketIssued{Ticket: queue.Ticket{ID: day + "-" + number, Day: day, Number: number}, RequestID: request}}
}

// Each figure counts what it says, from the kiosks' answers and the
// server's log.
func TestJudgeServer(t *testing.T) {
	const day = "2026-11-23"
	kiosks := map[string]bool{"tok": true}
	for _, tc := range []struct {
		name     string
		requests []outcome
		calls    []ackedCall
		events   []queue.Event
		want     map[string]float64
	}{
		{
			name:     "all well",
			requests: []outcome{{request: "r1", ticket: day + "-A001"}, {request: "r2", refused: "closed"}},
			calls:    []ackedCall{{day + "-A001", 1}},
			events: []queue.Event{issuedEvent(day, "A001", "tok/r1"),
				{Body: queue.TicketCalled{Ticket: day + "-A001", Counter: 1}}},
			want: map[string]float64{},
		},
		{
			name:     "an acknowledged ticket and call not in the log",
			requests: []outcome{{request: "r1", ticket: day + "-A001"}},
			calls:    []ackedCall{{day + "-A001", 1}},
			want:     map[string]float64{"lost": 1, "calls-lost": 1},
		},
		{
			name:     "one request, two tickets",
			requests: []outcome{{request: "r1", ticket: day + "-A001"}},
			events:   []queue.Event{issuedEvent(day, "A001", "tok/r1"), issuedEvent(day, "A002", "tok/r1")},
			want:     map[string]float64{"duplicated": 1, "phantom": 1},
		},
		{
			name:     "a number twice in a day, not across days",
			requests: []outcome{{request: "r1", ticket: day + "-A001"}, {request: "r2", ticket: "2026-11-24-A001"}},
			events: []queue.Event{issuedEvent(day, "A001", "tok/r1"), issuedEvent("2026-11-24", "A001", "tok/r2"),
				issuedEvent(day, "A001", "")},
			want: map[string]float64{"repeated": 1},
		},
		{
			name:     "a stored request retried across midnight, answered 204",
			requests: []outcome{{request: "r1", nothing: true, attempts: 2}},
			events:   []queue.Event{issuedEvent(day, "A001", "tok/r1")},
			want:     map[string]float64{"retry": 1},
		},
		{
			name:   "a ticket for a request no kiosk heard of; other tokens' tickets are not ours",
			events: []queue.Event{issuedEvent(day, "A001", "tok/r9"), issuedEvent(day, "A002", "phone/x")},
			want:   map[string]float64{"phantom": 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := newReport()
			l := &serverLoad{requests: tc.requests, calls: tc.calls}
			l.judge(tc.events, kiosks, rep)
			for _, f := range figures {
				if got := rep.values[f.key]; got != tc.want[f.key] {
					t.Errorf("%s = %g, want %g", f.key, got, tc.want[f.key])
				}
			}
		})
	}
}

func TestJudgeKiosk(t *testing.T) {
	const day = "2026-11-23"
	events := []queue.Event{
		issuedEvent(day, "A001", "tok/1"), // printed online
		issuedEvent(day, "A002", "tok/2"), // issued for a request the kiosk gave up on
		issuedEvent(day, "A980", "tok/3"), // printed from the lease, handed in
		issuedEvent(day, "A003", "other/1"),
		// The server's answer came late: the kiosk printed A979 from its
		// lease under the same request, and the server withdrew A004.
		issuedEvent(day, "A004", "tok/4"),
		{Body: queue.RequestWithdrawn{RequestID: "tok/4", Ticket: day + "-A004"}},
		issuedEvent(day, "A979", "tok/4"),
	}
	rep := newReport()
	judgeKiosk(events, "tok", map[string]int{"A001": 1, "A980": 1, "A981": 1, "A979": 1}, rep)
	want := map[string]float64{"phantom": 1, "lost": 1}
	for _, f := range figures {
		if got := rep.values[f.key]; got != want[f.key] {
			t.Errorf("%s = %g, want %g", f.key, got, want[f.key])
		}
	}
}

// A figure over its limit fails the run unless it is expected to; one
// expected to fail that holds is pointed out.
func TestReportVerdicts(t *testing.T) {
	rep := newReport()
	rep.measured("lost", "phantom", "unsaid")
	rep.add("phantom", 2, "two")
	rep.add("unsaid", 1, "one")
	rep.worst("stale", 9.9, "")
	failed, held := rep.print(io.Discard, map[string]bool{"unsaid": true, "lost": true})
	if !slices.Equal(failed, []string{"phantom"}) || !slices.Equal(held, []string{"lost"}) {
		t.Errorf("failed %v, held %v; want [phantom], [lost]", failed, held)
	}
	rep.worst("stale", (10 * time.Second).Seconds(), "")
	if failed, _ := rep.print(io.Discard, nil); !slices.Contains(failed, "stale") {
		t.Errorf("10 s stale passed; the limit is under 10 s")
	}
}

// findCalls says where each call's last saying ended, so that a call
// ending just before a kill can be told from one said long before it.
func TestFindCallsEnds(t *testing.T) {
	a := call{number: "A001", speech: sound(1, 6000)}
	b := call{number: "B001", speech: sound(2, 6000)}
	pause := silence(5000)
	counts, ends := findCalls(heard(cat(a.speech, pause, b.speech, silence(100))), []call{a, b})
	if !slices.Equal(counts, []int{1, 1}) || ends[0] != 6000 || ends[1] != 17000 {
		t.Errorf("counts %v ends %v, want [1 1] and [6000 17000]", counts, ends)
	}
}

// --stores and --expect-fail are checked before anything is started; a
// figure may be expected to fail on every store or on one.
func TestStoreFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--stores", "sqlite"},
		{"--stores", ","},
		{"--expect-fail", "mysql:lost"},
		{"--expect-fail", "postgres:nothing"},
	} {
		var out strings.Builder
		if code := run(context.Background(), args, io.Discard, &out); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, out.String())
		}
	}
	got, err := parseStores("postgres, bolt,postgres")
	if err != nil || !slices.Equal(got, []string{"postgres", "bolt"}) {
		t.Errorf("parseStores = %v, %v; want [postgres bolt]", got, err)
	}
	expect, err := parseExpectFail("stale,postgres:lost")
	if err != nil {
		t.Fatal(err)
	}
	if !expect["bolt"]["stale"] || !expect["postgres"]["stale"] || expect["bolt"]["lost"] || !expect["postgres"]["lost"] {
		t.Errorf("parseExpectFail = %v; want stale on both stores, lost on postgres only", expect)
	}
}

// The side-by-side table says which store a figure is over its limit on.
func TestSideBySide(t *testing.T) {
	bolt, pg := newReport(), newReport()
	bolt.measured("lost")
	pg.measured("lost")
	pg.add("lost", 2, "two")
	pg.worst("stale", 12, "")
	var out strings.Builder
	printSideBySide(&out, []string{"bolt", "postgres"}, map[string]*report{"bolt": bolt, "postgres": pg},
		map[string]map[string]bool{"bolt": {}, "postgres": {"stale": true}})
	for _, want := range []string{"bolt   postgres", "acknowledged tickets lost                                         0         2!", "12.0s?"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table has no %q:\n%s", want, out.String())
		}
	}
}
