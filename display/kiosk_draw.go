package display

import (
	"image/color"
	"strings"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/localize"
)

// addButton records a touch target drawn at r.
func (k *Kiosk) addButton(id string, r rect, enabled bool) {
	k.buttons = append(k.buttons, button{id: id, r: r, enabled: enabled})
}

// margin keeps buttons clear of the corners, where the technician
// gesture is tapped: 16 mm of the panel, in the layout's pixels.
func (k *Kiosk) margin() float64 { return touchMargin(k.c.panel, k.drawScale) }

// touchMargin is the margin of a touch screen laid out at scale: 16 mm of
// panel, at least 40 of the layout's pixels.
func touchMargin(p Panel, scale float64) float64 { return max(40, 16*p.PxPerMM()/scale) }

// header draws the blue band with a title, a subtitle and the clock, and
// returns its height.
func (k *Kiosk) header(dst *canvas, W, H float64, title, subtitle string, now time.Time) float64 {
	return drawHeader(dst, W, H, k.margin(), colBlue, title, subtitle, now, k.cfg.Location)
}

// drawHeader draws a touch screen's band of colour bg with a title, a
// subtitle and the clock, and returns its height.
func drawHeader(dst *canvas, W, H, m float64, bg color.Color, title, subtitle string, now time.Time, loc *time.Location) float64 {
	portrait := H > W
	hh := 150.0
	if portrait {
		hh = 190
	}
	fillRect(dst, rect{0, 0, W, hh}, bg)
	dst = dst.within(rect{0, 0, W, hh})
	clockW := 200.0
	textW := W - 2*m - clockW - 20
	if subtitle == "" {
		label{text: title, font: bold, size: 56, minSize: 36, color: colWhite, v: middle, lines: 2}.draw(dst, rect{m, 10, textW, hh - 20})
	} else {
		label{text: title, font: bold, size: 54, minSize: 36, color: colWhite, v: end}.draw(dst, rect{m, 14, textW, hh*0.55 - 14})
		label{text: subtitle, font: regular, size: 30, minSize: 22, color: colPaleBlue, v: middle, lines: 2}.draw(dst, rect{m, hh * 0.55, textW, hh*0.45 - 10})
	}
	drawClock(dst, rect{W - m - clockW, 0, clockW, hh}, now, loc, 60)
	return hh
}

// drawButton draws a rounded button with a main text and an optional
// second line.
func drawButton(dst *canvas, r rect, bg, fg color.Color, border color.Color, main, sub string, size float64) {
	fillRound(dst, r, 20, bg)
	if border != nil {
		strokeRound(dst, r, 20, 4, border)
	}
	dst = dst.within(r)
	in := r.inset(18)
	if sub == "" {
		label{text: main, font: bold, size: size, minSize: size * 0.55, color: fg, h: middle, v: middle, lines: 2}.draw(dst, in)
		return
	}
	label{text: main, font: bold, size: size, minSize: size * 0.55, color: fg, h: middle, v: end, lines: 2}.draw(dst, rect{in.x, in.y, in.w, in.h * 0.55})
	label{text: sub, font: regular, size: size * 0.62, minSize: 20, color: fg, h: middle, v: start, lines: 3}.draw(dst, rect{in.x, in.y + in.h*0.58, in.w, in.h * 0.42})
}

