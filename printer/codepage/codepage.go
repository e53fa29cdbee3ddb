// Package codepage holds the single-byte character sets that ESC/POS
// printers switch between with ESC t, and answers the question the encoder
// must get right: can this text be sent to the printer in this code page
// without a single letter coming out wrong?
//
// Pages are named as in the escpos-printer-db capability data ("CP852",
// "CP1257", "ISO_8859-2"), so a printer profile's ESC t table maps straight
// onto them. Tables come from golang.org/x/text/encoding/charmap, plus IBM
// 775 and 1125, which charmap lacks.
package codepage

import (
	"sort"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Page is one single-byte character set. Only printable characters are
// mapped: bytes below 0x20, 0x7F and bytes a page leaves undefined decode to
// 0 and no rune encodes to them, so encoded text can never carry a control
// code into the printer's command stream.
type Page struct {
	name   string
	decode [256]rune
	encode map[rune]byte
}

// Name is the page's name as the capability data writes it ("CP852").
func (p *Page) Name() string { return p.name }

// Decode returns the character byte b prints in this page, or 0 when b is a
// control code or undefined here.
func (p *Page) Decode(b byte) rune { return p.decode[b] }

// EncodeRune returns the byte that prints r in this page.
func (p *Page) EncodeRune(r rune) (byte, bool) {
	if r >= 0x20 && r < 0x7F {
		return byte(r), true
	}
	b, ok := p.encode[r]
	return b, ok
}

// Covers reports whether every character of s has a byte in this page.
func (p *Page) Covers(s string) bool {
	for _, r := range s {
		if _, ok := p.EncodeRune(r); !ok {
			return false
		}
	}
	return true
}

// Encode appends s in this page to dst. It reports false, and returns dst
// unchanged, if any character of s (or invalid UTF-8) has no byte here.
func (p *Page) Encode(dst []byte, s string) ([]byte, bool) {
	n := len(dst)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return dst[:n], false
		}
		b, ok := p.EncodeRune(r)
		if !ok {
			return dst[:n], false
		}
		dst = append(dst, b)
		i += size
	}
	return dst, true
}

// DecodeBytes returns the text bytes b print as in this page; bytes with no
// character come out as U+FFFD.
func (p *Page) DecodeBytes(b []byte) string {
	out := make([]rune, 0, len(b))
	for _, c := range b {
		r := p.decode[c]
		if r == 0 {
			r = utf8.RuneError
		}
		out = append(out, r)
	}
	return string(out)
}

// Lookup returns the page of that name, if this package knows it.
func Lookup(name string) (*Page, bool) {
	p, ok := pages()[name]
	return p, ok
}

// Names lists the pages this package knows, sorted.
func Names() []string {
	all := pages()
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// pages is built once and never changed afterwards.
var pages = sync.OnceValue(func() map[string]*Page {
	m := map[string]*Page{}
	for name, cm := range charmaps {
		m[name] = newPage(name, cm.DecodeByte)
	}
	m["CP775"] = newPage("CP775", highTable(&cp775High))
	m["CP1125"] = newPage("CP1125", highTable(&cp1125High))
	return m
})

var charmaps = map[string]*charmap.Charmap{
	"CP437": charmap.CodePage437, "CP850": charmap.CodePage850, "CP852": charmap.CodePage852,
	"CP855": charmap.CodePage855, "CP858": charmap.CodePage858, "CP860": charmap.CodePage860,
	"CP862": charmap.CodePage862, "CP863": charmap.CodePage863, "CP865": charmap.CodePage865,
	"CP866":  charmap.CodePage866,
	"CP1250": charmap.Windows1250, "CP1251": charmap.Windows1251, "CP1252": charmap.Windows1252,
	"CP1253": charmap.Windows1253, "CP1254": charmap.Windows1254, "CP1255": charmap.Windows1255,
	"CP1256": charmap.Windows1256, "CP1257": charmap.Windows1257, "CP1258": charmap.Windows1258,
	"ISO_8859-1": charmap.ISO8859_1, "ISO_8859-2": charmap.ISO8859_2, "ISO_8859-3": charmap.ISO8859_3,
	"ISO_8859-4": charmap.ISO8859_4, "ISO_8859-5": charmap.ISO8859_5, "ISO_8859-7": charmap.ISO8859_7,
	"ISO_8859-9": charmap.ISO8859_9, "ISO_8859-15": charmap.ISO8859_15,
}

func highTable(t *[128]rune) func(byte) rune {
	return func(b byte) rune {
		if b < 0x80 {
			return rune(b)
		}
		return t[b-0x80]
	}
}

func newPage(name string, decode func(byte) rune) *Page {
	p := &Page{name: name, encode: map[rune]byte{}}
	for i := 0x20; i < 0x100; i++ {
		if i == 0x7F {
			continue
		}
		r := decode(byte(i))
		// Undefined bytes decode to U+FFFD; C1 controls in ISO pages are
		// not characters either.
		if r == utf8.RuneError || r < 0x20 || (r >= 0x7F && r < 0xA0) {
			continue
		}
		p.decode[i] = r
		if _, dup := p.encode[r]; !dup {
			p.encode[r] = byte(i)
		}
	}
	return p
}
