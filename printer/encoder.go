package printer

import (
	"fmt"
	"image"
	"slices"
	"strings"
	"unicode"

	"github.com/numerek/numerek/printer/codepage"
	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/printer/raster"
)

// Mode says how text reaches the paper.
type Mode int

const (
	// TextMode sends text in the printer's own font, in a code page the
	// printer has, and draws only the lines no code page can carry. Few
	// bytes: the mode for slow serial lines.
	TextMode Mode = iota
	// RasterMode draws every line with the Go fonts and sends pictures:
	// the same look on every printer, at many more bytes.
	RasterMode
)

func (m Mode) String() string {
	if m == RasterMode {
		return "raster"
	}
	return "text"
}

// ParseMode reads a mode by its name, "text" or "raster" (as in a device
// configuration); "" is text.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "text":
		return TextMode, nil
	case "raster":
		return RasterMode, nil
	}
	return 0, fmt.Errorf("printer mode %q is not text or raster", s)
}

// Printer font geometry: font A is 12 x 24 dots on every ESC/POS printer
// Numerek supports, and lines advance 30 dots by default.
const (
	cellW       = 12
	cellH       = 24
	lineSpacing = 30
)

// pagePreference orders code pages when a line could go in several; the
// national pages come first so a ticket rarely switches.
var pagePreference = []string{
	"CP852", "CP1250", "ISO_8859-2", "CP1257", "CP775", "CP866", "CP1251", "CP1125",
	"CP437", "CP858", "CP850", "CP1252",
}

// Encoder turns tickets and test pages into ESC/POS bytes for one printer
// profile. It keeps font faces between calls, so it is not safe for
// concurrent use; make one per goroutine.
type Encoder struct {
	profile profiles.Profile
	mode    Mode
	fonts   *raster.Fonts
	pages   []pageSlot // the profile's code pages this package can encode
}

type pageSlot struct {
	number int
	page   *codepage.Page
}

// NewEncoder returns an encoder for printers of profile p. A printer that
// prints no pictures gets text mode whatever mode is asked for.
func NewEncoder(p profiles.Profile, mode Mode) *Encoder {
	if p.Images() == profiles.NoImages {
		mode = TextMode
	}
	e := &Encoder{profile: p, mode: mode, fonts: raster.NewFonts()}
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] {
			return
		}
		if n, ok := p.PageNumber(name); ok {
			if pg, ok := codepage.Lookup(name); ok {
				e.pages = append(e.pages, pageSlot{n, pg})
				seen[name] = true
			}
		}
	}
	for _, name := range pagePreference {
		add(name)
	}
	for _, cp := range p.CodePages {
		add(cp.Name)
	}
	return e
}

// Profile is the printer profile the encoder writes for.
func (e *Encoder) Profile() profiles.Profile { return e.profile }

// Mode is how the encoder sends text: the mode asked for, or TextMode on
// a printer that prints no pictures.
func (e *Encoder) Mode() Mode { return e.mode }

// LineReport tells how one printed line was sent: as text in a code page,
// or as a picture because no code page of the printer has all its letters,
// or not at all because it had to be a picture and the printer prints
// none.
type LineReport struct {
	Text     string
	CodePage string // "" when drawn; "native QR" for the printer's own QR code
	Raster   bool
	QR       bool // the QR code, Text being "[QR data]"
	Omitted  bool // left off the paper: it needs a picture the printer cannot print
}

// style is how a block of text is printed.
type style struct {
	size    int // 1-8, width and height alike
	bold    bool
	align   escpos.Align
	reverse bool
	small   bool // font B in text mode, a smaller face in raster mode
}

// doc accumulates one print job.
type doc struct {
	e       *Encoder
	b       escpos.Builder
	width   int // printable dots
	page    int // selected ESC t number, -1 before any
	cur     style
	lines   []LineReport
	started bool
}

func (e *Encoder) newDoc(width int) *doc {
	d := &doc{e: e, width: width, page: -1}
	d.b.Init()
	if e.profile.StartsInChineseMode {
		d.b.CancelChineseMode()
	}
	d.b.InternationalUSA()
	if e.smoothing() {
		d.b.Raw(escpos.GS, 'b', 1)
	}
	if width < e.profile.WidthDots {
		// Narrow paper in a wide printer: the printer centres text and
		// QR codes within the print area, so it must know its width.
		d.b.PrintAreaWidth(width)
	}
	d.cur = style{size: 1, align: escpos.Left}
	return d
}

