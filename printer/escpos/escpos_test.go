package escpos

import (
	"bytes"
	"flag"
	"testing"
)

var _ = flag.Bool("update", false, "accepted so `go test ./printer/... -update` runs here too")

// Bytes written for each command are those of the ESC/POS reference.
func TestBuilderBytes(t *testing.T) {
	tests := []struct {
		name string
		do   func(b *Builder)
		want []byte
	}{
		{"init", (*Builder).Init, []byte{0x1B, 0x40}},
		{"cancel Chinese", (*Builder).CancelChineseMode, []byte{0x1C, 0x2E}},
		{"USA set", (*Builder).InternationalUSA, []byte{0x1B, 0x52, 0}},
		{"code page 18", func(b *Builder) { b.CodePage(18) }, []byte{0x1B, 0x74, 18}},
		{"bold", func(b *Builder) { b.Bold(true) }, []byte{0x1B, 0x45, 1}},
		{"size 2x3", func(b *Builder) { b.Size(2, 3) }, []byte{0x1D, 0x21, 0x12}},
		{"size clamps to 8", func(b *Builder) { b.Size(9, 0) }, []byte{0x1D, 0x21, 0x70}},
		{"centre", func(b *Builder) { b.Align(Center) }, []byte{0x1B, 0x61, 1}},
		{"feed 300 dots", func(b *Builder) { b.FeedDots(300) }, []byte{0x1B, 0x4A, 255, 0x1B, 0x4A, 45}},
		{"partial cut", func(b *Builder) { b.Cut(true, 48) }, []byte{0x1D, 0x56, 66, 48}},
		{"full cut", func(b *Builder) { b.Cut(false, 0) }, []byte{0x1D, 0x56, 65, 0}},
		{"ASB", func(b *Builder) { b.AutoStatusBack(ASBAllButDrwr) }, []byte{0x1D, 0x61, 0x0E}},
		{"QR", func(b *Builder) { b.QR([]byte("AB"), 6, QRLevelM) }, []byte{
			0x1D, 0x28, 0x6B, 4, 0, 49, 65, 50, 0,
			0x1D, 0x28, 0x6B, 3, 0, 49, 67, 6,
			0x1D, 0x28, 0x6B, 3, 0, 49, 69, 49,
			0x1D, 0x28, 0x6B, 5, 0, 49, 80, 48, 'A', 'B',
			0x1D, 0x28, 0x6B, 3, 0, 49, 81, 48,
		}},
	}
	for _, tt := range tests {
		var b Builder
		tt.do(&b)
		if !bytes.Equal(b.Bytes(), tt.want) {
			t.Errorf("%s: % x, want % x", tt.name, b.Bytes(), tt.want)
		}
	}
}

// A raster image goes in bands no larger than the byte budget, each a
// complete GS v 0 with its own height.
func TestRasterBands(t *testing.T) {
	const stride, height = 72, 150
	data := make([]byte, stride*height)
	for i := range data {
		data[i] = byte(i)
	}
	var b Builder
	b.Raster(data, stride, height, 2048)
	out := b.Bytes()
	var got []byte
	bands := 0
	for len(out) > 0 {
		if !bytes.HasPrefix(out, []byte{0x1D, 0x76, 0x30, 0}) {
			t.Fatalf("band %d does not start with GS v 0: % x", bands, out[:8])
		}
		x, y := int(out[4])|int(out[5])<<8, int(out[6])|int(out[7])<<8
		if x != stride || 8+x*y > 2048+8 {
			t.Fatalf("band %d is %d x %d bytes: over the 2048-byte budget", bands, x, y)
		}
		got = append(got, out[8:8+x*y]...)
		out = out[8+x*y:]
		bands++
	}
	if !bytes.Equal(got, data) {
		t.Error("bands do not carry the image's bytes in order")
	}
	if bands != 6 { // 2048/72 = 28 lines a band
		t.Errorf("%d bands, want 6", bands)
	}
}

// Status bytes as the Epson reference gives them: 0x12 is a printer online
// with nothing wrong; paper end sets bits 5 and 6 of DLE EOT 4.
func TestRealTimeStatus(t *testing.T) {
	tests := []struct {
		n     byte
		b     byte
		check func(State) bool
		what  string
	}{
		{1, 0x12, func(s State) bool { return !s.Offline }, "online"},
		{1, 0x1A, func(s State) bool { return s.Offline }, "offline"},
		{2, 0x16, func(s State) bool { return s.CoverOpen }, "cover open"},
		{2, 0x32, func(s State) bool { return s.PaperEndStop && !s.CoverOpen }, "stopped by paper end"},
		{3, 0x1A, func(s State) bool { return s.CutterError && !s.Unrecoverable }, "cutter error"},
		{3, 0x32, func(s State) bool { return s.Unrecoverable }, "unrecoverable error"},
		{4, 0x12, func(s State) bool { return !s.PaperOut && !s.PaperNearEnd }, "paper adequate"},
		{4, 0x1E, func(s State) bool { return s.PaperNearEnd && !s.PaperOut }, "near end"},
		{4, 0x72, func(s State) bool { return s.PaperOut }, "paper end"},
	}
	for _, tt := range tests {
		var s State
		if err := s.ApplyRealTime(tt.n, tt.b); err != nil {
			t.Errorf("DLE EOT %d answer %#02x: %v", tt.n, tt.b, err)
			continue
		}
		if !tt.check(s) {
			t.Errorf("DLE EOT %d answer %#02x not read as %s: %+v", tt.n, tt.b, tt.what, s)
		}
		if back := s.RealTimeByte(tt.n); back != tt.b {
			t.Errorf("state %s encodes to %#02x for DLE EOT %d, want %#02x", tt.what, back, tt.n, tt.b)
		}
	}
	var s State
	for _, noise := range []byte{0x00, 0xFF, 0x41} {
		if err := s.ApplyRealTime(1, noise); err == nil {
			t.Errorf("byte %#02x accepted as a status byte", noise)
		}
	}
}

