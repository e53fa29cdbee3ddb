package audio

// MaxNumber is the largest ticket or counter number that can be said.
const MaxNumber = 999

// numeralTable holds the words a language builds 0-999 from. Polish, Russian,
// Ukrainian and Lithuanian all say hundreds, then tens, then units, each a
// separate word, with the teens as single words; they differ only in the
// words and in how the hundreds are formed.
type numeralTable struct {
	units    [10]string // 0-9; units[0] is said only for 0 itself
	teens    [10]string // 10-19
	tens     [10]string // tens[2..9]: 20, 30 ... 90
	hundreds func(h int) []string
}

func (t *numeralTable) say(n int) []string {
	if n == 0 {
		return []string{t.units[0]}
	}
	var out []string
	if h := n / 100; h > 0 {
		out = append(out, t.hundreds(h)...)
	}
	r := n % 100
	switch {
	case r >= 20:
		out = append(out, t.tens[r/10])
		if r%10 > 0 {
			out = append(out, t.units[r%10])
		}
	case r >= 10:
		out = append(out, t.teens[r-10])
	case r > 0:
		out = append(out, t.units[r])
	}
	return out
}

// hundredWords returns a hundreds function for languages with one word per
// hundred (Polish "dwieście", Russian "двести").
func hundredWords(words [10]string) func(int) []string {
	return func(h int) []string { return []string{words[h]} }
}

var polishNumerals = numeralTable{
	units: [10]string{"zero", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem", "dziewięć"},
	teens: [10]string{"dziesięć", "jedenaście", "dwanaście", "trzynaście", "czternaście", "piętnaście",
		"szesnaście", "siedemnaście", "osiemnaście", "dziewiętnaście"},
	tens: [10]string{"", "", "dwadzieścia", "trzydzieści", "czterdzieści", "pięćdziesiąt", "sześćdziesiąt",
		"siedemdziesiąt", "osiemdziesiąt", "dziewięćdziesiąt"},
	hundreds: hundredWords([10]string{"", "sto", "dwieście", "trzysta", "czterysta", "pięćset", "sześćset",
		"siedemset", "osiemset", "dziewięćset"}),
}

var russianNumerals = numeralTable{
	units: [10]string{"ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"},
	teens: [10]string{"десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
		"шестнадцать", "семнадцать", "восемнадцать", "девятнадцать"},
	tens: [10]string{"", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят",
		"восемьдесят", "девяносто"},
	hundreds: hundredWords([10]string{"", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот",
		"семьсот", "восемьсот", "девятьсот"}),
}

// Ukrainian words are written with the ASCII apostrophe (п'ять), as people
// type them; a pack's manifest keys use the same spelling.
var ukrainianNumerals = numeralTable{
	units: [10]string{"нуль", "один", "два", "три", "чотири", "п'ять", "шість", "сім", "вісім", "дев'ять"},
	teens: [10]string{"десять", "одинадцять", "дванадцять", "тринадцять", "чотирнадцять", "п'ятнадцять",
		"шістнадцять", "сімнадцять", "вісімнадцять", "дев'ятнадцять"},
	tens: [10]string{"", "", "двадцять", "тридцять", "сорок", "п'ятдесят", "шістдесят", "сімдесят",
		"вісімдесят", "дев'яносто"},
	hundreds: hundredWords([10]string{"", "сто", "двісті", "триста", "чотириста", "п'ятсот", "шістсот",
		"сімсот", "вісімсот", "дев'ятсот"}),
}

var lithuanianUnits = [10]string{"nulis", "vienas", "du", "trys", "keturi", "penki", "šeši", "septyni",
	"aštuoni", "devyni"}

// Lithuanian forms the hundreds from the unit and "šimtai" (plural), except
// one hundred, said "šimtas" alone.
var lithuanianNumerals = numeralTable{
	units: lithuanianUnits,
	teens: [10]string{"dešimt", "vienuolika", "dvylika", "trylika", "keturiolika", "penkiolika",
		"šešiolika", "septyniolika", "aštuoniolika", "devyniolika"},
	tens: [10]string{"", "", "dvidešimt", "trisdešimt", "keturiasdešimt", "penkiasdešimt", "šešiasdešimt",
		"septyniasdešimt", "aštuoniasdešimt", "devyniasdešimt"},
	hundreds: func(h int) []string {
		if h == 1 {
			return []string{"šimtas"}
		}
		return []string{lithuanianUnits[h], "šimtai"}
	},
}

func polishNumeral(n int) []string     { return polishNumerals.say(n) }
func russianNumeral(n int) []string    { return russianNumerals.say(n) }
func ukrainianNumeral(n int) []string  { return ukrainianNumerals.say(n) }
func lithuanianNumeral(n int) []string { return lithuanianNumerals.say(n) }

var (
	englishSmall = [20]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
		"nineteen"}
	englishTens = [10]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
		"ninety"}
)

// englishNumeral says n the British way: "one hundred and twenty-three",
// "two hundred", "one hundred and five". The "and" after the hundreds is what
// a British or European office announcement says; American English drops it.
// A compound of tens and units ("twenty-three") is one word with one clip, as
// it is written and spoken as one.
func englishNumeral(n int) []string {
	var out []string
	if h := n / 100; h > 0 {
		out = append(out, englishSmall[h], "hundred")
		if n%100 == 0 {
			return out
		}
		out = append(out, "and")
	}
	r := n % 100
	switch {
	case r < 20:
		out = append(out, englishSmall[r])
	case r%10 == 0:
		out = append(out, englishTens[r/10])
	default:
		out = append(out, englishTens[r/10]+"-"+englishSmall[r%10])
	}
	return out
}
