package main

import (
	"testing"

	"github.com/numerek/numerek/audio"
)

func TestClipFileName(t *testing.T) {
	used := map[string]bool{}
	tests := []struct {
		key, want string
	}{
		{"A", "letter-a.wav"},
		{"dwadzieścia", "dwadziescia.wav"},
		{"pięćdziesiąt", "piecdziesiat.wav"},
		{"pokój", "pokoj.wav"},
		{"šimtai", "simtai.wav"},
		{"dviguba vė", "dviguba-ve.wav"},
		{"двести", "dvesti.wav"},
		{"п'ятнадцять", "pyatnadtsyat.wav"},
		{"їжак", "yizhak.wav"},
		{"йот", "yot.wav"},
		{"нуль", "nul-word.wav"}, // NUL is a Windows device name
		{"twenty-three", "twenty-three.wav"},
		{"szesnaście", "szesnascie.wav"},
		{"sześćset", "szescset.wav"},
		{"sześć", "szesc.wav"},
		{"szesc", "szesc-2.wav"}, // a second word folding to the same name
	}
	for _, tt := range tests {
		if got := clipFileName(audio.Word{Key: tt.key, Say: tt.key}, used); got != tt.want {
			t.Errorf("clipFileName(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}
