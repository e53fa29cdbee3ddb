package ticketfmt

import (
	"flag"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
)

var _ = flag.Bool("update", false, "accepted so `go test ./printer/... -update` runs here too")

func TestAheadPlurals(t *testing.T) {
	tests := []struct {
		lang  string
		ahead int
		want  string
	}{
		{"pl", 1, "Przed Tobą: 1 osoba"}, {"pl", 3, "Przed Tobą: 3 osoby"}, {"pl", 5, "Przed Tobą: 5 osób"},
		{"pl", 12, "Przed Tobą: 12 osób"}, {"pl", 22, "Przed Tobą: 22 osoby"}, {"pl", 0, "Nikt nie czeka przed Tobą"},
		{"en", 1, "1 person ahead of you"}, {"en", 7, "7 people ahead of you"},
		{"lt", 1, "Prieš jus: 1 žmogus"}, {"lt", 21, "Prieš jus: 21 žmogus"}, {"lt", 4, "Prieš jus: 4 žmonės"}, {"lt", 15, "Prieš jus: 15 žmonių"},
		{"ru", 2, "Перед вами: 2 человека"}, {"ru", 5, "Перед вами: 5 человек"}, {"ru", 21, "Перед вами: 21 человек"},
		{"uk", 1, "Перед вами: 1 особа"}, {"uk", 3, "Перед вами: 3 особи"}, {"uk", 11, "Перед вами: 11 осіб"},
	}
	cat := i18n.Messages()
	for _, tt := range tests {
		in := Example(tt.lang)
		in.Ahead = tt.ahead
		if got := Compose(cat, in).Ahead; got != tt.want {
			t.Errorf("%s, %d ahead: %q, want %q", tt.lang, tt.ahead, got, tt.want)
		}
	}
}

func TestWaitAndIssued(t *testing.T) {
	tests := []struct {
		lang string
		wait time.Duration
		want string
	}{
		{"pl", 14*time.Minute + 20*time.Second, "Czas oczekiwania: ok.\u00a015\u00a0min"},
		{"pl", 75 * time.Minute, "Czas oczekiwania: ok.\u00a01\u00a0godz. 15\u00a0min"},
		{"pl", 30 * time.Second, "Czas oczekiwania: poniżej minuty"},
		{"pl", -1, ""},
		{"en", 5 * time.Minute, "Estimated wait: about\u00a05\u00a0min"},
		{"lt", 2 * time.Hour, "Laukimo laikas: apie\u00a02\u00a0val."},
		{"uk", 9 * time.Minute, "Очікування: близько\u00a09\u00a0хв"},
	}
	cat := i18n.Messages()
	for _, tt := range tests {
		in := Example(tt.lang)
		in.EstimatedWait = tt.wait
		if got := Compose(cat, in).Wait; got != tt.want {
			t.Errorf("%s wait %v: %q, want %q", tt.lang, tt.wait, got, tt.want)
		}
	}
	for lang, want := range map[string]string{
		"pl": "Wydano: 21.11.2026, godz.\u00a014:05", "en": "Issued 21 Nov 2026 at 14:05",
		"lt": "Išduota 2026-11-21 14:05", "ru": "Выдан 21.11.2026 в 14:05", "uk": "Видано 21.11.2026 о 14:05",
	} {
		if got := Compose(cat, Example(lang)).Issued; got != want {
			t.Errorf("%s issued line %q, want %q", lang, got, want)
		}
	}
}

func TestComposeFields(t *testing.T) {
	cat := i18n.Messages()
	in := Example("xx") // unknown language: Polish
	in.Priority = true
	tk := Compose(cat, in)
	if tk.NumberLabel != "Twój numer" || tk.Priority != "Pierwszeństwo obsługi" || tk.QRURL != in.ETicketURL || tk.QRCaption == "" {
		t.Errorf("composed %+v", tk)
	}
	if tk.Footer != "Prosimy zachować bilet do końca wizyty." {
		t.Errorf("default footer %q", tk.Footer)
	}
	in.Footer, in.ETicketURL, in.Priority = "Zapraszamy ponownie", "", false
	tk = Compose(cat, in)
	if tk.Footer != "Zapraszamy ponownie" || tk.QRURL != "" || tk.QRCaption != "" || tk.Priority != "" {
		t.Errorf("office footer, no e-ticket, no priority: %+v", tk)
	}
}
