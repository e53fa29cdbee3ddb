package printer_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/escpos"
)

// The full status a technician and the server see, read over the line
// from an emulated printer in each state: the four DLE EOT groups come
// back as the printer's own fields, and only a fault that stops printing
// takes it offline.
func TestFullStatusHealth(t *testing.T) {
	prof := lookup(t, "tm-t20ii")
	for _, tc := range []struct {
		state string
		want  printer.Health
	}{
		{"", printer.Health{Online: true}},
		{"near-end", printer.Health{Online: true, PaperNearEnd: true}},
		{"paper-out", printer.Health{PaperOut: true}},
		{"cover-open", printer.Health{CoverOpen: true}},
		{"cutter-error", printer.Health{CutterError: true}},
		{"near-end,cover-open", printer.Health{CoverOpen: true, PaperNearEnd: true}},
	} {
		t.Run(tc.state, func(t *testing.T) {
			uri := "emulator://" + t.TempDir() + "?" + url.Values{"state": {tc.state}}.Encode()
			p := open(t, uri, prof, printer.Options{Transports: emulator.Register(printer.Builtin())})
			st, err := p.Status(context.Background())
			if err != nil {
				t.Fatalf("reading the status: %v", err)
			}
			if got := st.Health(err); got != tc.want {
				t.Errorf("state %q reads as %+v, want %+v", tc.state, got, tc.want)
			}
		})
	}
}

// The emulator's paper near-end sensor trips after so many tickets, as a
// roll's does (here after the first of four), and the printer says so
// while still printing.
func TestNearEndAfterTickets(t *testing.T) {
	prof := lookup(t, "tm-t20ii")
	uri := "emulator://" + t.TempDir() + "?paper_tickets=4&near_end_tickets=3"
	p := open(t, uri, prof, printer.Options{Transports: emulator.Register(printer.Builtin())})
	ctx := context.Background()
	for i, wantNearEnd := range []bool{false, true, true} {
		st, err := p.Status(ctx)
		if h := st.Health(err); h.PaperNearEnd != wantNearEnd || !h.Online {
			t.Fatalf("after %d tickets: %+v (%v), want near end %v and online", i, h, err, wantNearEnd)
		}
		if _, err := p.Print(ctx, exampleTicket("pl")); err != nil {
			t.Fatalf("printing ticket %d: %v", i+1, err)
		}
	}
}

// A line that is gone says so in Error, and the printer is not online.
func TestHealthOfUnreachablePrinter(t *testing.T) {
	p := open(t, "tcp://127.0.0.1:1", lookup(t, "tm-t20ii"), printer.Options{})
	st, err := p.Status(context.Background())
	h := st.Health(err)
	if h.Online || h.Error == "" {
		t.Errorf("an unreachable printer reads as %+v", h)
	}
}

// An emulator URI with a setting the emulator does not know is refused
// when it is read, naming the setting.
func TestEmulatorURIRefused(t *testing.T) {
	ts := emulator.Register(printer.Builtin())
	for _, uri := range []string{"emulator:///tmp/x?state=jammed", "emulator:///tmp/x?colour=red", "emulator:///tmp/x?paper_tickets=-1"} {
		if _, err := ts.Parse(uri); err == nil {
			t.Errorf("%s accepted", uri)
		}
	}
}

// FuzzStatusBytes reads any four answers to DLE EOT 1-4: each is a status
// byte or refused, and the Health read from them is consistent: a printer
// with its cover open, out of paper or with a cutter error is never
// online, and the near-end and paper-out bits always show.
func FuzzStatusBytes(f *testing.F) {
	f.Add(byte(0x12), byte(0x12), byte(0x12), byte(0x12))
	f.Add(byte(0x1a), byte(0x16), byte(0x1a), byte(0x7e))
	f.Fuzz(func(t *testing.T, b1, b2, b3, b4 byte) {
		var s escpos.State
		for i, b := range []byte{b1, b2, b3, b4} {
			if err := s.ApplyRealTime(byte(i+1), b); err != nil {
				if escpos.IsRealTimeByte(b) {
					t.Fatalf("status byte %#02x refused: %v", b, err)
				}
				return
			}
		}
		h := printer.StatusFromState(s).Health(nil)
		if h.Online && (h.CoverOpen || h.PaperOut || h.CutterError || h.Error != "") {
			t.Fatalf("%+v from % x: online with a fault", h, []byte{b1, b2, b3, b4})
		}
		// Paper out shows in group 4's sensor bits, or as group 2's
		// "stopped for want of paper".
		if h.PaperNearEnd != (b4&0b1100 != 0) || h.PaperOut != (b4&0b0110_0000 != 0 || b2&0b0010_0000 != 0) {
			t.Fatalf("%+v from DLE EOT 2, 4 answers %#02x %#02x", h, b2, b4)
		}
		if h.CoverOpen != (b2&0b100 != 0) || h.CutterError != (b3&0b1000 != 0) {
			t.Fatalf("%+v from DLE EOT 2, 3 answers %#02x %#02x", h, b2, b3)
		}
	})
}