// smoothing reports whether the printer smooths enlarged characters
// (GS b), an Epson command other makers may print as junk.
func (e *Encoder) smoothing() bool { return e.profile.Vendor == "Epson" }

// columns is how many characters of size fit on a line.
func (d *doc) columns(st style) int {
	w := cellW
	if st.small {
		w = 9
	}
	cols := d.width / (w * st.size)
	if st.size > 1 && cols > 8 {
		cols-- // large type edge to edge looks cramped: keep a margin
	}
	return cols
}

// text prints s, wrapped, in style st.
func (d *doc) text(s string, st style) {
	s = clean(s)
	if s == "" {
		return
	}
	for _, line := range d.wrap(s, st) {
		d.line(line, st)
	}
}

func (d *doc) wrap(s string, st style) []string {
	if d.e.mode == RasterMode {
		face, px := d.rasterFace(st)
		return d.e.fonts.Wrap(face, px, s, d.width-2*rasterMargin)
	}
	cols := d.columns(st)
	return raster.WrapFunc(s, func(l string) bool { return len([]rune(l)) <= cols })
}

// line prints one line that already fits.
func (d *doc) line(s string, st style) {
	if d.e.mode == TextMode {
		if slot, ok := d.pageFor(s); ok {
			d.setStyle(st)
			if d.page != slot.number {
				d.b.CodePage(byte(slot.number))
				d.page = slot.number
			}
			if st.reverse {
				// A space each side makes the black bar frame the words.
				d.b.Text([]byte{' '})
			}
			enc, _ := slot.page.Encode(nil, s)
			d.b.Text(enc)
			if st.reverse {
				d.b.Text([]byte{' '})
			}
			d.b.LF()
			d.lines = append(d.lines, LineReport{Text: s, CodePage: slot.page.Name()})
			return
		}
	}
	if !d.drawable() {
		d.lines = append(d.lines, LineReport{Text: s, Omitted: true})
		return
	}
	d.lines = append(d.lines, LineReport{Text: s, Raster: true})
	d.image(d.drawLine(s, st), st.align)
}

// pageFor picks the code page to send s in: the selected one if it has
// every letter, else the first in order of preference that has.
func (d *doc) pageFor(s string) (pageSlot, bool) {
	i := slices.IndexFunc(d.e.pages, func(p pageSlot) bool { return p.number == d.page })
	if i >= 0 && d.e.pages[i].page.Covers(s) {
		return d.e.pages[i], true
	}
	for _, p := range d.e.pages {
		if p.page.Covers(s) {
			return p, true
		}
	}
	return pageSlot{}, false
}

func (d *doc) setStyle(st style) {
	if !d.started || d.cur.size != st.size {
		d.b.Size(st.size, st.size)
	}
	if !d.started || d.cur.bold != st.bold {
		d.b.Bold(st.bold)
	}
	if !d.started || d.cur.align != st.align {
		d.b.Align(st.align)
	}
	if !d.started || d.cur.reverse != st.reverse {
		d.b.Raw(escpos.GS, 'B', bit(st.reverse))
	}
	if !d.started || d.cur.small != st.small {
		font := 0
		if st.small {
			font = 1
		}
		d.b.Font(font)
	}
	d.cur, d.started = st, true
}

func bit(on bool) byte {
	if on {
		return 1
	}
	return 0
}

// rasterMargin keeps drawn text off the paper's edge in raster mode.
const rasterMargin = 8

func (d *doc) rasterFace(st style) (raster.Style, float64) {
	if d.e.mode == TextMode {
		// Drawn lines in text mode imitate the printer's own font so they
		// sit among the text lines as if printed by it.
		face := raster.Mono
		if st.bold {
			face = raster.MonoBold
		}
		px := 20.0
		if st.small {
			px = 15
		}
		return face, px * float64(st.size)
	}
	face := raster.Regular
	if st.bold {
		face = raster.Bold
	}
	px := 24.0
	if st.small {
		px = 19
	}
	return face, px * float64(st.size)
}

// drawLine draws one line of text as the printer would print it: the full
// paper width, justified, as tall as a text line of that size.
func (d *doc) drawLine(s string, st style) *raster.Bitmap {
	face, px := d.rasterFace(st)
	var glyphs *raster.Bitmap
	h, top := max(lineSpacing, cellH*st.size), 0
	if d.e.mode == TextMode {
		// The cell geometry the emulator gives the printer's own font.
		cw, ch := cellW*st.size, cellH*st.size
		if st.small {
			cw, ch = 9*st.size, 17*st.size
		}
		baseline := d.e.fonts.Baseline(face, px)
		runes := []rune(s)
		glyphs = raster.New(cw*len(runes), ch)
		for i, r := range runes {
			glyphs.Draw(d.e.fonts.Cell(face, px, r, cw, ch, baseline), i*cw, 0)
		}
	} else {
		glyphs = d.e.fonts.Text(face, px, s)
		h, top = glyphs.H+4*st.size, 2*st.size
	}
	if st.reverse {
		glyphs = reversed(glyphs, cellW)
	}
	out := raster.New(d.width, h)
	out.Draw(glyphs, alignX(d.width, glyphs.W, st.align, d.e.mode), top)
	return out
}