func (k *Kiosk) drawStart(dst *canvas, W, H float64, now time.Time) {
	tx := k.tx()
	portrait := H > W
	top := k.header(dst, W, H, tx.T("kiosk.title"), tx.T("kiosk.subtitle"), now)
	m := k.margin()
	gap := 24.0
	top = k.drawNotices(dst, W, top)

	// Footer: one button per language, each named in itself.
	footH := 150.0
	langs := k.cfg.Languages
	langRow := rect{m, H - footH + 25, W - 2*m, footH - 50}
	if !portrait {
		langRow = rect{W/2 - 700, H - footH + 25, 1400, footH - 50}
		langRow.x = max(langRow.x, m)
		langRow.w = min(langRow.w, W-2*m)
	}
	fillRect(dst, rect{0, H - footH, W, footH}, colWhite)
	fillRect(dst, rect{0, H - footH, W, 2}, colLine)
	for i, r := range langRow.splitH(len(langs), 16) {
		lang := langs[i]
		bg, fg, border := color.Color(colWhite), color.Color(colBlue), color.Color(colBlue)
		if lang == k.lang {
			bg, fg, border = colBlue, colWhite, nil
		}
		drawButton(dst, r, bg, fg, border, i18n.NativeName(lang), "", 34)
		k.addButton("lang:"+lang, r, true)
	}

	body := rect{m, top + gap, W - 2*m, H - footH - gap - (top + gap)}
	var grid, side rect
	if portrait {
		sideH := 250.0
		grid = rect{body.x, body.y, body.w, body.h - sideH - gap}
		side = rect{body.x, body.y + body.h - sideH, body.w, sideH}
	} else {
		sideW := 460.0
		grid = rect{body.x, body.y, body.w - sideW - gap, body.h}
		side = rect{body.x + body.w - sideW, body.y, sideW, body.h}
	}
	k.drawServices(dst, grid, now)

	// The visit confirmation and the priority choice.
	var parts []rect
	if portrait {
		parts = side.splitH(2, gap)
	} else {
		parts = side.splitV(2, gap)
	}
	drawButton(dst, parts[0], colNavy, colWhite, nil, tx.T("kiosk.confirm_visit"), tx.T("kiosk.confirm_visit_hint"), 40)
	k.addButton("confirm", parts[0], true)
	k.drawPriority(dst, parts[1])
}

// noticeH is the height of the strip under the start screen's header
// that says what is wrong (no server, no printer).
const noticeH = 64.0

// drawNotices draws what is wrong in the strip under the header and
// returns where the buttons begin. The strip is there also when nothing
// is wrong: a notice that pushed the buttons down would move them under a
// resident's finger, and a tap meant for one service would take another.
func (k *Kiosk) drawNotices(dst *canvas, W, top float64) float64 {
	tx := k.tx()
	type notice struct {
		text   string
		bg, fg color.Color
	}
	var notices []notice
	if !k.c.online {
		// The waits shown are the last the kiosk heard; tickets still come
		// from its lease while it can.
		notices = append(notices, notice{tx.T("kiosk.offline"), colRed, colWhite})
	}
	if !k.printer.Ready {
		notices = append(notices, notice{tx.T("kiosk.printer_down"), colAmber, colInk})
	}
	if len(notices) > 0 {
		m := k.margin()
		for i, band := range (rect{0, top, W, noticeH}).splitH(len(notices), 0) {
			n := notices[i]
			fillRect(dst, band, n.bg)
			// The screen's margin at its edges, half of it between two.
			left, right := m/2, m/2
			if i == 0 {
				left = m
			}
			if i == len(notices)-1 {
				right = m
			}
			in := rect{band.x + left, band.y, band.w - left - right, band.h}
			label{text: n.text, font: bold, size: 30, minSize: 18, color: n.fg, h: middle, v: middle, lines: 2}.draw(dst.within(band), in)
		}
	}
	return top + noticeH
}

func (k *Kiosk) drawPriority(dst *canvas, r rect) {
	tx := k.tx()
	bg, fg, border := color.Color(colWhite), color.Color(colInk), color.Color(colBlue)
	if k.priority {
		bg, fg, border = colAmber, colInk, colInk
	}
	fillRound(dst, r, 20, bg)
	strokeRound(dst, r, 20, 4, border)
	dst = dst.within(r)
	in := r.inset(22)
	box := rect{in.x, in.y + 6, 56, 56}
	fillRound(dst, box, 8, colWhite)
	strokeRound(dst, box, 8, 4, colInk)
	if k.priority {
		fillRound(dst, box.inset(12), 4, colInk)
	}
	label{text: tx.T("kiosk.priority"), font: bold, size: 36, minSize: 24, color: fg, v: middle, lines: 2}.draw(dst, rect{box.x + box.w + 18, in.y, in.w - box.w - 18, 68})
	hint := tx.T("kiosk.priority_hint")
	if k.priority {
		hint = tx.T("kiosk.priority_on")
	}
	label{text: hint, font: regular, size: 28, minSize: 20, color: fg, lines: 4}.draw(dst, rect{in.x, in.y + 84, in.w, in.h - 84})
	k.addButton("priority", r, true)
}

func (k *Kiosk) drawServices(dst *canvas, r rect, now time.Time) {
	tx := k.tx()
	services := k.view.Services
	if len(services) == 0 {
		label{text: tx.T("kiosk.no_services"), font: bold, size: 44, color: colInkSoft, h: middle, v: middle, lines: 3}.draw(dst, r)
		return
	}
	cols := 2
	if len(services) <= 3 || (r.h > r.w && len(services) <= 8) {
		cols = 1
	}
	rows := (len(services) + cols - 1) / cols
	for i, s := range services {
		cell := r.splitV(rows, 20)[i/cols].splitH(cols, 20)[i%cols]
		name, short := serviceName(s, k.lang), serviceShortName(s, k.lang)
		in := dst.within(cell)
		if s.Open {
			fillRound(dst, cell, 20, colWhite)
			strokeRound(dst, cell, 20, 3, colBlue)
			if k.priority {
				fillRound(dst, rect{cell.x, cell.y, 14, cell.h}, 7, colAmber)
			}
		} else {
			fillRound(dst, cell, 20, colGreyCard)
		}
		badgeSize := min(cell.h-40, 110.0)
		tall := cell.w < 2.2*cell.h
		badge := rect{cell.x + 24, cell.y + (cell.h-badgeSize)/2, badgeSize, badgeSize}
		body := rect{badge.x + badge.w + 24, cell.y + 14, cell.w - badge.w - 72, cell.h - 28}
		var nameBox, restBox rect
		if tall {
			// A tall card: the letter and the name on top, the rest under them.
			badge.y = cell.y + 22
			nameBox = rect{badge.x + badge.w + 20, badge.y - 6, cell.x + cell.w - 24 - (badge.x + badge.w + 20), badge.h + 12}
			restBox = rect{cell.x + 28, badge.y + badge.h + 18, cell.w - 56, cell.y + cell.h - 18 - (badge.y + badge.h + 18)}
		}
		badgeCol := colBlue
		if !s.Open {
			badgeCol = colGreyInk
		}
		fillRound(dst, badge, 16, badgeCol)
		label{text: s.Prefix, font: bold, size: badgeSize * 0.62, color: colWhite, h: middle, v: middle}.draw(in, badge)
		if s.Open {
			status := tx.T("kiosk.waiting_none")
			if s.Waiting > 0 {
				status = tx.N("kiosk.waiting", s.Waiting) + " · " + localize.Wait(k.cfg.Catalog, k.lang, time.Duration(s.EstimatedWaitS)*time.Second)
			}
			nameL := label{text: name, short: short, font: bold, size: 40, minSize: 26, color: colInk, lines: 2}
			statusL := label{text: status, font: regular, size: 28, minSize: 20, color: colInkSoft, lines: 3}
			if tall {
				// Beside the letter there is room for a third line.
				nameL.v, nameL.lines = middle, 3
				nameL.draw(in, nameBox)
				statusL.draw(in, restBox)
			} else {
				drawStack(in, body, 8, nameL, statusL)
			}
			k.addButton("service:"+s.ID, cell, true)
			continue
		}
		reason := tx.T("kiosk.service_closed")
		if s.Refusal != nil {
			reason = localize.Refusal(k.cfg.Catalog, k.lang, s.Refusal, k.cfg.Location, now)
		}
		nameL := label{text: name, short: short, font: bold, size: 34, minSize: 24, color: colGreyInk, lines: 2}
		reasonL := label{text: reason, font: regular, size: 25, minSize: 18, color: colGreyInk, lines: 5}
		if tall {
			nameL.v, nameL.lines = middle, 3
			nameL.draw(in, nameBox)
			reasonL.draw(in, restBox)
		} else {
			drawStack(in, body, 6, nameL, reasonL)
		}
		k.addButton("closed:"+s.ID, cell, true)
	}
}

func (k *Kiosk) drawBusy(dst *canvas, W, H float64, now time.Time) {
	k.header(dst, W, H, k.busyText, "", now)
	m := k.margin()
	label{text: k.busyText, font: bold, size: 72, minSize: 40, color: colNavy, h: middle, v: middle, lines: 3}.draw(dst, rect{m, H * 0.3, W - 2*m, H * 0.3})
	label{text: k.tx().T("kiosk.please_wait"), font: regular, size: 40, color: colInkSoft, h: middle, v: middle, lines: 2}.draw(dst, rect{m, H * 0.6, W - 2*m, 120})
}

func (k *Kiosk) drawTicket(dst *canvas, W, H float64, now time.Time) {
	tx := k.tx()
	out := k.outcome
	portrait := H > W
	title := tx.T("kiosk.take_ticket")
	if !out.Printed {
		title = tx.T("kiosk.ticket_on_screen")
	}
	top := k.header(dst, W, H, title, "", now)
	m := k.margin()
	doneH := 130.0
	done := rect{W/2 - 300, H - doneH - 40, 600, doneH}
	drawButton(dst, done, colBlue, colWhite, nil, tx.T("kiosk.done"), "", 44)
	k.addButton("done", done, true)

	body := rect{m, top + 30, W - 2*m, done.y - 30 - (top + 30)}
	info := body
	if k.qr != nil {
		if portrait {
			info = rect{body.x, body.y, body.w, body.h * 0.5}
			qrSide := min(body.h*0.5-90, body.w*0.6)
			qr := rect{W/2 - qrSide/2, body.y + body.h*0.5, qrSide, qrSide}
			k.drawQR(dst, qr)
		} else {
			info = rect{body.x, body.y, body.w * 0.55, body.h}
			qrSide := min(body.h-90, body.w*0.4)
			qr := rect{body.x + body.w*0.55 + (body.w*0.45-qrSide)/2, body.y, qrSide, qrSide}
			k.drawQR(dst, qr)
		}
	}
	card := info.inset(10)
	fillRound(dst, card, 28, colWhite)
	strokeRound(dst, card, 28, 3, colLine)
	in := dst.within(card)
	label{text: tx.T("kiosk.your_number"), font: bold, size: 44, minSize: 30, color: colInkSoft, h: middle, v: middle}.draw(in, rect{card.x + 30, card.y + 20, card.w - 60, card.h * 0.14})
	label{text: out.Number, font: bold, size: min(260, card.h*0.44/1.2), color: colNavy, h: middle, v: middle}.draw(in, rect{card.x, card.y + card.h*0.16, card.w, card.h * 0.44})
	// The service, the wait and whether it was printed, each its own text
	// so that the service's name can give way to its short form alone.
	var lines []label
	line := func(s, short string) {
		lines = append(lines, label{text: s, short: short, font: regular, size: 36, minSize: 24, color: colInk, h: middle, lines: 2})
	}
	for _, s := range k.view.Services {
		if s.ID == out.Service {
			line(serviceName(s, k.lang), serviceShortName(s, k.lang))
		}
	}
	if !out.BookedFor.IsZero() {
		line(tx.T("kiosk.booked_for", "time", out.BookedFor.In(k.cfg.Location).Format("15:04")), "")
	} else if out.Ahead > 0 {
		ahead := tx.N("kiosk.ahead", out.Ahead)
		if out.EstimatedWait >= time.Minute {
			ahead += " · " + localize.Wait(k.cfg.Catalog, k.lang, out.EstimatedWait)
		}
		line(ahead, "")
	} else {
		line(tx.T("kiosk.ahead_none"), "")
	}
	if !out.Printed {
		line(tx.T("kiosk.no_print"), "")
	}
	drawStack(in, rect{card.x + 30, card.y + card.h*0.62, card.w - 60, card.h*0.38 - 20}, 4, lines...)
}

func (k *Kiosk) drawQR(dst *canvas, r rect) {
	fillRound(dst, rect{r.x - 16, r.y - 16, r.w + 32, r.h + 32}, 16, colWhite)
	k.qr.draw(dst, r)
	label{text: k.tx().T("kiosk.qr_caption"), font: bold, size: 30, minSize: 22, color: colInk, h: middle, v: start, lines: 2}.draw(dst, rect{r.x - 60, r.y + r.h + 26, r.w + 120, 80})
}

func (k *Kiosk) drawMessage(dst *canvas, W, H float64, now time.Time) {
	tx := k.tx()
	title := tx.T("kiosk.notice")
	if k.isError {
		title = tx.T("kiosk.sorry")
	}
	k.header(dst, W, H, title, "", now)
	m := k.margin()
	card := rect{m, H * 0.22, W - 2*m, H * 0.48}
	fillRound(dst, card, 28, colWhite)
	accent := colBlue
	if k.isError {
		accent = colRed
	}
	fillRound(dst, rect{card.x, card.y, 18, card.h}, 9, accent)
	label{text: k.message, font: bold, size: 52, minSize: 30, color: colInk, h: middle, v: middle, lines: 6}.draw(dst.within(card), card.inset(60))
	ok := rect{W/2 - 300, H*0.74 + 20, 600, 130}
	drawButton(dst, ok, colBlue, colWhite, nil, tx.T("kiosk.ok"), "", 48)
	k.addButton("ok", ok, true)
}

// drawKeypad is the booking code keypad, or the technician's PIN pad.
func (k *Kiosk) drawKeypad(dst *canvas, W, H float64, now time.Time) {
	tx := k.tx()
	pin := k.mode == modePIN
	keys := CodeAlphabet
	title, hint, typed := tx.T("kiosk.code_title"), tx.T("kiosk.code_hint"), k.code
	if pin {
		keys = "1234567890"
		title, hint, typed = tx.T("tech.pin_title"), "", strings.Repeat("●", len([]rune(k.pin)))
	}
	top := k.header(dst, W, H, title, hint, now)
	m := k.margin()
	portrait := H > W

	// What has been typed, in boxes, with the message under it.
	field := rect{m, top + 30, W - 2*m, 140}
	fillRound(dst, field, 20, colWhite)
	strokeRound(dst, field, 20, 4, colNavy)
	fieldDst := dst.within(field)
	shown := typed
	if shown == "" && !pin {
		shown = strings.Repeat("_ ", 8)
	}
	label{text: shown, font: monoBold, size: 96, minSize: 50, color: colNavy, h: middle, v: middle}.draw(fieldDst, field.inset(12))
	msgR := rect{m, field.y + field.h + 10, W - 2*m, 70}
	if k.message != "" {
		label{text: k.message, font: bold, size: 34, minSize: 22, color: colRed, h: middle, v: middle, lines: 2}.draw(dst, msgR)
	}

	// Keys, then Back, Delete and OK.
	actH := 130.0
	cols := 8
	if pin {
		cols = 5
	} else if portrait {
		cols = 6
	}
	padTop := msgR.y + msgR.h + 10
	padBottom := H - actH - 60
	pad := rect{m, padTop, W - 2*m, padBottom - padTop - 24}
	if !portrait {
		pad.w = min(pad.w, float64(cols)*170)
		pad.x = (W - pad.w) / 2
	}
	drawKeys(dst, pad, keys, cols, k.addButton)
	act := rect{pad.x, H - actH - 40, pad.w, actH}
	parts := act.splitH(3, 24)
	drawButton(dst, parts[0], colWhite, colNavy, colNavy, tx.T("kiosk.back"), "", 40)
	k.addButton("cancel", parts[0], true)
	drawButton(dst, parts[1], colWhite, colNavy, colNavy, "← "+tx.T("kiosk.delete"), "", 40)
	k.addButton("backspace", parts[1], true)
	enough := len(k.code) >= minCodeLength
	if pin {
		enough = k.pin != ""
	}
	okBg := colGreen
	if !enough {
		okBg = colGreyInk
	}
	drawButton(dst, parts[2], okBg, colWhite, nil, tx.T("kiosk.ok"), "", 44)
	k.addButton("ok", parts[2], true)
}

