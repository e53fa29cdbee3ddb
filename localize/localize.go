// Package localize says queue things in a resident's language: why a
// service refuses tickets and when to come back, and how long the wait is.
// It joins the pure domain (queue) with the message catalogs (i18n), so
// that the server's answers and the kiosk's screens use the same words.
package localize

import (
	"errors"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
)

// Refusal says r in lang: why, and when to come back, with times in the
// office's zone loc and "today" and "tomorrow" judged from now.
func Refusal(cat *i18n.Catalog, lang string, r *queue.Refusal, loc *time.Location, now time.Time) string {
	return cat.T(lang, "refusal."+string(r.Reason),
		"when", When(cat, lang, r.Until, loc, now),
		"closing", r.Closing.In(loc).Format("15:04"),
		"holiday", holiday(r, lang),
	)
}

// Error says a command's error in lang: a refusal as Refusal says it; an
// error with a code as the catalog's "error.<code>" says it, with a
// service's id given as its name in lang and a ticket's state in words.
// ok is false for any other error, which the caller words itself. o is
// the office the command went to; now judges "today" in refusals.
func Error(cat *i18n.Catalog, lang string, err error, o *queue.Office, now time.Time) (text string, ok bool) {
	var qe *queue.Error
	if !errors.As(err, &qe) {
		return "", false
	}
	if qe.Refusal != nil {
		loc := time.Local
		if o != nil && o.Location != nil {
			loc = o.Location
		}
		return Refusal(cat, lang, qe.Refusal, loc, now), true
	}
	if qe.Code == "" {
		return "", false
	}
	kv := make([]any, 0, 2*len(qe.Params))
	for name, v := range qe.Params {
		switch name {
		case "service":
			if o != nil {
				if s, found := o.Service(v); found {
					v = s.Name(lang)
				}
			}
		case "state":
			v = cat.T(lang, "web.state."+v)
		}
		kv = append(kv, name, v)
	}
	return cat.T(lang, "error."+qe.Code, kv...), true
}

// holiday is the name of the day the office is closed for, in lang where
// the office gave one.
func holiday(r *queue.Refusal, lang string) string {
	if n := r.HolidayNames[lang]; n != "" {
		return n
	}
	return r.Holiday
}

// When names a coming moment: "dziś, godz. 13:00", "jutro, godz. 8:00",
// "poniedziałek 30.11, godz. 8:00".
func When(cat *i18n.Catalog, lang string, t time.Time, loc *time.Location, now time.Time) string {
	if t.IsZero() {
		return cat.T(lang, "when.unknown")
	}
	lt, ln := t.In(loc), now.In(loc)
	clock := lt.Format("15:04")
	today := time.Date(ln.Year(), ln.Month(), ln.Day(), 0, 0, 0, 0, loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	switch {
	case day.Equal(today):
		return cat.T(lang, "when.today", "time", clock)
	case day.Equal(today.AddDate(0, 0, 1)):
		return cat.T(lang, "when.tomorrow", "time", clock)
	}
	return cat.T(lang, "when.day", "weekday", cat.T(lang, weekdayID(lt.Weekday())), "date", lt.Format("02.01"), "time", clock)
}

func weekdayID(d time.Weekday) string { return "weekday." + string(rune('0'+int(d))) }

// WaitMinutes is the one rounding rule for every wait Numerek tells a
// resident, on paper, on the kiosk and hall screens and on the web: whole
// minutes, rounded up. A resident told "about 15 min" plans on it (steps
// out, feeds the meter); rounding 14 min 40 s to the nearest minute is
// fine, but 15 min 20 s to 15 has them back late for their call. So a
// wait is over-promised by under a minute, never under-promised.
func WaitMinutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Minute - 1) / time.Minute)
}

// Wait says an expected wait on a screen or page: "ok. 15 minut",
// "ok. 1 godz. 20 min"; under a minute is no wait, a negative wait is
// unknown. Minutes are rounded up (WaitMinutes).
func Wait(cat *i18n.Catalog, lang string, d time.Duration) string {
	switch {
	case d < 0:
		return cat.T(lang, "wait.unknown")
	case d < time.Minute:
		return cat.T(lang, "wait.none")
	}
	if m := WaitMinutes(d); m < 60 {
		return cat.N(lang, "wait.about_minutes", m)
	}
	return cat.T(lang, "wait.about", "duration", Duration(cat, lang, d))
}

// Duration says a wait in whole minutes, or hours and minutes past an
// hour, rounded up (WaitMinutes).
func Duration(cat *i18n.Catalog, lang string, d time.Duration) string {
	m := WaitMinutes(d)
	if m < 60 {
		return cat.N(lang, "duration.minutes", m)
	}
	return cat.T(lang, "duration.hours", "h", m/60, "m", m%60)
}

// TicketWait is the printed ticket's wait line, in the paper's short
// words ("Czas oczekiwania: ok. 15 min", "... 1 godz. 20 min"); under a
// minute says so, and a negative (unknown) wait is no line at all (""). The
// minutes are the screens' figure (WaitMinutes), so paper and screen agree.
func TicketWait(cat *i18n.Catalog, lang string, d time.Duration) string {
	switch {
	case d < 0:
		return ""
	case d < time.Minute:
		return cat.T(lang, "ticket.wait_short")
	}
	return cat.T(lang, "ticket.wait", "duration", ShortDuration(cat, lang, d))
}

// ShortDuration says d in the paper's short units: "15 min", "1 godz.",
// "1 godz. 20 min" (the console's dense waiting list uses them too).
func ShortDuration(cat *i18n.Catalog, lang string, d time.Duration) string {
	m := WaitMinutes(d)
	switch {
	case m < 60:
		return cat.T(lang, "ticket.duration_minutes", "m", strconv.Itoa(m))
	case m%60 == 0:
		return cat.T(lang, "ticket.duration_whole_hours", "h", strconv.Itoa(m/60))
	}
	return cat.T(lang, "ticket.duration_hours", "h", strconv.Itoa(m/60), "m", strconv.Itoa(m%60))
}

// Capitalize upper-cases the first letter ("stanowisko" -> "Stanowisko"),
// as screens begin a counter's label or a weekday.
func Capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
