package raster

import (
	"flag"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

var _ = flag.Bool("update", false, "accepted so `go test ./printer/... -update` runs here too")

func blackDots(b *Bitmap) int {
	n := 0
	for y := 0; y < b.H; y++ {
		for x := 0; x < b.W; x++ {
			if b.At(x, y) {
				n++
			}
		}
	}
	return n
}

// A grey logo keeps its shade: dithering turns 25 %, 50 % and 75 % grey
// into about that share of black dots, scaled to the width asked.
func TestFromImageDithers(t *testing.T) {
	for _, share := range []float64{0.25, 0.5, 0.75} {
		img := image.NewGray(image.Rect(0, 0, 200, 100))
		for i := range img.Pix {
			img.Pix[i] = uint8(255 * (1 - share))
		}
		b := FromImage(img, 100)
		if b.W != 100 || b.H != 50 {
			t.Fatalf("scaled to %dx%d, want 100x50", b.W, b.H)
		}
		got := float64(blackDots(b)) / float64(b.W*b.H)
		if got < share-0.05 || got > share+0.05 {
			t.Errorf("%.0f%% grey gives %.1f%% black dots", share*100, got*100)
		}
	}
	transparent := image.NewNRGBA(image.Rect(0, 0, 10, 10))
	transparent.Set(0, 0, color.NRGBA{0, 0, 0, 0})
	if n := blackDots(FromImage(transparent, 0)); n != 0 {
		t.Errorf("transparent image printed %d dots", n)
	}
}

func TestWrap(t *testing.T) {
	f := NewFonts()
	lines := f.Wrap(Regular, 24, "Przed Tobą czeka jeszcze kilka osób w kolejce do okienka", 200)
	if len(lines) < 2 {
		t.Fatalf("not wrapped: %q", lines)
	}
	for _, l := range lines {
		if w := f.Width(Regular, 24, l); w > 200 {
			t.Errorf("line %q is %d dots, over 200", l, w)
		}
	}
	if strings.Join(lines, " ") != "Przed Tobą czeka jeszcze kilka osób w kolejce do okienka" {
		t.Errorf("words lost or changed: %q", lines)
	}
	long := WrapFunc("Konstantynopolitańczykowianeczka", func(s string) bool { return len([]rune(s)) <= 10 })
	if len(long) != 4 || long[0] != "Konstantyn" {
		t.Errorf("a word longer than the line: %q", long)
	}
	if got := WrapFunc("15\u00a0min ok", func(s string) bool { return len([]rune(s)) <= 6 }); got[0] != "15\u00a0min" {
		t.Errorf("no-break space broken: %q", got)
	}
}

// Letters of every ticket language come out as ink, not as empty boxes.
func TestGlyphsCovered(t *testing.T) {
	f := NewFonts()
	for _, r := range "ĄąĘęŁłŃńŚśŹźŻżĖėĮįŲųŪūČčŠšŽžЁёЖжЩщЫыЭэЮюЯяҐґЄєІіЇї" {
		for _, st := range []Style{Regular, Bold, Mono, MonoBold} {
			if blackDots(f.Cell(st, 20, r, 12, 24, f.Baseline(st, 20))) == 0 {
				t.Errorf("%q in style %d draws nothing", r, st)
			}
		}
	}
}

func TestQRReadsBack(t *testing.T) {
	const url = "https://kolejka.krakow.pl/e/A123-7F3K9Q"
	b, err := QR([]byte(url), QRMedium, 4)
	if err != nil {
		t.Fatal(err)
	}
	framed := New(b.W+64, b.H+64)
	framed.Draw(b, 32, 32)
	bmp, err := gozxing.NewBinaryBitmapFromImage(framed.Image())
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil || res.GetText() != url {
		t.Fatalf("QR reads %v, %v", res, err)
	}
	if _, err := QR(nil, QRLow, 4); err == nil {
		t.Error("empty QR accepted")
	}
}

func TestScaleAndDraw(t *testing.T) {
	b := New(3, 2)
	b.Set(1, 0, true)
	s := b.Scale(2, 3)
	if s.W != 6 || s.H != 6 || blackDots(s) != 6 || !s.At(2, 0) || !s.At(3, 2) || s.At(4, 0) {
		t.Errorf("Scale wrong: %dx%d, %d dots", s.W, s.H, blackDots(s))
	}
	dst := New(20, 10)
	dst.Draw(s, 5, 3)
	if !dst.At(7, 3) || blackDots(dst) != 6 {
		t.Errorf("Draw at an odd offset lost dots")
	}
	if r := dst.InkBounds(); r != image.Rect(7, 3, 9, 6) {
		t.Errorf("InkBounds = %v", r)
	}
}
