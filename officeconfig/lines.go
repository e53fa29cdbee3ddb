package officeconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// lineIndex finds the line of a setting in a TOML file, so that errors found
// after decoding (which forgets positions) can still point at it. It knows
// tables and arrays of tables, which is all Numerek's config files use.
type lineIndex struct {
	byPath map[string]int
	// byKey finds a key by its dotted name without array indexes, for
	// toml's list of undecoded keys.
	byKey map[string]int
}

func indexLines(text string) lineIndex {
	idx := lineIndex{byPath: map[string]int{}, byKey: map[string]int{}}
	counts := map[string]int{}
	// arrays maps an array-of-tables name to its current indexed path.
	arrays := map[string]string{}
	table, plain := "", ""
	for i, raw := range strings.Split(text, "\n") {
		n := i + 1
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[["):
			name := tableName(line)
			parent, last := splitLast(name)
			base := name
			if parent != "" {
				base = arrays[parent] + "." + last
				if arrays[parent] == "" {
					base = name
				}
			}
			k := counts[base]
			counts[base]++
			table = fmt.Sprintf("%s[%d]", base, k)
			// A new parent element restarts the numbering of its children.
			for child := range counts {
				if strings.HasPrefix(child, table+".") {
					delete(counts, child)
				}
			}
			arrays[name] = table
			plain = name
			idx.set(table, name, n)
		case strings.HasPrefix(line, "["):
			name := tableName(line)
			parent, last := splitLast(name)
			if p, ok := arrays[parent]; ok {
				table = p + "." + last
			} else {
				table = name
			}
			plain = name
			idx.set(table, name, n)
		default:
			key, _, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			key = strings.Trim(strings.TrimSpace(key), `"`)
			p, k := key, key
			if table != "" {
				p, k = table+"."+key, plain+"."+key
			}
			idx.set(p, k, n)
		}
	}
	return idx
}

func (idx lineIndex) set(path, key string, n int) {
	if _, ok := idx.byPath[path]; !ok {
		idx.byPath[path] = n
	}
	if _, ok := idx.byKey[key]; !ok {
		idx.byKey[key] = n
	}
}

// tableName is the name in a table header line, "[a.b]  # note" -> "a.b".
func tableName(header string) string {
	header, _, _ = strings.Cut(header, "#")
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(header), "[] \t"))
}

func splitLast(name string) (string, string) {
	i := strings.LastIndex(name, ".")
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

// line returns the line of path, or of the nearest enclosing setting.
func (idx lineIndex) line(path string) int {
	for p := path; p != ""; {
		if n, ok := idx.byPath[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func (idx lineIndex) keyLine(k toml.Key) int {
	return idx.byKey[strings.Join(k, ".")]
}

// Lines finds where settings stand in a TOML file, for errors found after
// decoding: by path with array indexes ("office[0].service[2].prefix") or
// by dotted key without them ("sound.volume.from"), else the nearest
// enclosing setting's line, else 0.
type Lines struct{ idx lineIndex }

// IndexLines indexes a TOML file's text.
func IndexLines(text string) Lines { return Lines{indexLines(text)} }

// Line is the line of setting.
func (l Lines) Line(setting string) int {
	if n, ok := l.idx.byPath[setting]; ok {
		return n
	}
	if n, ok := l.idx.byKey[setting]; ok {
		return n
	}
	if n := l.idx.line(setting); n > 0 {
		return n
	}
	for k := setting; k != ""; {
		if n, ok := l.idx.byKey[k]; ok {
			return n
		}
		i := strings.LastIndex(k, ".")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

var lineInMessage = regexp.MustCompile(`^line (\d+)(?: \(last key "([^"]*)"\))?:?\s*`)

// DecodeProblem reads an error of toml.Decode: the line it names, the last
// key read when it says one, and what is wrong.
func DecodeProblem(err error) (line int, key, msg string) {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return pe.Position.Line, pe.LastKey, pe.Message
	}
	// Type mismatches come as plain errors that name the line in text.
	msg = strings.TrimPrefix(err.Error(), "toml: ")
	if m := lineInMessage.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		key = m[2]
		msg = strings.TrimSpace(lineInMessage.ReplaceAllString(msg, ""))
	}
	return line, key, msg
}
