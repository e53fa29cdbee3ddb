// Package fatfile reads and rewrites files in the root directory of a FAT12,
// FAT16 or FAT32 volume given as a device or an image file, without
// mounting it. It exists for the A/B slot tools: autoboot.txt and
// cmdline.txt are rewritten in place at the same length, so only the
// sectors whose bytes change are written and the directory, the FAT and
// every other file stay as they were (a power cut leaves the old or the
// new file), and the host's boot selector reads the kernel and its
// configuration out of a disk image the way the Raspberry Pi firmware does.
// It never allocates clusters: a file cannot grow or shrink.
package fatfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
)

// Volume is a FAT file system's layout, read from its boot sector.
type Volume struct {
	dev         io.ReaderAt
	sectorSize  int64
	clusterSize int64
	fatStart    int64 // byte offset of the first FAT
	rootStart   int64 // byte offset of FAT12/16's fixed root directory
	rootEntries int64
	rootCluster uint32 // FAT32's root directory
	dataStart   int64  // byte offset of cluster 2
	clusters    uint32 // number of data clusters
	bits        int    // 12, 16 or 32
	eoc         uint32 // chain values >= eoc end a chain
}

// File is a file found in the root directory.
type File struct {
	Name string // its long name if it has one, else its 8.3 name
	Size int64
	// runs are the byte ranges on the device holding its data, in order.
	runs []run
}

type run struct{ off, len int64 }

// maxDirClusters bounds a directory's chain: far more than any root
// directory holds, few enough that a looping chain is found fast.
const maxDirClusters = 4096

// maxRead bounds what ReadFile returns (a kernel and its initramfs are
// tens of megabytes).
const maxRead = 1 << 28

// ErrNotFound is returned when the root directory has no such file.
var ErrNotFound = errors.New("no such file in the root directory")

// Open reads the boot sector of the FAT volume on dev.
func Open(dev io.ReaderAt) (*Volume, error) {
	bs := make([]byte, 512)
	if _, err := dev.ReadAt(bs, 0); err != nil {
		return nil, fmt.Errorf("reading the boot sector: %w", err)
	}
	if bs[510] != 0x55 || bs[511] != 0xAA {
		return nil, errors.New("not a FAT volume: no boot sector signature 55 AA at byte 510")
	}
	le := binary.LittleEndian
	bytesPerSector := int64(le.Uint16(bs[11:]))
	sectorsPerCluster := int64(bs[13])
	reserved := int64(le.Uint16(bs[14:]))
	fats := int64(bs[16])
	rootEntries := int64(le.Uint16(bs[17:]))
	total := int64(le.Uint16(bs[19:]))
	if total == 0 {
		total = int64(le.Uint32(bs[32:]))
	}
	fatSectors := int64(le.Uint16(bs[22:]))
	if fatSectors == 0 {
		fatSectors = int64(le.Uint32(bs[36:]))
	}
	switch bytesPerSector {
	case 512, 1024, 2048, 4096:
	default:
		return nil, fmt.Errorf("not a FAT volume: %d bytes per sector", bytesPerSector)
	}
	if sectorsPerCluster == 0 || sectorsPerCluster&(sectorsPerCluster-1) != 0 {
		return nil, fmt.Errorf("not a FAT volume: %d sectors per cluster", sectorsPerCluster)
	}
	if reserved == 0 || fats == 0 || fatSectors == 0 {
		return nil, errors.New("not a FAT volume: no reserved sectors or no FAT")
	}
	rootSectors := (rootEntries*32 + bytesPerSector - 1) / bytesPerSector
	firstData := reserved + fats*fatSectors + rootSectors
	if total <= firstData {
		return nil, fmt.Errorf("not a FAT volume: %d sectors in all but data starts at sector %d", total, firstData)
	}
	clusters := (total - firstData) / sectorsPerCluster
	v := &Volume{
		dev:         dev,
		sectorSize:  bytesPerSector,
		clusterSize: bytesPerSector * sectorsPerCluster,
		fatStart:    reserved * bytesPerSector,
		rootStart:   (reserved + fats*fatSectors) * bytesPerSector,
		rootEntries: rootEntries,
		dataStart:   firstData * bytesPerSector,
		clusters:    uint32(clusters),
	}
	switch {
	case clusters < 4085:
		v.bits, v.eoc = 12, 0xFF8
	case clusters < 65525:
		v.bits, v.eoc = 16, 0xFFF8
	default:
		v.bits, v.eoc = 32, 0x0FFFFFF8
		v.rootCluster = le.Uint32(bs[44:])
	}
	if v.bits != 32 && rootEntries == 0 {
		return nil, fmt.Errorf("not a FAT volume: FAT%d without a root directory", v.bits)
	}
	if fatSectors*bytesPerSector*8/int64(v.bits) < clusters+2 {
		return nil, fmt.Errorf("not a FAT volume: a FAT of %d sectors cannot map %d clusters", fatSectors, clusters)
	}
	// A boot sector claiming more than the device holds is damaged.
	if _, err := dev.ReadAt(bs[:1], total*bytesPerSector-1); err != nil {
		return nil, fmt.Errorf("the boot sector says %d sectors of %d bytes but the device is shorter: %w", total, bytesPerSector, err)
	}
	return v, nil
}

