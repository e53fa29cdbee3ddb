// Package profiles describes the ESC/POS printers Numerek can drive: paper
// width in dots, which ESC t number selects which code page, whether the
// printer has native QR codes and a cutter, and in which form it prints
// pictures, if at all.
//
// The facts come from the escpos-printer-db capability data (CC BY 4.0, by
// the receipt-print-hq contributors; see README.md and LICENSE.md beside this
// file), embedded unchanged. Numerek names a few profiles it supports
// (Lookup "tm-t20ii", "tm-t88v", "generic-80", "generic-58", ...); any other
// model of the data can be chosen by its key there ("TM-T88IV") when the
// data gives its paper width.
package profiles

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

// Credit is the attribution the capability data's licence asks for.
const Credit = "Printer profiles derived from escpos-printer-db by receipt-print-hq (CC BY 4.0)"

//go:embed capabilities.json
var capabilitiesJSON []byte

// CodePage is one entry of a printer's ESC t table.
type CodePage struct {
	Number int    // n of ESC t n
	Name   string // as in the capability data: "CP852", "CP1257", "ISO_8859-2"
}

// Profile is what the encoder needs to know about one printer model.
type Profile struct {
	Name    string // Numerek's name for it, e.g. "tm-t20ii"
	Model   string // model name in the capability data
	Vendor  string
	Summary string

	PaperMM   int // nominal roll width: 58 or 80
	WidthDots int // printable width in dots
	DPI       int
	Columns   int // characters per line in font A at normal size

	// CodePages is the printer's ESC t table, ordered by number. Entries the
	// data marks "Unknown" are left out: nothing may be sent in them.
	CodePages []CodePage

	NativeQR   bool // understands GS ( k QR commands
	PartialCut bool
	FullCut    bool

	// The picture commands the printer understands, as the capability data
	// lists them. A model may lack any of them: a dot-matrix printer has
	// only column images, a customer display none at all.
	RasterImages bool // GS v 0 (feature bitImageRaster)
	ColumnImages bool // ESC * (bitImageColumn)
	Graphics     bool // GS ( L store and print (graphics)
	// HighDensity marks printers that take 24-dot column images (ESC * 32
	// and 33); the others only 8-dot ones.
	HighDensity bool

	// StartsInChineseMode marks printers sold with double-byte (GB18030)
	// character mode on; FS . must turn it off before single-byte text.
	StartsInChineseMode bool

	// BufferBytes and PrintSpeedMM are assumptions used to pace writes; they
	// are on the safe side of what such printers have.
	BufferBytes  int
	PrintSpeedMM int
}

// DotLinesPerSecond is how many raster lines the printer is assumed to
// print each second.
func (p Profile) DotLinesPerSecond() float64 {
	return float64(p.PrintSpeedMM) * float64(p.DPI) / 25.4
}

// ImageForm is the command a printer is sent pictures in.
type ImageForm int

// The picture commands, in the order Numerek prefers them.
const (
	NoImages      ImageForm = iota // the model prints no picture at all
	RasterImage                    // GS v 0: whole bands of rows, the fewest bytes
	ColumnImage                    // ESC *: 24- or 8-dot-high strips of columns
	GraphicsImage                  // GS ( L: raster data stored, then printed
)

func (f ImageForm) String() string {
	switch f {
	case RasterImage:
		return "raster images (GS v 0)"
	case ColumnImage:
		return "column images (ESC *)"
	case GraphicsImage:
		return "graphics (GS ( L)"
	}
	return "no images"
}

// Images is how pictures go to this printer: raster images where it has
// them, else column images, else GS ( L graphics, else not at all.
func (p Profile) Images() ImageForm {
	switch {
	case p.RasterImages:
		return RasterImage
	case p.ColumnImages:
		return ColumnImage
	case p.Graphics:
		return GraphicsImage
	}
	return NoImages
}

// PageNumber returns the ESC t number of the named code page. When a page
// appears under several numbers the lowest is used.
func (p Profile) PageNumber(name string) (int, bool) {
	for _, cp := range p.CodePages {
		if cp.Name == name {
			return cp.Number, true
		}
	}
	return 0, false
}

// PageName returns the code page ESC t n selects on this printer.
func (p Profile) PageName(n int) (string, bool) {
	for _, cp := range p.CodePages {
		if cp.Number == n {
			return cp.Name, true
		}
	}
	return "", false
}

// named are the profiles Numerek supports by name.
var named = []struct {
	name, source, summary string
	aliases               []string
	chinese               bool
	columns               int // overrides odd values in the data
	bufferBytes, speedMM  int
}{
	{name: "tm-t20ii", source: "TM-T20II", summary: "Epson TM-T20II, 80 mm, 203 dpi, cutter, native QR", aliases: []string{"tm-t20", "epson-tm-t20ii"}, bufferBytes: 4096, speedMM: 100},
	{name: "tm-t20iii", source: "TM-T20III", summary: "Epson TM-T20III, 80 mm, 203 dpi, cutter, native QR", aliases: []string{"epson-tm-t20iii"}, bufferBytes: 4096, speedMM: 100},
	{name: "tm-t88v", source: "TM-T88V", summary: "Epson TM-T88V, 80 mm, 180 dpi, cutter, native QR", aliases: []string{"tm-t88", "epson-tm-t88v"}, bufferBytes: 4096, speedMM: 150},
	{name: "tm-t88iv", source: "TM-T88IV", summary: "Epson TM-T88IV, 80 mm, 180 dpi, few code pages", aliases: []string{"epson-tm-t88iv"}, bufferBytes: 4096, speedMM: 150},
	{name: "generic-80", source: "NT-80-V-UL", summary: "generic Chinese 80 mm printer (POS-80 family), cutter, native QR", aliases: []string{"pos-80"}, chinese: true, columns: 48, bufferBytes: 4096, speedMM: 60},
	{name: "generic-58", source: "POS-5890", summary: "generic Chinese 58 mm printer (POS-5890 family), no cutter, no native QR", aliases: []string{"pos-58", "pos-5890"}, chinese: true, bufferBytes: 4096, speedMM: 40},
	{name: "zj-5870", source: "ZJ-5870", summary: "Zjiang ZJ-5870, 58 mm, only CP437/850/852/866 and a few more", aliases: []string{"zjiang-5870"}, chinese: true, bufferBytes: 4096, speedMM: 40},
}

