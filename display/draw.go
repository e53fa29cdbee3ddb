package display

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"sync"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
)

// The colours of the screens: dark navy and white with an amber accent for
// the hall and counters, white cards on light grey for the kiosk. Text on
// every background meets WCAG AAA contrast (7:1) except the greyed closed
// services, which meet AA (4.5:1) on purpose to look unavailable.
var (
	colNavy      = rgb(0x0b, 0x24, 0x47)
	colNavyLight = rgb(0x16, 0x3a, 0x6b)
	colBlue      = rgb(0x00, 0x4f, 0xa3)
	colWhite     = rgb(0xff, 0xff, 0xff)
	colPaper     = rgb(0xee, 0xf1, 0xf5)
	colInk       = rgb(0x10, 0x18, 0x28)
	colInkSoft   = rgb(0x3a, 0x45, 0x58)
	colAmber     = rgb(0xff, 0xc2, 0x1a)
	colGreyCard  = rgb(0xdc, 0xe0, 0xe6)
	colGreyInk   = rgb(0x55, 0x5e, 0x6c)
	colRed       = rgb(0xb4, 0x1c, 0x1c)
	colGreen     = rgb(0x0f, 0x6e, 0x3a)
	colLine      = rgb(0xc4, 0xcb, 0xd5)
	colPaleBlue  = rgb(0xdb, 0xe8, 0xf7)
	colMuted     = rgb(0xb8, 0xc7, 0xdc)
)

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{r, g, b, 0xff} }

// fontKind picks one of the Go fonts, which cover Latin with Polish and
// Lithuanian letters, and Cyrillic with Ukrainian.
type fontKind int

const (
	regular fontKind = iota
	bold
	mono
	monoBold
)

// fontSources parses the embedded Go fonts once; the sources are read-only
// afterwards and shared by every screen of the process.
var fontSources = sync.OnceValue(func() [4]*text.GoTextFaceSource {
	var out [4]*text.GoTextFaceSource
	for i, ttf := range [][]byte{goregular.TTF, gobold.TTF, gomono.TTF, gomonobold.TTF} {
		src, err := text.NewGoTextFaceSource(bytes.NewReader(ttf))
		if err != nil {
			panic("display: embedded Go font: " + err.Error())
		}
		out[i] = src
	}
	return out
})

func face(k fontKind, size float64) *text.GoTextFace {
	return &text.GoTextFace{Source: fontSources()[k], Size: size}
}

// rect is a box in logical pixels.
type rect struct{ x, y, w, h float64 }

func (r rect) contains(p image.Point) bool {
	x, y := float64(p.X), float64(p.Y)
	return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h
}

func (r rect) inset(d float64) rect { return rect{r.x + d, r.y + d, r.w - 2*d, r.h - 2*d} }

func (r rect) center() (float64, float64) { return r.x + r.w/2, r.y + r.h/2 }

// union is the smallest box holding r and o; an empty r gives o.
func (r rect) union(o rect) rect {
	if r.w <= 0 && r.h <= 0 {
		return o
	}
	x0, y0 := min(r.x, o.x), min(r.y, o.y)
	x1, y1 := max(r.x+r.w, o.x+o.w), max(r.y+r.h, o.y+o.h)
	return rect{x0, y0, x1 - x0, y1 - y0}
}

// splitH cuts r into n columns with gap between them.
func (r rect) splitH(n int, gap float64) []rect {
	w := (r.w - gap*float64(n-1)) / float64(n)
	out := make([]rect, n)
	for i := range out {
		out[i] = rect{r.x + float64(i)*(w+gap), r.y, w, r.h}
	}
	return out
}

// splitV cuts r into n rows with gap between them.
func (r rect) splitV(n int, gap float64) []rect {
	h := (r.h - gap*float64(n-1)) / float64(n)
	out := make([]rect, n)
	for i := range out {
		out[i] = rect{r.x, r.y + float64(i)*(h+gap), r.w, h}
	}
	return out
}

