package audio

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"time"
)

// DefaultRate is the output sample rate the default packs are recorded at;
// playing at it needs no resampling.
const DefaultRate = 16000

// clipFade is the ramp put on both ends of every clip, so clips trimmed close
// to the voice join without clicks.
const clipFade = 3 * time.Millisecond

// Pack is one language's clips, decoded and resampled to the output rate.
type Pack struct {
	Lang     string
	Rate     int
	Manifest Manifest
	clips    map[string][]int16
}

// Clip returns the samples of word, if the pack has them.
func (p *Pack) Clip(word string) ([]int16, bool) {
	s, ok := p.clips[word]
	return s, ok
}

// Bytes is the memory held by the pack's samples.
func (p *Pack) Bytes() int {
	n := 0
	for _, s := range p.clips {
		n += 2 * len(s)
	}
	return n
}

// LoadPack reads the pack in folder dir of fsys and resamples its clips to
// rate. A clip that is missing or unreadable is left out and reported as a
// Problem; the error is for a pack that cannot be used at all (no or bad
// manifest).
func LoadPack(fsys fs.FS, dir string, rate int) (*Pack, []Problem, error) {
	m, err := readManifest(fsys, dir)
	if err != nil {
		return nil, nil, err
	}
	p := &Pack{Lang: m.Language, Rate: rate, Manifest: m, clips: make(map[string][]int16, len(m.Clips))}
	problems := missingWords(m)
	fade := samplesFor(rate, clipFade)
	for _, word := range m.Words() {
		file := m.Clips[word]
		w, err := readClip(fsys, dir, file)
		if err != nil {
			problems = append(problems, Problem{Lang: m.Language, Word: word, File: file, Kind: ProblemBadWAV, Detail: err.Error()})
			continue
		}
		f := resample(w.Samples, w.Rate, rate)
		s := make([]int16, len(f))
		for i, v := range f {
			s[i] = toInt16(v)
		}
		fadeEdges(s, fade)
		p.clips[word] = s
	}
	return p, problems, nil
}

// readClip reads and decodes one clip of a pack.
func readClip(fsys fs.FS, dir, file string) (WAV, error) {
	data, err := fs.ReadFile(fsys, path.Join(dir, file))
	if err != nil {
		return WAV{}, err
	}
	w, err := ReadWAV(data)
	if err != nil {
		return WAV{}, fmt.Errorf("%s: %w", file, err)
	}
	if len(w.Samples) == 0 {
		return WAV{}, fmt.Errorf("%s: no samples", file)
	}
	return w, nil
}

// missingWords reports the vocabulary words m has no clip for.
func missingWords(m Manifest) []Problem {
	vocab, err := Vocabulary(m.Language)
	if err != nil {
		return nil // ParseManifest has already refused an unknown language
	}
	var out []Problem
	for _, w := range vocab {
		if _, ok := m.Clips[w.Key]; !ok {
			detail := "no clip in the manifest"
			if w.Say != w.Key {
				detail = fmt.Sprintf("no clip in the manifest (say %q)", w.Say)
			}
			out = append(out, Problem{Lang: m.Language, Word: w.Key, Kind: ProblemMissing, Detail: detail})
		}
	}
	return out
}

// Voices is the set of loaded packs a device speaks with, one per language,
// all at one output rate. Load packs first; once loaded, Compose and Render
// are safe for concurrent use.
type Voices struct {
	rate  int
	log   *slog.Logger
	packs map[string]*Pack
	chime PCM
}

// NewVoices returns an empty set of packs at output rate rate (0 means
// DefaultRate), logging clip problems to log (nil: slog.Default()).
func NewVoices(rate int, log *slog.Logger) *Voices {
	if rate <= 0 {
		rate = DefaultRate
	}
	if log == nil {
		log = slog.Default()
	}
	return &Voices{rate: rate, log: log, packs: map[string]*Pack{}, chime: Chime(rate)}
}

// Rate is the output sample rate.
func (v *Voices) Rate() int { return v.rate }

// Languages lists the languages a pack is loaded for.
func (v *Voices) Languages() []string {
	out := make([]string, 0, len(v.packs))
	for l := range v.packs {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Pack returns the pack loaded for lang.
func (v *Voices) Pack(lang string) (*Pack, bool) {
	p, ok := v.packs[lang]
	return p, ok
}

// Bytes is the memory held by the samples of all loaded packs.
func (v *Voices) Bytes() int {
	n := 2 * len(v.chime.Samples)
	for _, p := range v.packs {
		n += p.Bytes()
	}
	return n
}

// Load adds the packs found in fsys: fsys itself if it holds a manifest.json,
// else every folder directly under it that does. A pack replaces one loaded
// before for the same language, so an office's recorded pack can override a
// built-in one. Clip problems are logged and the pack is used without those
// clips; a pack that cannot be read at all is skipped, and the returned error
// names it (other packs are still loaded).
func (v *Voices) Load(fsys fs.FS) error {
	dirs, err := PackDirs(fsys)
	if err != nil {
		return err
	}
	var errs []error
	for _, dir := range dirs {
		p, problems, err := LoadPack(fsys, dir, v.rate)
		if err != nil {
			v.log.Error("voice pack not loaded", "dir", dir, "err", err)
			errs = append(errs, err)
			continue
		}
		for _, pr := range problems {
			v.log.Warn("voice pack clip unusable", "lang", pr.Lang, "word", pr.Word, "file", pr.File, "problem", pr.Kind, "detail", pr.Detail)
		}
		v.packs[p.Lang] = p
	}
	return errors.Join(errs...)
}

// PackDirs finds the pack folders in fsys: "." if fsys holds a manifest.json
// itself, else each folder directly under it holding one.
func PackDirs(fsys fs.FS) ([]string, error) {
	if _, err := fs.Stat(fsys, ManifestFile); err == nil {
		return []string{"."}, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("listing voice packs: %w", err)
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), ManifestFile)); err == nil {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no voice pack found: neither %s nor */%s", ManifestFile, ManifestFile)
	}
	return dirs, nil
}
