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

func fillRect(dst *ebiten.Image, r rect, c color.Color) {
	vector.FillRect(dst, float32(r.x), float32(r.y), float32(r.w), float32(r.h), c, false)
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

func fillRound(dst *ebiten.Image, r rect, radius float64, c color.Color) {
	op := &vector.DrawPathOptions{AntiAlias: true}
	op.ColorScale.ScaleWithColor(c)
	vector.FillPath(dst, roundPath(r, radius), nil, op)
}

func strokeRound(dst *ebiten.Image, r rect, radius, width float64, c color.Color) {
	op := &vector.DrawPathOptions{AntiAlias: true}
	op.ColorScale.ScaleWithColor(c)
	vector.StrokePath(dst, roundPath(r, radius), &vector.StrokeOptions{Width: float32(width)}, op)
}

// align places text inside a box.
type align int

const (
	start align = iota
	middle
	end
)

// label is a text to draw in a box: it wraps to at most lines lines and
// shrinks (down to minSize) until it fits.
type label struct {
	text    string
	font    fontKind
	size    float64
	minSize float64
	color   color.Color
	h, v    align
	lines   int
}

// draw draws l in r and returns the box the text took.
func (l label) draw(dst *ebiten.Image, r rect) rect {
	lines, f := l.fit(r)
	if len(lines) == 0 {
		return rect{r.x, r.y, 0, 0}
	}
	lineH := f.Size * 1.2
	total := lineH * float64(len(lines))
	y := r.y
	switch l.v {
	case middle:
		y = r.y + (r.h-total)/2
	case end:
		y = r.y + r.h - total
	}
	var used rect
	used.y = y
	used.h = total
	for i, line := range lines {
		w := text.Advance(line, f)
		x := r.x
		switch l.h {
		case middle:
			x = r.x + (r.w-w)/2
		case end:
			x = r.x + r.w - w
		}
		if i == 0 || x < used.x {
			used.x = x
		}
		used.w = max(used.w, w)
		op := &text.DrawOptions{}
		// Centre the font's own line box (ascent+descent) in the line.
		m := f.Metrics()
		op.GeoM.Translate(x, y+float64(i)*lineH+(lineH-(m.HAscent+m.HDescent))/2)
		op.ColorScale.ScaleWithColor(l.color)
		text.Draw(dst, line, f, op)
	}
	return used
}

// fit wraps and shrinks l's text until it fits r.
func (l label) fit(r rect) ([]string, *text.GoTextFace) {
	maxLines := max(l.lines, 1)
	minSize := l.minSize
	if minSize <= 0 || minSize > l.size {
		minSize = l.size * 0.6
	}
	for size := l.size; ; size *= 0.92 {
		if size < minSize {
			size = minSize
		}
		f := face(l.font, size)
		lines := wrap(l.text, f, r.w)
		fits := len(lines) <= maxLines && float64(len(lines))*size*1.2 <= r.h+1
		for _, line := range lines {
			fits = fits && text.Advance(line, f) <= r.w
		}
		if fits || size == minSize {
			if len(lines) > maxLines {
				lines = lines[:maxLines]
			}
			for i := range lines {
				lines[i] = ellipsize(lines[i], f, r.w)
			}
			return lines, f
		}
	}
}

// wrap breaks s into lines no wider than w at spaces; explicit newlines
// are kept.
func wrap(s string, f *text.GoTextFace, w float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		words := strings.Fields(para)
		if len(words) == 0 {
			continue
		}
		line := words[0]
		for _, word := range words[1:] {
			if text.Advance(line+" "+word, f) <= w {
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

func ellipsize(s string, f *text.GoTextFace, w float64) string {
	if text.Advance(s, f) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && text.Advance(string(r)+"…", f) > w {
		r = r[:len(r)-1]
	}
	return strings.TrimSpace(string(r)) + "…"
}

// height is how tall l's text is when fitted to r.
func (l label) height(r rect) float64 {
	lines, f := l.fit(r)
	return float64(len(lines)) * f.Size * 1.2
}

// drawStack draws labels one under another, gap apart, the whole block
// centred vertically in r; each label may use the full height of r.
func drawStack(dst *ebiten.Image, r rect, gap float64, ls ...label) {
	hs := make([]float64, len(ls))
	total := gap * float64(len(ls)-1)
	for i, l := range ls {
		hs[i] = l.height(r)
		total += hs[i]
	}
	y := r.y + max(0, (r.h-total)/2)
	for i, l := range ls {
		l.v = start
		l.draw(dst, rect{r.x, y, r.w, hs[i] + 1})
		y += hs[i] + gap
	}
}