func TestASBRoundTrip(t *testing.T) {
	in := State{Offline: true, CoverOpen: true, CutterError: true, PaperNearEnd: true}
	m := in.ASB()
	if m[0] != 0x38 || m[1] != 0x08 || m[2] != 0x03 || m[3] != 0 {
		t.Errorf("ASB = % x, want 38 08 03 00", m)
	}
	got, err := ParseASB(m)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Offline || !got.CoverOpen || !got.CutterError || !got.PaperNearEnd || got.PaperOut {
		t.Errorf("ParseASB(% x) = %+v", m, got)
	}
	if _, err := ParseASB([4]byte{0x12, 0, 0, 0}); err == nil {
		t.Error("a real-time status byte was taken for the start of ASB")
	}
}

func TestPaperSensor(t *testing.T) {
	s := State{PaperOut: true}
	b := s.PaperSensorByte()
	if b != 0x0C {
		t.Errorf("GS r 1 answer for paper out = %#02x, want 0x0c", b)
	}
	var back State
	if err := back.ApplyPaperSensor(b); err != nil || !back.PaperOut || back.PaperNearEnd {
		t.Errorf("ApplyPaperSensor(%#02x) = %+v, %v", b, back, err)
	}
}

// Every command the Builder writes is recorded with the paper it moves, as
// the parser reads it back: what a sender paces by is what the printer
// does.
func TestSpansAgreeWithParser(t *testing.T) {
	img := make([]byte, 4*100)
	for i := range img {
		img[i] = byte(i)
	}
	var b Builder
	b.Init()
	b.CancelChineseMode()
	b.InternationalUSA()
	b.CodePage(18)
	b.Size(2, 2)
	b.Bold(true)
	b.Align(Center)
	b.PrintAreaWidth(384)
	b.Text([]byte("Hello"))
	b.LF()
	b.FeedDots(300)
	b.FeedLines(3)
	b.LineSpacing(24)
	b.BitImage(BitImage24Double, make([]byte, 30))
	b.LF()
	b.FeedLines(2)
	b.DefaultLineSpacing()
	b.LF()
	b.Raster(img, 4, 100, 128)
	b.Graphics(img, 4, 100, 0)
	b.QR([]byte("https://example.org/t/1"), 6, QRLevelM)
	b.Raw(GS, 'B', 1)
	b.LineSpacing(0)
	b.LF()
	b.Init()
	b.LF()
	b.Cut(true, 48)
	b.AutoStatusBack(ASBAllButDrwr)
	if err := b.Job().Verify(); err != nil {
		t.Fatal(err)
	}
	dots, cuts := 0, 0
	for _, sp := range b.Spans() {
		dots += sp.Dots
		if sp.Cut {
			cuts++
		}
	}
	// 30 + 300 + 90 + 24 + 48 + 30 + 100 + 100 + 0 + 30
	if dots != 752 || cuts != 1 {
		t.Errorf("spans move %d dots with %d cuts, want 752 and 1", dots, cuts)
	}
}

// Verify catches spans that disagree with the bytes.
func TestVerifyCatchesWrongSpans(t *testing.T) {
	var b Builder
	b.Init()
	b.FeedDots(40)
	b.Cut(false, 0)
	job := b.Job()
	tests := []struct {
		name  string
		spans []Span
	}{
		{"wrong dots", []Span{{End: 2}, {End: 5, Dots: 30}, {End: 9, Cut: true}}},
		{"missing cut", []Span{{End: 2}, {End: 5, Dots: 40}, {End: 9}}},
		{"inside a command", []Span{{End: 1}, {End: 5, Dots: 40}, {End: 9, Cut: true}}},
		{"short", []Span{{End: 2}, {End: 5, Dots: 40}}},
	}
	for _, tt := range tests {
		if err := (Job{Bytes: job.Bytes, Spans: tt.spans}).Verify(); err == nil {
			t.Errorf("%s: Verify passed", tt.name)
		}
	}
}
