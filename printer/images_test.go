package printer_test

import (
	"context"
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
)

// sentUnsupported lists the commands of data that a printer of profile p
// does not have, by the capability data: pictures in a form it lacks, a QR
// code without a QR encoder, cuts without a cutter, missing code pages,
// commands the parser does not know.
func sentUnsupported(p profiles.Profile, data []byte) []string {
	var bad []string
	for _, c := range escpos.Parse(data) {
		if !c.Known {
			bad = append(bad, fmt.Sprintf("byte %d: unknown %s", c.Offset, c.Name))
		} else if why := emulator.Unsupported(p, c); why != "" {
			bad = append(bad, fmt.Sprintf("byte %d: %s", c.Offset, why))
		}
	}
	return bad
}

// Every model of the capability data gets only commands it has, for a
// ticket in every language in both modes (with a logo) and for the test
// page; and a model that prints pictures in any form gets every part of
// the ticket: nothing is left out, and its QR code scans.
func TestEveryModelGetsOnlyWhatItPrints(t *testing.T) {
	t.Parallel()
	logo := image.NewGray(image.Rect(0, 0, 120, 40))
	for i := range logo.Pix {
		logo.Pix[i] = uint8(i % 251)
	}
	models := profiles.Models()
	if len(models) < 40 {
		t.Fatalf("only %d models in the capability data", len(models))
	}
	forms := map[profiles.ImageForm]int{}
	for _, key := range models {
		prof := lookup(t, key)
		forms[prof.Images()]++
		t.Run(key, func(t *testing.T) {
			for _, mode := range []printer.Mode{printer.TextMode, printer.RasterMode} {
				enc := printer.NewEncoder(prof, mode)
				page, err := enc.TestPage(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
				if err != nil {
					t.Fatalf("%s test page: %v", mode, err)
				}
				if bad := sentUnsupported(prof, page.Bytes); len(bad) > 0 {
					t.Errorf("%s test page: %d commands the model lacks, first %s", mode, len(bad), bad[0])
				}
				for _, lang := range i18n.Languages {
					tk := exampleTicket(lang)
					tk.Logo = logo
					out, err := enc.Ticket(tk)
					if err != nil {
						t.Fatalf("%s %s ticket: %v", mode, lang, err)
					}
					if bad := sentUnsupported(prof, out.Bytes); len(bad) > 0 {
						t.Errorf("%s %s ticket: %d commands the model lacks, first %s", mode, lang, len(bad), bad[0])
					}
					for _, l := range out.Lines {
						if l.Omitted && prof.Images() != profiles.NoImages {
							t.Errorf("%s %s ticket: %q left out, on a printer with %s", mode, lang, l.Text, prof.Images())
						}
					}
				}
			}
			if prof.Images() == profiles.NoImages {
				return
			}
			// What the emulator of this model prints: no warning, and a QR
			// code a phone reads.
			tk := exampleTicket("uk")
			_, got := printThrough(t, prof, printer.TextMode, tk)
			for _, w := range got.Warnings {
				t.Errorf("emulator warning: %s", w)
			}
			if qr := decodeQR(t, got.Image); qr != tk.QRURL {
				t.Errorf("QR reads %q, want %q", qr, tk.QRURL)
			}
		})
	}
	// The data holds each case this test is for.
	for _, f := range []profiles.ImageForm{profiles.RasterImage, profiles.ColumnImage, profiles.NoImages} {
		if forms[f] == 0 {
			t.Errorf("no model of the capability data takes %s", f)
		}
	}
}

// A model without raster images prints the whole ticket in ESC * column
// strips: in 24-dot double density on a thermal printer that has it (the
// Wincor Nixdorf TH230), in 8-dot double density on a dot-matrix one (the
// Epson TM-U220). Ukrainian needs drawn lines on both.
func TestColumnImageTickets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		model   string
		density byte // the ESC * m every strip must use
	}{
		{"TH230", 33},
		{"TM-U220", 1},
	} {
		t.Run(tt.model, func(t *testing.T) {
			prof := lookup(t, tt.model)
			if prof.Images() != profiles.ColumnImage {
				t.Fatalf("%s takes %s, want column images", tt.model, prof.Images())
			}
			tk := exampleTicket("uk")
			enc, got := printThrough(t, prof, printer.TextMode, tk)
			if enc.RasterLines() == 0 {
				t.Fatal("no line drawn: the test needs a language the printer's code pages lack")
			}
			strips := 0
			for _, c := range escpos.Parse(enc.Bytes) {
				switch c.Name {
				case "GS v 0", "GS ( L":
					t.Errorf("byte %d: %s sent to a printer without it", c.Offset, c.Name)
				case "ESC *":
					strips++
					if c.Bytes[2] != tt.density {
						t.Errorf("byte %d: ESC * %d, want %d", c.Offset, c.Bytes[2], tt.density)
					}
				}
			}
			if strips == 0 || got.Rasters != strips {
				t.Errorf("%d ESC * strips sent, %d printed", strips, got.Rasters)
			}
			for _, w := range got.Warnings {
				t.Errorf("emulator warning: %s", w)
			}
			for _, want := range []string{tk.Ahead, tk.Issued} {
				if !strings.Contains(flat(got.Text()), flat(want)) && !slices.ContainsFunc(enc.Lines, func(l printer.LineReport) bool { return l.Raster && strings.HasPrefix(flat(want), flat(l.Text)) }) {
					t.Errorf("%q neither printed as text nor drawn", want)
				}
			}
			if qr := decodeQR(t, got.Image); qr != tk.QRURL {
				t.Errorf("QR reads %q, want %q", qr, tk.QRURL)
			}
			checkGolden(t, filepath.Join("testdata", "golden", fmt.Sprintf("ticket-columns-%s-uk.png", strings.ToLower(tt.model))), got.Image)
		})
	}
}

