// Package escpos is the ESC/POS language as Numerek speaks it: a Builder
// that writes commands and records what printing them takes (Spans, for
// pacing), a Parser that cuts a byte stream back into commands (for the
// emulator and for reading captures), and the status bytes printers send
// back. It knows bytes, not tickets: the ticket layout (package printer)
// and the emulator (package printer/emulator) both build on it, so what
// one sends the other understands by the same definitions, while tests
// pin those definitions to the bytes of the Epson ESC/POS reference.
package escpos

// Control bytes that start ESC/POS commands.
const (
	LF  = 0x0A
	CR  = 0x0D
	ESC = 0x1B
	GS  = 0x1D
	FS  = 0x1C
	DLE = 0x10
	EOT = 0x04
	ENQ = 0x05
	HT  = 0x09
	FF  = 0x0C
	CAN = 0x18
)

// Align is a justification for ESC a.
type Align byte

// The three justifications.
const (
	Left   Align = 0
	Center Align = 1
	Right  Align = 2
)

// QR error correction levels for GS ( k fn 69 (48 + level).
type QRLevel byte

// The four QR error correction levels.
const (
	QRLevelL QRLevel = 48
	QRLevelM QRLevel = 49
	QRLevelQ QRLevel = 50
	QRLevelH QRLevel = 51
)

// MaxRasterBand is the most dot lines a GS v 0 band carries in this
// package's output. Small bands fit small input buffers: a printer that
// waits for a whole command before printing it never waits for more than
// 72 bytes x 64 lines = 4.5 KB at 576 dots; Builder.Raster keeps bands
// under the byte budget it is given.
const MaxRasterBand = 64

// Builder appends ESC/POS commands to a byte slice. As it writes, it
// records what the print mechanism will do with them (Spans), so a sender
// can pace the bytes for the printer without reading them back.
type Builder struct {
	buf   []byte
	spans []Span
	// spacing is the line feed the commands so far have set (ESC 3), for
	// the motion of LF and ESC d; set is false at the printer's default.
	spacing int
	set     bool
}

// Span is a run of a job's bytes and the work the print mechanism does for
// it: how far it moves the paper and whether it cuts. The mechanism's time
// is what a printer's input buffer drains at, so a sender paces by it.
type Span struct {
	End  int  // offset just past the span's last byte
	Dots int  // dot lines of paper the span moves
	Cut  bool // the span cuts the paper
}

// Job is ESC/POS bytes with the spans the Builder that wrote them knows.
// Spans run in order from offset 0; bytes past the last span (from
// elsewhere than a Builder) are not known to move the paper.
type Job struct {
	Bytes []byte
	Spans []Span
}

// Bytes returns the commands written so far.
func (b *Builder) Bytes() []byte { return b.buf }

// Spans returns the work of the commands written so far: a span for each
// command that moves the paper or cuts it, and one for each short run of
// those that do not.
func (b *Builder) Spans() []Span { return b.spans }

// Job returns the commands written so far and their spans.
func (b *Builder) Job() Job { return Job{Bytes: b.buf, Spans: b.spans} }

// Len is the number of bytes written so far.
func (b *Builder) Len() int { return len(b.buf) }

// Raw appends bytes as they are, recorded as moving no paper: the Builder
// does not read what it is given.
func (b *Builder) Raw(p ...byte) { b.command(0, false, p...) }

// command appends one command and records its span.
func (b *Builder) command(dots int, cut bool, p ...byte) {
	b.buf = append(b.buf, p...)
	b.mark(dots, cut)
}

// mergeBytes is how long a run of commands that move no paper (style,
// code page, text) may grow as one span: short enough that the span
// still fits a small printer buffer beside others.
const mergeBytes = 256

// mark ends a span at the end of the bytes written so far. A command that
// moves no paper joins a short span before it that moves none either:
// pacing needs no finer grain, and a ticket keeps a few dozen spans.
func (b *Builder) mark(dots int, cut bool) {
	n := len(b.spans)
	if n > 0 && b.spans[n-1].End == len(b.buf) {
		return // nothing written since the last span
	}
	if n > 0 && dots == 0 && !cut && b.spans[n-1].Dots == 0 && !b.spans[n-1].Cut {
		start := 0
		if n > 1 {
			start = b.spans[n-2].End
		}
		if len(b.buf)-start <= mergeBytes {
			b.spans[n-1].End = len(b.buf)
			return
		}
	}
	if b.spans == nil {
		b.spans = make([]Span, 0, 64)
	}
	b.spans = append(b.spans, Span{End: len(b.buf), Dots: dots, Cut: cut})
}

