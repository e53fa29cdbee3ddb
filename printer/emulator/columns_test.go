package emulator

import (
	"bytes"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
)

// black reports whether the ticket has ink at dot (x, y) of the paper (the
// picture has an 8-dot grey border left and right).
func black(img *image.Gray, x, y int) bool { return img.GrayAt(8+x, y).Y == 0 }

// ESC * strips are drawn at every density: 24-dot strips a dot per row, 8-dot
// strips three rows per dot; single density two dots per column, double
// one. A strip prints with the line feed, and strips one line apart touch
// when the line spacing is 24.
func TestColumnImageDecoded(t *testing.T) {
	tests := []struct {
		profile string
		m       byte
		cols    []byte // two columns: the first inks the top dot, the second the bottom one
		colW    int
		dotH    int
	}{
		{"TH230", 33, []byte{0x80, 0, 0, 0, 0, 0x01}, 1, 1},
		{"TH230", 32, []byte{0x80, 0, 0, 0, 0, 0x01}, 2, 1},
		{"TM-U220", 1, []byte{0x80, 0x01}, 1, 3},
		{"TM-U220", 0, []byte{0x80, 0x01}, 2, 3},
	}
	for _, tt := range tests {
		var b escpos.Builder
		b.Init()
		b.LineSpacing(24)
		b.BitImage(tt.m, tt.cols)
		b.LF()
		per := escpos.BitImageDots(tt.m) / 8
		full := bytes.Repeat([]byte{0xFF}, per) // one all-black column
		b.BitImage(tt.m, full)
		b.LF()
		b.DefaultLineSpacing()
		got := printOnce(t, tt.profile, b.Bytes())
		if len(got) != 1 {
			t.Fatalf("%s ESC * %d: %d tickets", tt.profile, tt.m, len(got))
		}
		tk := got[0]
		for _, w := range tk.Warnings {
			t.Errorf("%s ESC * %d: warning %s", tt.profile, tt.m, w)
		}
		if tk.Rasters != 2 || len(tk.Lines) != 0 {
			t.Errorf("%s ESC * %d: %d pictures, text lines %q; want 2 pictures, no text", tt.profile, tt.m, tk.Rasters, tk.Lines)
		}
		img := tk.Image
		for y := 0; y < 48; y++ {
			for x := 0; x < 2*tt.colW+1; x++ {
				want := false
				switch {
				case y >= 24: // the all-black strip below: its one column
					want = x < tt.colW
				case x < tt.colW: // top dot of the first column
					want = y < tt.dotH
				case x < 2*tt.colW: // bottom dot of the second
					want = y >= 24-tt.dotH
				}
				if black(img, x, y) != want {
					t.Errorf("%s ESC * %d: dot (%d, %d) black %v, want %v", tt.profile, tt.m, x, y, !want, want)
				}
			}
		}
		if black(img, 0, 48) {
			t.Errorf("%s ESC * %d: ink below the two strips", tt.profile, tt.m)
		}
	}
}

// A strip beside text prints on the text's line; one wider than the rest
// of the line is cut off and said so.
func TestColumnImageOnTheLine(t *testing.T) {
	var b escpos.Builder
	b.Init()
	b.Text([]byte("AB"))
	b.BitImage(escpos.BitImage24Double, bytes.Repeat([]byte{0xFF}, 3*10))
	b.LF()
	b.BitImage(escpos.BitImage24Double, bytes.Repeat([]byte{0xFF}, 3*600))
	b.LF()
	got := printOnce(t, "TH230", b.Bytes())[0]
	if len(got.Lines) != 1 || got.Lines[0] != "AB" {
		t.Errorf("text lines %q, want just AB", got.Lines)
	}
	if !black(got.Image, 24, 10) || black(got.Image, 34, 10) {
		t.Error("the 10-dot strip is not right after the two 12-dot letters")
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0].Message, "cut off") {
		t.Errorf("warnings %v, want one saying the 600-dot strip was cut off", got.Warnings)
	}
}

