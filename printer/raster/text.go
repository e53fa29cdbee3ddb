package raster

import (
	"fmt"
	"image"
	"math"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Style is one of the Go fonts.
type Style int

// The Go fonts used on tickets.
const (
	Regular Style = iota
	Bold
	Mono
	MonoBold
)

// parsed holds the four fonts, parsed once; they are read-only after.
var parsed = sync.OnceValues(func() ([4]*opentype.Font, error) {
	var out [4]*opentype.Font
	for i, ttf := range [][]byte{goregular.TTF, gobold.TTF, gomono.TTF, gomonobold.TTF} {
		f, err := opentype.Parse(ttf)
		if err != nil {
			return out, fmt.Errorf("parsing Go font %d: %w", i, err)
		}
		out[i] = f
	}
	return out, nil
})

// Fonts draws text with the Go fonts, keeping the faces it has made. It is
// not safe for concurrent use: give each goroutine its own.
type Fonts struct {
	faces map[faceKey]font.Face
}

type faceKey struct {
	style Style
	px    float64
}

// NewFonts returns an empty face cache.
func NewFonts() *Fonts { return &Fonts{faces: map[faceKey]font.Face{}} }

// Face returns the face of style at px pixels per em.
func (f *Fonts) Face(style Style, px float64) font.Face {
	k := faceKey{style, px}
	if face, ok := f.faces[k]; ok {
		return face
	}
	fonts, err := parsed()
	if err != nil {
		panic(err) // the Go fonts are compiled in; they always parse
	}
	face, err := opentype.NewFace(fonts[style], &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(fmt.Sprintf("making Go font face %d at %.1fpx: %v", style, px, err))
	}
	f.faces[k] = face
	return face
}

// Width is how many dots s takes in style at px.
func (f *Fonts) Width(style Style, px float64, s string) int {
	return font.MeasureString(f.Face(style, px), s).Ceil()
}

// LineHeight is the distance between baselines of style at px.
func (f *Fonts) LineHeight(style Style, px float64) int {
	m := f.Face(style, px).Metrics()
	return (m.Ascent + m.Descent).Ceil()
}

// Text draws s on one line in style at px: as wide as the text and one
// line high. Dots are black where a glyph covers more than half a dot.
func (f *Fonts) Text(style Style, px float64, s string) *Bitmap {
	face := f.Face(style, px)
	m := face.Metrics()
	w := font.MeasureString(face, s).Ceil()
	h := (m.Ascent + m.Descent).Ceil()
	return f.draw(face, s, w, h, fixed.P(0, m.Ascent.Ceil()))
}

// Baseline is where the baseline of style at px sits in a character cell
// of a printer's font: the encoder's drawn lines and the emulator's
// characters share it, so a drawn line matches a printed one.
func (f *Fonts) Baseline(style Style, px float64) int {
	return f.Face(style, px).Metrics().Ascent.Ceil()
}

// Cell draws r in a w x h character cell with its baseline at baseline,
// centred across: how the emulator forms a printer's built-in characters.
func (f *Fonts) Cell(style Style, px float64, r rune, w, h, baseline int) *Bitmap {
	face := f.Face(style, px)
	adv, _ := face.GlyphAdvance(r)
	x := fixed.I(w)/2 - adv/2
	return f.draw(face, string(r), w, h, fixed.Point26_6{X: x, Y: fixed.I(baseline)})
}

func (f *Fonts) draw(face font.Face, s string, w, h int, dot fixed.Point26_6) *Bitmap {
	if w <= 0 || h <= 0 {
		return New(max(w, 0), max(h, 0))
	}
	mask := image.NewAlpha(image.Rect(0, 0, w, h))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: dot}
	d.DrawString(s)
	out := New(w, h)
	for y := 0; y < h; y++ {
		row := mask.Pix[y*mask.Stride : y*mask.Stride+w]
		for x, a := range row {
			if a >= 0x80 {
				out.Pix[y*out.Stride+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return out
}

// Wrap breaks s into lines no wider than width dots in style at px,
// between words where it can and inside a word only when one word alone is
// too wide.
func (f *Fonts) Wrap(style Style, px float64, s string, width int) []string {
	return WrapFunc(s, func(line string) bool { return f.Width(style, px, line) <= width })
}

// WrapFunc breaks s into lines for which fits holds, between words where
// it can. It is shared by dot-measured and column-measured wrapping.
func WrapFunc(s string, fits func(string) bool) []string {
	// Only plain spaces break lines: a no-break space keeps "15 min" whole.
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' })
	var lines []string
	cur := ""
	for _, w := range words {
		try := w
		if cur != "" {
			try = cur + " " + w
		}
		if fits(try) {
			cur = try
			continue
		}
		if cur != "" {
			lines = append(lines, cur)
			cur = ""
		}
		// A word wider than the line is cut where it must be.
		for !fits(w) {
			runes := []rune(w)
			n := len(runes) - 1
			for n > 1 && !fits(string(runes[:n])) {
				n--
			}
			lines = append(lines, string(runes[:n]))
			w = string(runes[n:])
		}
		cur = w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// FitSize returns the largest px, at most maxPx and at least minPx, at which
// s fits in width dots on one line in style.
func (f *Fonts) FitSize(style Style, s string, width int, minPx, maxPx float64) float64 {
	px := maxPx
	if w := f.Width(style, px, s); w > width && w > 0 {
		px = math.Floor(px * float64(width) / float64(w))
	}
	for px > minPx && f.Width(style, px, s) > width {
		px--
	}
	return math.Max(px, minPx)
}