// lineFeed is the paper one LF moves at the spacing set so far.
func (b *Builder) lineFeed() int {
	if b.set {
		return b.spacing
	}
	return DefaultLineSpacing
}

// Init resets the printer to its power-on settings (ESC @).
func (b *Builder) Init() {
	b.Raw(ESC, '@')
	b.set = false
}

// CancelChineseMode leaves double-byte character mode (FS .), which many
// Chinese printers start in; in it, two bytes above 0x80 print one
// ideograph instead of two letters.
func (b *Builder) CancelChineseMode() { b.Raw(FS, '.') }

// InternationalUSA selects the USA international character set (ESC R 0),
// so the ASCII bytes # $ @ [ \ ] ^ ` { | } ~ print as themselves.
func (b *Builder) InternationalUSA() { b.Raw(ESC, 'R', 0) }

// CodePage selects character code table n (ESC t n).
func (b *Builder) CodePage(n byte) { b.Raw(ESC, 't', n) }

// Bold turns emphasised printing on or off (ESC E n).
func (b *Builder) Bold(on bool) { b.Raw(ESC, 'E', bit(on)) }

// Underline sets underline off, 1 dot or 2 dots thick (ESC - n).
func (b *Builder) Underline(dots int) { b.Raw(ESC, '-', byte(clamp(dots, 0, 2))) }

// Size sets character width and height multipliers, 1 to 8 (GS ! n).
func (b *Builder) Size(w, h int) {
	b.Raw(GS, '!', byte(clamp(w, 1, 8)-1)<<4|byte(clamp(h, 1, 8)-1))
}

// Font selects font A (0) or font B (1) (ESC M n).
func (b *Builder) Font(n int) { b.Raw(ESC, 'M', byte(clamp(n, 0, 1))) }

// Align sets the justification of the following lines (ESC a n).
func (b *Builder) Align(a Align) { b.Raw(ESC, 'a', byte(a)) }

// PrintAreaWidth sets the width of the print area in dots (GS W nL nH);
// justification works within it.
func (b *Builder) PrintAreaWidth(dots int) {
	dots = clamp(dots, 0, 0xFFFF)
	b.Raw(GS, 'W', byte(dots), byte(dots>>8))
}

// LineSpacing sets the line feed amount in dots (ESC 3 n).
func (b *Builder) LineSpacing(dots int) {
	b.spacing, b.set = clamp(dots, 0, 255), true
	b.Raw(ESC, '3', byte(b.spacing))
}

// DefaultLineSpacing restores the printer's default line feed (ESC 2).
func (b *Builder) DefaultLineSpacing() {
	b.Raw(ESC, '2')
	b.set = false
}

// Text appends text already encoded in the selected code page. It must not
// contain control bytes; codepage.Page.Encode never produces them.
func (b *Builder) Text(encoded []byte) { b.command(0, false, encoded...) }

// LF prints the line buffer and feeds one line.
func (b *Builder) LF() { b.command(b.lineFeed(), false, LF) }

// FeedDots prints the line buffer and feeds paper by dots (ESC J n).
func (b *Builder) FeedDots(dots int) {
	for dots > 0 {
		n := min(dots, 255)
		b.command(n, false, ESC, 'J', byte(n))
		dots -= n
	}
}

// FeedLines prints the line buffer and feeds n lines (ESC d n).
func (b *Builder) FeedLines(n int) {
	n = clamp(n, 0, 255)
	b.command(n*b.lineFeed(), false, ESC, 'd', byte(n))
}

// Raster prints a 1-bit image (GS v 0), rows packed MSB first, stride
// bytes per row, as bands of at most MaxRasterBand lines and at most
// maxBandBytes bytes (0: no byte limit), so no single command outgrows a
// small printer buffer.
func (b *Builder) Raster(data []byte, stride, height, maxBandBytes int) {
	if stride <= 0 || height <= 0 {
		return
	}
	band := MaxRasterBand
	if maxBandBytes > 0 {
		band = clamp(maxBandBytes/stride, 1, MaxRasterBand)
	}
	for y := 0; y < height; y += band {
		h := min(band, height-y)
		b.buf = append(b.buf, GS, 'v', '0', 0, byte(stride), byte(stride>>8), byte(h), byte(h>>8))
		b.buf = append(b.buf, data[y*stride:(y+h)*stride]...)
		b.mark(h, false)
	}
}

// The densities of column bit images (ESC * m): how many dots high one
// strip is, and whether each column is one dot wide (double density) or
// two (single).
const (
	BitImage8Single  byte = 0
	BitImage8Double  byte = 1
	BitImage24Single byte = 32
	BitImage24Double byte = 33
)

