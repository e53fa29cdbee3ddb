package audio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// ManifestFile is the name of a pack's manifest inside its folder.
const ManifestFile = "manifest.json"

// Manifest describes a voice pack: its language, the sample rate its clips
// are recorded at, and the clip file for each word.
type Manifest struct {
	Language   string `json:"language"`
	SampleRate int    `json:"sample_rate"`
	// Voice says where the clips come from ("espeak-ng 1.51 pl", "recorded
	// by ..."); informational.
	Voice string `json:"voice,omitempty"`
	// Clips maps a word (a vocabulary key such as "dwadzieścia" or "A") to
	// its WAV file, relative to the pack's folder.
	Clips map[string]string `json:"clips"`
}

// Words returns the manifest's words in sorted order.
func (m Manifest) Words() []string {
	out := make([]string, 0, len(m.Clips))
	for w := range m.Clips {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// ParseManifest decodes and checks a manifest: a known language, a sound
// sample rate, and clip paths that stay inside the pack's folder.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("decoding %s: %w", ManifestFile, err)
	}
	if dec.More() {
		return Manifest{}, fmt.Errorf("decoding %s: trailing data after the manifest object", ManifestFile)
	}
	if _, err := lookupLanguage(m.Language); err != nil {
		return Manifest{}, fmt.Errorf("%s: language: %w", ManifestFile, err)
	}
	if m.SampleRate < 8000 || m.SampleRate > 192000 {
		return Manifest{}, fmt.Errorf("%s: sample_rate %d is outside 8000-192000 Hz", ManifestFile, m.SampleRate)
	}
	if len(m.Clips) == 0 {
		return Manifest{}, fmt.Errorf("%s: no clips", ManifestFile)
	}
	for _, w := range m.Words() {
		file := m.Clips[w]
		switch {
		case strings.TrimSpace(w) == "" || strings.Join(strings.Fields(w), " ") != w:
			return Manifest{}, fmt.Errorf("%s: word %q must be non-empty without extra spaces", ManifestFile, w)
		case !fs.ValidPath(file) || file == ".":
			return Manifest{}, fmt.Errorf("%s: clip %q for word %q is not a plain relative path inside the pack", ManifestFile, file, w)
		case !strings.EqualFold(path.Ext(file), ".wav"):
			return Manifest{}, fmt.Errorf("%s: clip %q for word %q is not a .wav file", ManifestFile, file, w)
		}
	}
	return m, nil
}

// MarshalManifest encodes m the way the generator writes it: indented, keys
// sorted, so a regenerated pack diffs cleanly.
func MarshalManifest(m Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", ManifestFile, err)
	}
	return append(b, '\n'), nil
}

// readManifest reads and parses dir/manifest.json from fsys.
func readManifest(fsys fs.FS, dir string) (Manifest, error) {
	data, err := fs.ReadFile(fsys, path.Join(dir, ManifestFile))
	if err != nil {
		return Manifest{}, fmt.Errorf("reading voice pack %s: %w", dir, err)
	}
	m, err := ParseManifest(data)
	if err != nil {
		return Manifest{}, fmt.Errorf("reading voice pack %s: %w", dir, err)
	}
	return m, nil
}