func fillRect(dst *canvas, r rect, c color.Color) {
	r = dst.px(r)
	vector.FillRect(dst.Image, float32(r.x), float32(r.y), float32(r.w), float32(r.h), c, false)
}

func roundPath(r rect, radius float64) *vector.Path {
	x, y, w, h, rr := float32(r.x), float32(r.y), float32(r.w), float32(r.h), float32(radius)
	rr = min(rr, w/2, h/2)
	var p vector.Path
	p.MoveTo(x+rr, y)
	p.LineTo(x+w-rr, y)
	p.ArcTo(x+w, y, x+w, y+rr, rr)
	p.LineTo(x+w, y+h-rr)
	p.ArcTo(x+w, y+h, x+w-rr, y+h, rr)
	p.LineTo(x+rr, y+h)
	p.ArcTo(x, y+h, x, y+h-rr, rr)
	p.LineTo(x, y+rr)
	p.ArcTo(x, y, x+rr, y, rr)
	p.Close()
	return &p
}

func fillRound(dst *canvas, r rect, radius float64, c color.Color) {
	if dst.shapes != nil && dst.shapes.draw(dst.Image, dst.px(r), radius*dst.scale, 0, c) {
		return
	}
	op := &vector.DrawPathOptions{AntiAlias: true}
	op.ColorScale.ScaleWithColor(c)
	vector.FillPath(dst.Image, roundPath(dst.px(r), radius*dst.scale), nil, op)
}

func strokeRound(dst *canvas, r rect, radius, width float64, c color.Color) {
	if dst.shapes != nil && dst.shapes.draw(dst.Image, dst.px(r), radius*dst.scale, width*dst.scale, c) {
		return
	}
	op := &vector.DrawPathOptions{AntiAlias: true}
	op.ColorScale.ScaleWithColor(c)
	vector.StrokePath(dst.Image, roundPath(dst.px(r), radius*dst.scale), &vector.StrokeOptions{Width: float32(width * dst.scale)}, op)
}

// canvas is what a screen draws a frame on: the picture, and a record of
// every text laid out on it, with the string asked for, the lines drawn
// and where, so tests can check that no text is cut, leaves its place or
// covers another.
type canvas struct {
	*ebiten.Image
	// tile is the part of the screen (a card, a button, a band) the texts
	// drawn through this canvas belong to; the whole picture unless set
	// by within.
	tile  rect
	texts *[]drawnText
	// scale is how many of the picture's pixels one pixel of the layout
	// takes (see scaled); 1 unless set.
	scale float64
	// shapes, when set, keeps the rounded boxes drawn for later frames.
	shapes *shapes
}

// newCanvas wraps img, recording its texts in *texts when texts is not nil.
func newCanvas(img *ebiten.Image, texts *[]drawnText) *canvas {
	b := img.Bounds()
	return &canvas{Image: img, tile: rect{0, 0, float64(b.Dx()), float64(b.Dy())}, texts: texts, scale: 1}
}

// scaled is dst for a layout made in pixels s times the picture's: a
// layout made for a full-HD panel, drawn smaller on a smaller one. Texts
// are still drawn at the picture's own resolution, sharp; what is recorded
// of them is in the layout's pixels.
func (dst *canvas) scaled(s float64) *canvas {
	c := *dst
	c.scale = s
	w, h := c.size()
	c.tile = rect{0, 0, w, h}
	return &c
}

// size is the picture's size in the layout's pixels.
func (dst *canvas) size() (w, h float64) {
	b := dst.Bounds()
	return float64(b.Dx()) / dst.scale, float64(b.Dy()) / dst.scale
}

// px is r of the layout in the picture's pixels.
func (dst *canvas) px(r rect) rect {
	s := dst.scale
	return rect{r.x * s, r.y * s, r.w * s, r.h * s}
}

