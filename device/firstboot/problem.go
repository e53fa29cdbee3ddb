package firstboot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/numerek/numerek/i18n"
)

// Text says the problem in lang, with its line, from cat (nil: the
// built-in catalog).
func (p *Problem) Text(cat *i18n.Catalog, lang string) string {
	if cat == nil {
		cat = i18n.Messages()
	}
	args := make([]any, len(p.Args))
	for i, a := range p.Args {
		args[i] = a
	}
	text := cat.T(lang, p.ID, args...)
	if p.Line > 0 {
		return cat.T(lang, "numerektxt.line", "line", p.Line, "problem", text)
	}
	return text
}

// problemReport is the file kioskd reads: the problems of the last
// numerek.txt that could not be applied.
type problemReport struct {
	File     string   `json:"file"`
	Problems Problems `json:"problems"`
}

// writeProblems leaves ps at path for kioskd; none removes the file.
func writeProblems(path string, ps Problems) error {
	if len(ps) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	data, err := json.MarshalIndent(problemReport{File: FileName, Problems: ps}, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(data, '\n'), 0o644)
}

// ReadProblems reads what firstboot left at path: the mistakes of the
// card's numerek.txt, none when the file is not there (the last one was
// applied, or there is no card partition).
func ReadProblems(path string) (Problems, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the problems of %s: %w", FileName, err)
	}
	var r problemReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading the problems of %s from %s: %w", FileName, path, err)
	}
	return r.Problems, nil
}
