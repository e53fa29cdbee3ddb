package display

import (
	"image/color"
	"math"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/vector"
)

// shapes keeps the anti-aliased rounded boxes of a screen (buttons, keys,
// cards, their outlines) drawn once, white, as small images, and stamps
// them again, in their colour, in later frames. Ebiten fills an
// anti-aliased path on the GPU each time it is asked, and a keypad of 34
// keys asked it some 70 times a frame: the locker's 38 screens took 14.4
// CPU-s on Mesa's software renderer with the paths, 5.1 with plain boxes
// in their place, 7.5 with this. An image drawn at a whole-pixel offset
// is copied pixel for pixel, so a stamped box is the box the path drew:
// the path is drawn into its image at the same place within a pixel (fx,
// fy).
//
// One game's frames use it, on Ebiten's drawing thread only.
type shapes struct {
	frame   int
	entries map[shapeKey]*shapeEntry
}

// shapeKey is a box in the picture's pixels.
type shapeKey struct {
	w, h, radius float32
	// stroke is the outline's width; 0 for a filled box.
	stroke float32
	// fx and fy are where the box starts within its first pixel.
	fx, fy float32
}

type shapeEntry struct {
	// img is nil for a box drawn only in the first frame so far.
	img *ebiten.Image
	// pad is the margin around the box in img, for the anti-aliased edge
	// and half the outline.
	pad  float64
	used int
}

// shapesKept: a box unused for this many frames is let go, so that a
// screen that changes its layout (a new office, another language) does
// not pile up images.
const shapesKept = 600

// shapeMaxArea is the largest box kept, in pixels: a card as big as the
// screen would hold 6 MB of GPU memory for one box.
const shapeMaxArea = 400 * 400

func newShapes() *shapes { return &shapes{entries: map[shapeKey]*shapeEntry{}} }

// endFrame counts a frame drawn, and lets go of boxes long unused.
func (s *shapes) endFrame() {
	s.frame++
	if s.frame%64 != 0 {
		return
	}
	for k, e := range s.entries {
		if s.frame-e.used > shapesKept {
			if e.img != nil {
				e.img.Deallocate()
			}
			delete(s.entries, k)
		}
	}
}

// draw stamps the box r (picture pixels) with corner radius, filled
// (stroke 0) or outlined stroke wide, in c. It reports false, drawing
// nothing, for a box too big to keep or in the first frame: the caller
// draws its path.
func (s *shapes) draw(dst *ebiten.Image, r rect, radius, stroke float64, c color.Color) bool {
	if r.w*r.h > shapeMaxArea {
		return false
	}
	x0, y0 := math.Floor(r.x), math.Floor(r.y)
	key := shapeKey{w: float32(r.w), h: float32(r.h), radius: float32(radius), stroke: float32(stroke),
		fx: float32(r.x - x0), fy: float32(r.y - y0)}
	e := s.entries[key]
	if e == nil {
		e = &shapeEntry{used: s.frame}
		s.entries[key] = e
	}
	if e.img == nil {
		// The device's first frame draws its paths as before: making an
		// image of each box first took it 30 ms longer (400 against 370
		// ms to the kiosk's first frame). From the second frame on an
		// image is made at once: a call's new boxes, stamped, reached
		// the hall's screen sooner than drawn (p50 12 against 25 ms).
		if s.frame == 0 {
			return false
		}
		e.img, e.pad = newShape(key)
	}
	e.used = s.frame
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(x0-e.pad, y0-e.pad)
	op.ColorScale.ScaleWithColor(c)
	dst.DrawImage(e.img, op)
	return true
}

func newShape(k shapeKey) (*ebiten.Image, float64) {
	pad := math.Ceil(float64(k.stroke)/2) + 2
	w := int(math.Ceil(float64(k.fx+k.w)+2*pad)) + 1
	h := int(math.Ceil(float64(k.fy+k.h)+2*pad)) + 1
	img := ebiten.NewImage(w, h)
	path := roundPath(rect{pad + float64(k.fx), pad + float64(k.fy), float64(k.w), float64(k.h)}, float64(k.radius))
	op := &vector.DrawPathOptions{AntiAlias: true}
	if k.stroke == 0 {
		vector.FillPath(img, path, nil, op)
	} else {
		vector.StrokePath(img, path, &vector.StrokeOptions{Width: k.stroke}, op)
	}
	return img, pad
}