// within is dst for drawing the texts of tile, which must hold them.
func (dst *canvas) within(tile rect) *canvas {
	c := *dst
	c.tile = tile
	return &c
}

func (dst *canvas) record(t drawnText) {
	if dst.texts != nil {
		t.Tile = dst.tile
		*dst.texts = append(*dst.texts, t)
	}
}

// drawnText is one text as a frame laid it out.
type drawnText struct {
	// Text is the string the screen asked to show; Short the shorter form
	// the office allows in its place, if any.
	Text, Short string
	// Lines are what was drawn, line by line: the words of Text or Short,
	// or, when neither fits even at the smallest size, a cut text ending
	// in "…".
	Lines []string
	// Size is the font size used.
	Size float64
	// Box is where the lines are, Area the box the text was given, Tile
	// the part of the screen it belongs to.
	Box, Area, Tile rect
}

// align places text inside a box.
type align int

const (
	start align = iota
	middle
	end
)

// label is a text to draw in a box. It is fitted to the box in this order:
// wrapped onto up to lines lines at size; then shrunk step by step down to
// minSize, the smallest that still reads from where people look; then the
// same with short, the office's shorter form (a service's short_name).
// Only when none of that fits is it cut with "…", which the layout tests
// refuse for every screen, language and orientation.
type label struct {
	text string
	// short is the shorter form of text the office allows, or "".
	short   string
	font    fontKind
	size    float64
	minSize float64
	color   color.Color
	h, v    align
	lines   int
}

// lineHeight is the height of one line of text in size.
func lineHeight(size float64) float64 { return size * 1.2 }

// draw draws l in r and returns the box the text took.
func (l label) draw(dst *canvas, r rect) rect {
	lines, f := l.fit(r)
	if len(lines) == 0 {
		return rect{r.x, r.y, 0, 0}
	}
	lineH := lineHeight(f.Size)
	total := lineH * float64(len(lines))
	y := r.y
	switch l.v {
	case middle:
		y = r.y + (r.h-total)/2
	case end:
		y = r.y + r.h - total
	}
	var used rect
	m := f.Metrics()
	for i, line := range lines {
		w := advance(line, f)
		x := r.x
		switch l.h {
		case middle:
			x = r.x + (r.w-w)/2
		case end:
			x = r.x + r.w - w
		}
		used = used.union(rect{x, y + float64(i)*lineH, w, lineH})
		// Centre the font's own line box (ascent+descent) in the line.
		at := rect{x, y + float64(i)*lineH + (lineH-(m.HAscent+m.HDescent))/2, 0, 0}
		drawFace := f
		if dst.scale != 1 {
			// Laid out at f's size, drawn at the picture's resolution.
			at, drawFace = dst.px(at), face(l.font, f.Size*dst.scale)
		}
		op := &text.DrawOptions{}
		op.GeoM.Translate(at.x, at.y)
		op.ColorScale.ScaleWithColor(l.color)
		text.Draw(dst.Image, line, drawFace, op)
	}
	dst.record(drawnText{Text: l.text, Short: l.short, Lines: lines, Size: f.Size, Box: used, Area: r})
	return used
}

// floor is the smallest size l may shrink to.
func (l label) floor() float64 {
	if l.minSize <= 0 || l.minSize > l.size {
		return l.size * 0.6
	}
	return l.minSize
}

// fit lays l's text out in r (see label) and returns its lines and face.
func (l label) fit(r rect) ([]string, *text.GoTextFace) {
	maxLines := max(l.lines, 1)
	floor := l.floor()
	forms := []string{l.text}
	if l.short != "" && l.short != l.text {
		forms = append(forms, l.short)
	}
	for _, s := range forms {
		for size := l.size; ; size = max(size*0.92, floor) {
			f := face(l.font, size)
			lines := wrap(s, f, r.w)
			if fits(lines, f, r, maxLines) {
				return balance(s, f, lines, r.w), f
			}
			if size <= floor {
				break
			}
		}
	}
	// Nothing fits: cut the shortest form at the floor, visibly, keeping
	// to the lines the box has room for so it covers nothing else.
	f := face(l.font, floor)
	lines := wrap(forms[len(forms)-1], f, r.w)
	room := max(1, min(maxLines, int((r.h+1)/lineHeight(floor))))
	if len(lines) > room {
		lines = append(lines[:room-1], strings.Join(lines[room-1:], " "))
	}
	for i := range lines {
		lines[i] = ellipsize(lines[i], f, r.w)
	}
	return lines, f
}

