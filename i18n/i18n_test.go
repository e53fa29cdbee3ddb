package i18n

import (
	"testing"
)

// Every message exists in every language, with the plural forms the
// language needs, so no resident sees an English fallback or a raw key.
func TestCatalogsComplete(t *testing.T) {
	c := Messages()
	all := map[string]bool{}
	for _, lang := range Languages {
		for _, id := range c.IDs(lang) {
			all[id] = true
		}
	}
	for id := range all {
		for _, lang := range Languages {
			m, ok := c.msgs[lang][id]
			if !ok {
				t.Errorf("%s: message %q missing", lang, id)
				continue
			}
			if m.forms == nil {
				continue
			}
			for _, f := range RequiredForms(lang) {
				if _, ok := m.forms[f]; !ok {
					t.Errorf("%s: message %q lacks plural form %q", lang, id, f)
				}
			}
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		lang string
		n    int
		want string
	}{
		{"pl", 1, "1 osoba"}, {"pl", 2, "2 osoby"}, {"pl", 5, "5 osób"}, {"pl", 12, "12 osób"},
		{"pl", 22, "22 osoby"}, {"pl", 0, "0 osób"}, {"pl", 101, "101 osób"},
		{"en", 1, "1 person"}, {"en", 0, "0 people"}, {"en", 21, "21 people"},
		{"lt", 1, "1 žmogus"}, {"lt", 21, "21 žmogus"}, {"lt", 11, "11 žmonių"}, {"lt", 3, "3 žmonės"}, {"lt", 10, "10 žmonių"},
		{"ru", 1, "1 человек"}, {"ru", 3, "3 человека"}, {"ru", 11, "11 человек"}, {"ru", 24, "24 человека"},
		{"uk", 1, "1 особа"}, {"uk", 4, "4 особи"}, {"uk", 15, "15 осіб"}, {"uk", 31, "31 особа"},
	}
	c := Messages()
	for _, tt := range tests {
		if got := c.N(tt.lang, "people", tt.n); got != tt.want {
			t.Errorf("N(%s, people, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestFallbackAndFill(t *testing.T) {
	c := Messages()
	if got := c.T("xx", "no.such.message"); got != "no.such.message" {
		t.Errorf("unknown id gives %q, want the id", got)
	}
	if got := fill("{a} przed {b}", []any{"a", 1, "b", "A001"}); got != "1 przed A001" {
		t.Errorf("fill = %q", got)
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"": "pl", "en": "en", "lt-LT,lt;q=0.9": "lt", "de-DE, uk;q=0.5": "uk", "fr": "pl", "RU": "ru"} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
