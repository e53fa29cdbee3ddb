package device

import (
	"image"
	"testing"
)

// A point of the kiosk's picture is found in its window whatever the
// panel's rotation and the window's scale: the inverse of the turn the
// screen gives the picture.
func TestWindowPoint(t *testing.T) {
	for _, tc := range []struct {
		s    ScreenInfo
		p    image.Point
		want image.Point
	}{
		{ScreenInfo{Width: 1920, Height: 1080}, image.Pt(100, 200), image.Pt(100, 200)},
		{ScreenInfo{Width: 1920, Height: 1080, Windowed: true, WindowScale: 0.5}, image.Pt(100, 200), image.Pt(50, 100)},
		{ScreenInfo{Width: 1920, Height: 1080, WindowScale: 0.5}, image.Pt(100, 200), image.Pt(100, 200)}, // full screen
		// A 1920x1080 panel on its side shows a 1080x1920 picture.
		{ScreenInfo{Width: 1920, Height: 1080, Rotation: 90}, image.Pt(0, 0), image.Pt(1920, 0)},
		{ScreenInfo{Width: 1920, Height: 1080, Rotation: 90}, image.Pt(1080, 1920), image.Pt(0, 1080)},
		{ScreenInfo{Width: 1920, Height: 1080, Rotation: 180}, image.Pt(100, 200), image.Pt(1820, 880)},
		{ScreenInfo{Width: 1920, Height: 1080, Rotation: 270}, image.Pt(0, 0), image.Pt(0, 1080)},
	} {
		if got := tc.s.WindowPoint(tc.p); got != tc.want {
			t.Errorf("%+v: %v -> %v, want %v", tc.s, tc.p, got, tc.want)
		}
	}
}