// SectorSize is the volume's logical sector size in bytes.
func (v *Volume) SectorSize() int64 { return v.sectorSize }

// next returns the cluster after c in its chain.
func (v *Volume) next(c uint32) (uint32, error) {
	var buf [4]byte
	le := binary.LittleEndian
	switch v.bits {
	case 12:
		off := v.fatStart + int64(c)*3/2
		if _, err := v.dev.ReadAt(buf[:2], off); err != nil {
			return 0, fmt.Errorf("reading the FAT: %w", err)
		}
		val := uint32(le.Uint16(buf[:2]))
		if c&1 == 1 {
			return val >> 4, nil
		}
		return val & 0xFFF, nil
	case 16:
		if _, err := v.dev.ReadAt(buf[:2], v.fatStart+int64(c)*2); err != nil {
			return 0, fmt.Errorf("reading the FAT: %w", err)
		}
		return uint32(le.Uint16(buf[:2])), nil
	default:
		if _, err := v.dev.ReadAt(buf[:], v.fatStart+int64(c)*4); err != nil {
			return 0, fmt.Errorf("reading the FAT: %w", err)
		}
		return le.Uint32(buf[:]) & 0x0FFFFFFF, nil
	}
}

// chain returns the byte ranges of the clusters from first on, enough for
// size bytes (size < 0: the whole chain, for directories).
func (v *Volume) chain(first uint32, size int64) ([]run, error) {
	var runs []run
	left := size
	c := first
	for steps := uint32(0); size < 0 || left > 0; steps++ {
		if c < 2 || c >= v.clusters+2 {
			if size < 0 && c >= v.eoc {
				break
			}
			return nil, fmt.Errorf("cluster chain from %d runs to cluster %#x, outside the volume", first, c)
		}
		if steps > v.clusters || (size < 0 && steps > maxDirClusters) {
			return nil, fmt.Errorf("cluster chain from %d loops", first)
		}
		n := v.clusterSize
		if size >= 0 && left < n {
			n = left
		}
		off := v.dataStart + int64(c-2)*v.clusterSize
		if k := len(runs); k > 0 && runs[k-1].off+runs[k-1].len == off {
			runs[k-1].len += n
		} else {
			runs = append(runs, run{off, n})
		}
		left -= n
		next, err := v.next(c)
		if err != nil {
			return nil, err
		}
		if size >= 0 && left > 0 && next >= v.eoc {
			return nil, fmt.Errorf("cluster chain from %d ends %d bytes before the file does", first, left)
		}
		c = next
	}
	return runs, nil
}

func (v *Volume) rootDir() ([]byte, error) {
	if v.bits == 32 {
		runs, err := v.chain(v.rootCluster, -1)
		if err != nil {
			return nil, fmt.Errorf("root directory: %w", err)
		}
		return v.readRuns(runs)
	}
	return v.readRuns([]run{{v.rootStart, v.rootEntries * 32}})
}

func (v *Volume) readRuns(runs []run) ([]byte, error) {
	var total int64
	for _, r := range runs {
		total += r.len
	}
	if total > maxRead {
		return nil, fmt.Errorf("%d bytes is too large to read", total)
	}
	out := make([]byte, 0, total)
	for _, r := range runs {
		buf := make([]byte, r.len)
		if _, err := v.dev.ReadAt(buf, r.off); err != nil {
			return nil, fmt.Errorf("reading %d bytes at %d: %w", r.len, r.off, err)
		}
		out = append(out, buf...)
	}
	return out, nil
}

