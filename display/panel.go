package display

import (
	"fmt"
	"math"
)

// Panel describes the physical screen a display is shown on.
type Panel struct {
	// Width and Height are the panel's pixels as the window system shows
	// them (1920x1080 for a landscape full-HD panel).
	Width, Height int
	// Rotation is how far, in degrees clockwise (0, 90, 180, 270), the
	// picture is turned to suit how the panel is mounted: a 1920x1080 panel
	// hung on its side shows a 1080x1920 portrait layout with Rotation 90.
	// Leave it 0 when the window system already rotates the output.
	Rotation int
	// WidthMM is the visible width of the panel (along Width) in
	// millimetres; when zero, DPI is used.
	WidthMM float64
	// DPI is the panel's pixel density; when both WidthMM and DPI are zero,
	// DefaultDPI is assumed.
	DPI float64
}

// DefaultDPI is the density of a 21.5-inch 1920x1080 panel, the usual
// lobby kiosk and hall screen.
const DefaultDPI = 102.5

// The panels Numerek's layouts are made for.
var (
	LandscapeHD = Panel{Width: 1920, Height: 1080}
	PortraitHD  = Panel{Width: 1080, Height: 1920}
	// SmallCounter is a 7-inch 800x480 display above a counter.
	SmallCounter = Panel{Width: 800, Height: 480, WidthMM: 154}
)

// Validate says what is wrong with p, if anything.
func (p Panel) Validate() error {
	switch {
	case p.Width <= 0 || p.Height <= 0 || p.Width > 8192 || p.Height > 8192:
		return fmt.Errorf("display panel size %dx%d: width and height must be between 1 and 8192 pixels", p.Width, p.Height)
	case p.Rotation != 0 && p.Rotation != 90 && p.Rotation != 180 && p.Rotation != 270:
		return fmt.Errorf("display panel rotation %d: must be 0, 90, 180 or 270", p.Rotation)
	case p.WidthMM < 0 || p.DPI < 0 || math.IsNaN(p.WidthMM) || math.IsNaN(p.DPI):
		return fmt.Errorf("display panel width %v mm, %v dpi: must not be negative", p.WidthMM, p.DPI)
	}
	return nil
}

// Logical is the size of the picture the screens lay out: the panel's size
// turned by Rotation.
func (p Panel) Logical() (w, h int) {
	if p.Rotation == 90 || p.Rotation == 270 {
		return p.Height, p.Width
	}
	return p.Width, p.Height
}

// PxPerMM is how many pixels make a millimetre on the panel.
func (p Panel) PxPerMM() float64 {
	switch {
	case p.WidthMM > 0:
		return float64(p.Width) / p.WidthMM
	case p.DPI > 0:
		return p.DPI / 25.4
	}
	return DefaultDPI / 25.4
}

// toLogical turns a point in panel pixels into the logical picture.
func (p Panel) toLogical(x, y float64) (float64, float64) {
	lw, lh := p.Logical()
	switch p.Rotation {
	case 90:
		return y, float64(lh) - x
	case 180:
		return float64(lw) - x, float64(lh) - y
	case 270:
		return float64(lw) - y, x
	}
	return x, y
}
