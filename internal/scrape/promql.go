package scrape

import (
	"fmt"
	"strings"
)

// promqlWords are PromQL's keywords and aggregation modifiers, which read
// like names but are none.
var promqlWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "inf": true, "nan": true,
}

// MetricNames lists the metric names a PromQL expression selects, as
// written (a histogram's name with its _bucket), in order of appearance:
// the names outside label matchers ({...}), ranges ([...]), strings and
// the label lists of by/without/on/ignoring, not followed by "(" (a
// function or an aggregation). It reads the dashboards' queries, so it
// knows PromQL's lexical shape only, and fails on unbalanced brackets or
// an unterminated string.
func MetricNames(expr string) ([]string, error) {
	var names []string
	var closers []byte
	labelList := false // the next "(" opens by/without/on/ignoring's labels
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(expr, i)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '{' || c == '[':
			close := byte('}')
			if c == '[' {
				close = ']'
			}
			end, err := skipTo(expr, i+1, close)
			if err != nil {
				return nil, fmt.Errorf("%q: %c at %d is not closed", expr, c, i)
			}
			i = end
		case c == '(':
			if labelList {
				end, err := skipTo(expr, i+1, ')')
				if err != nil {
					return nil, fmt.Errorf("%q: ( at %d is not closed", expr, i)
				}
				i, labelList = end, false
				continue
			}
			closers = append(closers, ')')
			i++
		case c == ')':
			if len(closers) == 0 {
				return nil, fmt.Errorf("%q: ) at %d closes nothing", expr, i)
			}
			closers = closers[:len(closers)-1]
			i++
		case isNameStart(c):
			j := i
			for j < len(expr) && isNameChar(expr[j]) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && expr[k] == ' ' {
				k++
			}
			lower := strings.ToLower(word)
			switch {
			case lower == "by" || lower == "without" || lower == "on" || lower == "ignoring" || lower == "group_left" || lower == "group_right":
				labelList = true
			case promqlWords[lower]:
			case k < len(expr) && expr[k] == '(', aggregationClause(expr[k:]):
				// a function or an aggregation
			default:
				names = append(names, word)
			}
			i = j
		case c >= '0' && c <= '9':
			// a number (or a duration after offset): its letters are no name
			j := i
			for j < len(expr) && (isNameChar(expr[j]) || expr[j] == '.') {
				j++
			}
			i = j
		default:
			i++
		}
	}
	if len(closers) > 0 {
		return nil, fmt.Errorf("%q: %d parentheses are not closed", expr, len(closers))
	}
	return names, nil
}

// skipString returns where the string opened at i ends (after its quote).
func skipString(expr string, i int) (int, error) {
	q := expr[i]
	for j := i + 1; j < len(expr); j++ {
		switch expr[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			return j + 1, nil
		}
	}
	return 0, fmt.Errorf("%q: a string opened at %d is not closed", expr, i)
}

// skipTo returns where close ends the block begun before i, past the
// strings in it.
func skipTo(expr string, i int, close byte) (int, error) {
	for i < len(expr) {
		switch c := expr[i]; {
		case c == close:
			return i + 1, nil
		case c == '"' || c == '\'' || c == '`':
			end, err := skipString(expr, i)
			if err != nil {
				return 0, err
			}
			i = end
		default:
			i++
		}
	}
	return 0, fmt.Errorf("%q: %c missing", expr, close)
}

// aggregationClause reports whether rest (after a word) starts with "by"
// or "without" and its label list: the word was an aggregation.
func aggregationClause(rest string) bool {
	lower := strings.ToLower(rest)
	for _, w := range []string{"by", "without"} {
		if after, ok := strings.CutPrefix(lower, w); ok && strings.HasPrefix(strings.TrimLeft(after, " "), "(") {
			return true
		}
	}
	return false
}

func isNameStart(c byte) bool {
	return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isNameChar(c byte) bool { return isNameStart(c) || (c >= '0' && c <= '9') }

// Exports reports whether the page exports the series name selects: a
// family of that name, or a histogram's or summary's _bucket, _sum or
// _count.
func (p *Page) Exports(name string) bool {
	if p.Families[name] != nil {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f := p.Families[base]; f != nil && (f.GetType().String() == "HISTOGRAM" || (suffix != "_bucket" && f.GetType().String() == "SUMMARY")) {
				return true
			}
		}
	}
	return false
}
