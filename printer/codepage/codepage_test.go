package codepage

import (
	"flag"
	"testing"
)

var _ = flag.Bool("update", false, "accepted so `go test ./printer/... -update` runs here too")

// Text in each language goes through the code pages that carry it and
// decodes back to the same letters; pages that lack a letter refuse the
// whole text instead of printing a wrong one.
func TestRoundTrip(t *testing.T) {
	const (
		pl = "Zażółć gęślą jaźń ŻÓŁĆ GĘŚLĄ JAŹŃ"
		lt = "Ąžuolas čiulba šešėlyje, ĖĮŲŪ ėįųū"
		ru = "Съешь же ещё этих мягких французских булок, Ёё"
		uk = "Ґанок, їжак, єнот, Іван: ҐЇЄІ ґїєі"
		en = "The quick brown fox jumps over the lazy dog #$@[]{}~"
	)
	tests := []struct {
		page string
		ok   []string
		bad  []string
	}{
		{"CP852", []string{pl, en}, []string{lt, ru, uk}},
		{"CP1250", []string{pl, en}, []string{lt, ru, uk}},
		{"ISO_8859-2", []string{pl, en}, []string{lt, ru}},
		{"CP1257", []string{lt, pl, en}, []string{ru, uk}},
		{"CP775", []string{lt, pl, en}, []string{ru, uk}},
		{"CP866", []string{ru, en}, []string{uk, pl, lt}},
		{"CP1251", []string{ru, uk, en}, []string{pl, lt}},
		{"CP1125", []string{ru, uk, en}, []string{pl, lt}},
		{"CP437", []string{en}, []string{pl, lt, ru, uk}},
	}
	for _, tt := range tests {
		p, ok := Lookup(tt.page)
		if !ok {
			t.Errorf("page %s unknown", tt.page)
			continue
		}
		for _, s := range tt.ok {
			b, ok := p.Encode(nil, s)
			if !ok {
				t.Errorf("%s cannot encode %q", tt.page, s)
				continue
			}
			if got := p.DecodeBytes(b); got != s {
				t.Errorf("%s: %q decodes back as %q", tt.page, s, got)
			}
		}
		for _, s := range tt.bad {
			if b, ok := p.Encode([]byte("x"), s); ok || string(b) != "x" {
				t.Errorf("%s claims to encode %q (as % x)", tt.page, s, b)
			}
		}
	}
}

// Known bytes from the published tables, so the tables cannot be wrong in
// the same way as the code that reads them.
func TestKnownBytes(t *testing.T) {
	tests := []struct {
		page string
		r    rune
		b    byte
	}{
		{"CP852", 'ą', 0xA5}, {"CP852", 'ł', 0x88}, {"CP852", 'Ż', 0xBD},
		{"CP1250", 'ą', 0xB9}, {"CP1250", 'ś', 0x9C},
		{"CP1257", 'ė', 0xEB}, {"CP1257", 'ų', 0xF8},
		{"CP775", 'ė', 0xD3}, {"CP775", 'Ū', 0xC7},
		{"CP866", 'Ж', 0x86}, {"CP866", 'ё', 0xF1},
		{"CP1251", 'і', 0xB3}, {"CP1251", 'ґ', 0xB4},
		{"CP1125", 'ї', 0xF9}, {"CP1125", 'Ґ', 0xF2},
	}
	for _, tt := range tests {
		p, _ := Lookup(tt.page)
		if b, ok := p.EncodeRune(tt.r); !ok || b != tt.b {
			t.Errorf("%s: %q -> %#02x %v, want %#02x", tt.page, tt.r, b, ok, tt.b)
		}
	}
}

// Control characters never pass as text: they would be printer commands.
func TestNoControlBytes(t *testing.T) {
	for _, name := range Names() {
		p, _ := Lookup(name)
		for _, r := range []rune{0, 0x0A, 0x1B, 0x1D, 0x10, 0x7F, 0x9B} {
			if b, ok := p.EncodeRune(r); ok {
				t.Errorf("%s encodes control %U as %#02x", name, r, b)
			}
		}
		for b := 0; b < 0x20; b++ {
			if r := p.Decode(byte(b)); r != 0 {
				t.Errorf("%s decodes control byte %#02x as %q", name, b, r)
			}
		}
	}
}
