package display

import (
	"fmt"
	"image/color"
	"strconv"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/queue"
)

// HallConfig sets up a hall display.
type HallConfig struct {
	Panel Panel
	// Lang is the language of the hall's words; default Polish.
	Lang string
	// CounterWord names a counter ("stanowisko", "okienko"); default the
	// catalog's word in Lang.
	CounterWord string
	// Message is a line shown at the bottom (opening hours, a notice).
	Message string
	// Location is the office's time zone for the clock; default local.
	Location *time.Location
	// BlinkFor is how long the newest call blinks; default 6 s.
	BlinkFor time.Duration
	// RecentCalls is how many earlier calls are listed; default as many
	// as fit.
	RecentCalls int
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Catalog holds the words; default i18n.Messages().
	Catalog *i18n.Catalog
}

// Hall is the big screen in the waiting hall: the newest call large, the
// calls before it, how many wait for each service, the time and a message.
// Its methods are safe for concurrent use.
type Hall struct {
	c   *core
	cfg HallConfig
	tx  texts

	view       queue.View
	hasView    bool
	message    string
	blinkFrom  time.Time
	blinkUntil time.Time

	// What the last frame showed of time-driven things.
	drawnMinute time.Time
	drawnBlink  int
	// regions are where the last frame put its parts, for tests.
	regions map[string]rect
}

// NewHall makes a hall display.
func NewHall(cfg HallConfig) *Hall {
	cfg.Lang = langOr(cfg.Lang)
	cfg.Location = orLocal(cfg.Location)
	cfg.Catalog = orCatalog(cfg.Catalog)
	if cfg.BlinkFor <= 0 {
		cfg.BlinkFor = 6 * time.Second
	}
	h := &Hall{cfg: cfg, tx: texts{cfg.Catalog, cfg.Lang}, message: cfg.Message}
	if h.cfg.CounterWord == "" {
		h.cfg.CounterWord = h.tx.T("hall.counter_word")
	}
	h.c = newCore("hall", cfg.Panel, cfg.Now, h)
	return h
}

func (h *Hall) base() *core { return h.c }

// SetView shows v. fresh are the calls the device takes as news, those it
// announces (queue.State.CallsSince its last), oldest first: when v's
// newest call is among them it blinks. A restarted device gives its first
// view with none, so old calls do not blink again.
func (h *Hall) SetView(v queue.View, fresh []queue.RecentCall) {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	if len(fresh) > 0 && len(v.Calls) > 0 && v.Calls[0].Seq == fresh[len(fresh)-1].Seq {
		now := h.c.now()
		h.blinkFrom, h.blinkUntil = now, now.Add(h.cfg.BlinkFor)
	}
	h.view, h.hasView = v, true
	h.c.changed()
}

// SetOnline says whether the server can be reached; while it cannot, the
// hall says so and keeps showing the last view.
func (h *Hall) SetOnline(online bool) {
	h.c.setOnline(online)
}

// SetMessage replaces the message line.
func (h *Hall) SetMessage(msg string) {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	if h.message != msg {
		h.message = msg
		h.c.changed()
	}
}

// Blinking reports whether the newest call is blinking at now.
func (h *Hall) Blinking(now time.Time) bool {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return !h.blinkFrom.IsZero() && now.Before(h.blinkUntil)
}

func (h *Hall) blinkState(now time.Time) int {
	return blinkState(h.blinkFrom, h.blinkUntil, now)
}

func (h *Hall) update(now time.Time, _ *input) {
	if !minuteOf(now).Equal(h.drawnMinute) || h.blinkState(now) != h.drawnBlink {
		h.c.dirty = true
	}
}

func (h *Hall) nextChange(now time.Time) time.Time {
	_, next := blinkPhase(h.blinkFrom, h.blinkUntil, now)
	if !next.IsZero() {
		next = earliest(next, h.blinkUntil)
	}
	return earliest(next, nextMinute(now))
}

