package localize

import (
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

func TestWait(t *testing.T) {
	cat := i18n.Messages()
	tests := []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"pl", 22 * time.Minute, "ok. 22 minut"}, {"pl", 1 * time.Minute, "ok. 1 minuty"},
		{"pl", 25 * time.Minute, "ok. 25 minut"},
		{"pl", 80 * time.Minute, "ok. 1 godz. 20 min"},
		{"en", 30 * time.Second, "no wait"},
		{"ru", 21 * time.Minute, "около 21 минуты"}, {"lt", 21 * time.Minute, "apie 21 minutę"}, {"uk", 5 * time.Minute, "близько 5 хвилин"},
		{"lt", -1, "laukimo laikas nežinomas"},
	}
	for _, tt := range tests {
		if got := Wait(cat, tt.lang, tt.d); got != tt.want {
			t.Errorf("Wait(%s, %v) = %q, want %q", tt.lang, tt.d, got, tt.want)
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
