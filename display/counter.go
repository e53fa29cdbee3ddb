package display

import (
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
)

// CounterConfig sets up a counter display.
type CounterConfig struct {
	Panel Panel
	// Number is the counter shown.
	Number int
	// Lang is the language of the display's words; default Polish.
	Lang string
	// CounterWord names a counter ("stanowisko"); default the catalog's.
	CounterWord string
	// FlashFor is how long a new call flashes; default 3 s.
	FlashFor time.Duration
	// Location is the office's time zone for the clock; default local.
	Location *time.Location
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Catalog holds the words; default i18n.Messages().
	Catalog *i18n.Catalog
}

// Counter is the number display above one counter: the counter's number
// and the ticket it serves, or that it is closed or on a break. Its
// methods are safe for concurrent use.
type Counter struct {
	c   *core
	cfg CounterConfig
	tx  texts

	counter   queue.CounterView
	known     bool
	lastSeq   uint64
	hasView   bool
	flashFrom time.Time

	drawnFlash  int
	drawnMinute time.Time
}

// NewCounter makes a counter display.
func NewCounter(cfg CounterConfig) *Counter {
	cfg.Lang = langOr(cfg.Lang)
	cfg.Location = orLocal(cfg.Location)
	cfg.Catalog = orCatalog(cfg.Catalog)
	if cfg.FlashFor <= 0 {
		cfg.FlashFor = 3 * time.Second
	}
	d := &Counter{cfg: cfg, tx: texts{cfg.Catalog, cfg.Lang}}
	if d.cfg.CounterWord == "" {
		d.cfg.CounterWord = d.tx.T("hall.counter_word")
	}
	d.c = newCore("counter", cfg.Panel, cfg.Now, d)
	return d
}

func (d *Counter) base() *core { return d.c }

// SetView shows this counter's line of v; a call to it newer than the
// last view (a new ticket or a recall) flashes.
func (d *Counter) SetView(v queue.View) {
	d.c.mu.Lock()
	defer d.c.mu.Unlock()
	d.known = false
	for _, cv := range v.Counters {
		if cv.Number == d.cfg.Number {
			d.counter, d.known = cv, true
		}
	}
	maxSeq := d.lastSeq
	for _, call := range v.Calls {
		if call.Counter == d.cfg.Number && call.Seq > d.lastSeq {
			if d.hasView {
				d.flashFrom = d.c.now()
			}
			maxSeq = max(maxSeq, call.Seq)
		}
	}
	d.lastSeq, d.hasView = maxSeq, true
	d.c.changed()
}

// SetOnline says whether the server can be reached.
func (d *Counter) SetOnline(online bool) {
	d.c.setOnline(online)
}

func (d *Counter) flashState(now time.Time) int {
	return blinkState(d.flashFrom, d.flashFrom.Add(d.cfg.FlashFor), now)
}

func (d *Counter) update(now time.Time, _ *input) {
	if d.flashState(now) != d.drawnFlash || !minuteOf(now).Equal(d.drawnMinute) {
		d.c.dirty = true
	}
}

func (d *Counter) nextChange(now time.Time) time.Time {
	_, next := blinkPhase(d.flashFrom, d.flashFrom.Add(d.cfg.FlashFor), now)
	return earliest(next, nextMinute(now))
}

func (d *Counter) draw(dst *canvas, now time.Time) {
	d.drawnFlash = d.flashState(now)
	d.drawnMinute = minuteOf(now)
	W, H := float64(dst.Bounds().Dx()), float64(dst.Bounds().Dy())
	s := H / 480 // the layout is made for 800x480 and scales
	if W/800 < s {
		s = W / 800
	}
	bg, fg := colNavy, colWhite
	if d.flashState(now) == 1 {
		bg, fg = colAmber, colNavy
	}
	dst.Fill(bg)
	headH := 96 * s
	fillRect(dst, rect{0, 0, W, headH}, colNavyLight)
	head := dst.within(rect{0, 0, W, headH})
	label{text: counterLabel(d.cfg.CounterWord, d.cfg.Number), font: bold, size: 60 * s, minSize: 30 * s, color: colWhite, v: middle}.draw(head, rect{24 * s, 0, W - 200*s, headH})
	drawClock(head, rect{W - 170*s, 0, 146 * s, headH}, now, d.cfg.Location, 44*s)
	body := rect{24 * s, headH + 12*s, W - 48*s, H - headH - 24*s}
	if !d.c.online {
		bar := rect{0, H - 56*s, W, 56 * s}
		fillRect(dst, bar, colRed)
		label{text: d.tx.T("counter.offline"), font: bold, size: 28 * s, minSize: 16 * s, color: colWhite, h: middle, v: middle}.draw(dst.within(bar), bar.inset(6*s))
		body.h -= 56 * s
	}
	status := d.counter.Status
	switch {
	case !d.known || status == queue.CounterClosedStatus:
		label{text: d.tx.T("counter.closed"), font: bold, size: 84 * s, minSize: 40 * s, color: fg, h: middle, v: middle, lines: 2}.draw(dst, rect{body.x, body.y, body.w, body.h * 0.62})
		label{text: d.tx.T("counter.closed_hint"), font: regular, size: 34 * s, minSize: 20 * s, color: colMuted, h: middle, v: middle, lines: 2}.draw(dst, rect{body.x, body.y + body.h*0.62, body.w, body.h * 0.38})
	case status == queue.CounterPausedStatus:
		label{text: d.tx.T("counter.paused"), font: bold, size: 120 * s, minSize: 50 * s, color: colAmber, h: middle, v: middle}.draw(dst, rect{body.x, body.y, body.w, body.h * 0.62})
		label{text: d.tx.T("counter.paused_hint"), font: regular, size: 34 * s, minSize: 20 * s, color: colMuted, h: middle, v: middle, lines: 2}.draw(dst, rect{body.x, body.y + body.h*0.62, body.w, body.h * 0.38})
	case d.counter.Current != nil:
		label{text: d.tx.T("counter.serving"), font: bold, size: 40 * s, color: fg, h: middle, v: middle}.draw(dst, rect{body.x, body.y, body.w, body.h * 0.2})
		label{text: d.counter.Current.Number, font: bold, size: min(230*s, body.h*0.75), color: fg, h: middle, v: middle}.draw(dst, rect{body.x, body.y + body.h*0.2, body.w, body.h * 0.8})
	default:
		label{text: d.tx.T("counter.free"), font: bold, size: 90 * s, minSize: 40 * s, color: fg, h: middle, v: middle, lines: 2}.draw(dst, rect{body.x, body.y, body.w, body.h * 0.62})
		label{text: d.tx.T("counter.free_hint"), font: regular, size: 34 * s, minSize: 20 * s, color: colMuted, h: middle, v: middle, lines: 2}.draw(dst, rect{body.x, body.y + body.h*0.62, body.w, body.h * 0.38})
	}
}
