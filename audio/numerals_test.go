package audio

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestNumeralsHandChecked holds values checked by hand against grammar
// references, the tricky ones of each language included.
func TestNumeralsHandChecked(t *testing.T) {
	tests := []struct {
		lang string
		n    int
		want string
	}{
		{"pl", 0, "zero"},
		{"pl", 1, "jeden"},
		{"pl", 2, "dwa"},
		{"pl", 5, "pięć"},
		{"pl", 12, "dwanaście"},
		{"pl", 15, "piętnaście"},
		{"pl", 19, "dziewiętnaście"},
		{"pl", 22, "dwadzieścia dwa"},
		{"pl", 40, "czterdzieści"},
		{"pl", 100, "sto"},
		{"pl", 101, "sto jeden"},
		{"pl", 123, "sto dwadzieścia trzy"},
		{"pl", 200, "dwieście"},
		{"pl", 215, "dwieście piętnaście"},
		{"pl", 300, "trzysta"},
		{"pl", 405, "czterysta pięć"},
		{"pl", 560, "pięćset sześćdziesiąt"},
		{"pl", 999, "dziewięćset dziewięćdziesiąt dziewięć"},

		{"en", 0, "zero"},
		{"en", 5, "five"},
		{"en", 12, "twelve"},
		{"en", 15, "fifteen"},
		{"en", 21, "twenty-one"},
		{"en", 40, "forty"},
		{"en", 100, "one hundred"},
		{"en", 105, "one hundred and five"},
		{"en", 110, "one hundred and ten"},
		{"en", 123, "one hundred and twenty-three"},
		{"en", 200, "two hundred"},
		{"en", 215, "two hundred and fifteen"},
		{"en", 999, "nine hundred and ninety-nine"},

		{"lt", 0, "nulis"},
		{"lt", 1, "vienas"},
		{"lt", 2, "du"},
		{"lt", 10, "dešimt"},
		{"lt", 11, "vienuolika"},
		{"lt", 12, "dvylika"},
		{"lt", 13, "trylika"},
		{"lt", 14, "keturiolika"},
		{"lt", 15, "penkiolika"},
		{"lt", 16, "šešiolika"},
		{"lt", 17, "septyniolika"},
		{"lt", 18, "aštuoniolika"},
		{"lt", 19, "devyniolika"},
		{"lt", 21, "dvidešimt vienas"},
		{"lt", 30, "trisdešimt"},
		{"lt", 44, "keturiasdešimt keturi"},
		{"lt", 100, "šimtas"},
		{"lt", 101, "šimtas vienas"},
		{"lt", 200, "du šimtai"},
		{"lt", 215, "du šimtai penkiolika"},
		{"lt", 999, "devyni šimtai devyniasdešimt devyni"},

		{"ru", 0, "ноль"},
		{"ru", 1, "один"},
		{"ru", 2, "два"},
		{"ru", 11, "одиннадцать"},
		{"ru", 40, "сорок"},
		{"ru", 90, "девяносто"},
		{"ru", 100, "сто"},
		{"ru", 200, "двести"},
		{"ru", 215, "двести пятнадцать"},
		{"ru", 400, "четыреста"},
		{"ru", 500, "пятьсот"},
		{"ru", 999, "девятьсот девяносто девять"},

		{"uk", 0, "нуль"},
		{"uk", 1, "один"},
		{"uk", 2, "два"},
		{"uk", 5, "п'ять"},
		{"uk", 11, "одинадцять"},
		{"uk", 40, "сорок"},
		{"uk", 90, "дев'яносто"},
		{"uk", 100, "сто"},
		{"uk", 200, "двісті"},
		{"uk", 215, "двісті п'ятнадцять"},
		{"uk", 400, "чотириста"},
		{"uk", 999, "дев'ятсот дев'яносто дев'ять"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.lang, tt.n), func(t *testing.T) {
			got, err := Numeral(tt.lang, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("Numeral(%s, %d) = %q, want %q", tt.lang, tt.n, s, tt.want)
			}
		})
	}
}

// TestNumeralsGolden compares every value 0-999 with testdata/numerals, whose
// files were reviewed by hand on a sample (the values above and every
// hundred); run with -update after a deliberate change and review the diff.
func TestNumeralsGolden(t *testing.T) {
	for _, lang := range Languages() {
		t.Run(lang, func(t *testing.T) {
			var b strings.Builder
			for n := 0; n <= MaxNumber; n++ {
				w, err := Numeral(lang, n)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%d\t%s\n", n, strings.Join(w, " "))
			}
			path := filepath.Join("testdata", "numerals", lang+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			gotLines, wantLines := strings.Split(b.String(), "\n"), strings.Split(string(want), "\n")
			for i := range min(len(gotLines), len(wantLines)) {
				if gotLines[i] != wantLines[i] {
					t.Errorf("line %d: got %q, golden %q", i+1, gotLines[i], wantLines[i])
				}
			}
			if len(gotLines) != len(wantLines) {
				t.Errorf("got %d lines, golden has %d", len(gotLines), len(wantLines))
			}
		})
	}
}

func TestNumeralErrors(t *testing.T) {
	for _, tt := range []struct {
		lang string
		n    int
		want string
	}{
		{"pl", -1, "out of range 0-999"},
		{"pl", 1000, "out of range 0-999"},
		{"de", 5, `unknown language "de"`},
	} {
		_, err := Numeral(tt.lang, tt.n)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Numeral(%s, %d) error = %v, want it to say %q", tt.lang, tt.n, err, tt.want)
		}
	}
}

// TestVocabularyCoversEveryCall checks that every word a call can need is in
// the vocabulary a pack is checked against, so a pack that passes voice-check
// can say any call.
func TestVocabularyCoversEveryCall(t *testing.T) {
	for _, lang := range Languages() {
		vocab, err := Vocabulary(lang)
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]bool{}
		for _, w := range vocab {
			if have[w.Key] {
				t.Errorf("%s: %q twice in the vocabulary", lang, w.Key)
			}
			have[w.Key] = true
		}
		l := languages[lang]
		for n := 0; n <= MaxNumber; n++ {
			for _, tok := range l.phrase([]string{"A"}, l.counterWords[0], l.numeral(n)) {
				if !tok.pause && !have[tok.word] {
					t.Errorf("%s: %q (said for %d) is not in the vocabulary", lang, tok.word, n)
				}
			}
		}
		for c := 'A'; c <= 'Z'; c++ {
			if !have[string(c)] {
				t.Errorf("%s: no vocabulary word for letter %c", lang, c)
			}
		}
	}
}
