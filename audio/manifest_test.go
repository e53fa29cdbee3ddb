package audio

import (
	"io/fs"
	"strings"
	"testing"
)

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string // "" for valid
	}{
		{"valid", `{"language":"pl","sample_rate":16000,"clips":{"numer":"numer.wav","A":"litery/a.WAV"}}`, ""},
		{"not JSON", `language = "pl"`, "decoding manifest.json"},
		{"unknown field", `{"language":"pl","sample_rate":16000,"clips":{"numer":"n.wav"},"rate":1}`, `unknown field "rate"`},
		{"trailing", `{"language":"pl","sample_rate":16000,"clips":{"numer":"n.wav"}} {}`, "trailing data"},
		{"unknown language", `{"language":"de","sample_rate":16000,"clips":{"nummer":"n.wav"}}`, `unknown language "de"`},
		{"no rate", `{"language":"pl","clips":{"numer":"n.wav"}}`, "sample_rate 0 is outside"},
		{"no clips", `{"language":"pl","sample_rate":16000,"clips":{}}`, "no clips"},
		{"escaping path", `{"language":"pl","sample_rate":16000,"clips":{"numer":"../numer.wav"}}`, `clip "../numer.wav" for word "numer" is not a plain relative path`},
		{"absolute path", `{"language":"pl","sample_rate":16000,"clips":{"numer":"/etc/passwd.wav"}}`, "not a plain relative path"},
		{"not wav", `{"language":"pl","sample_rate":16000,"clips":{"numer":"numer.mp3"}}`, "is not a .wav file"},
		{"blank word", `{"language":"pl","sample_rate":16000,"clips":{" ":"x.wav"}}`, "must be non-empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tt.json))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.Language != "pl" || m.SampleRate != 16000 || m.Clips["A"] != "litery/a.WAV" {
					t.Errorf("parsed %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestManifestRoundTrip(t *testing.T) {
	m := Manifest{Language: "uk", SampleRate: 22050, Voice: "test", Clips: map[string]string{"п'ять": "pyat.wav", "A": "letter-a.wav"}}
	data, err := MarshalManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseManifest(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.Language != m.Language || back.SampleRate != m.SampleRate || back.Voice != m.Voice || len(back.Clips) != 2 || back.Clips["п'ять"] != "pyat.wav" {
		t.Errorf("round trip gave %+v", back)
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"language":"pl","sample_rate":16000,"clips":{"numer":"numer.wav"}}`))
	f.Add([]byte(`{"language":"ru","sample_rate":8000,"clips":{"номер":"a/b.wav"},"voice":"x"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		if _, err := lookupLanguage(m.Language); err != nil {
			t.Fatalf("accepted language %q", m.Language)
		}
		for w, file := range m.Clips {
			if !fs.ValidPath(file) || file == "." {
				t.Fatalf("accepted clip path %q for %q, which leaves the pack", file, w)
			}
		}
	})
}
