package emulator

import (
	"bytes"
	"testing"
	"time"

	"github.com/numerek/numerek/printer/escpos"
)

// Each fault a test can put the emulator in is answered truthfully to
// DLE EOT 1-4, bit for bit as ESC/POS says, and clears again.
func TestStatesAnswered(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   func(p *Printer, on bool)
		check func(s escpos.State) bool
		stops bool
	}{
		{"near end", (*Printer).SetPaperNearEnd, func(s escpos.State) bool { return s.PaperNearEnd }, false},
		{"paper out", (*Printer).SetPaperOut, func(s escpos.State) bool { return s.PaperOut && s.PaperEndStop }, true},
		{"cover open", (*Printer).SetCoverOpen, func(s escpos.State) bool { return s.CoverOpen }, true},
		{"cutter error", (*Printer).SetCutterError, func(s escpos.State) bool { return s.CutterError && s.ErrorOccurred }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPrinter(t, Config{})
			for _, on := range []bool{true, false} {
				tc.set(p, on)
				s := askAll(t, p)
				if tc.check(s) != on {
					t.Errorf("set %v: DLE EOT 1-4 say %+v", on, s)
				}
				if s.Offline != (on && tc.stops) {
					t.Errorf("set %v: offline %v, want %v", on, s.Offline, on && tc.stops)
				}
			}
		})
	}
}

// askAll asks DLE EOT 1, 2, 3 and 4 and reads the answers as a host does.
func askAll(t *testing.T, p *Printer) escpos.State {
	t.Helper()
	var s escpos.State
	for n := byte(1); n <= 4; n++ {
		var answer bytes.Buffer
		p.Receive(&answer, escpos.RealTimeStatus(n), time.Now())
		if answer.Len() != 1 {
			t.Fatalf("DLE EOT %d answered % x", n, answer.Bytes())
		}
		if err := s.ApplyRealTime(n, answer.Bytes()[0]); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// The near-end sensor held on by a test stays on as tickets print from a
// counted roll, and a new roll clears it.
func TestNearEndHeld(t *testing.T) {
	p := newPrinter(t, Config{PaperTickets: 10, NearEndTickets: 2})
	p.SetPaperNearEnd(true)
	p.Receive(nil, []byte("ticket\n\x1dV\x00"), time.Now())
	p.Flush()
	if !askAll(t, p).PaperNearEnd {
		t.Error("near end cleared by a ticket")
	}
	p.LoadPaper(10)
	if askAll(t, p).PaperNearEnd {
		t.Error("near end still on with a new roll")
	}
}

// An emulator URI's query sets the roll and the faults, and refuses what
// it does not know.
func TestParseURIState(t *testing.T) {
	for _, tc := range []struct {
		query string
		want  URIState
		bad   bool
	}{
		{"", URIState{}, false},
		{"paper_tickets=20&near_end_tickets=5", URIState{PaperTickets: 20, NearEndTickets: 5}, false},
		{"state=near-end,cover-open", URIState{NearEnd: true, CoverOpen: true}, false},
		{"state=paper-out&buffer=512", URIState{PaperOut: true}, false},
		{"state=cutter-error", URIState{CutterError: true}, false},
		{"state=jammed", URIState{}, true},
		{"paper_tickets=many", URIState{}, true},
		{"colour=red", URIState{}, true},
	} {
		got, err := ParseURIState(tc.query)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.query, err)
			continue
		}
		if !tc.bad && got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.query, got, tc.want)
		}
	}
}
