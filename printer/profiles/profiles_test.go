package profiles

import (
	"flag"
	"slices"
	"testing"
)

var _ = flag.Bool("update", false, "accepted so `go test ./printer/... -update` runs here too")

// The named profiles carry the facts of the capability data the kiosk
// relies on.
func TestNamedProfiles(t *testing.T) {
	tests := []struct {
		name        string
		width       int
		paper       int
		nativeQR    bool
		cutter      bool
		chinese     bool
		page        string
		pageNumber  int
		lacksPageOf string
	}{
		{"tm-t20ii", 576, 80, true, true, false, "CP852", 18, ""},
		{"tm-t20ii", 576, 80, true, true, false, "CP1257", 51, ""},
		{"tm-t88v", 512, 80, true, true, false, "CP1251", 46, ""},
		{"tm-t88iv", 512, 80, true, true, false, "CP866", 17, "CP1257"},
		{"generic-80", 576, 80, true, true, true, "CP1250", 72, ""},
		{"generic-58", 384, 58, false, false, true, "CP1251", 73, ""},
		{"zj-5870", 384, 58, false, false, true, "CP866", 17, "CP1251"},
	}
	for _, tt := range tests {
		p, err := Lookup(tt.name)
		if err != nil {
			t.Errorf("Lookup(%s): %v", tt.name, err)
			continue
		}
		if p.WidthDots != tt.width || p.PaperMM != tt.paper {
			t.Errorf("%s: %d dots on %d mm, want %d on %d", tt.name, p.WidthDots, p.PaperMM, tt.width, tt.paper)
		}
		if p.NativeQR != tt.nativeQR || (p.PartialCut || p.FullCut) != tt.cutter || p.StartsInChineseMode != tt.chinese {
			t.Errorf("%s: QR %v cutter %v chinese %v, want %v %v %v", tt.name, p.NativeQR, p.PartialCut || p.FullCut, p.StartsInChineseMode, tt.nativeQR, tt.cutter, tt.chinese)
		}
		if n, ok := p.PageNumber(tt.page); !ok || n != tt.pageNumber {
			t.Errorf("%s: %s is ESC t %d (%v), want %d", tt.name, tt.page, n, ok, tt.pageNumber)
		}
		if tt.lacksPageOf != "" {
			if _, ok := p.PageNumber(tt.lacksPageOf); ok {
				t.Errorf("%s claims %s", tt.name, tt.lacksPageOf)
			}
		}
		if p.BufferBytes <= 0 || p.DotLinesPerSecond() <= 0 {
			t.Errorf("%s: no pacing assumptions (buffer %d, %f lines/s)", tt.name, p.BufferBytes, p.DotLinesPerSecond())
		}
	}
	if len(All()) != len(Names()) {
		t.Error("All and Names disagree")
	}
}

func TestLookupByAliasAndDataKey(t *testing.T) {
	for alias, want := range map[string]string{"TM-T20": "tm-t20ii", "pos-58": "generic-58", "": Default, " TM-T88 ": "tm-t88v"} {
		p, err := Lookup(alias)
		if err != nil || p.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", alias, p.Name, err, want)
		}
	}
	p, err := Lookup("TM-T88III")
	if err != nil || p.WidthDots != 512 {
		t.Errorf("Lookup of a data key: %+v, %v", p, err)
	}
	if _, err := Lookup("no-such-printer"); err == nil {
		t.Error("unknown profile accepted")
	}
	if _, err := Lookup("default"); err == nil {
		t.Error("a model without a paper width accepted")
	}
}

// The picture commands come from the data's feature flags: most models
// take raster images, the Wincor Nixdorf TH230 only column images (24-dot),
// the Epson TM-U220 dot-matrix printer only 8-dot column images, customer
// displays none.
func TestImageForms(t *testing.T) {
	for _, tt := range []struct {
		model string
		form  ImageForm
		dense bool
	}{
		{"tm-t20ii", RasterImage, true},
		{"generic-58", RasterImage, true},
		{"TH230", ColumnImage, true},
		{"TH230Plus", ColumnImage, true},
		{"TM-U220", ColumnImage, false},
		{"OCD-300", NoImages, false},
		{"AF-240", NoImages, false},
	} {
		p, err := Lookup(tt.model)
		if err != nil {
			t.Fatal(err)
		}
		if p.Images() != tt.form || p.HighDensity != tt.dense {
			t.Errorf("%s: %s, high density %v; want %s, %v", tt.model, p.Images(), p.HighDensity, tt.form, tt.dense)
		}
	}
	models := Models()
	if !slices.Contains(models, "TH230") || slices.Contains(models, "default") || !slices.IsSorted(models) {
		t.Errorf("Models() = %v: want the usable keys, sorted, TH230 among them and not default (no width)", models)
	}
}
