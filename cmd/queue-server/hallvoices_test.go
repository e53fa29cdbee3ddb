package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numerek/numerek/audio/voicepacks"
)

// [server] hall_voices: the office's packs over the built-in ones, and a
// folder without a pack stops the server with its name.
func TestHallVoices(t *testing.T) {
	recorded := t.TempDir()
	// An office's "recording" of Ukrainian: the built-in clips under
	// another voice's name, so the loaded pack can be told from the
	// built-in one.
	err := fs.WalkDir(voicepacks.FS(), "uk", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(voicepacks.FS(), path)
		if err != nil {
			return err
		}
		if filepath.Base(path) == "manifest.json" {
			data = []byte(strings.Replace(string(data), `"voice": "espeak-ng`, `"voice": "office, after espeak-ng`, 1))
		}
		out := filepath.Join(recorded, path)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	builtIn, err := voicepacks.Load(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, folder string
		err          string
	}{
		{name: "none", folder: ""},
		{name: "recorded", folder: recorded},
		{name: "empty", folder: t.TempDir(), err: "hall_voices"},
		{name: "missing", folder: filepath.Join(recorded, "nowhere"), err: "nowhere"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := hallVoices(tc.folder, nil)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want one naming %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case tc.folder == "":
				if v != nil {
					t.Error("no folder should leave the built-in packs to the page")
				}
			default:
				if got, want := v.Languages(), builtIn.Languages(); strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("languages %v, want %v", got, want)
				}
				uk, _ := v.Pack("uk")
				if !strings.HasPrefix(uk.Manifest.Voice, "office") {
					t.Errorf("uk pack's voice %q: the office's pack was not loaded over the built-in one", uk.Manifest.Voice)
				}
			}
		})
	}
}