// fits reports whether lines set in f fit r in at most maxLines lines.
func fits(lines []string, f *text.GoTextFace, r rect, maxLines int) bool {
	if len(lines) > maxLines || float64(len(lines))*lineHeight(f.Size) > r.h+1 {
		return false
	}
	for _, line := range lines {
		if advance(line, f) > r.w {
			return false
		}
	}
	return true
}

// wrap breaks s into lines no wider than w at spaces; explicit newlines
// are kept. A word wider than w stays whole on its own line.
func wrap(s string, f *text.GoTextFace, w float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			continue
		}
		line := words[0]
		for _, word := range words[1:] {
			if advance(line+" "+word, f) <= w {
				line += " " + word
				continue
			}
			out = append(out, line)
			line = word
		}
		out = append(out, line)
	}
	return out
}

// balance re-wraps s onto as many lines as wrap gave it at width w, as
// evenly as they go, so that no line is left with a lone word; two facts
// joined by " · " are broken at the dot when they fit that way.
func balance(s string, f *text.GoTextFace, lines []string, w float64) []string {
	n := len(lines)
	if n < 2 || strings.Contains(s, "\n") {
		return lines
	}
	if a, b, ok := strings.Cut(s, " · "); ok && n == 2 && !strings.Contains(b, " · ") &&
		advance(a+" ·", f) <= w && advance(b, f) <= w {
		return []string{a + " ·", b}
	}
	lo, hi := 0.0, w
	for range 12 {
		mid := (lo + hi) / 2
		if l := wrap(s, f, mid); len(l) == n {
			lines, hi = l, mid
		} else {
			lo = mid
		}
	}
	return lines
}

func ellipsize(s string, f *text.GoTextFace, w float64) string {
	if advance(s, f) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && advance(string(r)+"…", f) > w {
		r = r[:len(r)-1]
	}
	return strings.TrimSpace(string(r)) + "…"
}

// height is how tall l's text is when fitted to r.
func (l label) height(r rect) float64 {
	lines, f := l.fit(r)
	return float64(len(lines)) * lineHeight(f.Size)
}

// width is how wide l's text is on one line at its full size.
func (l label) width() float64 { return advance(l.text, face(l.font, l.size)) }

// drawStack draws labels one under another, gap apart, the whole block
// centred vertically in r. Each label is fitted to what the ones before it
// left, so a long first label shrinks rather than pushing the rest out.
func drawStack(dst *canvas, r rect, gap float64, ls ...label) {
	hs := make([]float64, len(ls))
	total := gap * float64(len(ls)-1)
	for i, l := range ls {
		hs[i] = l.height(r)
		total += hs[i]
	}
	if total > r.h {
		// Too tall together: share the height out by what each needs.
		total = gap * float64(len(ls)-1)
		rest := r.h - total
		need := 0.0
		for _, h := range hs {
			need += h
		}
		for i, l := range ls {
			hs[i] = l.height(rect{r.x, r.y, r.w, rest * hs[i] / need})
			total += hs[i]
		}
	}
	y := r.y + max(0, (r.h-total)/2)
	for i, l := range ls {
		l.v = start
		l.draw(dst, rect{r.x, y, r.w, hs[i] + 1})
		y += hs[i] + gap
	}
}

// advance is how wide s is drawn in f, shaped as a whole line.
func advance(s string, f text.Face) float64 { return text.AdvanceAt(s, len(s), f) }
