package emulator

import (
	"fmt"
	"image"
	"image/color"
	"strings"

	"github.com/numerek/numerek/printer/codepage"
	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/printer/raster"
)

// Warning is something in the input the emulator could not print as
// asked: an unknown command, a byte with no character in the selected code
// page, a command that did not fit the buffer.
type Warning struct {
	Offset  int // of the first byte concerned, counted from power-on
	Message string
}

func (w Warning) String() string { return fmt.Sprintf("byte %d: %s", w.Offset, w.Message) }

// CutKind is how a ticket left the printer.
type CutKind int

// How a ticket ends.
const (
	NoCut CutKind = iota
	PartialCut
	FullCut
)

// Ticket is one piece of paper the emulator printed: from power-on or the
// last cut to the next cut (or to ESC @, or the end of input, on printers
// without a cutter).
type Ticket struct {
	Image    *image.Gray
	Lines    []string // the text printed, line by line, as the printer decoded it
	QRCodes  []string // data of the QR symbols printed with GS ( k
	Rasters  int      // pictures printed: GS v 0 bands, ESC * strips, GS ( L graphics
	Cut      CutKind
	Warnings []Warning
	Path     string // PNG file, when the emulator writes them
}

// Text is the ticket's printed text, one line per line.
func (t Ticket) Text() string { return strings.Join(t.Lines, "\n") }

// paper is the print head's side of the emulator: it executes commands
// and draws dots, knowing nothing of timing or buffers.
type paper struct {
	profile profiles.Profile
	fonts   *raster.Fonts
	glyphs  map[glyphKey]*raster.Bitmap
	width   int

	canvas *raster.Bitmap
	y      int // next dot line to print on

	// The line being composed: glyphs placed left to right.
	line    []placed
	lineX   int
	lineH   int
	text    []rune
	pending byte // lead byte of a double-byte character
	// pictureOnly marks a line of ESC * strips and no text: printed, it
	// adds no line of text to the ticket.
	pictureOnly bool

	at           int // offset of the command being carried out
	mode         modeState
	tickets      []Ticket
	lines        []string
	qrs          []string
	rasters      int
	warnings     []Warning
	stored       *raster.Bitmap // the picture GS ( L 112 put in the print buffer
	qrData       []byte
	qrModule     int
	qrLevel      raster.QRLevel
	ticketHasInk bool
}

// modeState is what ESC @ resets.
type modeState struct {
	bold, reverse, smoothing, fontB bool
	underline                       int
	w, h                            int
	align                           escpos.Align
	spacing                         int
	area                            int // print area width (GS W)
	page                            *codepage.Page
	pageName                        string
	chinese                         bool
}

type placed struct {
	x  int
	bm *raster.Bitmap
}

type glyphKey struct {
	r                        rune
	bold, fontB, smooth, rev bool
	underline, w, h          int
}

func newPaper(p profiles.Profile) *paper {
	pp := &paper{profile: p, fonts: raster.NewFonts(), glyphs: map[glyphKey]*raster.Bitmap{}, width: p.WidthDots}
	pp.canvas = raster.New(pp.width, 1024)
	pp.reset()
	pp.mode.chinese = p.StartsInChineseMode
	return pp
}

// reset is ESC @: modes back to power-on, except the double-byte mode,
// which on Chinese printers is a setting kept in memory.
func (p *paper) reset() {
	chinese := p.mode.chinese
	p.mode = modeState{w: 1, h: 1, spacing: 30, chinese: chinese, area: p.width}
	p.selectPage(0, -1)
	p.qrModule, p.qrLevel, p.qrData = 3, raster.QRLow, nil
	p.stored = nil
}

func (p *paper) warn(off int, format string, args ...any) {
	p.warnings = append(p.warnings, Warning{Offset: off, Message: fmt.Sprintf(format, args...)})
}

func (p *paper) selectPage(n int, off int) {
	name, ok := p.profile.PageName(n)
	if !ok {
		if off >= 0 {
			p.warn(off, "ESC t %d: %s has no code page %d", n, p.profile.Name, n)
		}
		p.mode.page, p.mode.pageName = nil, fmt.Sprintf("page %d", n)
		return
	}
	pg, ok := codepage.Lookup(name)
	if !ok && off >= 0 {
		p.warn(off, "ESC t %d selects %s, which the emulator cannot draw", n, name)
	}
	p.mode.page, p.mode.pageName = pg, name
}

