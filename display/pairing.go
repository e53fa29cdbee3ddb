package display

import (
	"time"

	"github.com/numerek/numerek/i18n"
)

// PairingConfig sets up the pairing screen.
type PairingConfig struct {
	Panel Panel
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Catalog holds the words; default i18n.Messages().
	Catalog *i18n.Catalog
}

// PairingView is what the pairing screen shows.
type PairingView struct {
	// Code is the user code, "XXXX-XXXX"; empty while the server has not
	// given one.
	Code string
	// URI is where an admin approves the code; URIComplete has the code
	// in it and goes into the QR.
	URI, URIComplete string
	// Fingerprint is the device key's, for the admin to compare.
	Fingerprint string
	// Server is the server's address as the device knows it.
	Server string
	// Refused: the admin refused the previous code.
	Refused bool
	// Unreachable: the server cannot be reached now.
	Unreachable bool
	// CardProblem is what is wrong in the card's numerek.txt, in Polish
	// and in English, with its line; empty: nothing. The technician
	// installing the device has no keyboard: the screen says what to fix.
	CardProblem Bilingual
}

// Bilingual is a text in Polish and in English, as the pairing screen
// says everything.
type Bilingual struct{ Polish, English string }

// Pairing is the screen of a device the server does not know yet: the
// code an admin types on /staff/devices, large, a QR of the page with the
// code in it, the device key's fingerprint and the server's address. Its
// words are in Polish and in English: a device being installed has no
// language of its own yet. Its methods are safe for concurrent use.
type Pairing struct {
	c    *core
	cfg  PairingConfig
	view PairingView
	qr   *qrImage
	qrOf string
	// regions are where the last frame put its parts, and drawScale how
	// it was scaled, for tests.
	regions   map[string]rect
	drawScale float64
}

// NewPairing makes a pairing screen.
func NewPairing(cfg PairingConfig) *Pairing {
	cfg.Catalog = orCatalog(cfg.Catalog)
	p := &Pairing{cfg: cfg}
	p.c = newCore("pairing", cfg.Panel, cfg.Now, p)
	return p
}

func (p *Pairing) base() *core { return p.c }

// SetView shows v.
func (p *Pairing) SetView(v PairingView) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if v == p.view {
		return
	}
	p.view = v
	if v.URIComplete != p.qrOf {
		p.qr, p.qrOf = nil, v.URIComplete
		if v.URIComplete != "" {
			p.qr = newQR(v.URIComplete)
		}
	}
	p.c.changed()
}

func (p *Pairing) update(time.Time, *input) {}

func (p *Pairing) nextChange(time.Time) time.Time { return time.Time{} }

// The pairing screen is laid out for a full-HD panel (either way up) and
// drawn scaled on others.
const pairingLong, pairingShort = 1920.0, 1080.0

func (p *Pairing) draw(dst *canvas, _ time.Time) {
	p.regions = map[string]rect{}
	b := dst.Bounds()
	pw, ph := float64(b.Dx()), float64(b.Dy())
	portrait := ph > pw
	s := min(pw/pairingLong, ph/pairingShort)
	if portrait {
		s = min(pw/pairingShort, ph/pairingLong)
	}
	p.drawScale = s
	dst = dst.scaled(s)
	W, H := dst.size()
	dst.Fill(colNavy)
	pl, en := texts{p.cfg.Catalog, "pl"}, texts{p.cfg.Catalog, "en"}
	v := p.view
	pad := 56.0

	headH := 120.0
	fillRect(dst, rect{0, 0, W, headH}, colNavyLight)
	label{text: pl.T("pairing.title") + " · " + en.T("pairing.title"), font: bold, size: 52, minSize: 32, color: colWhite, v: middle}.
		draw(dst.within(rect{0, 0, W, headH}), rect{pad, 0, W - 2*pad, headH})

	// The line at the bottom: whether the server answers.
	footH := 0.0
	if v.Unreachable || v.Code == "" {
		footH = 96
		foot := rect{0, H - footH, W, footH}
		bg, id := colNavyLight, "pairing.connecting"
		if v.Unreachable {
			bg, id = colRed, "pairing.unreachable"
		}
		fillRect(dst, foot, bg)
		drawStack(dst.within(foot), foot.inset(12), 4,
			label{text: pl.T(id, "server", v.Server), font: bold, size: 30, minSize: 20, color: colWhite, h: middle},
			label{text: en.T(id, "server", v.Server), font: regular, size: 26, minSize: 18, color: colWhite, h: middle})
	}

	// Above it: the card's numerek.txt has a mistake.
	if v.CardProblem.Polish != "" {
		cardH := 170.0
		if portrait {
			cardH = 240
		}
		band := rect{0, H - footH - cardH, W, cardH}
		fillRect(dst, band, colAmber)
		p.regions["card_problem"] = band
		drawStack(dst.within(band), band.inset(14), 4,
			label{text: pl.T("pairing.card_problem", "problem", v.CardProblem.Polish), font: bold, size: 28, minSize: 16, color: colInk, lines: 3},
			label{text: en.T("pairing.card_problem", "problem", v.CardProblem.English), font: regular, size: 24, minSize: 14, color: colInk, lines: 3})
		footH += cardH
	}

	body := rect{pad, headH + 40, W - 2*pad, H - footH - headH - 80}
	var left, right rect
	if portrait {
		left = rect{body.x, body.y, body.w, body.h * 0.45}
		right = rect{body.x, body.y + body.h*0.45 + 32, body.w, body.h*0.55 - 32}
	} else {
		left = rect{body.x, body.y, body.w * 0.58, body.h}
		right = rect{body.x + body.w*0.58 + 48, body.y, body.w*0.42 - 48, body.h}
	}
	p.drawCode(dst, left, pl, en)
	p.drawKey(dst, right, pl, en, portrait)
}

