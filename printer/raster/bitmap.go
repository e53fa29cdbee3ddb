// Package raster is the 1-bit picture side of thermal printing: a Bitmap
// of dots, text drawn into it with the Go fonts (which cover Polish,
// Lithuanian and Cyrillic), dithered logos and QR symbols. The ticket
// encoder uses it for text no code page can carry, and the emulator uses it
// to draw the paper.
package raster

import (
	"image"
	"image/color"

	"golang.org/x/image/draw"
)

// Bitmap is a 1-bit image: rows of Stride bytes, most significant bit
// leftmost, 1 = a black dot. This is the layout of ESC/POS GS v 0 data.
type Bitmap struct {
	W, H   int
	Stride int
	Pix    []byte
}

// New returns a white bitmap of w x h dots.
func New(w, h int) *Bitmap {
	w, h = max(w, 0), max(h, 0)
	stride := (w + 7) / 8
	return &Bitmap{W: w, H: h, Stride: stride, Pix: make([]byte, stride*h)}
}

// At reports whether the dot at x, y is black; outside is white.
func (b *Bitmap) At(x, y int) bool {
	if x < 0 || y < 0 || x >= b.W || y >= b.H {
		return false
	}
	return b.Pix[y*b.Stride+x/8]&(0x80>>(x%8)) != 0
}

// Set makes the dot at x, y black or white; outside is ignored.
func (b *Bitmap) Set(x, y int, black bool) {
	if x < 0 || y < 0 || x >= b.W || y >= b.H {
		return
	}
	i, m := y*b.Stride+x/8, byte(0x80>>(x%8))
	if black {
		b.Pix[i] |= m
	} else {
		b.Pix[i] &^= m
	}
}

// Fill makes the rectangle r black.
func (b *Bitmap) Fill(r image.Rectangle) {
	r = r.Intersect(image.Rect(0, 0, b.W, b.H))
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			b.Set(x, y, true)
		}
	}
}

// Draw ORs src into b with its top-left corner at x, y.
func (b *Bitmap) Draw(src *Bitmap, x, y int) {
	if src == nil {
		return
	}
	if x%8 == 0 && x >= 0 && x+src.W <= b.W {
		// Byte-aligned fast path: the common case of left-aligned bands.
		for sy := 0; sy < src.H; sy++ {
			dy := y + sy
			if dy < 0 || dy >= b.H {
				continue
			}
			row := b.Pix[dy*b.Stride+x/8:]
			for i, v := range src.Pix[sy*src.Stride : (sy+1)*src.Stride] {
				row[i] |= v
			}
		}
		return
	}
	for sy := 0; sy < src.H; sy++ {
		for sx := 0; sx < src.W; sx++ {
			if src.At(sx, sy) {
				b.Set(x+sx, y+sy, true)
			}
		}
	}
}

// RowBlank reports whether row y has no black dot.
func (b *Bitmap) RowBlank(y int) bool {
	for _, v := range b.Pix[y*b.Stride : (y+1)*b.Stride] {
		if v != 0 {
			return false
		}
	}
	return true
}

// InkBounds is the smallest rectangle holding every black dot; empty if
// the bitmap is white.
func (b *Bitmap) InkBounds() image.Rectangle {
	r := image.Rectangle{}
	for y := 0; y < b.H; y++ {
		if b.RowBlank(y) {
			continue
		}
		for x := 0; x < b.W; x++ {
			if b.At(x, y) {
				r = r.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return r
}

// Scale returns b enlarged sx times across and sy times down, dot by dot,
// as a printer enlarges its characters.
func (b *Bitmap) Scale(sx, sy int) *Bitmap {
	if sx == 1 && sy == 1 {
		return b
	}
	out := New(b.W*sx, b.H*sy)
	for y := 0; y < b.H; y++ {
		for x := 0; x < b.W; x++ {
			if b.At(x, y) {
				out.Fill(image.Rect(x*sx, y*sy, (x+1)*sx, (y+1)*sy))
			}
		}
	}
	return out
}

// Image returns b as a grey image, black dots on white paper.
func (b *Bitmap) Image() *image.Gray {
	img := image.NewGray(image.Rect(0, 0, b.W, b.H))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := 0; y < b.H; y++ {
		for x := 0; x < b.W; x++ {
			if b.At(x, y) {
				img.Pix[y*img.Stride+x] = 0
			}
		}
	}
	return img
}

// FromImage converts img to dots: scaled to width dots wide (0 keeps its
// size) and dithered with Floyd-Steinberg error diffusion, so a grey logo
// keeps its shading on a printer that only knows black.
func FromImage(img image.Image, width int) *Bitmap {
	src := img.Bounds()
	if src.Empty() {
		return New(0, 0)
	}
	w, h := src.Dx(), src.Dy()
	if width > 0 && width != w {
		h = max(1, h*width/w)
		w = width
	}
	gray := image.NewGray(image.Rect(0, 0, w, h))
	// Transparent areas print as paper.
	draw.Draw(gray, gray.Bounds(), image.White, image.Point{}, draw.Src)
	scaleInto(gray, img)

	errs := make([]float64, (w+2)*2)
	cur, next := errs[:w+2], errs[w+2:]
	out := New(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := float64(gray.Pix[y*gray.Stride+x]) + cur[x+1]
			q := 255.0
			if v < 128 {
				q = 0
				out.Set(x, y, true)
			}
			e := v - q
			cur[x+2] += e * 7 / 16
			next[x] += e * 3 / 16
			next[x+1] += e * 5 / 16
			next[x+2] += e * 1 / 16
		}
		cur, next = next, cur
		clear(next)
	}
	return out
}

// Threshold converts img to dots without dithering: darker than half grey
// is black. For line art and text, where dithering would fray the edges.
func Threshold(img image.Image) *Bitmap {
	r := img.Bounds()
	out := New(r.Dx(), r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			_, _, _, a := img.At(x, y).RGBA()
			if a > 0x8000 && g.Y < 128 {
				out.Set(x-r.Min.X, y-r.Min.Y, true)
			}
		}
	}
	return out
}

func scaleInto(dst *image.Gray, src image.Image) {
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
}
