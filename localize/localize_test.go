package localize

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
)

func TestRefusalInEveryLanguage(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Warsaw")
	now := time.Date(2026, 11, 23, 15, 50, 0, 0, loc)
	r := &queue.Refusal{Reason: queue.ReasonCutOff, Until: time.Date(2026, 11, 24, 7, 30, 0, 0, loc), Closing: time.Date(2026, 11, 23, 15, 30, 0, 0, loc)}
	want := map[string]string{
		"pl": "Dziś nie wydajemy już biletów do tej sprawy, aby wszyscy zdążyli zostać obsłużeni przed zamknięciem o 15:30. Zapraszamy: jutro, godz. 07:30.",
		"en": "No more tickets for this matter today, so that everyone can be served before closing at 15:30. Please come back tomorrow at 07:30.",
		"lt": "Šiandien šiam reikalui bilietai nebeišduodami, kad visi spėtų būti aptarnauti iki uždarymo 15:30. Laukiame jūsų: rytoj 07:30.",
		"ru": "Сегодня талоны по этому вопросу больше не выдаются, чтобы все успели получить обслуживание до закрытия в 15:30. Приходите: завтра в 07:30.",
		"uk": "Сьогодні талони з цього питання більше не видаються, щоб усі встигли отримати обслуговування до закриття о 15:30. Приходьте: завтра о 07:30.",
	}
	cat := i18n.Messages()
	for _, lang := range i18n.Languages {
		if got := Refusal(cat, lang, r, loc, now); got != want[lang] {
			t.Errorf("%s:\n got %s\nwant %s", lang, got, want[lang])
		}
	}
	// Every reason has its text in every language.
	for _, reason := range []queue.Reason{queue.ReasonClosed, queue.ReasonHoliday, queue.ReasonCutOff, queue.ReasonPastClosing,
		queue.ReasonDailyCap, queue.ReasonTooEarly, queue.ReasonTooLate, queue.ReasonCancelled, queue.ReasonSlotFull, queue.ReasonSlotUnavailable} {
		for _, lang := range i18n.Languages {
			if !cat.Has(lang, "refusal."+string(reason)) {
				t.Errorf("%s: no text for refusal %q", lang, reason)
			}
		}
	}
}

func TestWhen(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Warsaw")
	now := time.Date(2026, 11, 27, 16, 0, 0, 0, loc) // Friday
	cat := i18n.Messages()
	tests := []struct {
		lang string
		t    time.Time
		want string
	}{
		{"pl", time.Date(2026, 11, 30, 8, 0, 0, 0, loc), "poniedziałek 30.11, godz. 08:00"},
		{"en", time.Date(2026, 11, 30, 8, 0, 0, 0, loc), "on Monday 30.11 at 08:00"},
		{"pl", time.Date(2026, 11, 27, 17, 0, 0, 0, loc), "dziś, godz. 17:00"},
		{"uk", time.Time{}, "найближчого робочого дня"},
	}
	for _, tt := range tests {
		if got := When(cat, tt.lang, tt.t, loc, now); got != tt.want {
			t.Errorf("When(%s, %v) = %q, want %q", tt.lang, tt.t, got, tt.want)
		}
	}
}

