// Package boltfile reads a bbolt file without trusting a byte of it.
//
// bbolt maps its file into memory and follows page ids and offsets as they
// are: a file cut short makes it fault on pages past the end (SIGBUS), and a
// page overwritten with garbage makes it panic or read wild memory. This
// package reads the file with plain reads, checks every page id, flag,
// count and offset before it uses them, and reports what it cannot read
// instead of crashing. The store runs it before handing a file to bbolt,
// `queue-server check` reports what it finds, and `queue-server recover`
// uses what it can still read.
//
// It knows the bbolt file format of go.etcd.io/bbolt v1.3 to v1.5 (format
// version 2) on little-endian machines.
package boltfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
)

// The bbolt format's constants (go.etcd.io/bbolt/internal/common).
const (
	magic           = 0xED0CDAED
	version         = 2
	pageHeaderSize  = 16
	elementSize     = 16 // a branch or a leaf element
	bucketHeader    = 16 // a bucket's root page id and sequence
	branchPageFlag  = 0x01
	leafPageFlag    = 0x02
	metaPageFlag    = 0x04
	freelistFlag    = 0x10
	bucketLeafFlag  = 0x01
	noFreelist      = ^uint64(0)
	minPageSize     = 512
	maxPageSize     = 1 << 24
	maxDepth        = 64
	metaChecksumEnd = 56 // the checksum covers the meta's first 56 bytes
)

// ErrNotBolt means the file cannot be read as a bbolt file at all: it is
// empty, too short for its header, or neither meta page is valid.
var ErrNotBolt = errors.New("not a readable bbolt file")

// Meta is one of the file's two meta pages.
type Meta struct {
	PageSize uint32
	Root     uint64 // the root bucket's page
	Freelist uint64
	HighMark uint64 // pages in use: every page id is below it
	TxID     uint64
}

// Damage is one thing found wrong. Bucket and the keys say which data it
// makes unreadable: keys from From (nil: the bucket's first) up to, not
// including, To (nil: past the bucket's last key). Bucket is empty for
// damage outside the data (a meta page, the freelist).
type Damage struct {
	Bucket string
	Page   uint64
	What   string
	From   []byte
	To     []byte
}

func (d Damage) String() string {
	if d.Page != 0 {
		return fmt.Sprintf("page %d: %s", d.Page, d.What)
	}
	return d.What
}

// Report is what Read found.
type Report struct {
	Size     int64
	PageSize int
	// Meta is the meta page bbolt would use: the valid one with the
	// higher transaction id.
	Meta   Meta
	Damage []Damage
	// Buckets are the paths of the buckets found, empty ones included.
	Buckets []string
}

// OK reports whether nothing was found wrong.
func (r *Report) OK() bool { return len(r.Damage) == 0 }

// Summary joins the damage found into one line, at most max items.
func (r *Report) Summary(max int) string {
	var parts []string
	for i, d := range r.Damage {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(r.Damage)-max))
			break
		}
		parts = append(parts, d.String())
	}
	return strings.Join(parts, "; ")
}

// Visit is called for every key and value Read can read, in key order
// within each bucket; bucket is the bucket's path joined with "/". The
// slices are only valid during the call.
type Visit func(bucket string, key, value []byte)

// Read checks the whole file at path (both meta pages, the freelist and
// every page reachable from the root) and calls visit with the data it can
// read. An error means the file could not be read as bbolt at all (it wraps
// ErrNotBolt or the I/O error); damage within a readable file is in the
// report.
func Read(path string, visit Visit) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := &reader{f: f, size: info.Size(), visit: visit, seen: map[uint64]bool{}}
	rep, err := r.read()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotBolt, err)
	}
	return rep, nil
}

type reader struct {
	f     io.ReaderAt
	size  int64
	ps    int
	hwm   uint64
	visit Visit
	seen  map[uint64]bool
	rep   *Report
}