// execute carries out one command.
func (p *paper) execute(c escpos.Command) {
	b := c.Bytes
	p.at = c.Offset
	if !c.Known {
		p.warn(c.Offset, "unknown command %s (% x) skipped", c.Name, b)
		return
	}
	if c.Name != "ESC t" {
		// ESC t says itself which page is missing, below.
		if why := Unsupported(p.profile, c); why != "" {
			p.warn(c.Offset, "%s: skipped, as the printer would not print it", why)
			if cutCommand(c.Name) {
				p.printLine(-1)
				p.finish(NoCut)
			}
			return
		}
	}
	switch c.Name {
	case "text":
		p.char(b[0], c.Offset)
	case "LF":
		p.printLine(0)
	case "NUL", "CR", "CAN", "DLE EOT", "DLE ENQ", "GS a", "GS r":
		// CR without auto line feed is ignored; status is the
		// machine's business, not the paper's.
	case "HT":
		for range 8 - len(p.text)%8 {
			p.char(' ', c.Offset)
		}
	case "FF":
		p.printLine(0)
	case "ESC @":
		// A job that starts before the last was cut goes on the same
		// paper; the emulator still draws it as a new picture, so printers
		// without a cutter give one PNG per ticket.
		p.finish(NoCut)
		p.reset()
	case "ESC E", "ESC G":
		p.mode.bold = b[2]&1 == 1
	case "ESC -":
		p.mode.underline = int(b[2] & 3 % 3)
	case "ESC !":
		p.mode.fontB = b[2]&1 != 0
		p.mode.bold = b[2]&8 != 0
		p.mode.h = 1 + int(b[2]>>4&1)
		p.mode.w = 1 + int(b[2]>>5&1)
		p.mode.underline = int(b[2] >> 7)
	case "ESC M":
		p.mode.fontB = b[2]&1 == 1
	case "ESC a":
		p.mode.align = escpos.Align(b[2] % 48 % 3)
	case "ESC t":
		p.selectPage(int(b[2]), c.Offset)
	case "ESC R":
		if b[2] != 0 {
			p.warn(c.Offset, "ESC R %d: international character sets other than USA are not emulated", b[2])
		}
	case "ESC 3":
		p.mode.spacing = int(b[2])
	case "ESC 2":
		p.mode.spacing = 30
	case "ESC J":
		p.printLine(int(b[2]))
	case "ESC d":
		p.printLine(0)
		p.advance(int(b[2]) * p.mode.spacing)
	case "GS !":
		p.mode.w, p.mode.h = 1+int(b[2]>>4&7), 1+int(b[2]&7)
	case "GS B":
		p.mode.reverse = b[2]&1 == 1
	case "GS b":
		p.mode.smoothing = b[2]&1 == 1
	case "GS W":
		p.printLine(-1)
		w := int(b[2]) | int(b[3])<<8
		if w <= 0 || w > p.profile.WidthDots {
			w = p.profile.WidthDots
		}
		p.mode.area = w
	case "FS .":
		p.mode.chinese = false
	case "FS &":
		p.mode.chinese = true
	case "GS v 0":
		p.rasterImage(b, c.Offset)
	case "ESC *":
		p.columnImage(b, c.Offset)
	case "GS ( k":
		p.qrCommand(b, c.Offset)
	case "GS ( L":
		p.graphics(b, c.Offset)
	case "GS V":
		p.cut(b)
	case "ESC i":
		p.cut([]byte{escpos.GS, 'V', 1})
	case "ESC m":
		p.cut([]byte{escpos.GS, 'V', 1})
	case "ESC p":
		// Cash drawer pulse: nothing to draw.
	default:
		p.warn(c.Offset, "%s (% x) is understood but not emulated", c.Name, b)
	}
}

// char adds one byte of text to the line.
func (p *paper) char(b byte, off int) {
	if p.mode.chinese && (b >= 0x80 || p.pending != 0) {
		if p.pending == 0 {
			p.pending = b
			return
		}
		p.warn(off-1, "bytes %#02x %#02x printed as one Chinese character: the printer is in double-byte mode (send FS .)", p.pending, b)
		p.pending = 0
		p.place('\u25A1', 2)
		return
	}
	r := rune(0)
	if p.mode.page != nil {
		r = p.mode.page.Decode(b)
	} else if b < 0x80 {
		r = rune(b)
	}
	if r == 0 {
		p.warn(off, "byte %#02x has no character in %s", b, p.mode.pageName)
		r = '\uFFFD'
	}
	p.place(r, 1)
}

