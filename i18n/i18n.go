package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// Languages are the languages Numerek speaks, Polish first.
var Languages = []string{"pl", "en", "lt", "ru", "uk"}

// Default is the language used when none is chosen or the chosen one is unknown.
const Default = "pl"

// NativeName is each language named in itself, as language buttons show it.
func NativeName(lang string) string {
	switch lang {
	case "pl":
		return "Polski"
	case "en":
		return "English"
	case "lt":
		return "Lietuvių"
	case "ru":
		return "Русский"
	case "uk":
		return "Українська"
	}
	return lang
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Normalize returns lang if supported, else the first supported language tag
// found in an Accept-Language style list, else Default.
func Normalize(lang string) string {
	for _, part := range strings.Split(lang, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if i := strings.IndexAny(tag, "-_"); i > 0 {
			tag = tag[:i]
		}
		if Supported(tag) {
			return tag
		}
	}
	return Default
}

//go:embed messages
var messagesFS embed.FS

// message is one catalog entry: a plain text, or plural forms.
type message struct {
	text  string
	forms map[PluralForm]string
}

// Catalog maps language -> message id -> message. It is immutable once built.
type Catalog struct {
	msgs map[string]map[string]message
}

var loadDefault = sync.OnceValues(func() (*Catalog, error) {
	sub, err := fs.Sub(messagesFS, "messages")
	if err != nil {
		return nil, err
	}
	return Load(sub)
})

// Messages returns the catalogs built into the binary. It panics only if the
// embedded files are broken, which TestCatalogsComplete prevents.
func Messages() *Catalog {
	c, err := loadDefault()
	if err != nil {
		panic(fmt.Sprintf("i18n: embedded catalogs: %v", err))
	}
	return c
}

// Load reads catalogs from a tree laid out as <lang>/<area>.toml.
func Load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]message{}}
	for _, lang := range Languages {
		files, err := fs.Glob(fsys, lang+"/*.toml")
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		c.msgs[lang] = map[string]message{}
		for _, f := range files {
			if err := c.loadFile(fsys, lang, f); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func (c *Catalog) loadFile(fsys fs.FS, lang, file string) error {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return fmt.Errorf("reading catalog %s: %w", file, err)
	}
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return fmt.Errorf("catalog %s: %w", path.Clean(file), err)
	}
	for id, v := range raw {
		if _, dup := c.msgs[lang][id]; dup {
			return fmt.Errorf("catalog %s: message %q defined twice for %s", file, id, lang)
		}
		switch val := v.(type) {
		case string:
			c.msgs[lang][id] = message{text: val}
		case map[string]any:
			m := message{forms: map[PluralForm]string{}}
			for form, s := range val {
				str, ok := s.(string)
				if !ok || !validForm(PluralForm(form)) {
					return fmt.Errorf("catalog %s: message %q: plural form %q must be one of one, few, many, other with a text", file, id, form)
				}
				m.forms[PluralForm(form)] = str
			}
			c.msgs[lang][id] = m
		default:
			return fmt.Errorf("catalog %s: message %q must be a text or a table of plural forms", file, id)
		}
	}
	return nil
}

// T returns message id in lang with {name} placeholders filled from kv, given
// as name, value pairs. A message missing in lang falls back to English, then
// to the id itself, so a gap shows as a readable key rather than nothing.
func (c *Catalog) T(lang, id string, kv ...any) string {
	m, ok := c.lookup(lang, id)
	if !ok {
		return id
	}
	text := m.text
	if m.forms != nil {
		text = m.forms[FormOther]
	}
	return fill(text, kv)
}

// N returns the plural form of message id that fits n in lang; {n} is filled
// with n and other placeholders from kv.
func (c *Catalog) N(lang, id string, n int, kv ...any) string {
	m, ok := c.lookup(lang, id)
	if !ok {
		return id
	}
	text := m.text
	if m.forms != nil {
		form := Plural(lang, n)
		t, ok := m.forms[form]
		if !ok {
			t = m.forms[FormOther]
		}
		text = t
	}
	return fill(text, append([]any{"n", n}, kv...))
}

// Has reports whether lang has its own text for id (no fallback).
func (c *Catalog) Has(lang, id string) bool {
	_, ok := c.msgs[lang][id]
	return ok
}

// IDs lists the message ids of lang, sorted.
func (c *Catalog) IDs(lang string) []string {
	ids := make([]string, 0, len(c.msgs[lang]))
	for id := range c.msgs[lang] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (c *Catalog) lookup(lang, id string) (message, bool) {
	if m, ok := c.msgs[lang][id]; ok {
		return m, true
	}
	m, ok := c.msgs["en"][id]
	return m, ok
}

func fill(text string, kv []any) string {
	if len(kv) == 0 || !strings.Contains(text, "{") {
		return text
	}
	pairs := make([]string, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(kv[i])+"}", fmt.Sprint(kv[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(text)
}
