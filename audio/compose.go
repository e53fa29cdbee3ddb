package audio

import (
	"fmt"
	"time"
)

// The gaps an announcement is joined with. Clips are trimmed close to the
// voice, so these are the whole pauses a listener hears.
const (
	// WordGap separates the words of one phrase part, as in connected
	// speech that is a little slower than conversation.
	WordGap = 70 * time.Millisecond
	// CommaGap separates the ticket from the counter: "numer A sto, |
	// stanowisko numer pięć".
	CommaGap = 350 * time.Millisecond
	// ChimeGap is the silence between the end of the chime and the first
	// word.
	ChimeGap = 200 * time.Millisecond
	// CallGap separates calls said back to back after one chime.
	CallGap = 900 * time.Millisecond
)

// Announcement is one call as it will be said: its words and their sound.
type Announcement struct {
	Call Call
	// Words are the words said, in order, one per clip: a prefix letter as
	// the letter itself ("A"), every other word as written ("sto",
	// "twenty-three").
	Words []string
	// Speech is the spoken part, without the chime.
	Speech PCM
	// Missing lists words the pack has no clip for; they are left out of
	// Speech and Words. A counter word without a clip is replaced by the
	// language's default counter word.
	Missing []string
}

// Spoken is one clip of a composed call: the word and the silence a
// listener hears before it (none before the first).
type Spoken struct {
	Word  string
	Pause time.Duration
}

// Sequence is a call as the clips to play and the pauses between them:
// what Compose joins into Speech, for a player that plays the pack's clips
// itself (the hall web page).
type Sequence struct {
	Call  Call
	Steps []Spoken
	// Missing lists words the pack has no clip for, as Announcement's.
	Missing []string
}

// Words are the words of the sequence, in order.
func (s Sequence) Words() []string {
	out := make([]string, len(s.Steps))
	for i, st := range s.Steps {
		out[i] = st.Word
	}
	return out
}

// Sequence lays out call as the pack's words with the gaps Compose joins
// them with. Its errors are Compose's.
func (v *Voices) Sequence(call Call) (Sequence, error) {
	seq, _, err := v.sequence(call)
	return seq, err
}

// Compose lays out call as words and joins their clips with natural gaps.
// The error is for a call that cannot be said: no pack for its language, a
// malformed ticket, a counter out of range, or a pack without any of the
// clips needed. Missing clips short of that are listed in Missing.
func (v *Voices) Compose(call Call) (Announcement, error) {
	seq, pack, err := v.sequence(call)
	if err != nil {
		return Announcement{}, err
	}
	a := Announcement{Call: call, Words: seq.Words(), Missing: seq.Missing}
	var out []int16
	for _, st := range seq.Steps {
		clip, _ := pack.Clip(st.Word)
		out = append(out, make([]int16, samplesFor(v.rate, st.Pause))...)
		out = append(out, clip...)
	}
	a.Speech = PCM{Rate: v.rate, Samples: out}
	return a, nil
}

// sequence decides the words of call and the pauses before them, and
// returns the pack they are said from.
func (v *Voices) sequence(call Call) (Sequence, *Pack, error) {
	lang, err := lookupLanguage(call.Lang)
	if err != nil {
		return Sequence{}, nil, fmt.Errorf("composing call %s: %w", call.Ticket, err)
	}
	pack, ok := v.packs[call.Lang]
	if !ok {
		return Sequence{}, nil, fmt.Errorf("composing call %s: no voice pack loaded for language %q (loaded: %v)", call.Ticket, call.Lang, v.Languages())
	}
	prefix, number, err := ParseTicket(call.Ticket)
	if err != nil {
		return Sequence{}, nil, fmt.Errorf("composing call: %w", err)
	}
	if call.Counter < 0 || call.Counter > MaxNumber {
		return Sequence{}, nil, fmt.Errorf("composing call %s: counter %d is out of range 0-%d", call.Ticket, call.Counter, MaxNumber)
	}

	seq := Sequence{Call: call}
	counterWord := call.CounterWord
	if counterWord == "" {
		counterWord = lang.counterWords[0]
	}
	if _, ok := pack.Clip(counterWord); !ok && counterWord != lang.counterWords[0] {
		seq.Missing = append(seq.Missing, counterWord)
		counterWord = lang.counterWords[0]
	}
	var ticket []string
	for _, r := range prefix {
		ticket = append(ticket, string(r))
	}
	ticket = append(ticket, lang.numeral(number)...)
	tokens := lang.phrase(ticket, counterWord, lang.numeral(call.Counter))

	var gap time.Duration // silence owed before the next word
	for _, t := range tokens {
		if t.pause {
			gap = max(gap, CommaGap)
			continue
		}
		if _, ok := pack.Clip(t.word); !ok {
			seq.Missing = append(seq.Missing, t.word)
			continue
		}
		pause := time.Duration(0)
		if len(seq.Steps) > 0 {
			pause = max(gap, WordGap)
		}
		gap = 0
		seq.Steps = append(seq.Steps, Spoken{Word: t.word, Pause: pause})
	}
	if len(seq.Steps) == 0 {
		return Sequence{}, nil, fmt.Errorf("composing call %s: voice pack %s has none of the clips for %v", call.Ticket, call.Lang, tokenWords(tokens))
	}
	return seq, pack, nil
}

func tokenWords(ts []token) []string {
	var out []string
	for _, t := range ts {
		if !t.pause {
			out = append(out, t.word)
		}
	}
	return out
}

// segment is a stretch of a session's sound: samples, or silence of a
// length, played at a gain.
type segment struct {
	samples []int16
	silence int
	gain    float64
}

func (s segment) len() int { return len(s.samples) + s.silence }

// callSegments is how one announcement enters a session: the chime and a
// short gap if it opens the session, else the gap between calls, then the
// speech; everything at gain.
func (v *Voices) callSegments(a Announcement, opensSession bool, gain float64) []segment {
	var lead []segment
	if opensSession {
		lead = []segment{{samples: v.chime.Samples, gain: gain}, {silence: samplesFor(v.rate, ChimeGap)}}
	} else {
		lead = []segment{{silence: samplesFor(v.rate, CallGap)}}
	}
	return append(lead, segment{samples: a.Speech.Samples, gain: gain})
}

// Chime is the sound that opens a run of calls.
func (v *Voices) Chime() PCM { return v.chime }

// Render returns what the Announcer says for anns waiting together at full
// volume: the chime, then each announcement, back to back.
func (v *Voices) Render(anns ...Announcement) PCM {
	var out []int16
	for i, a := range anns {
		for _, s := range v.callSegments(a, i == 0, 1) {
			out = append(out, s.samples...)
			out = append(out, make([]int16, s.silence)...)
		}
	}
	return PCM{Rate: v.rate, Samples: out}
}