// place puts one character on the line, printing the line first if it is
// full, as a printer wraps.
func (p *paper) place(r rune, cells int) {
	g := p.glyph(r, cells)
	if p.lineX+g.W > p.mode.area && len(p.line) > 0 {
		p.printLine(0)
	}
	p.line = append(p.line, placed{x: p.lineX, bm: g})
	p.lineX += g.W
	p.lineH = max(p.lineH, g.H)
	p.text = append(p.text, r)
}

func (p *paper) glyph(r rune, cells int) *raster.Bitmap {
	m := p.mode
	k := glyphKey{r: r, bold: m.bold, fontB: m.fontB, smooth: m.smoothing && m.w == m.h && m.w > 1, rev: m.reverse, underline: m.underline, w: m.w * cells, h: m.h}
	if g, ok := p.glyphs[k]; ok {
		return g
	}
	style := raster.Mono
	if m.bold {
		style = raster.MonoBold
	}
	cw, ch, px := 12, 24, 20.0
	if m.fontB {
		cw, ch, px = 9, 17, 15
	}
	var g *raster.Bitmap
	if k.smooth {
		// Smoothing redraws enlarged characters from the outline.
		spx := px * float64(m.h)
		g = p.fonts.Cell(style, spx, r, cw*k.w, ch*m.h, p.fonts.Baseline(style, spx))
	} else {
		g = p.fonts.Cell(style, px, r, cw*cells, ch, p.fonts.Baseline(style, px)).Scale(m.w, m.h)
	}
	if m.underline > 0 {
		g.Fill(image.Rect(0, g.H-m.underline*m.h, g.W, g.H))
	}
	if m.reverse {
		for i := range g.Pix {
			g.Pix[i] = ^g.Pix[i]
		}
		// Bits past the width in each row's last byte stay white.
		if extra := g.Stride*8 - g.W; extra > 0 {
			for y := 0; y < g.H; y++ {
				g.Pix[y*g.Stride+g.Stride-1] &^= byte(1<<extra - 1)
			}
		}
	}
	p.glyphs[k] = g
	return g
}

// printLine prints the composed line and feeds: by the line spacing (or
// the line's height, if taller) when feed is 0, by feed dots when feed is
// positive, and not at all when feed is negative and the line is empty.
func (p *paper) printLine(feed int) {
	if len(p.line) == 0 {
		switch {
		case feed == 0:
			p.advance(p.mode.spacing)
		case feed > 0:
			p.advance(feed)
		}
		return
	}
	x0 := 0
	switch p.mode.align {
	case escpos.Center:
		x0 = (p.mode.area - p.lineX) / 2
	case escpos.Right:
		x0 = p.mode.area - p.lineX
	}
	p.grow(min(p.y+p.lineH, maxTicketDots))
	for _, g := range p.line {
		p.canvas.Draw(g.bm, x0+g.x, p.y+p.lineH-g.bm.H)
	}
	p.ticketHasInk = true
	if len(p.text) > 0 || !p.pictureOnly {
		p.lines = append(p.lines, strings.TrimRight(string(p.text), " "))
	}
	p.pictureOnly = false
	adv := max(p.mode.spacing, p.lineH)
	if feed > 0 {
		adv = max(feed, p.lineH)
	}
	p.line, p.lineX, p.lineH, p.text = p.line[:0], 0, 0, p.text[:0]
	p.advance(adv)
}

// maxTicketDots bounds one ticket's length (about 2 m of paper), so
// endless feeds in bad input cannot eat the machine's memory.
const maxTicketDots = 16000

func (p *paper) advance(dots int) {
	p.y += dots
	if p.y > maxTicketDots {
		p.warn(p.at, "paper longer than %d dots without a cut: the emulator ends the ticket here", maxTicketDots)
		p.y = maxTicketDots
		p.finish(NoCut)
		return
	}
	p.grow(p.y)
}

func (p *paper) grow(h int) {
	if h <= p.canvas.H {
		return
	}
	n := raster.New(p.width, max(h, p.canvas.H*2))
	copy(n.Pix, p.canvas.Pix)
	p.canvas = n
}

