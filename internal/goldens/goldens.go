// Package goldens keeps the record of which golden images a person has
// looked at. A test run with -update writes new golden PNGs; nothing marks
// them accepted but a person who has seen them: the review command lists
// the images not yet looked at and, with --accept, records each one's
// SHA-256 in the folder's REVIEWED file. The golden tests of a package
// call Unreviewed and fail while any image is new to a person's eyes, so
// a wrong picture cannot slip in with a -update.
package goldens

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// RecordName is the file in a golden folder that lists what was reviewed.
const RecordName = "REVIEWED"

// Unreviewed returns the PNG files of dir (names only, sorted) whose
// present content no person has accepted.
func Unreviewed(dir string) ([]string, error) {
	seen, err := readRecord(dir)
	if err != nil {
		return nil, err
	}
	names, err := pngs(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		sum, err := hashFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		if !seen[n+" "+sum] {
			out = append(out, n)
		}
	}
	return out, nil
}

// Reviewed says whether a person has accepted the golden image at path as
// it is now.
func Reviewed(path string) (bool, error) {
	seen, err := readRecord(filepath.Dir(path))
	if err != nil {
		return false, err
	}
	sum, err := hashFile(path)
	if err != nil {
		return false, err
	}
	return seen[filepath.Base(path)+" "+sum], nil
}

// Accept records that a person has looked at the named images of dir as
// they are now, and drops the lines of images that are gone or changed.
func Accept(dir, reviewer string, names []string) error {
	if strings.TrimSpace(reviewer) == "" || strings.ContainsAny(reviewer, "\n\r") {
		return fmt.Errorf("accepting golden images in %s: say who looked at them (one line)", dir)
	}
	old, err := readLines(dir)
	if err != nil {
		return err
	}
	current := map[string]string{}
	all, err := pngs(dir)
	if err != nil {
		return err
	}
	for _, n := range all {
		sum, err := hashFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		current[n] = sum
	}
	var kept []string
	for _, l := range old {
		f := strings.Fields(l)
		if len(f) >= 2 && current[f[0]] == f[1] && !slices.Contains(names, f[0]) {
			kept = append(kept, l)
		}
	}
	for _, n := range names {
		sum, ok := current[n]
		if !ok {
			return fmt.Errorf("accepting %s: no such golden image in %s", n, dir)
		}
		kept = append(kept, n+" "+sum+" "+reviewer)
	}
	slices.Sort(kept)
	text := "# Golden images a person has looked at: name, SHA-256, who.\n# Written by: go run ./internal/goldens/review --accept --by NAME " + filepath.ToSlash(dir) + "\n" + strings.Join(kept, "\n") + "\n"
	return os.WriteFile(filepath.Join(dir, RecordName), []byte(text), 0o644)
}

func readRecord(dir string) (map[string]bool, error) {
	lines, err := readLines(dir)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) >= 2 {
			seen[f[0]+" "+f[1]] = true
		}
	}
	return seen, nil
}

func readLines(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, RecordName))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the review record: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, RecordName), err)
	}
	return out, nil
}

func pngs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing golden images: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".png") {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

func hashFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading golden image: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
