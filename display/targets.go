package display

import "image"

// Target is one touch target of the kiosk's screen as last drawn: what it
// does ("service:family", "lang:uk", "priority", "confirm", "key:A",
// "ok", "done", ...) and where it is, in the panel's logical pixels (the
// picture before any rotation).
type Target struct {
	ID      string          `json:"id"`
	Rect    image.Rectangle `json:"rect"`
	Enabled bool            `json:"enabled"`
}

// Targets returns the touch targets of the frame last drawn, for a
// device's status page: tests and remote support tap them as a resident's
// finger would, through the window system, without guessing the layout.
func (k *Kiosk) Targets() []Target {
	k.c.mu.Lock()
	defer k.c.mu.Unlock()
	return targetsOf(k.buttons, k.drawScale)
}

// targetsOf is buttons laid out at scale, in the panel's logical pixels.
func targetsOf(buttons []button, scale float64) []Target {
	out := make([]Target, 0, len(buttons))
	for _, b := range buttons {
		if scale > 0 {
			b.r = rect{b.r.x * scale, b.r.y * scale, b.r.w * scale, b.r.h * scale}
		}
		out = append(out, Target{
			ID:      b.id,
			Rect:    image.Rect(int(b.r.x), int(b.r.y), int(b.r.x+b.r.w), int(b.r.y+b.r.h)),
			Enabled: b.enabled,
		})
	}
	return out
}