// A picture or QR code in a form the model lacks is not printed, and the
// emulator says what the model lacks.
func TestUnsupportedPicturesSkipped(t *testing.T) {
	var raster, dense, qr escpos.Builder
	raster.Init()
	raster.Raster(bytes.Repeat([]byte{0xFF}, 8*4), 8, 4, 0)
	dense.Init()
	dense.BitImage(escpos.BitImage24Double, bytes.Repeat([]byte{0xFF}, 3*8))
	dense.LF()
	qr.Init()
	qr.QR([]byte("https://example.org"), 4, escpos.QRLevelM)
	for _, tt := range []struct {
		profile string
		data    []byte
		want    string
	}{
		{"TH230", raster.Bytes(), "th230 prints no raster images"},
		{"TM-U220", dense.Bytes(), "tm-u220 prints only 8-dot column images"},
		{"generic-58", dense.Bytes(), "generic-58 prints no column images"},
		{"generic-58", qr.Bytes(), "generic-58 has no QR encoder"},
	} {
		got := printOnce(t, tt.profile, tt.data)
		if len(got) != 1 {
			t.Fatalf("%s: %d tickets", tt.profile, len(got))
		}
		found := false
		for _, w := range got[0].Warnings {
			found = found || strings.Contains(w.Message, tt.want)
		}
		if !found {
			t.Errorf("%s: warnings %v, want one saying %q", tt.profile, got[0].Warnings, tt.want)
		}
		if got[0].Rasters != 0 || len(got[0].QRCodes) != 0 {
			t.Errorf("%s: printed it anyway (%d pictures, QR %v)", tt.profile, got[0].Rasters, got[0].QRCodes)
		}
	}
}

// FuzzColumnImage feeds the emulator ESC * commands with any density, any
// column count and any data, on a 24-dot and an 8-dot model: it must not
// panic, must keep the paper's width, and must ink no dot right of what
// the strip's columns cover.
func FuzzColumnImage(f *testing.F) {
	f.Add(byte(33), uint16(2), []byte{0x80, 0, 0, 0, 0, 1}, byte(24))
	f.Add(byte(32), uint16(1), []byte{0xFF, 0xFF, 0xFF}, byte(0))
	f.Add(byte(1), uint16(3), []byte{1, 2, 3}, byte(8))
	f.Add(byte(0), uint16(1000), []byte{0xAA}, byte(255))
	f.Add(byte(7), uint16(2), []byte{1, 2, 3, 4, 5, 6}, byte(30))
	th, u220 := mustProfile(f, "TH230"), mustProfile(f, "TM-U220")
	f.Fuzz(func(t *testing.T, m byte, n uint16, data []byte, spacing byte) {
		// The data is exactly as long as the header says (as the parser
		// counts it), so every byte belongs to the strip.
		n %= 1024
		per := 1
		if m >= 32 {
			per = 3
		}
		strip := make([]byte, int(n)*per)
		copy(strip, data)
		var b escpos.Builder
		b.Init()
		b.LineSpacing(int(spacing))
		b.Raw(escpos.ESC, '*', m, byte(n), byte(n>>8))
		b.Raw(strip...)
		b.LF()
		colW := 0 // an unknown density prints nothing
		switch m {
		case 0, 32:
			colW = 2
		case 1, 33:
			colW = 1
		}
		for _, prof := range []profiles.Profile{th, u220} {
			p, err := New(Config{Profile: prof})
			if err != nil {
				t.Fatal(err)
			}
			p.Receive(nil, b.Bytes(), time.Now())
			p.Flush()
			for _, tk := range p.Tickets() {
				if w := tk.Image.Bounds().Dx(); w != prof.WidthDots+16 {
					t.Fatalf("%s: ticket %d wide, want %d", prof.Name, w, prof.WidthDots+16)
				}
				if edge := inkRight(tk.Image); edge > int(n)*colW {
					t.Fatalf("%s: ink reaches dot %d, the strip covers %d", prof.Name, edge, int(n)*colW)
				}
			}
		}
	})
}

// inkRight is one past the rightmost inked dot of the paper.
func inkRight(img *image.Gray) int {
	right := 0
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 8; x < img.Rect.Dx()-8; x++ {
			if img.GrayAt(x, y).Y == 0 && x-8+1 > right {
				right = x - 8 + 1
			}
		}
	}
	return right
}