// rasterImage prints GS v 0 data, justified like text.
func (p *paper) rasterImage(b []byte, off int) {
	p.printLine(-1)
	mode := b[3] & 3
	stride := int(b[4]) + int(b[5])<<8
	h := int(b[6]) + int(b[7])<<8
	if mode != 0 {
		p.warn(off, "GS v 0 mode %d (double width/height) drawn at normal size", mode)
	}
	img := &raster.Bitmap{W: stride * 8, H: h, Stride: stride, Pix: b[8:]}
	if img.W > p.width {
		p.warn(off, "raster image %d dots wide, wider than the %d-dot paper: cut off", img.W, p.width)
	}
	p.drawBlock(img)
	p.rasters++
}

// columnImage puts an ESC * strip into the line being composed, as a
// printer does: it prints with the next LF or ESC J, beside the text
// before it. An 8-dot strip's dots are three rows high, a single-density
// strip's columns two dots wide.
func (p *paper) columnImage(b []byte, off int) {
	m := b[2]
	cols := int(b[3]) | int(b[4])<<8
	var colW int
	switch m {
	case escpos.BitImage8Single, escpos.BitImage24Single:
		colW = 2
	case escpos.BitImage8Double, escpos.BitImage24Double:
		colW = 1
	default:
		p.warn(off, "ESC * density %d is not one of 0, 1, 32, 33: skipped", m)
		return
	}
	dots := escpos.BitImageDots(m)
	per, rowsPerDot := dots/8, 24/dots
	img := raster.New(max(1, cols*colW), dots*rowsPerDot)
	data := b[5:]
	for x := 0; x < cols; x++ {
		for dot := 0; dot < dots; dot++ {
			if data[x*per+dot/8]&(0x80>>(dot%8)) != 0 {
				img.Fill(image.Rect(x*colW, dot*rowsPerDot, (x+1)*colW, (dot+1)*rowsPerDot))
			}
		}
	}
	if room := p.mode.area - p.lineX; img.W > room {
		p.warn(off, "bit image %d dots wide, %d left on the line: cut off", img.W, max(room, 0))
		if room <= 0 {
			return
		}
		cut := raster.New(room, img.H)
		cut.Draw(img, 0, 0)
		img = cut
	}
	if len(p.text) == 0 && len(p.line) == 0 {
		p.pictureOnly = true
	}
	p.line = append(p.line, placed{x: p.lineX, bm: img})
	p.lineX += img.W
	p.lineH = max(p.lineH, img.H)
	p.rasters++
}

// graphics handles GS ( L: function 112 stores a monochrome raster
// picture in the print buffer, function 50 (or 2) prints it, justified
// like a GS v 0 image. Other functions are not emulated.
func (p *paper) graphics(b []byte, off int) {
	if len(b) < 7 || b[5] != 48 {
		p.warn(off, "GS ( L (% x) is not emulated (only m 48)", b[:min(len(b), 7)])
		return
	}
	switch fn := b[6]; fn {
	case 112:
		if len(b) < 15 {
			p.warn(off, "GS ( L 112 with %d parameter bytes is too short for a picture: skipped", len(b)-5)
			return
		}
		a, bx, by, c := b[7], b[8], b[9], b[10]
		w := int(b[11]) | int(b[12])<<8
		h := int(b[13]) | int(b[14])<<8
		stride := (w + 7) / 8
		if a != 48 || c != 49 || len(b) != 15+stride*h || w == 0 || h == 0 {
			p.warn(off, "GS ( L 112: only one-colour pictures whose size matches their data are emulated (a=%d c=%d %dx%d, %d data bytes): skipped", a, c, w, h, len(b)-15)
			p.stored = nil
			return
		}
		if bx != 1 || by != 1 {
			p.warn(off, "GS ( L 112 magnified %dx%d: drawn at normal size", bx, by)
		}
		p.stored = &raster.Bitmap{W: w, H: h, Stride: stride, Pix: append([]byte(nil), b[15:]...)}
	case 50, 2:
		if p.stored == nil {
			p.warn(off, "GS ( L %d: no picture stored to print", fn)
			return
		}
		p.printLine(-1)
		if p.stored.W > p.width {
			p.warn(off, "graphics %d dots wide, wider than the %d-dot paper: cut off", p.stored.W, p.width)
		}
		p.drawBlock(p.stored)
		p.stored = nil
		p.rasters++
	default:
		p.warn(off, "GS ( L function %d is not emulated", fn)
	}
}