func (h *Hall) draw(dst *canvas, now time.Time) {
	h.drawnMinute = minuteOf(now)
	h.drawnBlink = h.blinkState(now)
	h.regions = map[string]rect{}
	w, ht := dst.Bounds().Dx(), dst.Bounds().Dy()
	W, H := float64(w), float64(ht)
	portrait := H > W
	dst.Fill(colNavy)
	pad := 40.0

	y := h.drawHeader(dst, W, portrait, now)

	if !h.c.online {
		bannerH := 72.0
		banner := rect{0, y, W, bannerH}
		fillRect(dst, banner, colRed)
		h.regions["banner"] = banner
		label{text: h.tx.T("hall.offline"), font: bold, size: 34, minSize: 24, color: colWhite, h: middle, v: middle}.draw(dst.within(banner), rect{pad, y, W - 2*pad, bannerH})
		y += bannerH
	}

	// Footer: the message line.
	footH := 0.0
	if h.message != "" {
		footH = 84
		foot := rect{0, H - footH, W, footH}
		fillRect(dst, foot, colNavyLight)
		label{text: h.message, font: regular, size: 34, minSize: 24, color: colWhite, h: middle, v: middle, lines: 2}.draw(dst.within(foot), rect{pad, H - footH, W - 2*pad, footH})
	}
	bottom := H - footH

	// Waiting per service, above the footer.
	waitTop := bottom
	if len(h.view.Services) > 0 {
		wait := h.waitingLayout(W-2*pad, portrait)
		waitTop = bottom - 28 - wait.height()
		h.drawWaiting(dst, rect{pad, waitTop, W - 2*pad, wait.height()}, wait)
	}

	main := rect{pad, y + 28, W - 2*pad, waitTop - 28 - (y + 28)}
	var callBox, listBox rect
	if portrait {
		callH := min(640.0, main.h*0.55)
		callBox = rect{main.x, main.y, main.w, callH}
		listBox = rect{main.x, main.y + callH + 28, main.w, main.h - callH - 28}
	} else {
		callW := main.w * 0.58
		callBox = rect{main.x, main.y, callW, main.h}
		listBox = rect{main.x + callW + 40, main.y, main.w - callW - 40, main.h}
	}
	h.drawNewest(dst.within(callBox), callBox, now)
	h.drawRecent(dst, listBox)
}

// drawHeader draws the office's name, the date and the clock, and returns
// the header's height. The date and the clock take the room they need and
// the name the rest, on up to two lines: a long name wraps or shrinks
// instead of running into the date.
func (h *Hall) drawHeader(dst *canvas, W float64, portrait bool, now time.Time) float64 {
	headH := 120.0
	if portrait {
		headH = 150
	}
	head := rect{0, 0, W, headH}
	fillRect(dst, head, colNavyLight)
	dst = dst.within(head)
	pad := 40.0
	name := h.view.Name
	if name == "" {
		name = h.tx.T("hall.title")
	}
	lt := now.In(h.cfg.Location)
	clock := label{text: lt.Format("15:04"), font: bold, size: 76, color: colWhite, h: end, v: middle}
	date := label{text: localize.Capitalize(h.tx.T("weekday."+strconv.Itoa(int(lt.Weekday())))) + ", " + lt.Format("02.01.2006"), font: regular, size: 28, color: colMuted, h: end, v: middle}
	var nameRight float64
	if portrait {
		// The clock over the date at the right, the name beside them.
		date.size = 26
		colW := max(clock.width(), date.width())
		clock.draw(dst, rect{W - pad - colW, 6, colW, 90})
		date.draw(dst, rect{W - pad - colW, 96, colW, headH - 96 - 8})
		nameRight = W - pad - colW - 32
	} else {
		clockW, dateW := clock.width(), date.width()
		clock.draw(dst, rect{W - pad - clockW, 0, clockW, headH})
		date.draw(dst, rect{W - pad - clockW - 40 - dateW, 0, dateW, headH})
		nameRight = W - pad - clockW - 40 - dateW - 40
	}
	label{text: name, font: bold, size: 40, minSize: 26, color: colWhite, v: middle, lines: 2}.draw(dst, rect{pad, 8, nameRight - pad, headH - 16})
	return headH
}

