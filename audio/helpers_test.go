package audio

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// testRate is the rate test packs are recorded at; loading them at
// DefaultRate (twice as fast) exercises resampling.
const testRate = 8000

// testPack describes a synthetic pack: every vocabulary word of lang as a
// constant (DC) level unique to the word, so a word can be recognised in
// composed sound by its level, and a length unique to it.
type testPack struct {
	lang   string
	levels map[string]int16 // word -> level
	lens   map[string]int   // word -> samples at testRate
	byLvl  map[int16]string
}

func newTestPack(t testing.TB, lang string) testPack {
	t.Helper()
	vocab, err := Vocabulary(lang)
	if err != nil {
		t.Fatal(err)
	}
	p := testPack{lang: lang, levels: map[string]int16{}, lens: map[string]int{}, byLvl: map[int16]string{}}
	for i, w := range vocab {
		lvl := int16(1000 + 150*i)
		p.levels[w.Key] = lvl
		p.lens[w.Key] = 400 + 8*i // 50 ms and up
		p.byLvl[lvl] = w.Key
	}
	return p
}

// write puts the pack into dir/lang, leaving out the words in skip, and
// returns the manifest written.
func (p testPack) write(t testing.TB, dir string, skip ...string) Manifest {
	t.Helper()
	d := filepath.Join(dir, p.lang)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	m := Manifest{Language: p.lang, SampleRate: testRate, Clips: map[string]string{}}
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	i := 0
	for w, lvl := range p.levels {
		if skipped[w] {
			continue
		}
		i++
		file := filepath.Join("clips", "w"+strconv.Itoa(i)+".wav")
		s := make([]int16, p.lens[w])
		for j := range s {
			s[j] = lvl
		}
		writeWAVFile(t, filepath.Join(d, file), PCM{Rate: testRate, Samples: s})
		m.Clips[w] = file
	}
	writeManifest(t, d, m)
	return m
}

func writeWAVFile(t testing.TB, path string, p PCM) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteWAV(&buf, p); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeManifest(t testing.TB, dir string, m Manifest) {
	t.Helper()
	data, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// loadTestVoices writes the test packs of langs and loads them at
// DefaultRate.
func loadTestVoices(t testing.TB, langs ...string) (*Voices, map[string]testPack) {
	t.Helper()
	dir := t.TempDir()
	packs := map[string]testPack{}
	for _, l := range langs {
		p := newTestPack(t, l)
		p.write(t, dir)
		packs[l] = p
	}
	v := NewVoices(DefaultRate, discardLog())
	if err := v.Load(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return v, packs
}

// run is a stretch of composed sound: a clip (its level) or silence.
type run struct {
	word    string // "" for silence
	samples int
}

// runs splits composed test-pack sound into clips and silences. A clip is
// recognised by the level at its middle (its edges are faded).
func (p testPack) runs(t testing.TB, s []int16) []run {
	t.Helper()
	var out []run
	for i := 0; i < len(s); {
		j := i
		silent := s[i] == 0
		for j < len(s) && (s[j] == 0) == silent {
			j++
		}
		r := run{samples: j - i}
		if !silent {
			mid := s[(i+j)/2]
			w, ok := p.byLvl[mid]
			if !ok {
				t.Fatalf("sound at %d-%d has level %d, which is no clip's", i, j, mid)
			}
			r.word = w
		}
		out = append(out, r)
		i = j
	}
	return out
}

func osDirFS(dir string) fs.FS { return os.DirFS(dir) }

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}
