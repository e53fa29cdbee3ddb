package printer_test

import (
	"path/filepath"
	"testing"

	"github.com/numerek/numerek/internal/goldens"
)

// A golden ticket is accepted only once a person has looked at it: -update
// writes the picture, the review command records that it was seen.
func TestGoldenTicketsLookedAt(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "golden")
	names, err := goldens.Unreviewed(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		t.Errorf("%s: no person has looked at this picture yet; look at it, then: go run ./internal/goldens/review --accept --by NAME printer/%s", n, filepath.ToSlash(dir))
	}
}
