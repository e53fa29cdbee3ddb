package main

import (
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/numerek/numerek/audio"
)

// errPackProblems makes voice-check exit 1 once it has listed the problems.
type errPackProblems struct{ n int }

func (e errPackProblems) Error() string {
	return fmt.Sprintf("%d problem(s) found", e.n)
}

// checkVoicePacks checks every pack in fsys (shown as dir) and prints one
// line per problem and one summary line per pack.
func checkVoicePacks(fsys fs.FS, dir string, stdout io.Writer) error {
	packs, err := audio.PackDirs(fsys)
	if err != nil {
		return fmt.Errorf("checking voice packs in %s: %w", dir, err)
	}
	total := 0
	for _, p := range packs {
		where := path.Join(dir, p)
		m, problems, err := audio.CheckPack(fsys, p)
		if err != nil {
			fmt.Fprintf(stdout, "%s: unusable: %v\n", where, err)
			total++
			continue
		}
		for _, pr := range problems {
			fmt.Fprintf(stdout, "%s: %s\n", where, pr)
		}
		status := "ok"
		if len(problems) > 0 {
			status = fmt.Sprintf("%d problem(s)", len(problems))
		}
		fmt.Fprintf(stdout, "%s: %s pack, %d clips at %d Hz: %s\n", where, m.Language, len(m.Clips), m.SampleRate, status)
		total += len(problems)
	}
	if total > 0 {
		return errPackProblems{total}
	}
	return nil
}
