// Command benchtable reads `go test -bench` output on stdin and prints the
// figures as a table, each beside its target from targets.txt where one is
// set, so `make bench` ends with one readable summary.
package main

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

//go:embed targets.txt
var targetsText string

// target is a bound on one benchmark's metric: "BenchmarkX unit < 2".
type target struct {
	op    string
	value float64
	note  string
}

// row is one metric of one benchmark.
type row struct {
	pkg, bench, unit string
	value            float64
}

func main() {
	targets, err := parseTargets(targetsText)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	rows, failed, err := parseBench(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(2)
	}
	missed := printTable(os.Stdout, rows, targets)
	if failed {
		fmt.Println("\nSome benchmark packages FAILED: see the output above.")
		os.Exit(1)
	}
	if missed > 0 {
		fmt.Printf("\n%d figure(s) miss their target.\n", missed)
	}
}

func parseTargets(text string) (map[string]target, error) {
	out := map[string]target{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		note := ""
		if j := strings.Index(line, "#"); j >= 0 {
			note = strings.TrimSpace(line[j+1:])
			line = strings.TrimSpace(line[:j])
		}
		f := strings.Fields(line)
		if len(f) != 4 || (f[2] != "<" && f[2] != ">") {
			return nil, fmt.Errorf("targets.txt line %d: want \"BenchmarkName unit < value\", got %q", i+1, line)
		}
		v, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return nil, fmt.Errorf("targets.txt line %d: %v", i+1, err)
		}
		out[f[0]+" "+f[1]] = target{op: f[2], value: v, note: note}
	}
	return out, nil
}

// parseBench collects benchmark lines and echoes nothing else; it reports
// whether any package failed.
func parseBench(r io.Reader, _ io.Writer) ([]row, bool, error) {
	var rows []row
	failed := false
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimPrefix(line, "pkg: ")
		case strings.HasPrefix(line, "FAIL"), strings.HasPrefix(line, "--- FAIL"), strings.HasPrefix(line, "panic:"):
			failed = true
		case strings.HasPrefix(line, "Benchmark"):
			f := strings.Fields(line)
			if len(f) < 4 {
				continue
			}
			name := f[0]
			if i := strings.LastIndex(name, "-"); i > 0 {
				if _, err := strconv.Atoi(name[i+1:]); err == nil {
					name = name[:i]
				}
			}
			for i := 2; i+1 < len(f); i += 2 {
				v, err := strconv.ParseFloat(f[i], 64)
				if err != nil {
					break
				}
				rows = append(rows, row{pkg: shortPkg(pkg), bench: name, unit: f[i+1], value: v})
			}
		}
	}
	return rows, failed, sc.Err()
}

func shortPkg(p string) string {
	return strings.TrimPrefix(p, "github.com/numerek/numerek/")
}

func printTable(w io.Writer, rows []row, targets map[string]target) int {
	missed := 0
	fmt.Fprintf(w, "\n%-12s %-46s %14s %-10s %-16s %s\n", "package", "benchmark", "value", "unit", "target", "")
	fmt.Fprintln(w, strings.Repeat("-", 110))
	for _, r := range rows {
		t, ok := targets[r.bench+" "+r.unit]
		tcol, verdict := "", ""
		if ok {
			tcol = fmt.Sprintf("%s %s", t.op, strconv.FormatFloat(t.value, 'g', -1, 64))
			if (t.op == "<" && r.value < t.value) || (t.op == ">" && r.value > t.value) {
				verdict = "ok"
			} else {
				verdict = "MISSED"
				missed++
			}
			if t.note != "" {
				verdict += "  (" + t.note + ")"
			}
		}
		fmt.Fprintf(w, "%-12s %-46s %14s %-10s %-16s %s\n", r.pkg, strings.TrimPrefix(r.bench, "Benchmark"), format(r.value), r.unit, tcol, verdict)
	}
	return missed
}

func format(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e12:
		return strconv.FormatInt(int64(v), 10)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}
