package audio

import (
	"fmt"
	"io/fs"
	"math"
	"time"
)

// ProblemKind names what is wrong with a clip.
type ProblemKind string

// The problems CheckPack reports. LoadPack reports only the first two: the
// others are quality faults the clip is still played with.
const (
	ProblemMissing   ProblemKind = "missing"    // the manifest has no clip for a vocabulary word
	ProblemBadWAV    ProblemKind = "bad-wav"    // the file is absent or not a readable WAV
	ProblemWrongRate ProblemKind = "wrong-rate" // the clip's rate differs from the manifest's
	ProblemChannels  ProblemKind = "channels"   // not mono
	ProblemClipped   ProblemKind = "clipped"    // the recording hit full scale
	ProblemSilent    ProblemKind = "silent"     // nothing audible
	ProblemTooLong   ProblemKind = "too-long"   // longer than one word can be
	ProblemUntrimmed ProblemKind = "untrimmed"  // long silence before or after the word
)

// Problem is one thing wrong with a pack.
type Problem struct {
	Lang   string
	Word   string
	File   string
	Kind   ProblemKind
	Detail string
}

func (p Problem) String() string {
	where := p.Word
	if p.File != "" {
		where = fmt.Sprintf("%s (%s)", p.Word, p.File)
	}
	return fmt.Sprintf("%s: %s: %s: %s", p.Lang, where, p.Kind, p.Detail)
}

// Limits a clip is checked against.
const (
	// MaxClipLength is the longest a single word may take; anything longer
	// is a sentence or a recording left running.
	MaxClipLength = 2500 * time.Millisecond
	// maxEdgeSilence is how much silence may be left before or after the
	// word; the composer adds its own gaps.
	maxEdgeSilence = 250 * time.Millisecond
	// silenceLevel (-40 dBFS) is the level below which a sample is silence.
	silenceLevel = 0.01
	// fullScale is the level a clipped sample sits at.
	fullScale = 32766.0 / 32768
	// maxClippedRun is the longest run of full-scale samples a clean
	// recording can have by chance.
	maxClippedRun = 3
)

// CheckPack lists what is missing or malformed in the pack in folder dir of
// fsys: vocabulary words without a clip, files that are absent or not WAV,
// and clips at the wrong rate, not mono, clipped, silent, too long or
// untrimmed. The error is for a pack whose manifest cannot be read.
func CheckPack(fsys fs.FS, dir string) (Manifest, []Problem, error) {
	m, err := readManifest(fsys, dir)
	if err != nil {
		return Manifest{}, nil, err
	}
	problems := missingWords(m)
	for _, word := range m.Words() {
		file := m.Clips[word]
		add := func(kind ProblemKind, format string, args ...any) {
			problems = append(problems, Problem{Lang: m.Language, Word: word, File: file, Kind: kind, Detail: fmt.Sprintf(format, args...)})
		}
		w, err := readClip(fsys, dir, file)
		if err != nil {
			add(ProblemBadWAV, "%v", err)
			continue
		}
		if w.Rate != m.SampleRate {
			add(ProblemWrongRate, "%d Hz, the manifest says %d Hz", w.Rate, m.SampleRate)
		}
		if w.Channels != 1 {
			add(ProblemChannels, "%d channels, want mono", w.Channels)
		}
		q := measureClip(w)
		switch {
		case q.peak == 0:
			add(ProblemSilent, "every sample is zero")
			continue
		case q.peak < silenceLevel:
			add(ProblemSilent, "peak %.0f dBFS, nothing audible", dBFS(q.peak))
			continue // a silent clip has no edges or clipping to speak of
		case q.clippedRun > maxClippedRun:
			add(ProblemClipped, "%d samples in a row at full scale (%d in all); record it quieter", q.clippedRun, q.clipped)
		}
		if d := w.Duration(); d > MaxClipLength.Seconds() {
			add(ProblemTooLong, "%.2f s, a word takes at most %.1f s", d, MaxClipLength.Seconds())
		}
		if q.lead > maxEdgeSilence.Seconds() || q.trail > maxEdgeSilence.Seconds() {
			add(ProblemUntrimmed, "%.2f s of silence before and %.2f s after the word (at most %.2f s each)",
				q.lead, q.trail, maxEdgeSilence.Seconds())
		}
	}
	return m, problems, nil
}

// clipQuality is what CheckPack measures of a clip.
type clipQuality struct {
	peak        float64
	clipped     int // samples at full scale
	clippedRun  int // longest run of them
	lead, trail float64
}

func measureClip(w WAV) clipQuality {
	var q clipQuality
	run := 0
	first, last := -1, -1
	for i, v := range w.Samples {
		a := math.Abs(v)
		q.peak = math.Max(q.peak, a)
		if a >= fullScale {
			q.clipped++
			run++
			q.clippedRun = max(q.clippedRun, run)
		} else {
			run = 0
		}
		if a >= silenceLevel {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first >= 0 {
		q.lead = float64(first) / float64(w.Rate)
		q.trail = float64(len(w.Samples)-1-last) / float64(w.Rate)
	}
	return q
}

func dBFS(level float64) float64 {
	if level <= 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(level)
}