// TestWait covers the one wait formatter of the screens, the web and the
// paper: the same rounding (up) across languages and at the edges.
func TestWait(t *testing.T) {
	cat := i18n.Messages()
	const s, min, h = time.Second, time.Minute, time.Hour
	tests := []struct {
		lang   string
		d      time.Duration
		screen string // Wait: kiosk and hall screens, web pages
		paper  string // TicketWait: the printed ticket
	}{
		{"pl", -1, "czas oczekiwania nieznany", ""},
		{"pl", 0, "bez czekania", "Czas oczekiwania: poniżej minuty"},
		{"en", 30 * s, "no wait", "Estimated wait: under a minute"},
		{"en", 59 * s, "no wait", "Estimated wait: under a minute"},
		{"en", min, "about 1 minute", "Estimated wait: about\u00A01\u00A0min"},
		{"en", 61 * s, "about 2 minutes", "Estimated wait: about\u00A02\u00A0min"},
		{"pl", 14*min + 20*s, "ok. 15 minut", "Czas oczekiwania: ok.\u00A015\u00A0min"},
		{"pl", 22 * min, "ok. 22 minut", "Czas oczekiwania: ok.\u00A022\u00A0min"},
		{"pl", 25 * min, "ok. 25 minut", "Czas oczekiwania: ok.\u00A025\u00A0min"},
		{"pl", 59*min + 1*s, "ok. 1 godz. 0 min", "Czas oczekiwania: ok.\u00A01\u00A0godz."},
		{"pl", h, "ok. 1 godz. 0 min", "Czas oczekiwania: ok.\u00A01\u00A0godz."},
		{"pl", 80 * min, "ok. 1 godz. 20 min", "Czas oczekiwania: ok.\u00A01\u00A0godz. 20\u00A0min"},
		{"pl", 2*h + 30*s, "ok. 2 godz. 1 min", "Czas oczekiwania: ok.\u00A02\u00A0godz. 1\u00A0min"},
		{"ru", 20*min + 1*s, "около 21 минуты", ""},
		{"lt", 21 * min, "apie 21 minutę", ""},
		{"uk", 4*min + 10*s, "близько 5 хвилин", ""},
		{"lt", -1, "laukimo laikas nežinomas", ""},
	}
	for _, tt := range tests {
		if got := Wait(cat, tt.lang, tt.d); got != tt.screen {
			t.Errorf("Wait(%s, %v) = %q, want %q", tt.lang, tt.d, got, tt.screen)
		}
		if tt.paper == "" && tt.d >= 0 {
			continue // only the screen's words are checked for this language
		}
		if got := TicketWait(cat, tt.lang, tt.d); got != tt.paper {
			t.Errorf("TicketWait(%s, %v) = %q, want %q", tt.lang, tt.d, got, tt.paper)
		}
	}
}

// TestPaperAndScreenAgree checks that for any wait the ticket and the
// screen say the same number of minutes (they once rounded differently).
func TestPaperAndScreenAgree(t *testing.T) {
	cat := i18n.Messages()
	for d := time.Minute; d < 3*time.Hour; d += 7 * time.Second {
		m := WaitMinutes(d)
		if m < 60 {
			want := fmt.Sprint(m)
			if screen, paper := Wait(cat, "en", d), TicketWait(cat, "en", d); !strings.Contains(screen, " "+want+" ") || !strings.Contains(paper, "\u00A0"+want+"\u00A0") {
				t.Fatalf("%v: screen %q and paper %q should both say %s minutes", d, screen, paper, want)
			}
		}
		if time.Duration(m)*time.Minute < d || time.Duration(m-1)*time.Minute >= d {
			t.Fatalf("WaitMinutes(%v) = %d, not rounded up", d, m)
		}
	}
}

func TestHolidayInTheResidentsLanguage(t *testing.T) {
	loc, _ := time.LoadLocation("Europe/Warsaw")
	now := time.Date(2026, 12, 24, 9, 0, 0, 0, loc)
	cat := i18n.Messages()
	named := &queue.Refusal{Reason: queue.ReasonHoliday, Until: time.Date(2026, 12, 28, 7, 30, 0, 0, loc),
		Holiday: "Wigilia", HolidayNames: map[string]string{"pl": "Wigilia", "uk": "Святвечір"}}
	tests := []struct {
		lang string
		r    *queue.Refusal
		want string
	}{
		{"uk", named, "(Святвечір)"},
		{"pl", named, "(Wigilia)"},
		// A language the office gave no name in falls back to the one name.
		{"en", named, "(Wigilia)"},
		{"uk", &queue.Refusal{Reason: queue.ReasonHoliday, Holiday: "Wigilia"}, "(Wigilia)"},
	}
	for _, tt := range tests {
		if got := Refusal(cat, tt.lang, tt.r, loc, now); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q does not name the day %s", tt.lang, got, tt.want)
		}
	}
}

// Every error code of the queue has its message in every language, and
// the message's placeholders are the code's parameters.
func TestEveryErrorCodeInEveryLanguage(t *testing.T) {
	cat := i18n.Messages()
	placeholder := regexp.MustCompile(`\{([a-z]+)\}`)
	for code, params := range queue.ErrorCodes() {
		for _, lang := range i18n.Languages {
			id := "error." + code
			if !cat.Has(lang, id) {
				t.Errorf("%s: no message %s", lang, id)
				continue
			}
			for _, m := range placeholder.FindAllStringSubmatch(cat.T(lang, id), -1) {
				if !slices.Contains(params, m[1]) {
					t.Errorf("%s: %s has {%s}, which the error does not give (it gives %v)", lang, id, m[1], params)
				}
			}
		}
	}
}
