package printer_test

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/printer/ticketfmt"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// profileFor is the printer each paper width is tested on: an Epson for
// 80 mm, a generic Chinese printer for 58 mm.
func profileFor(t testing.TB, widthMM int) profiles.Profile {
	t.Helper()
	name := "tm-t20ii"
	if widthMM == 58 {
		name = "generic-58"
	}
	p, err := profiles.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// printThrough encodes tk for p and prints it on an ideal emulated printer
// of the same profile, returning the one ticket it printed.
func printThrough(t testing.TB, p profiles.Profile, mode printer.Mode, tk printer.Ticket) (printer.Encoded, emulator.Ticket) {
	t.Helper()
	enc, err := printer.NewEncoder(p, mode).Ticket(tk)
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Config{Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	emu.Receive(nil, enc.Bytes, time.Now())
	emu.Flush()
	got := emu.Tickets()
	if len(got) != 1 {
		t.Fatalf("emulator printed %d tickets, want 1", len(got))
	}
	return enc, got[0]
}

// The example ticket in every language at both widths, printed through the
// emulator, matches the reviewed picture in testdata/golden, prints no
// warning, says what the ticket says, and has a QR code a phone can read.
func TestGoldenTickets(t *testing.T) {
	t.Parallel()
	cat := i18n.Messages()
	for _, lang := range i18n.Languages {
		for _, width := range []int{58, 80} {
			t.Run(fmt.Sprintf("%s-%d", lang, width), func(t *testing.T) {
				p := profileFor(t, width)
				in := ticketfmt.Example(lang)
				tk := ticketfmt.Compose(cat, in)
				_, got := printThrough(t, p, printer.TextMode, tk)
				for _, w := range got.Warnings {
					t.Errorf("emulator warning: %s", w)
				}
				text := got.Text()
				for _, want := range []string{tk.Office, tk.Number, tk.Ahead, tk.Issued, tk.QRCaption} {
					if !strings.Contains(flat(text), flat(want)) {
						t.Errorf("printed text lacks %q; it reads:\n%s", want, text)
					}
				}
				checkGolden(t, filepath.Join("testdata", "golden", fmt.Sprintf("ticket-%s-%d.png", lang, width)), got.Image)
				if qr := decodeQR(t, got.Image); qr != in.ETicketURL {
					t.Errorf("QR code reads %q, want %q", qr, in.ETicketURL)
				}
			})
		}
	}
}

// decodeQR reads the QR code in img as a phone would.
func decodeQR(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("preparing image for the QR reader: %v", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no readable QR code in the ticket: %v", err)
	}
	return res.GetText()
}

// checkGolden compares img with the PNG at path, dot for dot; -update
// writes img there instead.
func checkGolden(t *testing.T, path string, img *image.Gray) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("golden file missing (run go test ./printer/... -update and review it): %v", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if want.Bounds() != img.Bounds() {
		t.Fatalf("ticket is %v, golden %s is %v", img.Bounds().Size(), path, want.Bounds().Size())
	}
	diff := 0
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			r, _, _, _ := want.At(x, y).RGBA()
			if uint8(r>>8) != img.GrayAt(x, y).Y {
				diff++
			}
		}
	}
	if diff > 0 {
		out := filepath.Join(t.TempDir(), filepath.Base(path))
		os.WriteFile(out, buf.Bytes(), 0o644)
		t.Errorf("ticket differs from %s in %d dots; it is written to %s", path, diff, out)
	}
}

// flat is s with every run of white space, no-break spaces included, made
// one plain space: how a reader compares printed text.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }
