package display

import (
	"image/color"
	"slices"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2/vector"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
)

// lockerButton is a button of a message screen: its id and its words.
type lockerButton struct {
	id, text string
	primary  bool
}

func (l *Locker) margin() float64 { return touchMargin(l.c.panel, l.drawScale) }

func (l *Locker) header(dst *canvas, W, H float64, bg color.Color, title, subtitle string, now time.Time) float64 {
	return drawHeader(dst, W, H, l.margin(), bg, title, subtitle, now, l.opts.Location)
}

// name is the locker's name, or the word for a locker.
func (l *Locker) name() string {
	if l.view.Name != "" {
		return l.view.Name
	}
	return l.tx().T("locker.title")
}

// alarmedTarget says whether the door of the compartment on screen has
// been open too long.
func (l *Locker) alarmedTarget() bool {
	return l.out.Compartment != "" && slices.Contains(l.view.Alarm, l.out.Compartment)
}

func (l *Locker) draw(dst *canvas, now time.Time) {
	l.drawnMinute = minuteOf(now)
	l.drawnWait = l.waitLeft(now)
	l.drawn = lockerShown{l.mode, l.alarmedTarget(), l.out.Compartment, l.lang}
	l.buttons = l.buttons[:0]
	l.drawScale = layoutScale(dst)
	dst = dst.scaled(l.drawScale)
	W, H := dst.size()
	dst.Fill(colPaper)
	tx := l.tx()
	c := l.out.Compartment
	switch l.mode {
	case lockerEnter:
		l.drawEnter(dst, W, H, now)
	case lockerSecondFactor:
		l.drawSecondFactor(dst, W, H, now)
	case lockerChecking:
		l.drawMessage(dst, W, H, now, colBlue, tx.T("locker.checking"), tx.T("locker.please_wait"), false)
	case lockerOpen:
		switch {
		case l.alarmedTarget():
			l.drawMessage(dst, W, H, now, colRed, tx.T("locker.alarm_title", "compartment", c), tx.T("locker.alarm", "compartment", c), true)
		case l.out.Clerk:
			l.drawMessage(dst, W, H, now, colGreen, tx.T("locker.open_title", "compartment", c), tx.T("locker.clerk_put", "compartment", c), true)
		default:
			l.drawMessage(dst, W, H, now, colGreen, tx.T("locker.open_title", "compartment", c), tx.T("locker.open_take", "compartment", c), true)
		}
	case lockerThanks:
		body := tx.T("locker.thanks", "compartment", c)
		if l.out.Clerk {
			body = tx.T("locker.clerk_thanks", "compartment", c)
		}
		l.drawMessage(dst, W, H, now, colGreen, tx.T("locker.thanks_title"), body, false, lockerButton{"done", tx.T("locker.ok"), true})
	case lockerWrong:
		l.drawMessage(dst, W, H, now, colRed, tx.T("locker.wrong_title"), tx.T("locker.wrong"), false, lockerButton{"cancel", tx.T("locker.try_again"), true})
	case lockerWait:
		l.drawMessage(dst, W, H, now, colRed, tx.T("locker.wait_title"), tx.N("locker.wait", max(1, l.drawnWait)), false)
	case lockerBlocked:
		l.drawMessage(dst, W, H, now, colRed, tx.T("locker.blocked_title"), tx.T("locker.blocked"), false, lockerButton{"done", tx.T("locker.ok"), true})
	case lockerLockFailed:
		l.drawMessage(dst, W, H, now, colRed, tx.T("locker.lock_failed_title", "compartment", c), tx.T("locker.lock_failed"), true,
			lockerButton{"done", tx.T("locker.back"), false}, lockerButton{"retry", tx.T("locker.try_again"), true})
	case lockerSecondFactorOffline:
		l.drawMessage(dst, W, H, now, colRed, tx.T("locker.otp_title"), tx.T("locker.otp_offline"), false, lockerButton{"done", tx.T("locker.ok"), true})
	default:
		l.drawMessage(dst, W, H, now, colRed, tx.T("locker.sorry"), tx.T("locker.error"), false, lockerButton{"done", tx.T("locker.ok"), true})
	}
}

// drawNotices draws what the resident should know while typing a code:
// the server cannot be reached, a door is open too long. The strip is
// there when nothing is wrong too, so the keys never move.
func (l *Locker) drawNotices(dst *canvas, W, top float64) float64 {
	tx := l.tx()
	text, bg, fg := "", color.Color(nil), color.Color(nil)
	switch {
	case len(l.view.Alarm) > 0:
		text, bg, fg = tx.N("locker.close_doors", len(l.view.Alarm), "compartments", strings.Join(l.view.Alarm, ", ")), colAmber, colInk
	case l.view.Offline:
		text, bg, fg = tx.T("locker.offline"), colRed, colWhite
	}
	if text != "" {
		band := rect{0, top, W, noticeH}
		fillRect(dst, band, bg)
		m := l.margin()
		label{text: text, font: bold, size: 30, minSize: 18, color: fg, h: middle, v: middle, lines: 2}.draw(dst.within(band), rect{m, top, W - 2*m, noticeH})
	}
	return top + noticeH
}

// drawEnter is "enter your code": the code typed so far, the keypad of the
// code alphabet and the languages.
func (l *Locker) drawEnter(dst *canvas, W, H float64, now time.Time) {
	tx := l.tx()
	portrait := H > W
	top := l.header(dst, W, H, colBlue, l.name(), tx.T("locker.enter_hint"), now)
	top = l.drawNotices(dst, W, top)
	m := l.margin()
	gap := 24.0

	// The languages: a column at the right, or a row at the bottom.
	var area, langs rect
	var langRects []rect
	if portrait {
		langs = rect{m, H - 40 - 120, W - 2*m, 120}
		langRects = langs.splitH(len(l.opts.Languages), 16)
		area = rect{m, top + gap, W - 2*m, langs.y - gap - (top + gap)}
	} else {
		langs = rect{W - m - 340, top + gap, 340, H - 40 - (top + gap)}
		langRects = langs.splitV(len(l.opts.Languages), 16)
		area = rect{m, top + gap, langs.x - gap - m, langs.h}
	}
	for i, r := range langRects {
		lang := l.opts.Languages[i]
		bg, fg, border := color.Color(colWhite), color.Color(colBlue), color.Color(colBlue)
		if lang == l.lang {
			bg, fg, border = colBlue, colWhite, nil
		}
		drawButton(dst, r, bg, fg, border, i18n.NativeName(lang), "", 34)
		l.addButton("lang:"+lang, r, true)
	}
	cols := 8
	if portrait {
		cols = 6
	}
	l.drawPad(dst, area, codeShown(l.code), CodeAlphabet, cols, len(l.code) == queue.LockerCodeLength, lockerButton{"cancel", tx.T("locker.clear"), false})
}

// drawPad draws the typed text in a field, the message under it, the keys
// and a row of first, Delete and OK.
func (l *Locker) drawPad(dst *canvas, area rect, shown, keys string, cols int, complete bool, first lockerButton) {
	tx := l.tx()
	field := rect{area.x, area.y, area.w, 130}
	fillRound(dst, field, 20, colWhite)
	strokeRound(dst, field, 20, 4, colNavy)
	label{text: shown, font: monoBold, size: 92, minSize: 50, color: colNavy, h: middle, v: middle}.draw(dst.within(field), field.inset(12))
	msgR := rect{area.x, field.y + field.h + 6, area.w, 64}
	if l.message != "" {
		label{text: l.message, font: bold, size: 32, minSize: 20, color: colRed, h: middle, v: middle, lines: 2}.draw(dst, msgR)
	}
	actH := 120.0
	act := rect{area.x, area.y + area.h - actH, area.w, actH}
	pad := rect{area.x, msgR.y + msgR.h + 6, area.w, act.y - 20 - (msgR.y + msgR.h + 6)}
	// Keys no larger than a finger needs, the pad in the middle of its room.
	if maxW := float64(cols) * 190; pad.w > maxW {
		pad.x += (pad.w - maxW) / 2
		pad.w = maxW
	}
	rows := float64((len(keys) + cols - 1) / cols)
	if maxH := rows*170 + (rows-1)*14; pad.h > maxH {
		pad.y += (pad.h - maxH) / 2
		pad.h = maxH
	}
	drawKeys(dst, pad, keys, cols, l.addButton)
	parts := act.splitH(3, 24)
	drawButton(dst, parts[0], colWhite, colNavy, colNavy, first.text, "", 38)
	l.addButton(first.id, parts[0], true)
	drawButton(dst, parts[1], colWhite, colNavy, colNavy, "← "+tx.T("locker.delete"), "", 38)
	l.addButton("backspace", parts[1], true)
	okBg := colGreen
	if !complete {
		okBg = colGreyInk
	}
	drawButton(dst, parts[2], okBg, colWhite, nil, tx.T("locker.ok"), "", 42)
	l.addButton("ok", parts[2], true)
}

// codeShown is a code being typed as the resident reads it: ABCD-EF__.
func codeShown(code string) string {
	s := code + strings.Repeat("_", max(0, queue.LockerCodeLength-len(code)))
	half := queue.LockerCodeLength / 2
	return s[:half] + "-" + s[half:]
}

// drawSecondFactor asks for the one-time code sent by SMS.
func (l *Locker) drawSecondFactor(dst *canvas, W, H float64, now time.Time) {
	tx := l.tx()
	hint := tx.T("locker.otp_hint", "phone", l.out.SentTo)
	if l.out.SentTo == "" {
		hint = tx.T("locker.otp_hint_phone")
	}
	top := l.header(dst, W, H, colBlue, tx.T("locker.otp_title"), hint, now)
	m := l.margin()
	area := rect{m, top + 40, W - 2*m, H - 40 - (top + 40)}
	if W > H {
		area.w = min(area.w, 1100)
		area.x = (W - area.w) / 2
	}
	// Spaced: six blanks in a row read as one line.
	shown := strings.Join(strings.Split(l.otp+strings.Repeat("_", max(0, secondFactorLength-len(l.otp))), ""), " ")
	l.drawPad(dst, area, shown, "1234567890", 5, len(l.otp) == secondFactorLength, lockerButton{"done", tx.T("locker.back"), false})
}

// drawMessage draws a screen that tells the resident something: a band of
// colour accent with title, body in a card, the locker's grid with the
// compartment when withGrid, and buttons at the bottom.
func (l *Locker) drawMessage(dst *canvas, W, H float64, now time.Time, accent color.Color, title, body string, withGrid bool, buttons ...lockerButton) {
	portrait := H > W
	top := l.header(dst, W, H, accent, title, "", now)
	m := l.margin()
	gap := 32.0
	bottom := H - 40
	if len(buttons) > 0 {
		row := rect{m, H - 40 - 130, W - 2*m, 130}
		if !portrait {
			row.w = min(row.w, 560*float64(len(buttons)))
			row.x = (W - row.w) / 2
		}
		for i, r := range row.splitH(len(buttons), 24) {
			b := buttons[i]
			if b.primary {
				drawButton(dst, r, colBlue, colWhite, nil, b.text, "", 44)
			} else {
				drawButton(dst, r, colWhite, colNavy, colNavy, b.text, "", 44)
			}
			l.addButton(b.id, r, true)
		}
		bottom = row.y - gap
	}
	content := rect{m, top + gap, W - 2*m, bottom - (top + gap)}
	card := content
	if withGrid {
		var grid rect
		if portrait {
			card = rect{content.x, content.y, content.w, content.h * 0.4}
			grid = rect{content.x, card.y + card.h + gap, content.w, content.h - card.h - gap}
		} else {
			card = rect{content.x, content.y, content.w * 0.5, content.h}
			grid = rect{card.x + card.w + gap, content.y, content.w - card.w - gap, content.h}
		}
		l.drawGrid(dst, grid)
	}
	fillRound(dst, card, 28, colWhite)
	fillRound(dst, rect{card.x, card.y, 18, card.h}, 9, accent)
	label{text: body, font: bold, size: 60, minSize: 30, color: colInk, h: middle, v: middle, lines: 7}.draw(dst.within(card), card.inset(50))
}

// gridColumnUnits is how many small compartments make a column of the
// locker: lockers are built of columns of doors, numbered column by
// column from the top, a medium door two small ones high, a large three.
const gridColumnUnits = 6

// sizeUnits is how many small compartments' height one of size takes.
func sizeUnits(size string) int {
	switch size {
	case "M":
		return 2
	case "L":
		return 3
	}
	return 1
}

// gridColumns puts the compartments, in their order, into columns of
// gridColumnUnits, as the locker is built.
func gridColumns(comps []queue.Compartment) [][]queue.Compartment {
	var cols [][]queue.Compartment
	used := gridColumnUnits
	for _, c := range comps {
		u := sizeUnits(c.Size)
		if used+u > gridColumnUnits {
			cols = append(cols, nil)
			used = 0
		}
		cols[len(cols)-1] = append(cols[len(cols)-1], c)
		used += u
	}
	return cols
}

// drawGrid draws a picture of the locker's doors in r: the one on screen
// marked (red when it alarms), other open doors shaded, the ones reachable
// from a wheelchair with the wheelchair sign.
func (l *Locker) drawGrid(dst *canvas, r rect) {
	cols := gridColumns(l.view.Compartments)
	accessible := slices.ContainsFunc(l.view.Compartments, func(c queue.Compartment) bool { return c.Accessible })
	legendH := 0.0
	if accessible {
		legendH = 70
	}
	if len(cols) == 0 {
		// No picture of the locker: the number alone, large.
		box := rect{r.x + r.w/2 - 150, r.y + (r.h-legendH)/2 - 150, 300, 300}
		fillRound(dst, box, 24, colAmber)
		label{text: l.out.Compartment, font: bold, size: 180, minSize: 60, color: colInk, h: middle, v: middle}.draw(dst.within(box), box.inset(20))
		return
	}
	gap := 10.0
	frame := 18.0
	area := rect{r.x, r.y, r.w, r.h - legendH}
	unitH := (area.h - 2*frame - gap*(gridColumnUnits-1)) / gridColumnUnits
	colW := min((area.w-2*frame-gap*float64(len(cols)-1))/float64(len(cols)), 2.4*unitH)
	unitH = min(unitH, colW)
	gridW := 2*frame + colW*float64(len(cols)) + gap*float64(len(cols)-1)
	gridH := 2*frame + unitH*gridColumnUnits + gap*(gridColumnUnits-1)
	body := rect{area.x + (area.w-gridW)/2, area.y + (area.h-gridH)/2, gridW, gridH}
	fillRound(dst, body, 16, colGreyInk)
	for i, col := range cols {
		x := body.x + frame + float64(i)*(colW+gap)
		y := body.y + frame
		for _, c := range col {
			u := float64(sizeUnits(c.Size))
			door := rect{x, y, colW, unitH*u + gap*(u-1)}
			y += door.h + gap
			bg, fg := color.Color(colWhite), color.Color(colInk)
			switch {
			case c.ID == l.out.Compartment && l.alarmedTarget():
				bg, fg = colRed, colWhite
			case c.ID == l.out.Compartment:
				bg = colAmber
			case slices.Contains(l.view.Alarm, c.ID):
				bg, fg = colRed, colWhite
			case slices.Contains(l.view.Open, c.ID):
				bg = colGreyCard
			}
			fillRound(dst, door, 8, bg)
			if c.ID == l.out.Compartment {
				strokeRound(dst, door.inset(-4), 10, 6, colInk)
			}
			numSize := min(56, unitH*0.6)
			label{text: c.ID, font: bold, size: numSize, minSize: 14, color: fg, h: middle, v: middle}.draw(dst.within(door), door.inset(4))
			if c.Accessible {
				side := min(unitH*0.45, 40)
				drawWheelchair(dst, rect{door.x + 6, door.y + door.h - side - 6, side, side}, fg)
			}
		}
	}
	if accessible {
		legend := rect{r.x, r.y + r.h - legendH + 10, r.w, legendH - 10}
		drawWheelchair(dst, rect{legend.x, legend.y + 5, 44, 44}, colBlue)
		label{text: l.tx().T("locker.accessible"), font: regular, size: 28, minSize: 18, color: colInk, v: middle, lines: 2}.draw(dst, rect{legend.x + 60, legend.y, legend.w - 60, legend.h})
	}
}

// drawWheelchair draws the wheelchair sign in r: the Go fonts have no
// glyph for it.
func drawWheelchair(dst *canvas, r rect, c color.Color) {
	p := dst.px(r)
	s := float32(p.w)
	x, y := float32(p.x), float32(p.y)
	at := func(fx, fy float32) (float32, float32) { return x + fx*s, y + fy*s }
	w := max(1.5, s*0.09)
	hx, hy := at(0.5, 0.12)
	vector.FillCircle(dst.Image, hx, hy, s*0.1, c, true)
	line := func(x0, y0, x1, y1 float32) {
		ax, ay := at(x0, y0)
		bx, by := at(x1, y1)
		vector.StrokeLine(dst.Image, ax, ay, bx, by, w, c, true)
	}
	line(0.47, 0.28, 0.47, 0.6)  // back
	line(0.47, 0.45, 0.68, 0.45) // arm
	line(0.47, 0.6, 0.74, 0.6)   // seat
	line(0.74, 0.6, 0.88, 0.9)   // leg
	cx, cy := at(0.42, 0.7)
	vector.StrokeCircle(dst.Image, cx, cy, s*0.24, w, c, true)
}