func (r *reader) damage(bucket string, page uint64, from, to []byte, format string, args ...any) {
	r.rep.Damage = append(r.rep.Damage, Damage{
		Bucket: bucket, Page: page, What: fmt.Sprintf(format, args...),
		From: clone(from), To: clone(to),
	})
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// parseMeta reads a meta page's content, saying why it is not valid.
func parseMeta(page []byte) (Meta, error) {
	if len(page) < pageHeaderSize+metaChecksumEnd+8 {
		return Meta{}, errors.New("cut short")
	}
	if binary.LittleEndian.Uint16(page[8:]) != metaPageFlag {
		return Meta{}, errors.New("not a meta page")
	}
	m := page[pageHeaderSize:]
	if binary.LittleEndian.Uint32(m[0:]) != magic {
		return Meta{}, errors.New("no bbolt magic number")
	}
	if v := binary.LittleEndian.Uint32(m[4:]); v != version {
		return Meta{}, fmt.Errorf("format version %d, not %d", v, version)
	}
	h := fnv.New64a()
	h.Write(m[:metaChecksumEnd])
	if binary.LittleEndian.Uint64(m[metaChecksumEnd:]) != h.Sum64() {
		return Meta{}, errors.New("checksum does not match")
	}
	meta := Meta{
		PageSize: binary.LittleEndian.Uint32(m[8:]),
		Root:     binary.LittleEndian.Uint64(m[16:]),
		Freelist: binary.LittleEndian.Uint64(m[32:]),
		HighMark: binary.LittleEndian.Uint64(m[40:]),
		TxID:     binary.LittleEndian.Uint64(m[48:]),
	}
	if meta.PageSize < minPageSize || meta.PageSize > maxPageSize || meta.PageSize&(meta.PageSize-1) != 0 {
		return Meta{}, fmt.Errorf("page size %d is not possible", meta.PageSize)
	}
	return meta, nil
}

func (r *reader) read() (*Report, error) {
	r.rep = &Report{Size: r.size}
	if r.size == 0 {
		return nil, errors.New("the file is empty (0 bytes)")
	}
	first := make([]byte, 4096)
	n, _ := r.f.ReadAt(first, 0)
	first = first[:n]
	m0, err0 := parseMeta(first)
	// The second meta page is one page in; its size comes from the first,
	// or, if the first is broken, from trying every possible size as bbolt
	// does.
	var m1 Meta
	err1 := errors.New("not found")
	sizes := []int64{}
	if err0 == nil {
		sizes = append(sizes, int64(m0.PageSize))
	} else {
		for ps := int64(minPageSize); ps <= maxPageSize; ps *= 2 {
			sizes = append(sizes, ps)
		}
	}
	for _, ps := range sizes {
		if ps+pageHeaderSize+metaChecksumEnd+8 > r.size {
			if err0 == nil {
				err1 = errors.New("past the end of the file")
			}
			break
		}
		buf := make([]byte, pageHeaderSize+metaChecksumEnd+8)
		if _, err := r.f.ReadAt(buf, ps); err != nil {
			err1 = err
			break
		}
		m, err := parseMeta(buf)
		if err == nil && int64(m.PageSize) == ps {
			m1, err1 = m, nil
			break
		}
		if err0 == nil {
			err1 = err
			if err == nil {
				err1 = fmt.Errorf("page size %d differs from meta page 0's %d", m.PageSize, ps)
			}
		}
	}
	switch {
	case err0 != nil && err1 != nil:
		return nil, fmt.Errorf("both meta pages are broken (page 0: %v; page 1: %v)", err0, err1)
	case err0 != nil:
		r.damage("", 0, nil, nil, "meta page 0 is broken (%v): the file's last transaction may be lost", err0)
		r.rep.Meta = m1
	case err1 != nil:
		r.damage("", 0, nil, nil, "meta page 1 is broken (%v): the file's last transaction may be lost", err1)
		r.rep.Meta = m0
	case m1.TxID > m0.TxID:
		r.rep.Meta = m1
	default:
		r.rep.Meta = m0
	}
	if err0 == nil && err1 == nil && m0.PageSize != m1.PageSize {
		r.damage("", 0, nil, nil, "the meta pages disagree on the page size (%d, %d)", m0.PageSize, m1.PageSize)
	}
	meta := r.rep.Meta
	r.ps = int(meta.PageSize)
	r.rep.PageSize = r.ps
	r.hwm = meta.HighMark
	if r.hwm < 3 {
		r.damage("", 0, nil, nil, "the meta page says the file has %d pages", r.hwm)
	}
	if need := int64(r.hwm) * int64(r.ps); r.size < need {
		r.damage("", 0, nil, nil, "the file is cut short: %d bytes, but its %d pages need %d", r.size, r.hwm, need)
	}
	r.seen[0], r.seen[1] = true, true
	var free map[uint64]bool
	if meta.Freelist != noFreelist {
		free = r.readFreelist(meta.Freelist)
	}
	r.walkBucket("", meta.Root, nil)
	for id := range free {
		if r.seen[id] {
			r.damage("", id, nil, nil, "both free and in use")
		}
	}
	return r.rep, nil
}

// page reads page id and its overflow pages, or says why it cannot.
func (r *reader) page(id uint64) ([]byte, error) {
	if id < 2 || id >= r.hwm {
		return nil, fmt.Errorf("page id out of range [2, %d)", r.hwm)
	}
	off := int64(id) * int64(r.ps)
	if off+int64(r.ps) > r.size {
		return nil, errors.New("lies past the end of the file")
	}
	buf := make([]byte, r.ps)
	if _, err := r.f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	if got := binary.LittleEndian.Uint64(buf); got != id {
		return nil, fmt.Errorf("holds page id %d: overwritten", got)
	}
	overflow := uint64(binary.LittleEndian.Uint32(buf[12:]))
	if overflow == 0 {
		return buf, nil
	}
	if id+overflow >= r.hwm {
		return nil, fmt.Errorf("overflows %d pages, past the last page", overflow)
	}
	if end := off + int64(overflow+1)*int64(r.ps); end > r.size {
		return nil, errors.New("its overflow pages lie past the end of the file")
	}
	big := make([]byte, int(overflow+1)*r.ps)
	copy(big, buf)
	if _, err := r.f.ReadAt(big[r.ps:], off+int64(r.ps)); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	return big, nil
}

// claim marks a page and its overflow as used, saying if one already is.
func (r *reader) claim(id uint64, p []byte) error {
	n := uint64(len(p) / r.ps)
	for i := uint64(0); i < n; i++ {
		if r.seen[id+i] {
			return fmt.Errorf("page %d is used twice", id+i)
		}
	}
	for i := uint64(0); i < n; i++ {
		r.seen[id+i] = true
	}
	return nil
}

func (r *reader) readFreelist(id uint64) map[uint64]bool {
	p, err := r.page(id)
	if err == nil {
		err = r.claim(id, p)
	}
	if err != nil {
		r.damage("", id, nil, nil, "the freelist: %v", err)
		return nil
	}
	if flags := binary.LittleEndian.Uint16(p[8:]); flags != freelistFlag {
		r.damage("", id, nil, nil, "the freelist page has flags %#x, not a freelist's", flags)
		return nil
	}
	count := uint64(binary.LittleEndian.Uint16(p[10:]))
	start := pageHeaderSize
	if count == 0xFFFF {
		count = binary.LittleEndian.Uint64(p[pageHeaderSize:])
		start += 8
	}
	if uint64(start)+count*8 > uint64(len(p)) {
		r.damage("", id, nil, nil, "the freelist claims %d pages, more than its page holds", count)
		return nil
	}
	free := make(map[uint64]bool, count)
	for i := uint64(0); i < count; i++ {
		fid := binary.LittleEndian.Uint64(p[start+int(i)*8:])
		if fid < 2 || fid >= r.hwm {
			r.damage("", id, nil, nil, "the freelist names page %d, out of range [2, %d)", fid, r.hwm)
			return nil
		}
		free[fid] = true
	}
	return free
}

// walkBucket reads the bucket whose root is page root, or whose inline
// page is inline when root is 0.
func (r *reader) walkBucket(name string, root uint64, inline []byte) {
	if name != "" {
		r.rep.Buckets = append(r.rep.Buckets, name)
	}
	if root == 0 {
		r.walkElements(name, 0, inline, nil, nil, 0)
		return
	}
	r.walkPage(name, root, nil, nil, 0)
}

func (r *reader) walkPage(bucket string, id uint64, lo, hi []byte, depth int) {
	if depth > maxDepth {
		r.damage(bucket, id, lo, hi, "the tree is deeper than %d: pages point in a loop", maxDepth)
		return
	}
	p, err := r.page(id)
	if err == nil {
		err = r.claim(id, p)
	}
	if err != nil {
		r.damage(bucket, id, lo, hi, "%v", err)
		return
	}
	r.walkElements(bucket, id, p, lo, hi, depth)
}

// walkElements reads a branch or leaf page p (id 0 for an inline page)
// whose keys must lie in [lo, hi).
func (r *reader) walkElements(bucket string, id uint64, p []byte, lo, hi []byte, depth int) {
	if len(p) < pageHeaderSize {
		r.damage(bucket, id, lo, hi, "an inline bucket cut short")
		return
	}
	flags := binary.LittleEndian.Uint16(p[8:])
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if flags != branchPageFlag && flags != leafPageFlag {
		r.damage(bucket, id, lo, hi, "flags %#x: neither a branch nor a leaf page", flags)
		return
	}
	if pageHeaderSize+count*elementSize > len(p) {
		r.damage(bucket, id, lo, hi, "claims %d elements, more than the page holds", count)
		return
	}
	if flags == branchPageFlag && count == 0 {
		r.damage(bucket, id, lo, hi, "an empty branch page")
		return
	}
	prev := lo
	for i := 0; i < count; i++ {
		at := pageHeaderSize + i*elementSize
		e := p[at : at+elementSize]
		var key, value []byte
		var child uint64
		var elemFlags uint32
		pos := uint64(binary.LittleEndian.Uint32(e[0:]))
		ksize := uint64(binary.LittleEndian.Uint32(e[4:]))
		if flags == branchPageFlag {
			child = binary.LittleEndian.Uint64(e[8:])
			if uint64(at)+pos+ksize > uint64(len(p)) {
				r.damage(bucket, id, prev, hi, "element %d points past the page", i)
				return
			}
			key = p[uint64(at)+pos : uint64(at)+pos+ksize]
		} else {
			elemFlags = binary.LittleEndian.Uint32(e[0:])
			pos = uint64(binary.LittleEndian.Uint32(e[4:]))
			ksize = uint64(binary.LittleEndian.Uint32(e[8:]))
			vsize := uint64(binary.LittleEndian.Uint32(e[12:]))
			start := uint64(at) + pos
			if start+ksize+vsize > uint64(len(p)) || elemFlags&^bucketLeafFlag != 0 {
				r.damage(bucket, id, prev, hi, "element %d points past the page", i)
				return
			}
			key = p[start : start+ksize]
			value = p[start+ksize : start+ksize+vsize]
		}
		if i == 0 && lo != nil && bytes.Compare(key, lo) < 0 || i > 0 && bytes.Compare(key, prev) <= 0 {
			r.damage(bucket, id, prev, hi, "key %x of element %d is out of order", key, i)
			return
		}
		if hi != nil && bytes.Compare(key, hi) >= 0 {
			r.damage(bucket, id, prev, hi, "key %x of element %d is past its parent's range", key, i)
			return
		}
		if flags == branchPageFlag {
			next := hi
			if i+1 < count {
				ne := p[at+elementSize : at+2*elementSize]
				npos := uint64(binary.LittleEndian.Uint32(ne[0:]))
				nksize := uint64(binary.LittleEndian.Uint32(ne[4:]))
				if uint64(at+elementSize)+npos+nksize > uint64(len(p)) {
					r.damage(bucket, id, key, hi, "element %d points past the page", i+1)
					return
				}
				next = p[uint64(at+elementSize)+npos : uint64(at+elementSize)+npos+nksize]
			}
			from := key
			if i == 0 {
				from = lo
			}
			r.walkPage(bucket, child, from, next, depth+1)
		} else if elemFlags&bucketLeafFlag != 0 {
			sub := string(key)
			if bucket != "" {
				sub = bucket + "/" + sub
			}
			if len(value) < bucketHeader {
				r.damage(sub, id, nil, nil, "the bucket's header is cut short")
			} else {
				root := binary.LittleEndian.Uint64(value)
				r.walkBucket(sub, root, value[bucketHeader:])
			}
		} else if r.visit != nil {
			r.visit(bucket, key, value)
		}
		prev = key
	}
}

// Leaf is one key and value found by ScanLeaves.
type Leaf struct {
	Page  uint64
	Key   []byte
	Value []byte
}

// ScanLeaves reads every page of the file that looks like a leaf page,
// reachable or not, and calls fn with its plain (non-bucket) elements. It
// finds what a damaged tree no longer points to, but also stale copies
// left in free pages: the caller decides what to trust. pageSize is the
// file's page size (Report.PageSize); the meta pages need not be valid.
func ScanLeaves(path string, pageSize int, fn func(Leaf)) error {
	if pageSize < minPageSize || pageSize > maxPageSize {
		return fmt.Errorf("page size %d is not possible", pageSize)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, pageSize)
	for id := uint64(2); ; id++ {
		n, err := f.ReadAt(buf, int64(id)*int64(pageSize))
		if n < pageHeaderSize {
			if err == io.EOF || err == nil {
				return nil
			}
			return err
		}
		p := buf[:n]
		if binary.LittleEndian.Uint64(p) != id || binary.LittleEndian.Uint16(p[8:]) != leafPageFlag {
			continue
		}
		if binary.LittleEndian.Uint32(p[12:]) != 0 {
			// A leaf with overflow pages: read them too.
			ov := int(binary.LittleEndian.Uint32(p[12:]))
			if ov > 1<<16 {
				continue
			}
			big := make([]byte, (ov+1)*pageSize)
			m, _ := f.ReadAt(big, int64(id)*int64(pageSize))
			p = big[:m]
		}
		count := int(binary.LittleEndian.Uint16(p[10:]))
		if pageHeaderSize+count*elementSize > len(p) {
			continue
		}
		for i := 0; i < count; i++ {
			at := pageHeaderSize + i*elementSize
			e := p[at : at+elementSize]
			flags := binary.LittleEndian.Uint32(e[0:])
			pos := uint64(binary.LittleEndian.Uint32(e[4:]))
			ksize := uint64(binary.LittleEndian.Uint32(e[8:]))
			vsize := uint64(binary.LittleEndian.Uint32(e[12:]))
			start := uint64(at) + pos
			if flags != 0 || start+ksize+vsize > uint64(len(p)) {
				break
			}
			fn(Leaf{Page: id, Key: p[start : start+ksize], Value: p[start+ksize : start+ksize+vsize]})
		}
	}
}
