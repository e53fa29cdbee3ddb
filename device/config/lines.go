package config

import "strings"

// lineIndex finds the line of a setting, so that problems found after
// decoding (which forgets positions) still point at it. The format has
// tables ([server]), arrays of tables ([[sound.volume]]) and keys.
type lineIndex map[string]int

func indexLines(text string) lineIndex {
	idx := lineIndex{}
	table := ""
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "["):
			name, _, _ := strings.Cut(line, "#")
			table = strings.TrimSpace(strings.Trim(strings.TrimSpace(name), "[]"))
			idx.set(table, i+1)
		default:
			key, _, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			key = strings.Trim(strings.TrimSpace(key), `"`)
			if table != "" {
				key = table + "." + key
			}
			idx.set(key, i+1)
		}
	}
	return idx
}

func (idx lineIndex) set(key string, n int) {
	if _, ok := idx[key]; !ok {
		idx[key] = n
	}
}

// line is the line of setting, else of the table it is in, else 0.
func (idx lineIndex) line(setting string) int {
	for s := setting; s != ""; {
		if n, ok := idx[s]; ok {
			return n
		}
		i := strings.LastIndex(s, ".")
		if i < 0 {
			break
		}
		s = s[:i]
	}
	return 0
}