// Default is the profile used when none is named.
const Default = "tm-t20ii"

// Names lists Numerek's named profiles in order.
func Names() []string {
	out := make([]string, len(named))
	for i, n := range named {
		out[i] = n.name
	}
	return out
}

// All returns Numerek's named profiles in order.
func All() []Profile {
	out := make([]Profile, 0, len(named))
	for _, n := range named {
		p, err := Lookup(n.name)
		if err != nil {
			panic(err) // the embedded data is fixed; TestNamedProfiles guards it
		}
		out = append(out, p)
	}
	return out
}

// Lookup returns the profile with that name or alias (case does not
// matter), or a profile built from the capability data entry with that key.
func Lookup(name string) (Profile, error) {
	db, err := database()
	if err != nil {
		return Profile{}, err
	}
	key := strings.ToLower(strings.TrimSpace(name))
	if key == "" {
		key = Default
	}
	for _, n := range named {
		if n.name == key || contains(n.aliases, key) {
			p, err := build(db, n.source)
			if err != nil {
				return Profile{}, err
			}
			p.Name, p.Summary, p.StartsInChineseMode = n.name, n.summary, n.chinese
			p.BufferBytes, p.PrintSpeedMM = n.bufferBytes, n.speedMM
			if n.columns > 0 {
				p.Columns = n.columns
			}
			return p, nil
		}
	}
	for src := range db.Profiles {
		if strings.ToLower(src) == key {
			return build(db, src)
		}
	}
	return Profile{}, fmt.Errorf("unknown printer profile %q (known: %s, or a model key of the capability data)", name, strings.Join(Names(), ", "))
}

// Models lists the keys of every model in the capability data that
// Lookup accepts (the ones whose paper width the data gives), sorted.
func Models() []string {
	db, err := database()
	if err != nil {
		return nil
	}
	var out []string
	for key := range db.Profiles {
		if _, err := build(db, key); err == nil {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

type dbFile struct {
	Profiles map[string]dbProfile `json:"profiles"`
}

type dbProfile struct {
	Name      string            `json:"name"`
	Vendor    string            `json:"vendor"`
	Notes     string            `json:"notes"`
	CodePages map[string]string `json:"codePages"`
	Features  map[string]bool   `json:"features"`
	Fonts     map[string]struct {
		Columns int `json:"columns"`
	} `json:"fonts"`
	Media struct {
		DPI   any `json:"dpi"`
		Width struct {
			MM     any `json:"mm"`
			Pixels any `json:"pixels"`
		} `json:"width"`
	} `json:"media"`
}

var database = sync.OnceValues(func() (*dbFile, error) {
	var db dbFile
	if err := json.Unmarshal(capabilitiesJSON, &db); err != nil {
		return nil, fmt.Errorf("reading embedded printer capability data: %w", err)
	}
	return &db, nil
})

func number(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok && f > 0
}

func build(db *dbFile, src string) (Profile, error) {
	d, ok := db.Profiles[src]
	if !ok {
		return Profile{}, fmt.Errorf("printer capability data has no model %q", src)
	}
	width, ok := number(d.Media.Width.Pixels)
	if !ok {
		return Profile{}, fmt.Errorf("printer model %q: the capability data does not give its paper width in dots, so it cannot be used", src)
	}
	p := Profile{
		Name: strings.ToLower(src), Model: d.Name, Vendor: d.Vendor,
		Summary:   strings.TrimSpace(strings.SplitN(d.Notes, "\n", 2)[0]),
		WidthDots: int(width), DPI: 203, PaperMM: 80,
		NativeQR:   d.Features["qrCode"],
		PartialCut: d.Features["paperPartCut"],
		FullCut:    d.Features["paperFullCut"],

		RasterImages: d.Features["bitImageRaster"],
		ColumnImages: d.Features["bitImageColumn"],
		Graphics:     d.Features["graphics"],
		HighDensity:  d.Features["highDensity"],
		// Unnamed models: assume the small buffer and slow speed of a
		// cheap printer, so pacing errs on the safe side.
		BufferBytes: 4096, PrintSpeedMM: 40,
	}
	if dpi, ok := number(d.Media.DPI); ok {
		p.DPI = int(dpi)
	}
	if mm, ok := number(d.Media.Width.MM); ok && mm < 60 || width <= 432 {
		p.PaperMM = 58
	}
	if f, ok := d.Fonts["0"]; ok && f.Columns > 0 {
		p.Columns = f.Columns
	} else {
		p.Columns = int(math.Round(width / 12))
	}
	for k, name := range d.CodePages {
		var n int
		if _, err := fmt.Sscanf(k, "%d", &n); err != nil || name == "Unknown" || n < 0 || n > 255 {
			continue
		}
		p.CodePages = append(p.CodePages, CodePage{Number: n, Name: name})
	}
	sort.Slice(p.CodePages, func(i, j int) bool { return p.CodePages[i].Number < p.CodePages[j].Number })
	return p, nil
}
