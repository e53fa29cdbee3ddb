package emulator

import (
	"bytes"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
)

var _ = flag.Bool("update", false, "accepted so `go test ./printer/... -update` runs here too")

func mustProfile(t testing.TB, name string) profiles.Profile {
	t.Helper()
	p, err := profiles.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newPrinter(t testing.TB, cfg Config) *Printer {
	t.Helper()
	if cfg.Profile.Name == "" {
		cfg.Profile = mustProfile(t, "tm-t20ii")
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// printOnce feeds data to an ideal printer and returns its tickets.
func printOnce(t testing.TB, profile string, data []byte) []Ticket {
	t.Helper()
	p := newPrinter(t, Config{Profile: mustProfile(t, profile)})
	p.Receive(nil, data, time.Now())
	p.Flush()
	return p.Tickets()
}

// Text sent in each code page is decoded back to the same letters.
func TestCodePagesDecoded(t *testing.T) {
	tests := []struct {
		profile string
		n       byte
		bytes   []byte
		want    string
	}{
		{"tm-t20ii", 18, []byte{'Z', 'a', 0xBE, 0xA2, 0x88, 0x86}, "Zażółć"},                 // CP852
		{"tm-t20ii", 45, []byte{0xA3, 0xF3, 0x64, 0x9F}, "Łódź"},                             // WPC1250
		{"tm-t20ii", 51, []byte{0xD0, 0x69, 0x61, 0x75, 0x6C, 0x69, 0x61, 0x69}, "Šiauliai"}, // WPC1257
		{"tm-t20ii", 33, []byte{0xD3, 0xD7}, "ėū"},                                           // CP775
		{"tm-t20ii", 17, []byte{0x8C, 0xAE, 0xE1, 0xAA, 0xA2, 0xA0}, "Москва"},               // CP866
		{"tm-t20ii", 46, []byte{0xCA, 0xE8, 0xBF, 0xE2}, "Київ"},                             // WPC1251
		{"generic-58", 73, []byte{0xCA, 0xE8, 0xBF, 0xE2}, "Київ"},                           // WPC1251 on a Chinese printer
		{"generic-58", 18, []byte{0xA4, 0xA2}, "Ąó"},                                         // CP852 on a Chinese printer
	}
	for _, tt := range tests {
		var data []byte
		data = append(data, escpos.ESC, '@', escpos.FS, '.', escpos.ESC, 't', tt.n)
		data = append(data, tt.bytes...)
		data = append(data, '\n')
		got := printOnce(t, tt.profile, data)
		if len(got) != 1 || len(got[0].Lines) != 1 || got[0].Lines[0] != tt.want {
			t.Errorf("%s ESC t %d % x: printed %v, want %q", tt.profile, tt.n, tt.bytes, got, tt.want)
			continue
		}
		if len(got[0].Warnings) > 0 {
			t.Errorf("%s ESC t %d: warnings %v", tt.profile, tt.n, got[0].Warnings)
		}
	}
}

// A printer left in Chinese double-byte mode prints pairs of bytes above
// 0x80 as one ideograph; the emulator shows and reports it.
func TestChineseModeReported(t *testing.T) {
	got := printOnce(t, "generic-58", []byte{escpos.ESC, 't', 18, 0xA5, 0x88, '\n'})
	if len(got) != 1 || len(got[0].Warnings) == 0 || !strings.Contains(got[0].Warnings[0].Message, "double-byte") {
		t.Fatalf("double-byte mode not reported: %+v", got)
	}
	if got[0].Lines[0] == "ął" {
		t.Error("bytes printed as Polish letters although the printer is in Chinese mode")
	}
}

// Unknown commands are reported with their byte offset, not skipped in
// silence.
func TestUnknownCommandsReported(t *testing.T) {
	data := []byte{escpos.ESC, '@', 'A', escpos.ESC, 0x7E, 'B', 0x1F, 'C', '\n', escpos.GS, 'Z', 1, '\n'}
	got := printOnce(t, "tm-t20ii", data)
	if len(got) != 1 {
		t.Fatalf("got %d tickets", len(got))
	}
	var offsets []int
	for _, w := range got[0].Warnings {
		offsets = append(offsets, w.Offset)
	}
	want := []int{3, 6, 9, 11} // GS Z is unknown, so its parameter byte 0x01 is too
	if len(offsets) != len(want) {
		t.Fatalf("warnings at %v, want %v: %v", offsets, want, got[0].Warnings)
	}
	for i := range want {
		if offsets[i] != want[i] {
			t.Errorf("warning %d at byte %d, want %d (%s)", i, offsets[i], want[i], got[0].Warnings[i])
		}
	}
}

// Real-time status requests are answered at once with the fault states
// set on the emulated printer.
func TestStatusAnswers(t *testing.T) {
	p := newPrinter(t, Config{PaperTickets: 2, NearEndTickets: 1})
	ask := func() []byte {
		var out bytes.Buffer
		for n := byte(1); n <= 4; n++ {
			p.Receive(&out, escpos.RealTimeStatus(n), time.Now())
		}
		return out.Bytes()
	}
	if got := ask(); !bytes.Equal(got, []byte{0x12, 0x12, 0x12, 0x12}) {
		t.Errorf("healthy printer answers % x, want 12 12 12 12", got)
	}
	p.SetCoverOpen(true)
	if got := ask(); got[0] != 0x1A || got[1] != 0x16 {
		t.Errorf("cover open answers % x, want 1a 16 ..", got)
	}
	p.SetCoverOpen(false)
	ticket := []byte{'x', '\n', escpos.GS, 'V', 66, 0}
	p.Receive(nil, ticket, time.Now())
	if got := ask(); got[3] != 0x1E {
		t.Errorf("one ticket left answers DLE EOT 4 = %#02x, want near end 0x1e", got[3])
	}
	p.Receive(nil, ticket, time.Now())
	if got := ask(); got[0] != 0x1A || got[1] != 0x32 || got[3] != 0x7E {
		t.Errorf("paper out answers % x, want 1a 32 .. 7e", got)
	}
	p.LoadPaper(0)
	p.JamCutter()
	p.Receive(nil, ticket, time.Now())
	if got := ask(); got[0] != 0x1A || got[2] != 0x1A {
		t.Errorf("cutter jam answers % x, want 1a .. 1a ..", got)
	}
	p.Receive(nil, []byte{escpos.DLE, escpos.ENQ, 2}, time.Now())
	if got := ask(); !bytes.Equal(got, []byte{0x12, 0x12, 0x12, 0x12}) {
		t.Errorf("after DLE ENQ 2 the printer answers % x, want all clear", got)
	}
	p.SetSilent(true)
	if got := ask(); len(got) != 0 {
		t.Errorf("a silent printer answered % x", got)
	}
}

// While the paper is out nothing prints and GS r 1 goes unanswered; a new
// roll lets the waiting ticket print and the answer come.
func TestPaperOutHoldsJob(t *testing.T) {
	p := newPrinter(t, Config{PaperTickets: 1})
	var out bytes.Buffer
	p.Receive(&out, []byte("one\n\x1dV\x42\x00"), time.Now())
	p.Receive(&out, []byte("two\n\x1dV\x42\x00\x1dr\x01"), time.Now())
	if n := len(p.Tickets()); n != 1 || out.Len() != 0 {
		t.Fatalf("with the paper out: %d tickets, answers % x; want 1 and none", n, out.Bytes())
	}
	p.LoadPaper(0)
	if n := len(p.Tickets()); n != 2 || !bytes.Equal(out.Bytes(), []byte{0}) {
		t.Fatalf("after a new roll: %d tickets, answers % x; want 2 and 00", n, out.Bytes())
	}
}

// A full buffer loses bytes, and says from where.
func TestBufferOverflow(t *testing.T) {
	p := newPrinter(t, Config{BufferBytes: 100, PrintSpeedMM: 10, Profile: mustProfile(t, "generic-80")})
	now := time.Now()
	var data []byte
	for range 20 {
		data = append(data, "0123456789\n"...)
	}
	p.Receive(nil, data, now)
	st := p.Stats()
	if st.Dropped == 0 || st.Received != len(data) {
		t.Fatalf("stats %+v: want bytes dropped", st)
	}
	p.Advance(now.Add(time.Minute))
	p.Flush()
	tk := p.Tickets()
	if len(tk) != 1 || len(tk[0].Warnings) == 0 || !strings.Contains(tk[0].Warnings[0].Message, "buffer") {
		t.Fatalf("overflow not reported: %+v", tk)
	}
}

// FuzzReceive feeds the emulator arbitrary bytes: it must never panic and
// must draw a ticket of the paper's width. (escpos.FuzzParse checks that
// the parser accounts for every byte.)
func FuzzReceive(f *testing.F) {
	for _, job := range escpos.SampleJobs() {
		f.Add(job)
	}
	prof := mustProfile(f, "generic-58")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := New(Config{Profile: prof})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		p.Receive(&out, data, time.Now())
		p.Flush()
		for _, tk := range p.Tickets() {
			if w := tk.Image.Bounds().Dx(); w != prof.WidthDots+16 {
				t.Fatalf("ticket image %d wide, want %d", w, prof.WidthDots+16)
			}
		}
	})
}

// GS a turns on Automatic Status Back: the printer sends its status at
// once and again whenever it changes.
func TestAutoStatusBack(t *testing.T) {
	p := newPrinter(t, Config{})
	var out bytes.Buffer
	p.Receive(&out, []byte{escpos.GS, 'a', escpos.ASBAllButDrwr}, time.Now())
	if !bytes.Equal(out.Bytes(), []byte{0x10, 0, 0, 0}) {
		t.Fatalf("ASB on enabling = % x, want 10 00 00 00", out.Bytes())
	}
	out.Reset()
	p.SetCoverOpen(true)
	if !bytes.Equal(out.Bytes(), []byte{0x38, 0, 0, 0}) {
		t.Fatalf("ASB on cover open = % x, want 38 00 00 00", out.Bytes())
	}
}
