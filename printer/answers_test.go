package printer

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/printer/escpos"
)

// Answers of the three kinds arrive mixed on one line and are told apart
// by their bit patterns.
func TestAnswersSorted(t *testing.T) {
	t.Parallel()
	asb := escpos.State{Offline: true, CoverOpen: true}.ASB()
	line := append(append([]byte{}, asb[:]...), 0x12, 0x0C, 0x1E)
	a := newAnswers(bytes.NewReader(line))
	select {
	case <-a.done:
	case <-time.After(10 * time.Second):
		t.Fatal("reader did not finish")
	}
	if got := []byte{<-a.realTime, <-a.realTime}; !bytes.Equal(got, []byte{0x12, 0x1E}) {
		t.Errorf("real-time answers % x, want 12 1e", got)
	}
	if got := <-a.sensor; got != 0x0C {
		t.Errorf("GS r answer %#02x, want 0x0c", got)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.asb == nil || !a.asb.CoverOpen || !a.asb.Offline {
		t.Errorf("ASB read as %+v", a.asb)
	}
}

func TestStatusConditions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		st    escpos.State
		want  Condition
		ready bool
	}{
		{escpos.State{}, 0, true},
		{escpos.State{PaperNearEnd: true}, PaperNearEnd, true},
		{escpos.State{Offline: true, PaperOut: true, PaperEndStop: true}, PaperOut, false},
		{escpos.State{Offline: true, CoverOpen: true}, CoverOpen, false},
		{escpos.State{Offline: true}, Offline, false},
		{escpos.State{Offline: true, CutterError: true, ErrorOccurred: true}, CutterError, false},
		{escpos.State{AutoRecoverable: true}, HeadOverheat, false},
	}
	for _, tt := range tests {
		got := statusFromState(tt.st)
		if got.Conditions != tt.want || got.Ready() != tt.ready {
			t.Errorf("%+v -> %v (ready %v), want %v (ready %v)", tt.st, got, got.Ready(), Status{tt.want}, tt.ready)
		}
	}
	if s := (Status{PaperOut | CoverOpen}).String(); s != "paper out, cover open" {
		t.Errorf("String = %q", s)
	}
}

// A printer URI parses into a target for every transport in the set, a
// scheme a program added (here one named emulator) included; other
// schemes are refused by name.
func TestParseURI(t *testing.T) {
	t.Parallel()
	ts := Builtin()
	ts["emulator"] = Transport{}
	good := map[string]Target{
		"serial:///dev/ttyUSB0?baud=19200": {Scheme: "serial", Path: "/dev/ttyUSB0", Baud: 19200, Query: "baud=19200"},
		"serial:///dev/ttyS0":              {Scheme: "serial", Path: "/dev/ttyS0", Baud: 9600},
		"usb:///dev/usb/lp0":               {Scheme: "usb", Path: "/dev/usb/lp0"},
		"tcp://10.0.0.5:9100":              {Scheme: "tcp", Path: "10.0.0.5:9100"},
		"tcp://printer.local":              {Scheme: "tcp", Path: "printer.local:9100"},
		"file:///tmp/out.bin":              {Scheme: "file", Path: "/tmp/out.bin"},
		"emulator:///tmp/t?buffer=8192":    {Scheme: "emulator", Path: "/tmp/t", BufferBytes: 8192, Query: "buffer=8192"},
		"tcp://h:1?speed=50&pace=off":      {Scheme: "tcp", Path: "h:1", PrintSpeedMM: 50, NoPacing: true, Query: "speed=50&pace=off"},
	}
	for uri, want := range good {
		got, err := ts.Parse(uri)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", uri, got, err, want)
		}
	}
	for _, bad := range []string{"", "/dev/ttyUSB0", "lpt://x", "serial://dev/ttyUSB0", "serial:///dev/x?baud=fast", "tcp://", "usb://", "tcp://h?pace=maybe"} {
		if _, err := ts.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	_, err := Builtin().Parse("emulator:///tmp/t")
	if err == nil || !strings.Contains(err.Error(), `unknown scheme "emulator" (file, serial, tcp or usb)`) {
		t.Errorf("the built-in transports took an emulator URI: %v", err)
	}
}

// FuzzAnswers reads arbitrary bytes from a printer line: nothing may
// pass as a status answer that lacks its fixed bits.
func FuzzAnswers(f *testing.F) {
	f.Add([]byte{0x12, 0x1A, 0x10, 0, 0, 0, 0x0C})
	f.Add([]byte{0x38, 0x08, 0x03, 0x00, 0x72})
	f.Fuzz(func(t *testing.T, line []byte) {
		a := newAnswers(bytes.NewReader(line))
		<-a.done
		for {
			select {
			case b := <-a.realTime:
				if !escpos.IsRealTimeByte(b) {
					t.Fatalf("%#02x taken as a real-time status byte", b)
				}
			case b := <-a.sensor:
				if !escpos.IsPaperSensorByte(b) {
					t.Fatalf("%#02x taken as a GS r answer", b)
				}
			default:
				return
			}
		}
	})
}

// FuzzParseURI: a printer URI from a config file either parses into a
// usable target or gives an error that names it.
func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"serial:///dev/ttyUSB0?baud=19200", "tcp://10.0.0.5:9100", "file:///x", "emulator:///tmp/t?pace=off", "usb://"} {
		f.Add(s)
	}
	ts := Builtin()
	ts["emulator"] = Transport{}
	f.Fuzz(func(t *testing.T, uri string) {
		tg, err := ts.Parse(uri)
		if err != nil {
			if !strings.Contains(err.Error(), "printer URI") {
				t.Fatalf("error does not say which URI: %v", err)
			}
			return
		}
		if tg.Path == "" || tg.Scheme == "" || (tg.Scheme == "serial" && tg.Baud <= 0) {
			t.Fatalf("Parse(%q) accepted an unusable target %+v", uri, tg)
		}
	})
}
