package display

import (
	"context"
	"errors"
	"fmt"
	"image"
	"time"
)

// What an admin's remote actions ask of any screen: to show who the device
// is for a while (Identify), and the picture it shows now (Grab).

// Identity is what a screen shows when its device is asked to identify
// itself: its name large, a few facts, and a QR code to its page on the
// server.
type Identity struct {
	Name string
	// Lines are facts in the device's language ("Role: hall").
	Lines []string
	// URL is the device's page; "" shows no code.
	URL string
}

// identity is an Identity on screen until until.
type identity struct {
	Identity
	qr    *qrImage
	until time.Time
}

// Identify shows id over s's picture for d, whatever the screen shows
// beneath (which goes on changing under it).
func Identify(s Screen, id Identity, d time.Duration) {
	c := s.base()
	c.mu.Lock()
	defer c.mu.Unlock()
	ov := &identity{Identity: id, until: c.now().Add(d)}
	if id.URL != "" {
		ov.qr = newQR(id.URL)
	}
	c.ident = ov
	c.changed()
}

// errNotDrawing: Grab on a screen whose loop is not running.
var errNotDrawing = errors.New("the screen is not drawing")

// Grab returns the picture s shows now (upright, at its logical size),
// read back from the GPU once at the next frame; the screen is not drawn
// again for it, so it is exactly what the panel shows.
func Grab(ctx context.Context, s Screen) (*image.RGBA, error) {
	c := s.base()
	if !c.running.Load() {
		return nil, errNotDrawing
	}
	got := make(chan *image.RGBA, 1)
	c.mu.Lock()
	c.grabs = append(c.grabs, got)
	c.mu.Unlock()
	c.wakeUp()
	select {
	case f := <-got:
		return f, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("reading the screen: %w", ctx.Err())
	}
}

// expireIdentity takes the identity off when its time is up and returns
// when it goes next (zero: none on screen). c.mu is held.
func (c *core) expireIdentity(now time.Time) time.Time {
	if c.ident == nil {
		return time.Time{}
	}
	if !now.Before(c.ident.until) {
		c.ident = nil
		c.dirty = true
		return time.Time{}
	}
	return c.ident.until
}

// dismissIdentity takes the identity off at a tap, which does nothing
// else: a resident at a kiosk tapping the card must not take a ticket of
// the button under it. c.mu is held.
func (c *core) dismissIdentity(in *input) {
	if c.ident == nil || len(in.taps) == 0 {
		return
	}
	c.ident = nil
	c.dirty = true
	in.taps = in.taps[:0]
}

// draw draws the identity as a card in the middle of the picture, laid
// out for full HD and scaled like the kiosk's screens.
func (id *identity) draw(dst *canvas) {
	dst = dst.scaled(layoutScale(dst))
	W, H := dst.size()
	cw, ch := min(W-80, 1240.0), min(H-80, 600.0)
	card := rect{(W - cw) / 2, (H - ch) / 2, cw, ch}
	fillRound(dst, card.inset(-8), 28, colAmber)
	fillRound(dst, card, 24, colWhite)
	dst = dst.within(card)
	pad := 48.0
	inner := card.inset(pad)
	text := inner
	if id.qr != nil {
		side := min(inner.h, inner.w*0.4)
		id.qr.draw(dst, rect{inner.x + inner.w - side, inner.y + (inner.h-side)/2, side, side})
		text.w -= side + pad
	}
	ls := []label{{text: id.Name, font: bold, size: 72, minSize: 40, color: colInk, lines: 2}}
	for _, l := range id.Lines {
		ls = append(ls, label{text: l, font: regular, size: 36, minSize: 24, color: colInkSoft, lines: 2})
	}
	drawStack(dst, text, 16, ls...)
}

// Notice is a card kept over a screen's picture until taken off: the
// device's own word that matters more than what the screen shows ("the
// system is updating, do not switch off").
type Notice struct {
	Title string
	Lines []string
}

// ShowNotice puts n over s's picture, or takes the one shown off (nil).
// While it shows, taps do nothing: whatever lies beneath is covered.
func ShowNotice(s Screen, n *Notice) {
	c := s.base()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notice = nil
	if n != nil {
		c.notice = &identity{Identity: Identity{Name: n.Title, Lines: n.Lines}}
	}
	c.changed()
}

// swallowTaps drops the taps on a notice. c.mu is held.
func (c *core) swallowTaps(in *input) {
	if c.notice != nil {
		in.taps = in.taps[:0]
	}
}
