package display

import (
	"image"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
)

// The identity card, on every panel the layouts are made for, shows the
// device's name and facts whole, inside the screen and over no other text
// of its own, with the QR code to its page; it goes when its time is up
// and the screen is drawn again without it.
func TestIdentityCard(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	id := Identity{Name: "wyświetlacz-sala-parter", Lines: []string{"Rola: hall", "Urząd: cus-starachowice", "Adres: 192.168.100.200"},
		URL: "https://kolejka.example.pl/staff/devices/0123456789abcdef"}
	panels := map[string]Panel{"landscape": LandscapeHD, "portrait": PortraitHD, "7-inch counter": SmallCounter,
		"landscape turned": {Width: 1920, Height: 1080, Rotation: 90}}
	for name, panel := range panels {
		t.Run(name, func(t *testing.T) {
			h := NewHall(HallConfig{Panel: panel, Now: func() time.Time { return now }})
			c := h.base()
			Identify(h, id, 30*time.Second)
			w, ht := panel.Logical()
			img := ebiten.NewImage(w, ht)
			defer img.Deallocate()
			var texts []drawnText
			dst := newCanvas(img, &texts)
			c.mu.Lock()
			if c.ident == nil || c.ident.qr == nil {
				c.mu.Unlock()
				t.Fatal("no identity (or no QR code) on the screen after Identify")
			}
			c.ident.draw(dst)
			c.mu.Unlock()
			lw, lh := dst.scaled(layoutScale(dst)).size()
			f := frameTexts{W: lw, H: lh}
			var shown []string
			for _, tx := range texts {
				f.Texts = append(f.Texts, textMeta{Text: tx.Text, Lines: tx.Lines, Size: tx.Size, Box: rectMeta(tx.Box), Area: rectMeta(tx.Area), Tile: rectMeta(tx.Tile)})
				shown = append(shown, strings.Join(tx.Lines, " "))
			}
			for _, p := range layoutProblems(f) {
				t.Error(p)
			}
			if want := append([]string{id.Name}, id.Lines...); !slices.Equal(shown, want) {
				t.Errorf("the card shows %q, want %q", shown, want)
			}

			c.mu.Lock()
			c.dirty = false
			next := c.expireIdentity(now.Add(10 * time.Second))
			gone := c.expireIdentity(now.Add(30 * time.Second))
			still, dirty := c.ident, c.dirty
			c.mu.Unlock()
			if !next.Equal(now.Add(30*time.Second)) || !gone.IsZero() || still != nil || !dirty {
				t.Errorf("after 30 s: next change %v then %v, identity %v, redraw %v; want it gone at %v and the screen redrawn", next, gone, still, dirty, now.Add(30*time.Second))
			}

			// A tap takes the card off, and reaches nothing under it.
			Identify(h, id, 30*time.Second)
			tap := &input{taps: []image.Point{{X: w / 2, Y: ht / 2}}}
			c.mu.Lock()
			c.dismissIdentity(tap)
			still = c.ident
			c.mu.Unlock()
			if still != nil || len(tap.taps) != 0 {
				t.Errorf("after a tap on the card: identity %v, taps passed on %v", still, tap.taps)
			}
		})
	}
}

// The update notice, on every panel, shows its title and both languages'
// lines whole; while it shows, taps reach nothing under it, and once it
// is taken off they do again.
func TestUpdateNotice(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	n := &Notice{Title: "Aktualizacja systemu · System update", Lines: []string{"Nie wyłączaj urządzenia. Zapisano 40%.", "Do not switch the device off. 40% written."}}
	panels := map[string]Panel{"landscape": LandscapeHD, "portrait": PortraitHD, "7-inch counter": SmallCounter}
	for name, panel := range panels {
		t.Run(name, func(t *testing.T) {
			h := NewHall(HallConfig{Panel: panel, Now: func() time.Time { return now }})
			c := h.base()
			ShowNotice(h, n)
			w, ht := panel.Logical()
			img := ebiten.NewImage(w, ht)
			defer img.Deallocate()
			var texts []drawnText
			dst := newCanvas(img, &texts)
			c.mu.Lock()
			if c.notice == nil {
				c.mu.Unlock()
				t.Fatal("no notice on the screen after ShowNotice")
			}
			c.notice.draw(dst)
			c.mu.Unlock()
			lw, lh := dst.scaled(layoutScale(dst)).size()
			f := frameTexts{W: lw, H: lh}
			var shown []string
			for _, tx := range texts {
				f.Texts = append(f.Texts, textMeta{Text: tx.Text, Lines: tx.Lines, Size: tx.Size, Box: rectMeta(tx.Box), Area: rectMeta(tx.Area), Tile: rectMeta(tx.Tile)})
				shown = append(shown, strings.Join(tx.Lines, " "))
			}
			for _, p := range layoutProblems(f) {
				t.Error(p)
			}
			if want := append([]string{n.Title}, n.Lines...); !slices.Equal(shown, want) {
				t.Errorf("the notice shows %q, want %q", shown, want)
			}
			tap := &input{taps: []image.Point{{X: w / 2, Y: ht / 2}}}
			c.mu.Lock()
			c.swallowTaps(tap)
			c.mu.Unlock()
			if len(tap.taps) != 0 {
				t.Errorf("a tap on the notice passed on to the screen")
			}
			ShowNotice(h, nil)
			tap = &input{taps: []image.Point{{X: w / 2, Y: ht / 2}}}
			c.mu.Lock()
			c.swallowTaps(tap)
			gone := c.notice == nil
			c.mu.Unlock()
			if !gone || len(tap.taps) != 1 {
				t.Errorf("after the notice was taken off: gone %v, taps %v", gone, tap.taps)
			}
		})
	}
}
