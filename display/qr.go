package display

import (
	"github.com/skip2/go-qrcode"
)

// qrImage is a QR code to draw: its modules, black or white.
type qrImage struct {
	modules [][]bool
}

// newQR encodes url with medium error correction, or nil if it cannot
// be encoded (too long).
func newQR(url string) *qrImage {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil
	}
	q.DisableBorder = false
	return &qrImage{modules: q.Bitmap()}
}

// draw draws the code in r with whole-pixel modules, centred, on white:
// whole pixels of the picture, however the layout is scaled.
func (q *qrImage) draw(dst *canvas, r rect) {
	fillRect(dst, r, colWhite)
	r, dst = dst.px(r), dst.scaled(1)
	n := len(q.modules)
	if n == 0 {
		return
	}
	cell := float64(int(min(r.w, r.h)) / n)
	side := cell * float64(n)
	x0 := float64(int(r.x + (r.w-side)/2))
	y0 := float64(int(r.y + (r.h-side)/2))
	for y, row := range q.modules {
		for x, black := range row {
			if black {
				fillRect(dst, rect{x0 + float64(x)*cell, y0 + float64(y)*cell, cell, cell}, colInk)
			}
		}
	}
}
