package slots

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the image's autoboot.txt (deploy/image/card)")

// The image's autoboot.txt (copied onto the card's first partition by the
// image build) is the backend's own format at its fixed size: slot A
// primary, and no tryboot into the empty slot B.
func TestShippedAutoboot(t *testing.T) {
	const path = "../../deploy/image/card/autoboot.txt"
	want, err := (Autoboot{Primary: SlotA, Tryboot: SlotA}).Format(AutobootSize)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not the backend's fresh card (run go test ./device/slots -update):\n%s", path, got)
	}
}
