package bundles

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"
)

// ErrNotBundle is the error of a file that is not a RAUC bundle at all
// (no squashfs image, or none with a manifest.raucm).
var ErrNotBundle = errors.New("not a RAUC bundle")

// ReadManifest reads the manifest of the bundle at path: a RAUC bundle is
// a squashfs image with its CMS signature appended, and its manifest is
// the image's manifest.raucm.
func ReadManifest(path string) (Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("opening the bundle: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Manifest{}, fmt.Errorf("reading the bundle's size: %w", err)
	}
	data, err := manifestOf(f, st.Size())
	if err != nil {
		return Manifest{}, err
	}
	return ParseManifest(data)
}

// The squashfs compressors a bundle may use (the superblock's numbers).
const (
	squashfsGzip = 1
	squashfsXZ   = 4
	squashfsZstd = 6
)

// checkSuperblock refuses what is plainly no squashfs 4.0 image before
// the reader trusts its tables: the magic, the version, a block size the
// format allows, and tables inside the image, itself inside the file.
func checkSuperblock(f *os.File, size int64) error {
	var sb [96]byte
	if _, err := f.ReadAt(sb[:], 0); err != nil {
		return fmt.Errorf("%w: too short for a squashfs image", ErrNotBundle)
	}
	le := binary.LittleEndian
	if string(sb[0:4]) != "hsqs" {
		return fmt.Errorf("%w: no squashfs image at its start", ErrNotBundle)
	}
	if major, minor := le.Uint16(sb[28:]), le.Uint16(sb[30:]); major != 4 || minor != 0 {
		return fmt.Errorf("%w: squashfs version %d.%d, not 4.0", ErrNotBundle, major, minor)
	}
	blockSize, blockLog := le.Uint32(sb[12:]), le.Uint16(sb[22:])
	if blockLog < 12 || blockLog > 20 || blockSize != 1<<blockLog {
		return fmt.Errorf("%w: a squashfs block size of %d", ErrNotBundle, blockSize)
	}
	switch c := le.Uint16(sb[20:]); c {
	case squashfsGzip, squashfsXZ, squashfsZstd:
	case 2, 3, 5:
		// The squashfs reader has no working lzma, lzo or lz4 (its lz4
		// expects frames where squashfs stores raw blocks).
		return fmt.Errorf("%w: squashfs compressed with %s, which the server cannot read: build the bundle with BUNDLE_COMPRESSION gzip, xz or zstd", ErrNotBundle, map[uint16]string{2: "lzma", 3: "lzo", 5: "lz4"}[c])
	default:
		return fmt.Errorf("%w: unknown squashfs compression %d", ErrNotBundle, c)
	}
	used := le.Uint64(sb[40:])
	if used < 96 || used > uint64(size) {
		return fmt.Errorf("%w: its squashfs image claims %d bytes of a %d-byte file", ErrNotBundle, used, size)
	}
	for _, at := range []int{48, 64, 72} { // id, inode and directory tables
		if le.Uint64(sb[at:]) >= used {
			return fmt.Errorf("%w: a squashfs table lies outside the image", ErrNotBundle)
		}
	}
	if frag := le.Uint64(sb[80:]); frag != ^uint64(0) && frag >= used {
		return fmt.Errorf("%w: a squashfs table lies outside the image", ErrNotBundle)
	}
	if le.Uint32(sb[4:]) > 1<<20 || le.Uint32(sb[16:]) > 1<<20 {
		return fmt.Errorf("%w: implausibly many squashfs inodes or fragments", ErrNotBundle)
	}
	return nil
}

func manifestOf(f *os.File, size int64) (data []byte, err error) {
	if err := checkSuperblock(f, size); err != nil {
		return nil, err
	}
	defer func() {
		// The squashfs reader trusts the image's tables; a file made to
		// look like one must not take the server down.
		if r := recover(); r != nil {
			data, err = nil, fmt.Errorf("%w: its squashfs image is damaged (%v)", ErrNotBundle, r)
		}
	}()
	fsys, err := squashfs.Read(file.New(f, true), size, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: no squashfs image at its start (%v)", ErrNotBundle, err)
	}
	mf, err := fsys.OpenFile("manifest.raucm", os.O_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("%w: its image has no manifest.raucm (%v)", ErrNotBundle, err)
	}
	defer mf.Close()
	data, err = io.ReadAll(io.LimitReader(mf, MaxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading its manifest.raucm: %v", ErrNotBundle, err)
	}
	return data, nil
}
