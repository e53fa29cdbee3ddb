package audio

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestComposeClipOrderAndGaps composes calls from a pack recorded at 8 kHz
// and loaded at 16 kHz, then reads the sound back clip by clip: the words in
// the right order, each clip resampled to twice its length, the word gaps,
// and the comma pause between ticket and counter. Sequence, what the hall
// web page plays, lists the same words with the same pauses.
func TestComposeClipOrderAndGaps(t *testing.T) {
	v, packs := loadTestVoices(t, Languages()...)
	word, comma := samplesFor(DefaultRate, WordGap), samplesFor(DefaultRate, CommaGap)
	tests := []struct {
		call  Call
		words string // "," marks the comma pause
	}{
		{Call{Lang: "pl", Ticket: "A123", Counter: 5}, "numer A sto dwadzieścia trzy , stanowisko numer pięć"},
		{Call{Lang: "pl", Ticket: "b215", Counter: 12, CounterWord: "okienko"}, "numer B dwieście piętnaście , okienko numer dwanaście"},
		{Call{Lang: "en", Ticket: "C100", Counter: 3, CounterWord: "room"}, "ticket C one hundred , please go to room three"},
		{Call{Lang: "lt", Ticket: "A21", Counter: 2}, "numeris A dvidešimt vienas , langelis numeris du"},
		{Call{Lang: "ru", Ticket: "AB999", Counter: 200, CounterWord: "кабинет"}, "номер A B девятьсот девяносто девять , кабинет номер двести"},
		{Call{Lang: "uk", Ticket: "7", Counter: 15}, "номер сім , вікно номер п'ятнадцять"},
	}
	for _, tt := range tests {
		t.Run(tt.call.String(), func(t *testing.T) {
			a, err := v.Compose(tt.call)
			if err != nil {
				t.Fatal(err)
			}
			p := packs[tt.call.Lang]
			var want []run
			var wantWords []string
			var wantSteps []Spoken
			gap := 0
			for _, w := range strings.Fields(tt.words) {
				if w == "," {
					gap = comma
					continue
				}
				pause := time.Duration(0)
				if len(want) > 0 {
					want = append(want, run{samples: max(gap, word)})
					pause = WordGap
					if gap > 0 {
						pause = CommaGap
					}
				}
				wantSteps = append(wantSteps, Spoken{Word: w, Pause: pause})
				gap = 0
				want = append(want, run{word: w, samples: 2 * p.lens[w]})
				wantWords = append(wantWords, w)
			}
			if got := p.runs(t, a.Speech.Samples); !reflect.DeepEqual(got, want) {
				t.Errorf("composed sound\n got  %v\n want %v", got, want)
			}
			if !reflect.DeepEqual(a.Words, wantWords) {
				t.Errorf("Words = %q, want %q", a.Words, wantWords)
			}
			if a.Speech.Rate != DefaultRate || len(a.Missing) != 0 {
				t.Errorf("rate %d, missing %v", a.Speech.Rate, a.Missing)
			}
			seq, err := v.Sequence(tt.call)
			if err != nil || !reflect.DeepEqual(seq.Steps, wantSteps) || len(seq.Missing) != 0 {
				t.Errorf("Sequence = %v %v (missing %v), want %v", seq.Steps, err, seq.Missing, wantSteps)
			}
		})
	}
}

func TestComposeMissingClips(t *testing.T) {
	dir := t.TempDir()
	p := newTestPack(t, "pl")
	p.write(t, dir, "dwadzieścia", "okienko")
	v := NewVoices(DefaultRate, discardLog())
	if err := v.Load(osDirFS(dir)); err != nil {
		t.Fatal(err)
	}

	a, err := v.Compose(Call{Lang: "pl", Ticket: "A123", Counter: 5, CounterWord: "okienko"})
	if err != nil {
		t.Fatal(err)
	}
	// The counter word falls back to the default; the missing numeral word
	// is left out and the rest is still said.
	if want := []string{"numer", "A", "sto", "trzy", "stanowisko", "numer", "pięć"}; !reflect.DeepEqual(a.Words, want) {
		t.Errorf("Words = %q, want %q", a.Words, want)
	}
	if want := []string{"okienko", "dwadzieścia"}; !reflect.DeepEqual(a.Missing, want) {
		t.Errorf("Missing = %q, want %q", a.Missing, want)
	}
}

func TestComposeErrors(t *testing.T) {
	v, _ := loadTestVoices(t, "pl")
	tests := []struct {
		call Call
		want string
	}{
		{Call{Lang: "de", Ticket: "A1", Counter: 1}, `unknown language "de"`},
		{Call{Lang: "en", Ticket: "A1", Counter: 1}, `no voice pack loaded for language "en" (loaded: [pl])`},
		{Call{Lang: "pl", Ticket: "A1000", Counter: 1}, "out of range 0-999"},
		{Call{Lang: "pl", Ticket: "", Counter: 1}, "ticket is empty"},
		{Call{Lang: "pl", Ticket: "A1", Counter: 1000}, "counter 1000 is out of range 0-999"},
		{Call{Lang: "pl", Ticket: "A1", Counter: -2}, "counter -2 is out of range"},
	}
	for _, tt := range tests {
		_, err := v.Compose(tt.call)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Compose(%v) error = %v, want it to say %q", tt.call, err, tt.want)
		}
	}
}

// TestRender checks what several waiting calls sound like together: one
// chime, a short gap, the first call, the gap between calls, the next.
func TestRender(t *testing.T) {
	v, packs := loadTestVoices(t, "pl", "en")
	a1, err := v.Compose(Call{Lang: "pl", Ticket: "A1", Counter: 1})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := v.Compose(Call{Lang: "en", Ticket: "A1", Counter: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := v.Render(a1, a2).Samples
	chime := Chime(DefaultRate).Samples
	var want []int16
	want = append(want, chime...)
	want = append(want, make([]int16, samplesFor(DefaultRate, ChimeGap))...)
	want = append(want, a1.Speech.Samples...)
	want = append(want, make([]int16, samplesFor(DefaultRate, CallGap))...)
	want = append(want, a2.Speech.Samples...)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Render differs from chime+gap+speech+gap+speech (len %d vs %d)", len(got), len(want))
	}
	// And the speech itself is what the English pack says.
	if w := packs["en"].runs(t, a2.Speech.Samples)[0].word; w != "ticket" {
		t.Errorf("second call starts with %q, want ticket", w)
	}
}