// reversed is white text on a black bar, pad dots wider on each side.
func reversed(glyphs *raster.Bitmap, pad int) *raster.Bitmap {
	inv := raster.New(glyphs.W+2*pad, glyphs.H)
	inv.Fill(image.Rect(0, 0, inv.W, inv.H))
	for y := 0; y < glyphs.H; y++ {
		for x := 0; x < glyphs.W; x++ {
			if glyphs.At(x, y) {
				inv.Set(x+pad, y, false)
			}
		}
	}
	return inv
}

func alignX(width, w int, a escpos.Align, mode Mode) int {
	margin := 0
	if mode == RasterMode {
		margin = rasterMargin
	}
	switch a {
	case escpos.Center:
		return max(0, (width-w)/2)
	case escpos.Right:
		return max(0, width-w-margin)
	}
	return margin
}

// drawable reports whether the printer can print pictures at all.
func (d *doc) drawable() bool { return d.e.profile.Images() != profiles.NoImages }

// image prints a picture in the form the printer takes: blank rows become
// paper feed, inked rows go as raster bands, column strips or graphics,
// cut to the inked width and to the profile's buffer. Callers check
// drawable first; on a printer without pictures image prints nothing.
func (d *doc) image(bm *raster.Bitmap, a escpos.Align) {
	if bm.W < d.width {
		full := raster.New(d.width, bm.H)
		full.Draw(bm, alignX(d.width, bm.W, a, TextMode), 0)
		bm = full
	}
	if !d.started || d.cur.align != escpos.Left {
		// Some printers justify pictures too; bands cut to their inked
		// width must start at the left edge to land where drawn.
		d.b.Align(escpos.Left)
		d.cur.align = escpos.Left
	}
	switch d.e.profile.Images() {
	case profiles.RasterImage:
		d.rasterImage(bm)
	case profiles.ColumnImage:
		d.columnImage(bm)
	case profiles.GraphicsImage:
		d.rasterImage(bm)
	}
}

// rasterImage sends bm as GS v 0 bands, or as GS ( L graphics bands of
// the same rows to a printer that has only those.
func (d *doc) rasterImage(bm *raster.Bitmap) {
	send := d.b.Raster
	if d.e.profile.Images() == profiles.GraphicsImage {
		send = d.b.Graphics
	}
	budget := d.e.profile.BufferBytes / 2
	y := 0
	for y < bm.H {
		if n := blankRows(bm, y); n > 0 {
			d.b.FeedDots(n)
			y += n
			continue
		}
		start := y
		for y < bm.H && !bm.RowBlank(y) {
			y++
		}
		stride := inkStride(bm, start, y)
		data := make([]byte, 0, stride*(y-start))
		for r := start; r < y; r++ {
			data = append(data, bm.Pix[r*bm.Stride:r*bm.Stride+stride]...)
		}
		send(data, stride, y-start, budget)
	}
}

// blankRows counts the white rows of bm from y down.
func blankRows(bm *raster.Bitmap, y int) int {
	n := 0
	for y+n < bm.H && bm.RowBlank(y+n) {
		n++
	}
	return n
}

// stripDots is how many dot rows one ESC * strip covers: 24 dots of one
// row each in the 24-dot modes, 8 dots of three rows each in the 8-dot
// ones (whose vertical density is a third).
const stripDots = 24

