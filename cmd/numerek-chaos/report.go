package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// A figure is one row of the table: something a resident, a clerk or the
// office would notice, counted over the run.
type figure struct {
	key  string
	what string
	// limit is the most the figure may be; below, when set, says it must
	// stay under limit rather than reach it.
	limit float64
	below bool
	unit  string
}

// figures are the rows, in the order the table shows them.
var figures = []figure{
	{key: "lost", what: "acknowledged tickets lost"},
	{key: "duplicated", what: "tickets duplicated (one request, two tickets)"},
	{key: "repeated", what: "numbers repeated (same number twice in a day)"},
	{key: "phantom", what: "phantom tickets (on the server, never printed)"},
	{key: "retry", what: "retried requests stored but answered with no ticket"},
	{key: "calls-lost", what: "acknowledged calls lost"},
	{key: "stream", what: "events a subscriber missed, repeated or never got"},
	{key: "unsaid", what: "calls unsaid"},
	{key: "said-twice", what: "calls said twice"},
	{key: "stale", what: "seconds a screen showed stale state without saying so", limit: 10, below: true, unit: "s"},
}

func figureKeys() []string {
	keys := make([]string, len(figures))
	for i, f := range figures {
		keys[i] = f.key
	}
	return keys
}

// report gathers the figures of every part of the run; parts add to it
// from their goroutines.
type report struct {
	mu      sync.Mutex
	values  map[string]float64
	seen    map[string]bool
	details map[string][]string
	notes   []string
}

func newReport() *report {
	return &report{values: map[string]float64{}, seen: map[string]bool{}, details: map[string][]string{}}
}

// add counts n more of key; detail says where (a few are kept).
func (r *report) add(key string, n float64, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.values[key] += n
	r.seen[key] = true
	if detail != "" && n > 0 && len(r.details[key]) < 5 {
		r.details[key] = append(r.details[key], detail)
	}
}

// worst keeps the largest value of key seen (for durations).
func (r *report) worst(key string, v float64, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[key] || v > r.values[key] {
		r.values[key] = v
		if detail != "" {
			r.details[key] = []string{detail}
		}
	}
	r.seen[key] = true
}

// measured marks key as measured, with nothing found so far.
func (r *report) measured(keys ...string) {
	for _, k := range keys {
		r.add(k, 0, "")
	}
}

func (r *report) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// over says whether f's value breaks its limit.
func (r *report) over(f figure) bool {
	v := r.values[f.key]
	if f.below {
		return v >= f.limit
	}
	return v > f.limit
}

// print writes the table and returns the figures over their limits that
// were not expected to be, and those expected to fail that held.
func (r *report) print(w io.Writer, expectFail map[string]bool) (failed, heldAnyway []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(w)
	for _, n := range r.notes {
		fmt.Fprintln(w, n)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-56s %8s %8s  %s\n", "what", "figure", "limit", "verdict")
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", 90))
	for _, f := range figures {
		if !r.seen[f.key] {
			fmt.Fprintf(w, "%-56s %8s %8s  %s\n", f.what, "-", limitText(f), "not measured")
			continue
		}
		v := fmt.Sprintf("%g%s", r.values[f.key], f.unit)
		if f.unit == "s" {
			v = fmt.Sprintf("%.1fs", r.values[f.key])
		}
		verdict := "ok"
		switch over := r.over(f); {
		case over && expectFail[f.key]:
			verdict = "FAILS (expected: --expect-fail " + f.key + ")"
		case over:
			verdict = "FAILS"
			failed = append(failed, f.key)
		case expectFail[f.key]:
			verdict = "ok (expected to fail: take " + f.key + " off --expect-fail)"
			heldAnyway = append(heldAnyway, f.key)
		}
		fmt.Fprintf(w, "%-56s %8s %8s  %s\n", f.what, v, limitText(f), verdict)
	}
	var keys []string
	for k := range r.details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if r.values[k] == 0 && k != "stale" {
			continue
		}
		for _, d := range r.details[k] {
			fmt.Fprintf(w, "  %s: %s\n", k, d)
		}
	}
	return failed, heldAnyway
}

func limitText(f figure) string {
	if f.below {
		return fmt.Sprintf("<%g%s", f.limit, f.unit)
	}
	return fmt.Sprintf("%g", f.limit)
}

// printSideBySide writes every store's figures in one table, a column a
// store, each figure marked where it is over its limit.
func printSideBySide(w io.Writer, stores []string, reports map[string]*report, expectFail map[string]map[string]bool) {
	fmt.Fprintf(w, "\nall stores:\n%-56s", "what")
	for _, st := range stores {
		fmt.Fprintf(w, " %10s", st)
	}
	fmt.Fprintf(w, " %8s\n%s\n", "limit", strings.Repeat("-", 56+11*len(stores)+9))
	for _, f := range figures {
		fmt.Fprintf(w, "%-56s", f.what)
		for _, st := range stores {
			fmt.Fprintf(w, " %10s", reports[st].cell(f, expectFail[st][f.key]))
		}
		fmt.Fprintf(w, " %8s\n", limitText(f))
	}
}

// cell is f's value for the side-by-side table: "-" when not measured,
// marked ! when over its limit (? when that was expected).
func (r *report) cell(f figure, expected bool) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen[f.key] {
		return "-"
	}
	v := fmt.Sprintf("%g%s", r.values[f.key], f.unit)
	if f.unit == "s" {
		v = fmt.Sprintf("%.1fs", r.values[f.key])
	}
	switch {
	case r.over(f) && expected:
		v += "?"
	case r.over(f):
		v += "!"
	}
	return v
}
