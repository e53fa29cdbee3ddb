// Package voicepacks holds the default voice packs built into every binary
// that imports it: pl, en, lt, ru and uk, generated from espeak-ng by
// scripts/gen-voicepacks.sh. Each folder is one pack: WAV clips (16 kHz mono
// 16-bit) and a manifest.json mapping words to clips. An office replaces a
// pack with recorded clips under the same words (check them with kioskctl
// voice-check) and loads it over these with audio.Voices.Load.
package voicepacks

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/numerek/numerek/audio"
)

//go:embed pl en lt ru uk
var packs embed.FS

// FS returns the packs, one folder per language.
func FS() fs.FS { return packs }

// Load returns the built-in packs loaded at output rate rate (0:
// audio.DefaultRate), logging to log (nil: slog.Default()).
func Load(rate int, log *slog.Logger) (*audio.Voices, error) {
	v := audio.NewVoices(rate, log)
	if err := v.Load(packs); err != nil {
		return nil, fmt.Errorf("loading built-in voice packs: %w", err)
	}
	return v, nil
}