// columnImage sends bm as ESC * strips for printers without raster
// images: 24-dot double density where the printer has it, else 8-dot
// double density, one strip per line with the line spacing set to the
// strip's height so strips touch. A strip wider than half the buffer goes
// as several ESC * side by side on the same line.
func (d *doc) columnImage(bm *raster.Bitmap) {
	m := escpos.BitImage24Double
	if !d.e.profile.HighDensity {
		m = escpos.BitImage8Double
	}
	per := escpos.BitImageDots(m) / 8 // bytes per column
	rowsPerDot := stripDots / escpos.BitImageDots(m)
	maxCols := max(8, d.e.profile.BufferBytes/2/per)
	d.b.LineSpacing(stripDots)
	y := 0
	for y < bm.H {
		if n := blankRows(bm, y); n > 0 {
			d.b.FeedDots(n)
			y += n
			continue
		}
		cols := inkColumns(bm, y, y+stripDots)
		data := make([]byte, cols*per)
		for x := 0; x < cols; x++ {
			for dot := 0; dot < per*8; dot++ {
				ink := false
				for r := y + dot*rowsPerDot; r < y+(dot+1)*rowsPerDot && r < bm.H; r++ {
					ink = ink || bm.At(x, r)
				}
				if ink {
					data[x*per+dot/8] |= 0x80 >> (dot % 8)
				}
			}
		}
		for x := 0; x < cols; x += maxCols {
			d.b.BitImage(m, data[x*per:min(cols, x+maxCols)*per])
		}
		d.b.LF()
		y += stripDots
	}
	d.b.DefaultLineSpacing()
}

// inkColumns is how many columns from the left carry every black dot of
// rows [y0, y1).
func inkColumns(bm *raster.Bitmap, y0, y1 int) int {
	return min(bm.W, inkStride(bm, y0, min(y1, bm.H))*8)
}

// inkStride is the bytes per row needed to carry every black dot of rows
// [y0, y1): the rest of each row is white and need not be sent.
func inkStride(bm *raster.Bitmap, y0, y1 int) int {
	stride := 1
	for y := y0; y < y1; y++ {
		row := bm.Pix[y*bm.Stride : (y+1)*bm.Stride]
		for i := len(row) - 1; i >= stride; i-- {
			if row[i] != 0 {
				stride = i + 1
				break
			}
		}
	}
	return stride
}

// rule prints a thin horizontal line across the paper: drawn, or on a
// printer without pictures a line of dashes.
func (d *doc) rule() {
	if !d.drawable() {
		st := style{size: 1, align: escpos.Center}
		d.line(strings.Repeat("-", d.columns(st)*11/12), st)
		return
	}
	bm := raster.New(d.width, 12)
	inset := d.width / 24
	bm.Fill(image.Rect(inset, 5, d.width-inset, 7))
	d.image(bm, escpos.Left)
}

func (d *doc) feed(dots int) { d.b.FeedDots(dots) }

// qr prints data as a QR code: the printer's own encoder where the profile
// has one, else a drawn symbol. module is the module size in dots.
func (d *doc) qr(data string, module int) error {
	if data == "" {
		return nil
	}
	if d.e.profile.NativeQR && d.e.mode == TextMode {
		d.setStyle(style{size: d.cur.size, bold: d.cur.bold, align: escpos.Center, reverse: d.cur.reverse, small: d.cur.small})
		d.b.QR([]byte(data), module, escpos.QRLevelM)
		d.lines = append(d.lines, LineReport{Text: "[QR " + data + "]", CodePage: "native QR", QR: true})
		return nil
	}
	if !d.drawable() {
		d.lines = append(d.lines, LineReport{Text: "[QR " + data + "]", QR: true, Omitted: true})
		return nil
	}
	if d.e.profile.Images() == profiles.ColumnImage && !d.e.profile.HighDensity {
		// An 8-dot strip's dots are three rows high: modules of a multiple
		// of three rows keep every module edge on a dot's edge.
		module = (module + 2) / 3 * 3
	}
	bm, err := raster.QR([]byte(data), raster.QRMedium, module)
	if err != nil {
		return fmt.Errorf("drawing the QR code for %q: %w", data, err)
	}
	d.lines = append(d.lines, LineReport{Text: "[QR " + data + "]", Raster: true, QR: true})
	d.image(bm, escpos.Center)
	return nil
}

// cut ends the job: feed to the cutter and cut, or, without a cutter, feed
// far enough that the ticket can be torn off whole.
func (d *doc) cut() {
	switch {
	case d.e.profile.PartialCut:
		d.b.Cut(true, 48)
	case d.e.profile.FullCut:
		d.b.Cut(false, 48)
	default:
		d.b.FeedDots(120)
	}
}

// clean makes outside text safe to print: control characters would be
// commands to the printer, so line breaks and tabs become spaces and the
// rest is dropped.
func clean(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			sb.WriteByte(' ')
		case unicode.IsControl(r) || r == unicode.ReplacementChar:
		default:
			sb.WriteRune(r)
		}
	}
	return strings.Join(strings.FieldsFunc(sb.String(), func(r rune) bool { return r == ' ' }), " ")
}