func (h *Hall) drawNewest(dst *canvas, r rect, now time.Time) {
	on := h.blinkState(now) == 1
	bg, fg, soft := colNavyLight, colWhite, colMuted
	if on {
		bg, fg, soft = colAmber, colNavy, colNavy
	}
	fillRound(dst, r, 28, bg)
	h.regions["call"] = r
	if len(h.view.Calls) == 0 {
		msg := h.tx.T("hall.no_calls")
		if h.hasView && !h.view.Open {
			msg = h.tx.T("hall.office_closed", "when", localize.When(h.cfg.Catalog, h.cfg.Lang, h.view.NextOpening, h.cfg.Location, now))
		}
		label{text: msg, font: bold, size: 60, minSize: 36, color: fg, h: middle, v: middle, lines: 4}.draw(dst, r.inset(48))
		return
	}
	call := h.view.Calls[0]
	// "Now calling", the number and the counter one under another; the
	// number takes what the other two leave, each line's full height
	// inside the box.
	in := r.inset(24)
	titleH := lineHeight(52)
	ctrSize := min(100, r.h*0.21)
	ctrH := lineHeight(ctrSize)
	numH := in.h - titleH - ctrH
	label{text: h.tx.T("hall.now_calling"), font: bold, size: 52, minSize: 30, color: soft, h: middle, v: middle}.draw(dst, rect{in.x, in.y, in.w, titleH})
	h.regions["number"] = label{text: call.Number, font: bold, size: min(300, numH/1.2), color: fg, h: middle, v: middle}.draw(dst, rect{in.x, in.y + titleH, in.w, numH})
	label{text: "→ " + counterLabel(h.cfg.CounterWord, call.Counter), font: bold, size: ctrSize, minSize: 40, color: fg, h: middle, v: middle}.draw(dst, rect{in.x, in.y + titleH + numH, in.w, ctrH})
}

func (h *Hall) drawRecent(dst *canvas, r rect) {
	h.regions["recent"] = r
	label{text: h.tx.T("hall.recent"), font: bold, size: 36, color: colMuted, v: middle}.draw(dst, rect{r.x, r.y, r.w, 56})
	y := r.y + 64
	rowH := 96.0
	maxRows := int((r.y + r.h - y) / rowH)
	if h.cfg.RecentCalls > 0 {
		maxRows = min(maxRows, h.cfg.RecentCalls)
	}
	seen := map[string]bool{}
	if len(h.view.Calls) > 0 {
		seen[h.view.Calls[0].Ticket] = true
	}
	n := 0
	for _, call := range h.view.Calls[min(1, len(h.view.Calls)):] {
		if n >= maxRows {
			break
		}
		if seen[call.Ticket] {
			continue
		}
		seen[call.Ticket] = true
		row := rect{r.x, y, r.w, rowH}
		fillRect(dst, rect{r.x, y, r.w, 2}, colNavyLight)
		in := dst.within(row)
		label{text: call.Number, font: bold, size: 64, minSize: 40, color: colWhite, v: middle}.draw(in, rect{row.x + 8, row.y, row.w * 0.42, row.h})
		label{text: "→ " + counterLabel(h.cfg.CounterWord, call.Counter), font: bold, size: 46, minSize: 28, color: colWhite, h: end, v: middle}.draw(in, rect{row.x + row.w*0.42, row.y, row.w*0.58 - 8, row.h})
		y += rowH
		n++
	}
	if n == 0 {
		label{text: "—", font: bold, size: 56, color: colNavyLight, v: middle}.draw(dst, rect{r.x + 8, y, r.w, rowH})
	}
}

