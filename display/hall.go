package display

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

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

	view    queue.View
	hasView bool
	message string
	// lastSeq is the highest call seq seen; calls above it are new.
	lastSeq    uint64
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

// SetView shows v and returns the calls in it that are new since the last
// view (by seq, oldest first), for the device to announce. The first view
// only sets the baseline: its calls are history, not news, so a restarted
// display does not announce old calls again.
func (h *Hall) SetView(v queue.View) (fresh []queue.RecentCall) {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	first := !h.hasView
	maxSeq := h.lastSeq
	for i := len(v.Calls) - 1; i >= 0; i-- {
		call := v.Calls[i]
		if call.Seq > h.lastSeq && !first {
			fresh = append(fresh, call)
		}
		maxSeq = max(maxSeq, call.Seq)
	}
	h.lastSeq = maxSeq
	if len(fresh) > 0 && len(v.Calls) > 0 && v.Calls[0].Seq == fresh[len(fresh)-1].Seq {
		now := h.c.now()
		h.blinkFrom, h.blinkUntil = now, now.Add(h.cfg.BlinkFor)
	}
	h.view, h.hasView = v, true
	h.c.changed()
	return fresh
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

func (h *Hall) draw(dst *ebiten.Image, now time.Time) {
	h.drawnMinute = minuteOf(now)
	h.drawnBlink = h.blinkState(now)
	h.regions = map[string]rect{}
	w, ht := dst.Bounds().Dx(), dst.Bounds().Dy()
	W, H := float64(w), float64(ht)
	portrait := H > W
	dst.Fill(colNavy)

	// Header: office name, date, clock.
	headH := 120.0
	if portrait {
		headH = 140
	}
	fillRect(dst, rect{0, 0, W, headH}, colNavyLight)
	pad := 40.0
	clockW := 240.0
	name := h.view.Name
	if name == "" {
		name = h.tx.T("hall.title")
	}
	label{text: name, font: bold, size: 40, minSize: 28, color: colWhite, v: middle, lines: 2}.draw(dst, rect{pad, 8, W - 2*pad - clockW - 330, headH - 16})
	loc := h.cfg.Location
	lt := now.In(loc)
	date := capitalize(h.tx.T("weekday."+strconv.Itoa(int(lt.Weekday())))) + ", " + lt.Format("02.01.2006")
	label{text: date, font: regular, size: 28, color: colMuted, h: end, v: middle}.draw(dst, rect{W - pad - clockW - 360, 0, 340, headH})
	drawClock(dst, rect{W - pad - clockW, 0, clockW, headH}, now, loc, 76)
	y := headH

	if !h.c.online {
		bannerH := 72.0
		fillRect(dst, rect{0, y, W, bannerH}, colRed)
		h.regions["banner"] = rect{0, y, W, bannerH}
		label{text: h.tx.T("hall.offline"), font: bold, size: 34, minSize: 24, color: colWhite, h: middle, v: middle}.draw(dst, rect{pad, y, W - 2*pad, bannerH})
		y += bannerH
	}

	// Footer: the message line.
	footH := 0.0
	if h.message != "" {
		footH = 84
		fillRect(dst, rect{0, H - footH, W, footH}, colNavyLight)
		label{text: h.message, font: regular, size: 34, minSize: 24, color: colWhite, h: middle, v: middle}.draw(dst, rect{pad, H - footH, W - 2*pad, footH})
	}
	bottom := H - footH

	// Waiting per service, above the footer.
	services := h.view.Services
	cols := 3
	rows := (len(services) + cols - 1) / cols
	chipH := 104.0
	waitH := 0.0
	if rows > 0 {
		waitH = 56 + float64(rows)*chipH + float64(rows-1)*16
	}
	waitTop := bottom - 28 - waitH
	if rows > 0 {
		h.drawWaiting(dst, rect{pad, waitTop, W - 2*pad, waitH}, cols, chipH, now)
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
	h.drawNewest(dst, callBox, now)
	h.drawRecent(dst, listBox)
}

func (h *Hall) drawNewest(dst *ebiten.Image, r rect, now time.Time) {
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
	top := rect{r.x, r.y + 24, r.w, r.h * 0.16}
	label{text: h.tx.T("hall.now_calling"), font: bold, size: 52, minSize: 30, color: soft, h: middle, v: middle}.draw(dst, top)
	num := rect{r.x + 24, r.y + r.h*0.18, r.w - 48, r.h * 0.50}
	h.regions["number"] = label{text: call.Number, font: bold, size: min(300, num.h*0.95), color: fg, h: middle, v: middle}.draw(dst, num)
	ctr := rect{r.x + 24, r.y + r.h*0.68, r.w - 48, r.h * 0.26}
	label{text: "→ " + counterLabel(h.cfg.CounterWord, call.Counter), font: bold, size: min(100, ctr.h*0.8), minSize: 40, color: fg, h: middle, v: middle}.draw(dst, ctr)
}

func (h *Hall) drawRecent(dst *ebiten.Image, r rect) {
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
		label{text: call.Number, font: bold, size: 64, minSize: 40, color: colWhite, v: middle}.draw(dst, rect{row.x + 8, row.y, row.w * 0.42, row.h})
		label{text: "→ " + counterLabel(h.cfg.CounterWord, call.Counter), font: bold, size: 46, minSize: 28, color: colWhite, h: end, v: middle}.draw(dst, rect{row.x + row.w*0.42, row.y, row.w*0.58 - 8, row.h})
		y += rowH
		n++
	}
	if n == 0 {
		label{text: "—", font: bold, size: 56, color: colNavyLight, v: middle}.draw(dst, rect{r.x + 8, y, r.w, rowH})
	}
}

func (h *Hall) drawWaiting(dst *ebiten.Image, r rect, cols int, chipH float64, _ time.Time) {
	label{text: h.tx.T("hall.waiting_title"), font: bold, size: 36, color: colMuted, v: middle}.draw(dst, rect{r.x, r.y, r.w, 48})
	grid := rect{r.x, r.y + 56, r.w, r.h - 56}
	rows := (len(h.view.Services) + cols - 1) / cols
	rowRects := grid.splitV(rows, 16)
	for i, s := range h.view.Services {
		cell := rowRects[i/cols].splitH(cols, 16)[i%cols]
		bg, fg, soft := colNavyLight, colWhite, colMuted
		if !s.Open {
			bg, fg, soft = colNavy, colMuted, colMuted
			strokeRound(dst, cell, 16, 2, colNavyLight)
		} else {
			fillRound(dst, cell, 16, bg)
		}
		badge := rect{cell.x + 14, cell.y + 14, chipH - 28, chipH - 28}
		fillRound(dst, badge, 12, soft)
		label{text: s.Prefix, font: bold, size: 44, color: colNavy, h: middle, v: middle}.draw(dst, badge)
		body := rect{badge.x + badge.w + 18, cell.y + 8, cell.w - badge.w - 46, cell.h - 16}
		label{text: serviceName(s, h.cfg.Lang), font: bold, size: 28, minSize: 20, color: fg, v: middle}.draw(dst, rect{body.x, body.y, body.w, body.h * 0.5})
		var status string
		if !s.Open {
			status = h.tx.T("hall.service_closed")
		} else {
			status = h.tx.T("hall.waiting_none")
			if s.Waiting > 0 {
				status = h.tx.N("hall.waiting", s.Waiting) + " · " + localize.Wait(h.cfg.Catalog, h.cfg.Lang, time.Duration(s.EstimatedWaitS)*time.Second)
			}
		}
		label{text: status, font: regular, size: 26, minSize: 18, color: soft, v: middle}.draw(dst, rect{body.x, body.y + body.h*0.5, body.w, body.h * 0.5})
	}
}

// String describes the hall for logs.
func (h *Hall) String() string {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return fmt.Sprintf("hall display (%d calls, online %v)", len(h.view.Calls), h.c.online)
}