// Column strips touch: a black picture sent as strips prints as one
// black block, with no white row between strips and no row added.
func TestColumnStripsTouch(t *testing.T) {
	t.Parallel()
	for _, model := range []string{"TH230", "TM-U220"} {
		prof := lookup(t, model)
		logo := image.NewGray(image.Rect(0, 0, 96, 72)) // all black: three strips
		tk := printer.Ticket{Number: "1", Logo: logo}
		_, got := printThrough(t, prof, printer.TextMode, tk)
		box := inkBounds(got.Image.SubImage(image.Rect(0, 0, got.Image.Rect.Dx(), 16+72+4)).(*image.Gray))
		if box.Dy() != 72 {
			t.Errorf("%s: 72 rows of black printed %d rows high (%v)", model, box.Dy(), box)
			continue
		}
		for y := box.Min.Y; y < box.Max.Y; y++ {
			if got.Image.GrayAt(box.Min.X+box.Dx()/2, y).Y != 0 {
				t.Errorf("%s: white row %d inside the black picture", model, y-box.Min.Y)
				break
			}
		}
	}
}

// At start-up a kiosk learns what its printer model cannot print: nothing
// for a model that takes pictures in some form; for one that takes none,
// the QR code (unless it has its own QR encoder), the logo, and the
// languages its code pages cannot carry, by the model's name.
func TestCheck(t *testing.T) {
	t.Parallel()
	noPictures := func(name string) profiles.Profile {
		p := lookup(t, name)
		p.RasterImages, p.ColumnImages, p.Graphics = false, false, false
		return p
	}
	for _, tt := range []struct {
		name    string
		prof    profiles.Profile
		mode    printer.Mode
		logo    bool
		wantErr []string // nil: no shortfall
	}{
		{"tm-t20ii", lookup(t, "tm-t20ii"), printer.RasterMode, true, nil},
		{"th230 columns", lookup(t, "TH230"), printer.TextMode, true, nil},
		{"tm-u220 8-dot columns", lookup(t, "TM-U220"), printer.TextMode, false, nil},
		{"customer display with code pages", lookup(t, "OCD-300"), printer.TextMode, false,
			[]string{"ocd-300", "Aures", "prints no pictures", "QR code"}},
		{"customer display with none we know", lookup(t, "AF-240"), printer.TextMode, false,
			[]string{"af-240", "Oxhoo", "QR code", "pl, en, lt, ru, uk"}},
		{"native QR, every code page", noPictures("tm-t20ii"), printer.TextMode, false, nil},
		{"native QR, a logo", noPictures("tm-t20ii"), printer.TextMode, true, []string{"tm-t20ii", "logo"}},
		{"raster mode asked", noPictures("tm-t20ii"), printer.RasterMode, false, []string{"raster mode"}},
		{"no QR encoder, no Ukrainian page", noPictures("zj-5870"), printer.TextMode, false, []string{"zj-5870", "QR code", "lt, uk"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := printer.Check(tt.prof, tt.mode, i18n.Languages, tt.logo)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Check: %v, want none", err)
				}
				return
			}
			var sf *printer.Shortfall
			if !errors.As(err, &sf) {
				t.Fatalf("Check = %v, want a *Shortfall", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not say %q", err, want)
				}
			}
		})
	}
	// Only the office's languages count.
	if err := printer.Check(noPictures("zj-5870"), printer.TextMode, []string{"pl", "ru"}, false); err == nil || strings.Contains(err.Error(), "uk") {
		t.Errorf("Check for pl and ru: %v", err)
	}
}

