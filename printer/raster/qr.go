package raster

import (
	"fmt"
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// QRLevel is a QR error correction level.
type QRLevel int

// The four QR error correction levels: about 7, 15, 25 and 30 % of the
// symbol may be damaged and still read.
const (
	QRLow QRLevel = iota
	QRMedium
	QRQuartile
	QRHigh
)

// QR draws data as a model 2 QR symbol with module dots per module and no
// quiet zone (paper around it is white already; callers leave the margin).
func QR(data []byte, level QRLevel, module int) (*Bitmap, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("QR code: no data to encode")
	}
	q, err := qrcode.New(string(data), qrcode.RecoveryLevel(level))
	if err != nil {
		return nil, fmt.Errorf("QR code of %d bytes: %w", len(data), err)
	}
	q.DisableBorder = true
	modules := q.Bitmap()
	module = max(module, 1)
	n := len(modules)
	out := New(n*module, n*module)
	for y, row := range modules {
		for x, black := range row {
			if black {
				out.Fill(image.Rect(x*module, y*module, (x+1)*module, (y+1)*module))
			}
		}
	}
	return out, nil
}