// drawCode draws what to do and the code.
func (p *Pairing) drawCode(dst *canvas, r rect, pl, en texts) {
	v := p.view
	uri := v.URI
	if uri == "" {
		uri = v.Server + "/staff/devices"
	}
	y := r.y
	lines := []label{
		{text: pl.T("pairing.instruction", "uri", uri), font: bold, size: 40, minSize: 26, color: colWhite, lines: 3},
		{text: en.T("pairing.instruction", "uri", uri), font: regular, size: 32, minSize: 22, color: colMuted, lines: 3},
	}
	for _, l := range lines {
		box := l.draw(dst, rect{r.x, y, r.w, l.height(rect{r.x, y, r.w, r.h})})
		y = box.y + box.h + 16
	}
	codeBox := rect{r.x, y + 24, r.w, min(280, r.y+r.h-y-24)}
	if v.Refused {
		codeBox.h = min(codeBox.h, r.y+r.h-codeBox.y-110)
	}
	fillRound(dst, codeBox, 28, colWhite)
	p.regions["code"] = codeBox
	code, col := v.Code, colInk
	if code == "" {
		code, col = "····-····", colGreyInk
	}
	label{text: code, font: monoBold, size: min(200, codeBox.h*0.7), minSize: 60, color: col, h: middle, v: middle}.
		draw(dst.within(codeBox), codeBox.inset(20))
	if v.Refused {
		ref := rect{r.x, codeBox.y + codeBox.h + 20, r.w, 90}
		p.regions["refused"] = ref
		drawStack(dst, ref, 4,
			label{text: pl.T("pairing.refused"), font: bold, size: 32, minSize: 22, color: colAmber},
			label{text: en.T("pairing.refused"), font: regular, size: 28, minSize: 20, color: colAmber})
	}
}

// drawKey draws the QR of the page with the code, the key's fingerprint
// and the server's address.
func (p *Pairing) drawKey(dst *canvas, r rect, pl, en texts, portrait bool) {
	v := p.view
	infoH := 230.0
	side := min(r.w, r.h-infoH-24)
	qr := rect{r.x + (r.w-side)/2, r.y, side, side}
	info := rect{r.x, r.y + side + 24, r.w, infoH}
	if portrait {
		side = min(r.h, r.w*0.5)
		qr = rect{r.x, r.y, side, side}
		info = rect{r.x + side + 40, r.y, r.w - side - 40, r.h}
	}
	if p.qr != nil {
		fillRound(dst, qr, 16, colWhite)
		p.qr.draw(dst, qr.inset(16))
	} else {
		fillRound(dst, qr, 16, colNavyLight)
	}
	p.regions["qr"] = qr
	p.regions["info"] = info
	drawStack(dst.within(info), info, 8,
		label{text: pl.T("pairing.fingerprint") + " · " + en.T("pairing.fingerprint"), font: regular, size: 26, minSize: 18, color: colMuted},
		label{text: v.Fingerprint, font: monoBold, size: 34, minSize: 20, color: colWhite, lines: 2},
		label{text: pl.T("pairing.server") + " · " + en.T("pairing.server"), font: regular, size: 26, minSize: 18, color: colMuted},
		label{text: v.Server, font: mono, size: 30, minSize: 18, color: colWhite, lines: 2})
}