// waitLayout is how the waiting lines are set out: a grid of chips, each
// with the service's letter, its name and how many wait and how long.
type waitLayout struct {
	cols, rows int
	chipH      float64
}

const (
	waitTitleH = 56.0
	chipGap    = 16.0
	// chipMinW is the narrowest a chip may be: room beside the letter for
	// a long service name on two lines.
	chipMinW = 480.0
)

func (l waitLayout) height() float64 {
	return waitTitleH + float64(l.rows)*l.chipH + float64(l.rows-1)*chipGap
}

// waitingLayout sizes the grid for width w: as many columns as chips of
// chipMinW fit (three at most), and chips as tall as their longest name and
// wait need at full size, within bounds, so the rest of the screen keeps
// room for the calls.
func (h *Hall) waitingLayout(w float64, portrait bool) waitLayout {
	n := len(h.view.Services)
	cols := max(1, min(3, n, int((w+chipGap)/(chipMinW+chipGap))))
	l := waitLayout{cols: cols, rows: (n + cols - 1) / cols, chipH: 104}
	cellW := (w - chipGap*float64(cols-1)) / float64(cols)
	maxH := 150.0
	if !portrait {
		maxH = 130
	}
	for _, s := range h.view.Services {
		name, status := h.chipLabels(s, colWhite, colMuted)
		body := rect{0, 0, cellW - (l.chipH - 28) - 46, 1000}
		need := name.height(body) + 4 + status.height(body) + 16
		l.chipH = max(l.chipH, min(maxH, need))
	}
	return l
}

// chipLabels are the name and the state of service s's chip.
func (h *Hall) chipLabels(s queue.ServiceView, fg, soft color.Color) (name, status label) {
	var st string
	if !s.Open {
		st = h.tx.T("hall.service_closed")
	} else {
		st = h.tx.T("hall.waiting_none")
		if s.Waiting > 0 {
			st = h.tx.N("hall.waiting", s.Waiting) + " · " + localize.Wait(h.cfg.Catalog, h.cfg.Lang, time.Duration(s.EstimatedWaitS)*time.Second)
		}
	}
	name = label{text: serviceName(s, h.cfg.Lang), short: serviceShortName(s, h.cfg.Lang), font: bold, size: 28, minSize: 22, color: fg, lines: 2}
	status = label{text: st, font: regular, size: 26, minSize: 20, color: soft, lines: 2}
	return name, status
}

func (h *Hall) drawWaiting(dst *canvas, r rect, l waitLayout) {
	label{text: h.tx.T("hall.waiting_title"), font: bold, size: 36, color: colMuted, v: middle}.draw(dst, rect{r.x, r.y, r.w, 48})
	grid := rect{r.x, r.y + waitTitleH, r.w, r.h - waitTitleH}
	rowRects := grid.splitV(l.rows, chipGap)
	badgeSide := min(l.chipH, 104) - 28
	for i, s := range h.view.Services {
		cell := rowRects[i/l.cols].splitH(l.cols, chipGap)[i%l.cols]
		in := dst.within(cell)
		bg, fg, soft := colNavyLight, colWhite, colMuted
		if !s.Open {
			fg, soft = colMuted, colMuted
			strokeRound(dst, cell, 16, 2, colNavyLight)
		} else {
			fillRound(dst, cell, 16, bg)
		}
		badge := rect{cell.x + 14, cell.y + (cell.h-badgeSide)/2, badgeSide, badgeSide}
		fillRound(dst, badge, 12, soft)
		label{text: s.Prefix, font: bold, size: 44, color: colNavy, h: middle, v: middle}.draw(in, badge)
		body := rect{badge.x + badge.w + 18, cell.y + 8, cell.w - badge.w - 46, cell.h - 16}
		name, status := h.chipLabels(s, fg, soft)
		drawStack(in, body, 4, name, status)
	}
}

// String describes the hall for logs.
func (h *Hall) String() string {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return fmt.Sprintf("hall display (%d calls, online %v)", len(h.view.Calls), h.c.online)
}
