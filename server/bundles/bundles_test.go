package bundles

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/raucbundle"
	"github.com/numerek/numerek/store"
)

func TestParseManifest(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Manifest
		err      string
	}{
		{name: "rauc's own", in: "[update]\ncompatible=numerek-rpi4\nversion=2026.11.2\n\n[bundle]\nformat=verity\n\n[image.rootfs]\nsha256=ab\nfilename=root.ext4\n",
			want: Manifest{Compatible: "numerek-rpi4", Version: "2026.11.2", Images: []string{"rootfs"}}},
		{name: "comments and spaces", in: "# made by CI\n[update]\n  compatible = numerek-rpi4 \nversion=1\ndescription=Autumn\n[image.boot]\n[image.rootfs]\n",
			want: Manifest{Compatible: "numerek-rpi4", Version: "1", Description: "Autumn", Images: []string{"boot", "rootfs"}}},
		{name: "no version", in: "[update]\ncompatible=x\n", err: "no version="},
		{name: "no compatible", in: "[update]\nversion=1\n", err: "no compatible="},
		{name: "key before a group", in: "version=1\n", err: "manifest.raucm:1: key \"version\" before any [group]"},
		{name: "broken group", in: "[update]\ncompatible=x\n[image.rootfs\n", err: "manifest.raucm:3:"},
		{name: "a stray line", in: "[update]\nversion\n", err: "manifest.raucm:2: \"version\" is neither"},
		{name: "binary", in: "\xff\xfe[update]", err: "not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseManifest([]byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Compatible != tc.want.Compatible || m.Version != tc.want.Version || m.Description != tc.want.Description || strings.Join(m.Images, ",") != strings.Join(tc.want.Images, ",") {
				t.Errorf("got %+v, want %+v", m, tc.want)
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("[update]\ncompatible=numerek-rpi4\nversion=2026.11.2\n[image.rootfs]\nfilename=root.ext4\n"))
	f.Add([]byte("[update\n=\n"))
	f.Add([]byte("#\n[]\n[update]\nversion==\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err == nil && (m.Version == "" || m.Compatible == "") {
			t.Fatalf("accepted a manifest without version or compatible: %+v", m)
		}
	})
}

// FuzzReadManifest hands the squashfs reader damaged bundles: it must
// refuse them, never crash.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte("hsqs"), 0)
	f.Add(bytes.Repeat([]byte{0}, 4096), 10)
	if real, err := os.ReadFile(raucbundle.Make(f, "1", "numerek-rpi4", 8192)); err == nil {
		f.Add(real, 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, at int) {
		// Damage a real bundle at one place, or take the noise as it is.
		if len(data) > 0 && at > 0 {
			data = bytes.Clone(data)
			data[at%len(data)] ^= 0x5a
		}
		p := filepath.Join(t.TempDir(), "b.raucb")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		type result struct {
			m   Manifest
			err error
		}
		got := make(chan result, 1)
		go func() {
			m, err := ReadManifest(p)
			got <- result{m, err}
		}()
		select {
		case r := <-got:
			if r.err == nil && (r.m.Version == "" || r.m.Compatible == "") {
				t.Fatalf("a damaged bundle was read without version or compatible: %+v", r.m)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("reading a damaged %d-byte bundle took more than 5 s", len(data))
		}
	})
}

// TestCompressors: bundles built with the compressors make-bundle.sh
// offers are read; one with lz4, which the squashfs reader cannot
// decompress, is refused saying so.
func TestCompressors(t *testing.T) {
	for _, tc := range []struct {
		compressor, refusal string
	}{
		{"gzip", ""},
		{"zstd", ""},
		{"xz", ""},
		{"lz4", "compressed with lz4"},
	} {
		m, err := ReadManifest(raucbundle.MakeCompressed(t, "2026.11."+tc.compressor, "numerek-rpi4", 16<<10, tc.compressor))
		switch {
		case tc.refusal == "" && (err != nil || m.Version != "2026.11."+tc.compressor):
			t.Errorf("%s: %+v, %v", tc.compressor, m, err)
		case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
			t.Errorf("%s: error %v, want one saying %q", tc.compressor, err, tc.refusal)
		}
	}
}

func TestStoreSave(t *testing.T) {
	bundle := raucbundle.Make(t, "2026.11.2", "numerek-rpi4", 200<<10)
	data, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	dir := t.TempDir()
	db, err := store.OpenFleetDB(filepath.Join(dir, "fleet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := Open(Options{Dir: filepath.Join(dir, "bundles"), DB: db, MaxSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := s.Save(bytes.NewReader(data), "ewa")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != "2026.11.2" || rec.Compatible != "numerek-rpi4" || rec.Size != int64(len(data)) || rec.SHA256 != hex.EncodeToString(sum[:]) || rec.By != "ewa" {
		t.Errorf("record %+v", rec)
	}
	kept, err := os.ReadFile(s.Path(rec.SHA256))
	if err != nil || !bytes.Equal(kept, data) {
		t.Errorf("the kept file differs from the upload (%v)", err)
	}

	// What is refused leaves nothing behind.
	for _, tc := range []struct {
		name string
		body []byte
		want error
	}{
		{"a text file", []byte("not a bundle at all\n"), ErrNotBundle},
		{"a cut bundle", data[:4096], ErrNotBundle},
		{"too big", bytes.Repeat([]byte{1}, 1<<20+1), ErrTooBig},
	} {
		if _, err := s.Save(bytes.NewReader(tc.body), "ewa"); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "bundles"))
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files, want only the bundle", len(entries))
	}

	// The record survives a restart.
	s2, err := Open(Options{Dir: filepath.Join(dir, "bundles"), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	if l := s2.List(); len(l) != 1 || l[0].SHA256 != rec.SHA256 {
		t.Errorf("after reopening: %+v", l)
	}
}