// drawBlock prints a picture at the current line, justified.
func (p *paper) drawBlock(img *raster.Bitmap) {
	x := 0
	switch p.mode.align {
	case escpos.Center:
		x = max(0, (p.mode.area-img.W)/2)
	case escpos.Right:
		x = max(0, p.mode.area-img.W)
	}
	p.grow(min(p.y+img.H, maxTicketDots))
	p.canvas.Draw(img, x, p.y)
	p.ticketHasInk = true
	p.advance(img.H)
}

// qrCommand handles GS ( k for QR codes (cn = 49).
func (p *paper) qrCommand(b []byte, off int) {
	if len(b) < 7 {
		// pL pH below 2 leave no room for cn and fn.
		p.warn(off, "GS ( k with %d parameter bytes names no function: skipped", len(b)-5)
		return
	}
	if b[5] != 49 {
		p.warn(off, "GS ( k for symbol type %d is not emulated (only QR, cn 49)", b[5])
		return
	}
	fn, params := b[6], b[7:]
	switch fn {
	case 65: // model
		if len(params) > 0 && params[0] != 50 {
			p.warn(off, "QR model %d is not emulated; model 2 is drawn", params[0]-48)
		}
	case 67:
		if len(params) > 0 {
			p.qrModule = max(1, min(16, int(params[0])))
		}
	case 69:
		if len(params) > 0 && params[0] >= 48 && params[0] <= 51 {
			p.qrLevel = raster.QRLevel(params[0] - 48)
		}
	case 80:
		if len(params) > 0 {
			p.qrData = append([]byte(nil), params[1:]...)
		}
	case 81:
		p.printLine(-1)
		bm, err := raster.QR(p.qrData, p.qrLevel, p.qrModule)
		if err != nil {
			p.warn(off, "QR print: %v", err)
			return
		}
		p.drawBlock(bm)
		p.qrs = append(p.qrs, string(p.qrData))
	default:
		p.warn(off, "GS ( k QR function %d is not emulated", fn)
	}
}

// cut ends the current ticket.
func (p *paper) cut(b []byte) {
	p.printLine(-1)
	m := b[2]
	if len(b) == 4 && (m == 65 || m == 66) {
		p.advance(int(b[3]))
	}
	kind := FullCut
	if m == 1 || m == '1' || m == 66 || m == 98 || m == 104 {
		kind = PartialCut
	}
	p.finish(kind)
}

// finish closes the current ticket; an empty one is not kept.
func (p *paper) finish(kind CutKind) {
	p.printLine(-1)
	if !p.ticketHasInk && len(p.warnings) == 0 {
		p.y = 0
		return
	}
	p.tickets = append(p.tickets, Ticket{
		Image: p.render(kind), Lines: p.lines, QRCodes: p.qrs, Rasters: p.rasters,
		Cut: kind, Warnings: p.warnings,
	})
	p.canvas = raster.New(p.width, 1024)
	p.y, p.lines, p.qrs, p.rasters, p.warnings, p.ticketHasInk = 0, nil, nil, 0, nil, false
}

// Paper colours of the PNG: the printed dots, the paper, and cut marks.
var (
	inkGrey  = color.Gray{0}
	cutGrey  = color.Gray{0x90}
	edgeGrey = color.Gray{0xD8}
)

// render turns the printed dots into the picture of the ticket: a white
// strip as wide as the printable area with a grey border, and a dashed
// cut mark at its end (broken in the middle for a partial cut, where the
// hinge of paper stays).
func (p *paper) render(kind CutKind) *image.Gray {
	const border = 8
	h := p.y + 8
	img := image.NewGray(image.Rect(0, 0, p.width+2*border, h+border))
	for i := range img.Pix {
		img.Pix[i] = edgeGrey.Y
	}
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride+border : y*img.Stride+border+p.width]
		var src []byte
		if y < p.canvas.H {
			src = p.canvas.Pix[y*p.canvas.Stride : (y+1)*p.canvas.Stride]
		}
		for x := range row {
			row[x] = 0xFF
			if src != nil && src[x/8]&(0x80>>(x%8)) != 0 {
				row[x] = inkGrey.Y
			}
		}
	}
	if kind != NoCut {
		y := h - 1
		for x := 0; x < img.Bounds().Dx(); x++ {
			hinge := kind == PartialCut && x > img.Bounds().Dx()/2-12 && x < img.Bounds().Dx()/2+12
			if x%12 < 7 && !hinge {
				img.SetGray(x, y, cutGrey)
				img.SetGray(x, y+1, cutGrey)
			}
		}
	}
	return img
}
