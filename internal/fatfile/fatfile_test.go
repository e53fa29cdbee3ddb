package fatfile_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numerek/numerek/internal/fatfile"
)

// makeImage makes a FAT image with mkfs.vfat (args choose the FAT size)
// and copies files into its root with mcopy, in order.
func makeImage(t *testing.T, sizeKiB string, mkfsArgs []string, files ...[2]string) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "fat.img")
	args := append([]string{"-C"}, mkfsArgs...)
	args = append(args, img, sizeKiB)
	run(t, "mkfs.vfat", args...)
	for _, f := range files {
		src := filepath.Join(dir, "src")
		if err := os.WriteFile(src, []byte(f[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, "mcopy", "-o", "-i", img, src, "::"+f[0])
	}
	return img
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestReadAndRewrite(t *testing.T) {
	big := strings.Repeat("kernel bytes ", 40000) // several clusters
	for _, tc := range []struct {
		name string
		size string
		mkfs []string
	}{
		{"FAT12", "2048", []string{"-F", "12"}},
		{"FAT16", "65536", []string{"-F", "16"}},
		{"FAT32", "65536", []string{"-F", "32", "-s", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := makeImage(t, tc.size, tc.mkfs,
				[2]string{"autoboot.txt", "[all]\nboot_partition=2\n"},
				[2]string{"vmlinuz-6.1.0-28-arm64", big},
				[2]string{"cmdline.txt", "console=tty1 root=PARTUUID=4e554d31-05 rauc.slot=A\n"})
			dev, err := os.OpenFile(img, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer dev.Close()
			vol, err := fatfile.Open(dev)
			if err != nil {
				t.Fatal(err)
			}
			got, err := vol.ReadFile("VMLINUZ-6.1.0-28-ARM64")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != big {
				t.Fatalf("long-named file read back %d bytes, want %d equal bytes", len(got), len(big))
			}
			if _, err := vol.ReadFile("config.txt"); err == nil || !strings.Contains(err.Error(), "no such file") {
				t.Fatalf("missing file: err = %v", err)
			}

			next := []byte("[all]\nboot_partition=3\n")
			n, err := vol.Rewrite(dev, "autoboot.txt", next)
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("rewrote %d sectors, want 1", n)
			}
			if n, err := vol.Rewrite(dev, "autoboot.txt", next); err != nil || n != 0 {
				t.Errorf("rewriting the same bytes wrote %d sectors (err %v), want none", n, err)
			}
			if _, err := vol.Rewrite(dev, "autoboot.txt", []byte("[all]\n")); err == nil {
				t.Error("a rewrite of another length was accepted")
			}
			// mtools, which knows nothing of this package, sees the new file and
			// the volume intact.
			if got := run(t, "mtype", "-i", img, "::autoboot.txt"); got != string(next) {
				t.Errorf("mtype autoboot.txt = %q, want %q", got, next)
			}
			if got := run(t, "mtype", "-i", img, "::cmdline.txt"); !strings.Contains(got, "rauc.slot=A") {
				t.Errorf("cmdline.txt changed: %q", got)
			}
			run(t, "fsck.vfat", "-n", img)
		})
	}
}

// A file whose clusters are not contiguous (it filled a deleted file's gap
// first) is read and rewritten across its pieces.
func TestFragmentedFile(t *testing.T) {
	img := makeImage(t, "2048", []string{"-F", "12"},
		[2]string{"a.bin", strings.Repeat("a", 3000)},
		[2]string{"b.bin", "b"})
	run(t, "mdel", "-i", img, "::a.bin")
	content := strings.Repeat("0123456789", 1000)
	src := filepath.Join(t.TempDir(), "c")
	if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "mcopy", "-i", img, src, "::c.bin")

	dev, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	vol, err := fatfile.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := vol.ReadFile("c.bin")
	if err != nil || string(got) != content {
		t.Fatalf("fragmented read: %d bytes, err %v", len(got), err)
	}
	next := bytes.ToUpper([]byte(strings.Repeat("abcdefghij", 1000)))
	if _, err := vol.Rewrite(dev, "c.bin", next); err != nil {
		t.Fatal(err)
	}
	if got := run(t, "mtype", "-i", img, "::c.bin"); got != string(next) {
		t.Errorf("after rewrite mtype reads %q...", got[:20])
	}
	if got := run(t, "mtype", "-i", img, "::b.bin"); got != "b" {
		t.Errorf("b.bin = %q", got)
	}
}

func TestNotFAT(t *testing.T) {
	for name, data := range map[string][]byte{
		"zeros":          make([]byte, 4096),
		"short":          []byte("x"),
		"signature only": append(make([]byte, 510), 0x55, 0xAA),
	} {
		if _, err := fatfile.Open(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: opened as FAT", name)
		}
	}
}

// FuzzVolume feeds damaged volumes (a card's partition is outside input):
// reading must fail with an error, never panic or loop.
func FuzzVolume(f *testing.F) {
	dir := f.TempDir()
	img := filepath.Join(dir, "seed.img")
	if out, err := exec.Command("mkfs.vfat", "-C", "-F", "12", img, "64").CombinedOutput(); err != nil {
		f.Fatalf("mkfs.vfat: %v %s", err, out)
	}
	src := filepath.Join(dir, "autoboot.txt")
	if err := os.WriteFile(src, []byte("[all]\ntryboot_a_b=1\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	if out, err := exec.Command("mcopy", "-i", img, src, "::autoboot.txt").CombinedOutput(); err != nil {
		f.Fatalf("mcopy: %v %s", err, out)
	}
	seed, err := os.ReadFile(img)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		vol, err := fatfile.Open(bytes.NewReader(data))
		if err != nil {
			return
		}
		_, _ = vol.ReadFile("autoboot.txt")
	})
}
