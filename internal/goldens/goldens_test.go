package goldens

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReviewFollowsTheImages(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := func(step string, names ...string) {
		t.Helper()
		got, err := Unreviewed(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, names) {
			t.Errorf("%s: unreviewed %v, want %v", step, got, names)
		}
	}
	write("a.png", "first")
	write("b.png", "second")
	write("notes.txt", "not an image")
	want("new images", "a.png", "b.png")

	if err := Accept(dir, "Anna", []string{"a.png"}); err != nil {
		t.Fatal(err)
	}
	want("one looked at", "b.png")

	write("a.png", "first, redrawn by -update")
	want("an accepted image changed", "a.png", "b.png")

	if err := Accept(dir, "Anna", []string{"a.png", "b.png"}); err != nil {
		t.Fatal(err)
	}
	want("all looked at")

	if err := Accept(dir, "", []string{"a.png"}); err == nil {
		t.Error("accepted without saying who looked")
	}
	if err := Accept(dir, "Anna", []string{"gone.png"}); err == nil {
		t.Error("accepted an image that does not exist")
	}
}