// A column-image ticket reaches a slow printer with a 4 KB buffer on a
// fast serial line (the emulator on a pty) without losing a byte, and
// prints dot for dot what the encoder drew: the pacer knows that each
// strip's line feed moves the paper 24 dots.
func TestPacedColumnTicket(t *testing.T) {
	t.Parallel()
	prof := lookup(t, "TH230")
	tk := exampleTicket("uk")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	emu := newEmulator(t, emulator.Config{Profile: prof, BaudRate: 115200, BufferBytes: 4096, PrintSpeedMM: 40, CutTime: 300 * time.Millisecond})
	pty, err := emu.ServePTY(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pty.Close()
	pr := open(t, "serial://"+pty.Path+"?baud=115200", prof, printer.Options{StatusTimeout: 10 * time.Second}) // generous: the answer is not what is tested, and a loaded machine is slow
	st, err := pr.Print(ctx, tk)
	if err != nil || !st.Ready() {
		t.Fatalf("Print: %v, %v", st, err)
	}
	if stats := emu.Stats(); stats.Dropped != 0 {
		t.Fatalf("%d of %d bytes lost", stats.Dropped, stats.Received)
	}
	got := waitTickets(t, emu, 1)[0]
	for _, w := range got.Warnings {
		t.Errorf("emulator warning: %s", w)
	}
	_, want := printThrough(t, prof, printer.TextMode, tk)
	if !slices.Equal(got.Image.Pix, want.Image.Pix) || got.Image.Rect != want.Image.Rect {
		t.Error("ticket printed over the serial line differs from the ticket drawn in-process")
	}
}

// A model with GS ( L graphics but neither raster nor column images (none
// in the capability data today, so the TM-T20II stands in for one) gets
// the same pictures as GS ( L bands: dot for dot the ticket the raster
// images print, paced by the same heights.
func TestGraphicsOnlyModel(t *testing.T) {
	t.Parallel()
	rasterProf := lookup(t, "tm-t20ii")
	prof := rasterProf
	prof.RasterImages, prof.ColumnImages = false, false
	if prof.Images() != profiles.GraphicsImage {
		t.Fatalf("takes %s, want graphics", prof.Images())
	}
	for _, mode := range []printer.Mode{printer.TextMode, printer.RasterMode} {
		tk := exampleTicket("uk")
		enc, got := printThrough(t, prof, mode, tk)
		_, want := printThrough(t, rasterProf, mode, tk)
		if bad := sentUnsupported(prof, enc.Bytes); len(bad) > 0 {
			t.Errorf("%s: %d commands the model lacks, first %s", mode, len(bad), bad[0])
		}
		for _, w := range got.Warnings {
			t.Errorf("%s: emulator warning: %s", mode, w)
		}
		if got.Rasters == 0 || !slices.Equal(got.Image.Pix, want.Image.Pix) || got.Image.Rect != want.Image.Rect {
			t.Errorf("%s: %d GS ( L pictures; the ticket differs from the one printed with GS v 0", mode, got.Rasters)
		}
		var graphicsDots, rasterDots int
		var gf, rf escpos.Feeds
		for _, c := range escpos.Parse(enc.Bytes) {
			d, _ := gf.Motion(c)
			graphicsDots += d
		}
		rEnc, _ := printer.NewEncoder(rasterProf, mode).Ticket(tk)
		for _, c := range escpos.Parse(rEnc.Bytes) {
			d, _ := rf.Motion(c)
			rasterDots += d
		}
		if graphicsDots != rasterDots {
			t.Errorf("%s: pacing counts %d dots of paper for GS ( L, %d for GS v 0", mode, graphicsDots, rasterDots)
		}
	}
}
