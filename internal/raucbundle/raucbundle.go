// Package raucbundle makes real RAUC bundles for tests: `rauc bundle`
// signs a squashfs image with a throwaway key that openssl makes in the
// test's temporary folder (no private key is ever committed).
package raucbundle

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Make builds a bundle of the given version and compatible whose root
// image is size bytes of random data, and returns its path. The test is
// skipped where rauc or openssl is missing (scripts/install-deps.sh
// installs both).
func Make(t testing.TB, version, compatible string, size int) string {
	t.Helper()
	return MakeCompressed(t, version, compatible, size, "")
}

// MakeCompressed is Make with mksquashfs's compressor ("zstd", "lz4"; ""
// is RAUC's default, gzip).
func MakeCompressed(t testing.TB, version, compatible string, size int, compressor string) string {
	t.Helper()
	for _, tool := range []string{"rauc", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/install-deps.sh installs it)", tool)
		}
	}
	dir := t.TempDir()
	key, cert := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	run(t, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=numerek test", "-days", "1")
	content := filepath.Join(dir, "content")
	if err := os.MkdirAll(content, 0o755); err != nil {
		t.Fatal(err)
	}
	// RAUC's verity format wants an image larger than a page.
	img := make([]byte, max(size, 8192))
	_, _ = rand.Read(img)
	if err := os.WriteFile(filepath.Join(content, "root.ext4"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf("[update]\ncompatible=%s\nversion=%s\n\n[bundle]\nformat=verity\n\n[image.rootfs]\nfilename=root.ext4\n", compatible, version)
	if err := os.WriteFile(filepath.Join(content, "manifest.raucm"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "update-"+version+".raucb")
	args := []string{"bundle", "--cert=" + cert, "--key=" + key}
	if compressor != "" {
		args = append(args, "--mksquashfs-args=-comp "+compressor)
	}
	run(t, "rauc", append(args, content, out)...)
	return out
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}
