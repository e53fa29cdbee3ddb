package audio

import (
	"fmt"
	"slices"
	"sort"
)

// language is what this package knows about saying a call in one language:
// its numerals, its names for the prefix letters, its counter words and the
// phrase that holds them together.
type language struct {
	code string
	name string
	// numeral returns the words of n (0-999) in the nominative case, as the
	// number of a ticket or a counter is read out.
	numeral func(n int) []string
	// letters names the Latin letters A-Z as a speaker of this language reads
	// them on a ticket; the index is the letter minus 'A'.
	letters [26]string
	// counterWords are the counter words a default pack carries a clip for;
	// the first is said when a call names none.
	counterWords []string
	// phrase lays out one call: ticket is the prefix letters and number words,
	// counter the counter number words, counterWord the word before it.
	phrase func(ticket []string, counterWord string, counter []string) []token
}

// token is one step of a phrase: a word to say, or a pause between phrase
// parts (the comma in "numer A sto, stanowisko numer pięć").
type token struct {
	word  string
	pause bool
}

func words(ws ...string) []token {
	out := make([]token, len(ws))
	for i, w := range ws {
		out[i] = token{word: w}
	}
	return out
}

var commaPause = token{pause: true}

// withNumber is the phrase used by pl, lt, ru and uk: "<number-word> <ticket>,
// <counter word> <number-word> <counter>". Saying the counter word in the
// nominative followed by "numer"/"номер" avoids case agreement between the
// counter word and the numeral ("okno pięć" vs "do okna piątego").
func withNumber(numberWord string) func([]string, string, []string) []token {
	return func(ticket []string, counterWord string, counter []string) []token {
		var t []token
		t = append(t, words(numberWord)...)
		t = append(t, words(ticket...)...)
		t = append(t, commaPause)
		t = append(t, words(counterWord, numberWord)...)
		t = append(t, words(counter...)...)
		return t
	}
}

// englishPhrase is "ticket A one hundred and twenty-three, please go to
// counter five", as a British office announcement says it.
func englishPhrase(ticket []string, counterWord string, counter []string) []token {
	var t []token
	t = append(t, words("ticket")...)
	t = append(t, words(ticket...)...)
	t = append(t, commaPause)
	t = append(t, words("please", "go", "to", counterWord)...)
	t = append(t, words(counter...)...)
	return t
}

// languages lists every language a call can be said in.
var languages = map[string]*language{
	"pl": {
		code:    "pl",
		name:    "polski",
		numeral: polishNumeral,
		letters: [26]string{"a", "be", "ce", "de", "e", "ef", "gie", "ha", "i", "jot", "ka", "el", "em",
			"en", "o", "pe", "ku", "er", "es", "te", "u", "fau", "wu", "iks", "igrek", "zet"},
		counterWords: []string{"stanowisko", "okienko", "pokój", "kasa", "gabinet", "sala"},
		phrase:       withNumber("numer"),
	},
	"en": {
		code:    "en",
		name:    "English",
		numeral: englishNumeral,
		letters: [26]string{"ay", "bee", "cee", "dee", "ee", "ef", "gee", "aitch", "eye", "jay", "kay", "el", "em",
			"en", "oh", "pee", "cue", "ar", "ess", "tee", "you", "vee", "double-you", "ex", "wye", "zed"},
		counterWords: []string{"counter", "window", "room", "desk"},
		phrase:       englishPhrase,
	},
	"lt": {
		code:    "lt",
		name:    "lietuvių",
		numeral: lithuanianNumeral,
		letters: [26]string{"a", "bė", "cė", "dė", "e", "ef", "gė", "ha", "i", "jot", "ka", "el", "em",
			"en", "o", "pė", "kū", "er", "es", "tė", "u", "vė", "dviguba vė", "iksas", "i ilgoji", "zė"},
		counterWords: []string{"langelis", "kabinetas", "kasa", "kambarys"},
		phrase:       withNumber("numeris"),
	},
	"ru": {
		code:    "ru",
		name:    "русский",
		numeral: russianNumeral,
		letters: [26]string{"а", "бэ", "цэ", "дэ", "э", "эф", "гэ", "аш", "и", "йот", "ка", "эль", "эм",
			"эн", "о", "пэ", "ку", "эр", "эс", "тэ", "у", "вэ", "дубль-вэ", "икс", "игрек", "зэт"},
		counterWords: []string{"окно", "кабинет", "стойка", "касса"},
		phrase:       withNumber("номер"),
	},
	"uk": {
		code:    "uk",
		name:    "українська",
		numeral: ukrainianNumeral,
		letters: [26]string{"а", "бе", "це", "де", "е", "еф", "ґе", "аш", "і", "йот", "ка", "ель", "ем",
			"ен", "о", "пе", "ку", "ер", "ес", "те", "у", "ве", "дубль-ве", "ікс", "ігрек", "зет"},
		counterWords: []string{"вікно", "кабінет", "стійка", "каса"},
		phrase:       withNumber("номер"),
	},
}

// Languages returns the codes of the languages a call can be said in.
func Languages() []string {
	out := make([]string, 0, len(languages))
	for code := range languages {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

func lookupLanguage(code string) (*language, error) {
	l, ok := languages[code]
	if !ok {
		return nil, fmt.Errorf("unknown language %q (known: %v)", code, Languages())
	}
	return l, nil
}

// Numeral returns the words of n (0-999) in language lang, as a ticket or
// counter number is read out: Numeral("pl", 215) is ["dwieście",
// "piętnaście"]. English compounds are one word: "twenty-three".
func Numeral(lang string, n int) ([]string, error) {
	l, err := lookupLanguage(lang)
	if err != nil {
		return nil, err
	}
	if n < 0 || n > MaxNumber {
		return nil, fmt.Errorf("number %d is out of range 0-%d", n, MaxNumber)
	}
	return l.numeral(n), nil
}

// Word is one entry of a language's vocabulary: the clip key as it appears
// in a manifest and in --words output, and what the speaker says for it. They
// differ only for letters: key "B", said "be" in Polish.
type Word struct {
	Key string `json:"key"`
	Say string `json:"say"`
}

// Vocabulary returns every word a call in lang can need, so a pack that has a
// clip for each can say any ticket A-Z 0-999 at any counter 0-999 with the
// default counter words. The order is stable: phrase words, letters, numerals,
// counter words.
func Vocabulary(lang string) ([]Word, error) {
	l, err := lookupLanguage(lang)
	if err != nil {
		return nil, err
	}
	var out []Word
	seen := map[string]bool{}
	add := func(key, say string) {
		if !seen[key] {
			seen[key] = true
			out = append(out, Word{Key: key, Say: say})
		}
	}
	for _, t := range l.phrase(nil, "", nil) {
		if t.word != "" {
			add(t.word, t.word)
		}
	}
	for i, name := range l.letters {
		add(string(rune('A'+i)), name)
	}
	for n := 0; n <= MaxNumber; n++ {
		for _, w := range l.numeral(n) {
			add(w, w)
		}
	}
	for _, w := range l.counterWords {
		add(w, w)
	}
	return out, nil
}

// CounterWords returns the counter words the default pack of lang carries,
// the default (said when a call names none) first.
func CounterWords(lang string) ([]string, error) {
	l, err := lookupLanguage(lang)
	if err != nil {
		return nil, err
	}
	return slices.Clone(l.counterWords), nil
}
