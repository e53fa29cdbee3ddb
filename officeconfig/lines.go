package officeconfig

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// lineIndex finds the line of a setting in a TOML file, so that errors found
// after decoding (which forgets positions) can still point at it. It knows
// tables and arrays of tables, which is all the config format uses.
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
			name := strings.TrimSpace(strings.Trim(line, "[] \t"))
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
			name := strings.TrimSpace(strings.Trim(line, "[] \t"))
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