func (k *Kiosk) drawTech(dst *canvas, W, H float64, now time.Time) {
	tx := k.tx()
	top := k.header(dst, W, H, tx.T("tech.title"), "", now)
	m := k.margin()
	var lines []string
	lines = append(lines, k.info...)
	conn := tx.T("tech.online")
	if !k.c.online {
		conn = tx.T("tech.offline")
	}
	lines = append(lines, tx.T("tech.connection", "status", conn))
	pr := tx.T("tech.printer_ready")
	if !k.printer.Ready {
		pr = tx.T("tech.printer_fault")
	}
	if k.printer.Detail != "" {
		pr += " (" + k.printer.Detail + ")"
	}
	lines = append(lines, tx.T("tech.printer", "status", pr))
	if k.view.Office != "" {
		lines = append(lines, tx.T("tech.office", "office", k.view.Office, "seq", k.view.Seq))
	}
	infoR := rect{m, top + 30, W - 2*m, H*0.55 - top - 30}
	fillRound(dst, infoR, 20, colWhite)
	label{text: strings.Join(lines, "\n"), font: mono, size: 32, minSize: 20, color: colInk, lines: 14}.draw(dst.within(infoR), infoR.inset(30))
	if k.techNote != "" {
		label{text: k.techNote, font: bold, size: 34, minSize: 22, color: colNavy, h: middle, v: middle, lines: 2}.draw(dst, rect{m, infoR.y + infoR.h + 10, W - 2*m, 80})
	}
	btns := rect{m, H*0.55 + 110, W - 2*m, H*0.45 - 150}
	if H > W {
		btns = rect{m, H*0.55 + 110, W - 2*m, min(H*0.45-150, 420)}
	}
	ids := []string{"tech:print", "tech:sound", "cancel", "tech:quit"}
	names := []string{tx.T("tech.test_print"), tx.T("tech.test_sound"), tx.T("tech.close"), tx.T("tech.quit")}
	for i, r := range btns.splitV(2, 24) {
		for j, c := range r.splitH(2, 24) {
			n := i*2 + j
			bg := colBlue
			if ids[n] == "tech:quit" {
				bg = colRed
			}
			drawButton(dst, c, bg, colWhite, nil, names[n], "", 40)
			k.addButton(ids[n], c, k.tech != nil || ids[n] == "cancel")
		}
	}
}

// drawKeys draws a key for each of keys in pad, cols to a row, and adds
// each as button "key:<its letter>".
func drawKeys(dst *canvas, pad rect, keys string, cols int, addButton func(id string, r rect, enabled bool)) {
	rows := (len(keys) + cols - 1) / cols
	rowRects := pad.splitV(rows, 14)
	for i, r := range []rune(keys) {
		cell := rowRects[i/cols].splitH(cols, 14)[i%cols]
		fillRound(dst, cell, 16, colWhite)
		strokeRound(dst, cell, 16, 3, colBlue)
		label{text: string(r), font: bold, size: min(64, cell.h*0.6), color: colNavy, h: middle, v: middle}.draw(dst.within(cell), cell)
		addButton("key:"+string(r), cell, true)
	}
}