// BitImageDots is how many dots high one strip of density m is: 24 for
// the 24-dot modes, 8 otherwise.
func BitImageDots(m byte) int {
	if m >= 32 {
		return 24
	}
	return 8
}

// BitImage puts one strip of a column-format picture into the line (ESC *
// m nL nH d1...dk): data holds the columns left to right, each
// BitImageDots(m)/8 bytes from the top down, the top dot in the high bit.
// The strip prints with the next LF or ESC J, beside whatever else the
// line holds, and the paper then advances by the line spacing; strips
// touch when the spacing is as high as a strip.
func (b *Builder) BitImage(m byte, data []byte) {
	per := BitImageDots(m) / 8
	cols := len(data) / per
	if cols == 0 {
		return
	}
	// The strip moves no paper itself: the LF or ESC J that prints it does.
	b.buf = append(b.buf, ESC, '*', m, byte(cols), byte(cols>>8))
	b.buf = append(b.buf, data[:cols*per]...)
	b.mark(0, false)
}

// Graphics prints a 1-bit image with the graphics commands (GS ( L):
// each band is stored in the print buffer (function 112, monochrome, rows
// packed MSB first, stride bytes per row) and printed (function 50), in
// bands of at most MaxRasterBand lines and maxBandBytes bytes like Raster.
// For printers that have these but not GS v 0.
func (b *Builder) Graphics(data []byte, stride, height, maxBandBytes int) {
	if stride <= 0 || height <= 0 {
		return
	}
	band := MaxRasterBand
	if maxBandBytes > 0 {
		band = clamp(maxBandBytes/stride, 1, MaxRasterBand)
	}
	w := stride * 8
	for y := 0; y < height; y += band {
		h := min(band, height-y)
		p := 10 + stride*h
		b.buf = append(b.buf, GS, '(', 'L', byte(p), byte(p>>8), 48, 112, 48, 1, 1, 49, byte(w), byte(w>>8), byte(h), byte(h>>8))
		b.buf = append(b.buf, data[y*stride:(y+h)*stride]...)
		b.mark(0, false) // stored, not printed yet
		b.command(h, false, GS, '(', 'L', 2, 0, 48, 50)
	}
}

// QR stores data in the printer's QR symbol buffer and prints it with the
// printer's own encoder (GS ( k, model 2), module size in dots (1-16).
func (b *Builder) QR(data []byte, module int, level QRLevel) {
	b.qrFn(65, 50, 0) // model 2
	b.qrFn(67, byte(clamp(module, 1, 16)))
	b.qrFn(69, byte(level))
	b.qrFn(80, append([]byte{48}, data...)...)
	b.qrFn(81, 48)
}

func (b *Builder) qrFn(fn byte, params ...byte) {
	n := len(params) + 2
	b.buf = append(b.buf, GS, '(', 'k', byte(n), byte(n>>8), 49, fn)
	b.buf = append(b.buf, params...)
	b.mark(0, false)
}

// Cut feeds the paper by feedDots to the cutter and cuts it, partially
// (a hinge left) or fully (GS V 66/65 n).
func (b *Builder) Cut(partial bool, feedDots int) {
	m := byte(65)
	if partial {
		m = 66
	}
	b.command(0, true, GS, 'V', m, byte(clamp(feedDots, 0, 255)))
}

// AutoStatusBack enables Automatic Status Back (GS a n) for the status
// groups in mask (ASB* constants); 0 disables it.
func (b *Builder) AutoStatusBack(mask byte) { b.Raw(GS, 'a', mask) }

// ASB status groups for GS a n.
const (
	ASBDrawer     byte = 1 << 0
	ASBOnline     byte = 1 << 1
	ASBError      byte = 1 << 2
	ASBPaper      byte = 1 << 3
	ASBAllButDrwr byte = ASBOnline | ASBError | ASBPaper
)

// RealTimeStatus is the request DLE EOT n for status group n (1-4); the
// printer answers one byte at once, even in the middle of a job.
func RealTimeStatus(n byte) []byte { return []byte{DLE, EOT, n} }

// The real-time status groups of DLE EOT n.
const (
	StatusPrinter = 1
	StatusOffline = 2
	StatusError   = 3
	StatusPaper   = 4
)

// PaperSensorStatus is GS r 1, the request answered only when the printer
// has processed everything before it in its buffer: a barrier that tells
// the host the printer has caught up.
func PaperSensorStatus() []byte { return []byte{GS, 'r', 1} }

func bit(on bool) byte {
	if on {
		return 1
	}
	return 0
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