// Lookup finds name (case-insensitive, its long or its 8.3 name) in the
// root directory.
func (v *Volume) Lookup(name string) (File, error) {
	dir, err := v.rootDir()
	if err != nil {
		return File{}, err
	}
	le := binary.LittleEndian
	var long []uint16 // the long name gathered from the entries before
	var longSum byte
	for i := 0; i+32 <= len(dir); i += 32 {
		e := dir[i : i+32]
		if e[0] == 0 {
			break
		}
		if e[0] == 0xE5 {
			long = nil
			continue
		}
		attr := e[11]
		if attr&0x3F == 0x0F { // a long name's part, last part first
			seq := int(e[0] & 0x1F)
			if e[0]&0x40 != 0 {
				long = make([]uint16, 13*seq)
				longSum = e[13]
			}
			if seq == 0 || long == nil || 13*seq > len(long) || e[13] != longSum {
				long = nil
				continue
			}
			part := long[13*(seq-1):]
			for k, o := range []int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30} {
				part[k] = le.Uint16(e[o:])
			}
			continue
		}
		short := shortName(e[:11])
		full := ""
		if long != nil && checksum(e[:11]) == longSum {
			full = decodeLong(long)
		}
		long = nil
		if attr&0x18 != 0 { // a directory or the volume label
			continue
		}
		if !strings.EqualFold(name, short) && !strings.EqualFold(name, full) {
			continue
		}
		first := uint32(le.Uint16(e[26:]))
		if v.bits == 32 {
			first |= uint32(le.Uint16(e[20:])) << 16
		}
		size := int64(le.Uint32(e[28:]))
		if size > int64(v.clusters)*v.clusterSize {
			return File{}, fmt.Errorf("%s: its entry says %d bytes, more than the volume holds", name, size)
		}
		f := File{Name: short, Size: size}
		if full != "" {
			f.Name = full
		}
		if size > 0 {
			if f.runs, err = v.chain(first, size); err != nil {
				return File{}, fmt.Errorf("%s: %w", name, err)
			}
		}
		return f, nil
	}
	return File{}, fmt.Errorf("%s: %w", name, ErrNotFound)
}

func shortName(raw []byte) string {
	base := strings.TrimRight(string(raw[:8]), " ")
	if raw[0] == 0x05 {
		base = "\xE5" + base[1:]
	}
	ext := strings.TrimRight(string(raw[8:11]), " ")
	if ext == "" {
		return base
	}
	return base + "." + ext
}

func checksum(raw []byte) byte {
	var sum byte
	for _, b := range raw {
		sum = (sum>>1 | sum<<7) + b
	}
	return sum
}

func decodeLong(u []uint16) string {
	for i, c := range u {
		if c == 0 {
			u = u[:i]
			break
		}
	}
	return string(utf16.Decode(u))
}

// ReadFile returns the contents of name in the root directory.
func (v *Volume) ReadFile(name string) ([]byte, error) {
	f, err := v.Lookup(name)
	if err != nil {
		return nil, err
	}
	data, err := v.readRuns(f.runs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

// Rewrite replaces the contents of name with data of the same length,
// writing through w (the same device, opened for writing) only the sectors
// whose bytes differ, and returns how many it wrote. The caller syncs w.
func (v *Volume) Rewrite(w io.WriterAt, name string, data []byte) (int, error) {
	f, err := v.Lookup(name)
	if err != nil {
		return 0, err
	}
	if int64(len(data)) != f.Size {
		return 0, fmt.Errorf("%s is %d bytes and cannot change length in place (%d given)", name, f.Size, len(data))
	}
	written := 0
	pos := int64(0)
	for _, r := range f.runs {
		// Runs start on sector boundaries; compare and write sector by sector.
		for s := int64(0); s < r.len; s += v.sectorSize {
			n := min(v.sectorSize, r.len-s)
			old := make([]byte, n)
			if _, err := v.dev.ReadAt(old, r.off+s); err != nil {
				return written, fmt.Errorf("%s: reading sector at %d: %w", name, r.off+s, err)
			}
			next := data[pos+s : pos+s+n]
			if !bytes.Equal(old, next) {
				if _, err := w.WriteAt(next, r.off+s); err != nil {
					return written, fmt.Errorf("%s: writing sector at %d: %w", name, r.off+s, err)
				}
				written++
			}
		}
		pos += r.len
	}
	return written, nil
}
