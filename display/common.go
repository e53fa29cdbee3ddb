package display

import (
	"strconv"
	"strings"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/queue"
)

// texts are a screen's words: the catalog and language they come from.
type texts struct {
	cat  *i18n.Catalog
	lang string
}

func (t texts) T(id string, kv ...any) string        { return t.cat.T(t.lang, id, kv...) }
func (t texts) N(id string, n int, kv ...any) string { return t.cat.N(t.lang, id, n, kv...) }

// serviceName is a service's name in lang, else Polish, else its id.
func serviceName(s queue.ServiceView, lang string) string {
	if n := s.Names[lang]; n != "" {
		return n
	}
	if n := s.Names[i18n.Default]; n != "" {
		return n
	}
	return s.ID
}

// serviceShortName is the shorter name the office set for s in the
// language serviceName picked, or "".
func serviceShortName(s queue.ServiceView, lang string) string {
	if s.Names[lang] != "" {
		return s.ShortNames[lang]
	}
	if s.Names[i18n.Default] != "" {
		return s.ShortNames[i18n.Default]
	}
	return ""
}

// counterLabel is "Stanowisko 5".
func counterLabel(word string, n int) string {
	return strings.TrimSpace(localize.Capitalize(word) + " " + strconv.Itoa(n))
}

// minuteOf is the start of t's minute, the unit the clocks change in.
func minuteOf(t time.Time) time.Time { return t.Truncate(time.Minute) }

// nextMinute is when the clock next changes.
func nextMinute(t time.Time) time.Time { return minuteOf(t).Add(time.Minute) }

// earliest is the earliest non-zero of ts, or zero.
func earliest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if !t.IsZero() && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	return out
}

func orLocal(loc *time.Location) *time.Location {
	if loc == nil {
		return time.Local
	}
	return loc
}

func orCatalog(c *i18n.Catalog) *i18n.Catalog {
	if c == nil {
		return i18n.Messages()
	}
	return c
}

func langOr(lang string) string {
	if i18n.Supported(lang) {
		return lang
	}
	return i18n.Default
}

// drawClock draws the time as "14:05" in r.
func drawClock(dst *canvas, r rect, now time.Time, loc *time.Location, size float64) {
	label{text: now.In(loc).Format("15:04"), font: bold, size: size, color: colWhite, h: end, v: middle}.draw(dst, r)
}

// blinkState is what a blink between from and until shows at now, as a
// screen remembers it to know when to redraw: -1 not blinking, 1 on, 0 off.
func blinkState(from, until, now time.Time) int {
	on, next := blinkPhase(from, until, now)
	switch {
	case next.IsZero():
		return -1
	case on:
		return 1
	}
	return 0
}

// blinkPhase says whether a blink that started at from is in its bright
// half at now, and when its next half begins; zero when the blink is over.
func blinkPhase(from, until, now time.Time) (on bool, next time.Time) {
	const half = 500 * time.Millisecond
	if from.IsZero() || !now.Before(until) || now.Before(from) {
		return false, time.Time{}
	}
	n := now.Sub(from) / half
	return n%2 == 0, from.Add((n + 1) * half)
}
