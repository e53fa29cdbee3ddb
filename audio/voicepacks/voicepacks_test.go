package voicepacks

import (
	"io/fs"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/numerek/numerek/audio"
)

// maxPacksBytes is the issue's bound on the five packs together.
const maxPacksBytes = 8 << 20

// TestPacksPassVoiceCheck runs the same check an office's recorded pack gets:
// every word present, no clip clipped, silent, too long or untrimmed.
func TestPacksPassVoiceCheck(t *testing.T) {
	dirs, err := audio.PackDirs(FS())
	if err != nil {
		t.Fatal(err)
	}
	if want := audio.Languages(); !reflect.DeepEqual(dirs, want) {
		t.Fatalf("packs %v, want one for each of %v", dirs, want)
	}
	for _, dir := range dirs {
		m, problems, err := audio.CheckPack(FS(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.Language != dir || m.SampleRate != audio.DefaultRate {
			t.Errorf("%s: manifest says language %q at %d Hz", dir, m.Language, m.SampleRate)
		}
		for _, p := range problems {
			t.Errorf("%s", p)
		}
	}
}

func TestPacksSize(t *testing.T) {
	total := 0
	err := fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += int(info.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("five packs: %.2f MB", float64(total)/(1<<20))
	if total > maxPacksBytes {
		t.Errorf("packs take %d bytes, over the %d allowed", total, maxPacksBytes)
	}
}

// TestPacksSayEveryCall composes, in every language, calls covering every
// letter, the tricky numbers and every counter word: none may lack a clip.
func TestPacksSayEveryCall(t *testing.T) {
	v, err := Load(audio.DefaultRate, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range audio.Languages() {
		words, err := audio.CounterWords(lang)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range []int{0, 1, 2, 5, 12, 15, 21, 22, 100, 101, 123, 200, 215, 999} {
			letter := string(rune('A' + i))
			for _, cw := range append(words, "") {
				c := audio.Call{Lang: lang, Ticket: letter + "Z" + strconv.Itoa(n), Counter: n, CounterWord: cw}
				a, err := v.Compose(c)
				if err != nil {
					t.Fatal(err)
				}
				if len(a.Missing) > 0 {
					t.Errorf("%v: no clip for %q", c, a.Missing)
				}
				if d := a.Speech.Duration().Seconds(); d < 1 || d > 12 {
					t.Errorf("%v: speech lasts %.1f s", c, d)
				}
			}
		}
	}
}

// TestPackWordsAsIssueSays pins the phrase of each language.
func TestPackWordsAsIssueSays(t *testing.T) {
	v, err := Load(audio.DefaultRate, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		call audio.Call
		want string
	}{
		{audio.Call{Lang: "pl", Ticket: "A123", Counter: 5}, "numer A sto dwadzieścia trzy stanowisko numer pięć"},
		{audio.Call{Lang: "en", Ticket: "A123", Counter: 5}, "ticket A one hundred and twenty-three please go to counter five"},
		{audio.Call{Lang: "lt", Ticket: "A215", Counter: 5, CounterWord: "kabinetas"}, "numeris A du šimtai penkiolika kabinetas numeris penki"},
		{audio.Call{Lang: "ru", Ticket: "A215", Counter: 5}, "номер A двести пятнадцать окно номер пять"},
		{audio.Call{Lang: "uk", Ticket: "A215", Counter: 5}, "номер A двісті п'ятнадцять вікно номер п'ять"},
	}
	for _, tt := range tests {
		a, err := v.Compose(tt.call)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(a.Words, " "); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.call, got, tt.want)
		}
	}
}
