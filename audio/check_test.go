package audio

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// brokenPack writes a good pl test pack into a temp dir, lets break spoil it,
// and returns the pack's folder.
func brokenPack(t *testing.T, spoil func(t *testing.T, dir string, m *Manifest)) string {
	t.Helper()
	root := t.TempDir()
	m := newTestPack(t, "pl").write(t, root)
	dir := filepath.Join(root, "pl")
	if spoil != nil {
		spoil(t, dir, &m)
		writeManifest(t, dir, m)
	}
	return dir
}

// replaceClip records samples (at rate) as the clip of word.
func replaceClip(word string, rate int, samples []int16) func(*testing.T, string, *Manifest) {
	return func(t *testing.T, dir string, m *Manifest) {
		writeWAVFile(t, filepath.Join(dir, m.Clips[word]), PCM{Rate: rate, Samples: samples})
	}
}

func constant(n int, v int16) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestCheckPack(t *testing.T) {
	tone := func(n int) []int16 {
		s := make([]int16, n)
		for i := range s {
			s[i] = int16(8000 * ((i/10)%2*2 - 1))
		}
		return s
	}
	tests := []struct {
		name  string
		spoil func(*testing.T, string, *Manifest)
		want  []string // "word|kind|part of the detail"
	}{
		{"good pack", nil, nil},
		{"word without clip", func(t *testing.T, dir string, m *Manifest) { delete(m.Clips, "sto") },
			[]string{"sto|missing|no clip in the manifest"}},
		{"letter without clip says what to record", func(t *testing.T, dir string, m *Manifest) { delete(m.Clips, "W") },
			[]string{`W|missing|no clip in the manifest (say "wu")`}},
		{"clip file absent", func(t *testing.T, dir string, m *Manifest) { m.Clips["dwa"] = "nowhere.wav" },
			[]string{"dwa|bad-wav|open nowhere.wav: no such file"}},
		{"clip not a WAV", func(t *testing.T, dir string, m *Manifest) {
			if err := os.WriteFile(filepath.Join(dir, m.Clips["dwa"]), []byte("ID3 mp3 data"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"dwa|bad-wav|not a WAV file"}},
		{"wrong rate", replaceClip("dwa", 16000, tone(1600)), []string{"dwa|wrong-rate|16000 Hz, the manifest says 8000 Hz"}},
		{"stereo", func(t *testing.T, dir string, m *Manifest) {
			data := rawWAV(1, 2, testRate, 16, le(tone(800)))
			if err := os.WriteFile(filepath.Join(dir, m.Clips["dwa"]), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"dwa|channels|2 channels, want mono"}},
		{"clipped", replaceClip("dwa", testRate, constant(800, 32767)), []string{"dwa|clipped|800 samples in a row at full scale"}},
		{"silent", replaceClip("dwa", testRate, constant(800, 20)), []string{"dwa|silent|peak -64 dBFS"}},
		{"all zero", replaceClip("dwa", testRate, make([]int16, 800)), []string{"dwa|silent|every sample is zero"}},
		{"too long", replaceClip("dwa", testRate, tone(3*testRate)), []string{"dwa|too-long|3.00 s, a word takes at most 2.5 s"}},
		{"untrimmed", replaceClip("dwa", testRate, append(make([]int16, testRate/2), tone(800)...)),
			[]string{"dwa|untrimmed|0.50 s of silence before and 0.00 s after"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := brokenPack(t, tt.spoil)
			m, problems, err := CheckPack(os.DirFS(dir), ".")
			if err != nil {
				t.Fatal(err)
			}
			if m.Language != "pl" {
				t.Errorf("language %q", m.Language)
			}
			if len(problems) != len(tt.want) {
				t.Fatalf("problems: %v\nwant %d: %q", problems, len(tt.want), tt.want)
			}
			for i, p := range problems {
				want := strings.SplitN(tt.want[i], "|", 3)
				if p.Word != want[0] || string(p.Kind) != want[1] || !strings.Contains(p.Detail, want[2]) {
					t.Errorf("problem %d = %v, want word %q, kind %q, detail with %q", i, p, want[0], want[1], want[2])
				}
			}
		})
	}
}

func TestCheckPackBadManifest(t *testing.T) {
	dir := brokenPack(t, nil)
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(`{"language":"pl"`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := CheckPack(os.DirFS(dir), ".")
	if err == nil || !strings.Contains(err.Error(), "reading voice pack .: decoding manifest.json") {
		t.Fatalf("error = %v", err)
	}
}

// TestLoadBrokenPack checks that a pack with bad clips still loads, without
// them, and that each is logged with its word.
func TestLoadBrokenPack(t *testing.T) {
	dir := brokenPack(t, func(t *testing.T, dir string, m *Manifest) {
		delete(m.Clips, "sto")
		if err := os.WriteFile(filepath.Join(dir, m.Clips["dwa"]), []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	log, logs := newLogBuffer()
	v := NewVoices(DefaultRate, log)
	if err := v.Load(os.DirFS(filepath.Dir(dir))); err != nil {
		t.Fatal(err)
	}
	p, ok := v.Pack("pl")
	if !ok {
		t.Fatal("pack not loaded")
	}
	if _, ok := p.Clip("dwa"); ok {
		t.Error("unreadable clip loaded")
	}
	if _, ok := p.Clip("trzy"); !ok {
		t.Error("good clip not loaded")
	}
	for _, want := range []string{"word=sto file=\"\" problem=missing", "word=dwa", "problem=bad-wav", "not a WAV file"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	// A call needing the bad clip is still said, without it.
	a, err := v.Compose(Call{Lang: "pl", Ticket: "A102", Counter: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"numer", "A", "stanowisko", "numer"}; !reflect.DeepEqual(a.Words, want) {
		t.Errorf("said %q, want %q", a.Words, want)
	}
}

func TestLoadUnusablePacks(t *testing.T) {
	root := t.TempDir()
	newTestPack(t, "en").write(t, root)
	if err := os.MkdirAll(filepath.Join(root, "xx"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "xx", ManifestFile), []byte(`{"language":"xx","sample_rate":8000,"clips":{"a":"a.wav"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	log, logs := newLogBuffer()
	v := NewVoices(DefaultRate, log)
	err := v.Load(os.DirFS(root))
	if err == nil || !strings.Contains(err.Error(), `reading voice pack xx: manifest.json: language: unknown language "xx"`) {
		t.Fatalf("error = %v", err)
	}
	if got := v.Languages(); !reflect.DeepEqual(got, []string{"en"}) {
		t.Errorf("loaded %v, want the good pack still loaded", got)
	}
	if !strings.Contains(logs.String(), "voice pack not loaded") {
		t.Errorf("no log line for the unusable pack:\n%s", logs)
	}
	if err := NewVoices(0, log).Load(os.DirFS(t.TempDir())); err == nil || !strings.Contains(err.Error(), "no voice pack found") {
		t.Errorf("empty folder: error = %v", err)
	}
}
