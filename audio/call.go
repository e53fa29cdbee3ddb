package audio

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Call is one ticket called to a counter, as the hall display hands it over.
type Call struct {
	// Lang is the language to say it in: pl, en, lt, ru or uk.
	Lang string
	// Ticket is the ticket as printed: up to three Latin letters and a number
	// 0-999 ("A123", "B7", "15", "A007" is said as seven).
	Ticket string
	// Counter is the counter number, 0-999.
	Counter int
	// CounterWord is the word before the counter number in Lang, from the
	// office config ("stanowisko", "okienko", "room"); empty means the
	// language's default (pl stanowisko, en counter, lt langelis, ru окно,
	// uk вікно).
	CounterWord string
	// Recall marks a ticket called again. It is announced in full like a
	// first call and is never merged with an identical call still waiting.
	Recall bool
	// ID is the caller's name for the call, handed back with it to
	// OnSpeaking and OnSaid; the announcer does not read it.
	ID string
}

func (c Call) String() string {
	s := fmt.Sprintf("%s %s -> %d", c.Lang, c.Ticket, c.Counter)
	if c.Recall {
		s += " (recall)"
	}
	return s
}

// InBothLanguages is what a hall says for call c, made in the office's
// language with its counter word: c, then, where the office wants it
// (both), the same call in ticketLang, the language the ticket was taken
// in, when that differs and a pack for it is loaded. kioskd's hall and the
// hall web page say the same.
func (v *Voices) InBothLanguages(c Call, ticketLang string, both bool) []Call {
	out := []Call{c}
	if both && ticketLang != "" && ticketLang != c.Lang {
		if _, ok := v.Pack(ticketLang); ok {
			second := c
			second.Lang, second.CounterWord = ticketLang, ""
			out = append(out, second)
		}
	}
	return out
}

// maxPrefixLetters bounds a ticket's prefix: offices use one letter per
// service, sometimes two.
const maxPrefixLetters = 3

// ParseTicket splits a ticket such as "A123" into its prefix letters
// (upper-cased) and its number. It accepts up to three letters A-Z followed by
// one to three digits.
func ParseTicket(ticket string) (prefix string, number int, err error) {
	s := strings.TrimSpace(ticket)
	i := 0
	for i < len(s) && isLatinLetter(s[i]) {
		i++
	}
	prefix, digits := strings.ToUpper(s[:i]), s[i:]
	switch {
	case s == "":
		return "", 0, fmt.Errorf("ticket is empty")
	case i > maxPrefixLetters:
		return "", 0, fmt.Errorf("ticket %q: prefix %q is longer than %d letters", ticket, s[:i], maxPrefixLetters)
	case digits == "":
		return "", 0, fmt.Errorf("ticket %q has no number after the prefix", ticket)
	}
	for j := 0; j < len(digits); j++ {
		if digits[j] < '0' || digits[j] > '9' {
			return "", 0, fmt.Errorf("ticket %q: %q at position %d is neither a letter A-Z of the prefix nor a digit",
				ticket, string([]rune(digits[j:])[0]), utf8.RuneCountInString(s[:i+j])+1)
		}
	}
	number, err = strconv.Atoi(digits)
	if err != nil || number > MaxNumber {
		return "", 0, fmt.Errorf("ticket %q: number %s is out of range 0-%d", ticket, digits, MaxNumber)
	}
	return prefix, number, nil
}

func isLatinLetter(b byte) bool {
	return (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z')
}
