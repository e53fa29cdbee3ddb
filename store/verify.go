package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/internal/boltfile"
	"github.com/numerek/numerek/queue"
)

// DamagedError means a data file exists but cannot be used as it is: it
// is empty, cut short, or holds pages that are not what they should be.
// Nothing is started from a damaged file; `queue-server recover` rebuilds
// an office from what can still be read.
type DamagedError struct {
	Path    string
	Problem string
}

func (e *DamagedError) Error() string { return fmt.Sprintf("%s is damaged: %s", e.Path, e.Problem) }

// SeqRange is a range of event seqs, To included; To 0 means "to the end
// of the log, wherever that was".
type SeqRange struct{ From, To uint64 }

func (r SeqRange) String() string {
	switch {
	case r.To == 0:
		return fmt.Sprintf("%d-end", r.From)
	case r.From == r.To:
		return fmt.Sprint(r.From)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// FileReport is what checking a data file found.
type FileReport struct {
	Path string
	// Office is the office the file says it holds (office logs only).
	Office string
	// Events, LastSeq and SnapshotSeq describe an office log: how many
	// events could be read, the newest one's seq and the newest snapshot's.
	Events      int
	LastSeq     uint64
	SnapshotSeq uint64
	// Records counts the keys of a file that is not an office log, by
	// bucket.
	Records map[string]int
	// Damage says what is wrong, one finding a line; empty when the file
	// is sound.
	Damage []string
	// Unreadable are the event seqs that cannot be read (office logs).
	Unreadable []SeqRange
}

// OK reports whether nothing is wrong with the file.
func (r *FileReport) OK() bool { return len(r.Damage) == 0 }

// Err is a DamagedError for a damaged file, nil for a sound one.
func (r *FileReport) Err() error {
	if r.OK() {
		return nil
	}
	d := r.Damage
	if len(d) > 5 {
		d = append(d[:5:5], fmt.Sprintf("and %d more", len(r.Damage)-5))
	}
	return &DamagedError{Path: r.Path, Problem: strings.Join(d, "; ")}
}

// maxFindings bounds how much damage one report lists.
const maxFindings = 50

func (r *FileReport) damage(format string, args ...any) {
	if len(r.Damage) < maxFindings {
		r.Damage = append(r.Damage, fmt.Sprintf(format, args...))
	}
}

// addBoltDamage turns what boltfile found into findings, and damage in
// the events bucket into unreadable seq ranges.
func (r *FileReport) addBoltDamage(rep *boltfile.Report) {
	for _, d := range rep.Damage {
		where := ""
		if d.Bucket != "" {
			where = fmt.Sprintf("bucket %q: ", d.Bucket)
		}
		r.damage("%s%s", where, d)
		if d.Bucket == string(bucketEvents) {
			rg := SeqRange{From: 1}
			if len(d.From) == 8 {
				rg.From = binary.BigEndian.Uint64(d.From)
			}
			if len(d.To) == 8 {
				rg.To = binary.BigEndian.Uint64(d.To) - 1
			}
			r.Unreadable = append(r.Unreadable, rg)
		}
	}
}

// CheckOfficeFile reads the whole office log at path without trusting it
// (every page, every event, every snapshot) and says what it finds. It
// does not take the file's lock: check a file no server is writing, or a
// backup copy. An error means the file could not be read at all (it does
// not exist, or cannot be opened); damage is in the report.
func CheckOfficeFile(path string) (*FileReport, error) { return checkOfficeFile(path, true) }

// checkOfficeFileQuick is what start-up runs: every page, the order and
// the continuity of the seqs, but not the decoding of every event (seconds
// for a long history). Load decodes the events after the snapshot it
// starts from, and says which file and event if one cannot be read.
func checkOfficeFileQuick(path string) (*FileReport, error) { return checkOfficeFile(path, false) }

func checkOfficeFile(path string, decodeAll bool) (*FileReport, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	r := &FileReport{Path: path}
	var next uint64 = 1
	rep, err := boltfile.Read(path, func(bucket string, k, v []byte) {
		switch bucket {
		case string(bucketEvents):
			if len(k) != 8 {
				r.damage("an event under a key of %d bytes", len(k))
				return
			}
			seq := binary.BigEndian.Uint64(k)
			var e queue.Event
			if !decodeAll {
				if len(v) < 2 || v[0] != '{' || v[len(v)-1] != '}' {
					r.damage("event %d is not an event", seq)
					r.Unreadable = append(r.Unreadable, SeqRange{seq, seq})
				} else {
					r.Events++
				}
			} else if err := json.Unmarshal(v, &e); err != nil {
				r.damage("event %d cannot be read: %v", seq, err)
				r.Unreadable = append(r.Unreadable, SeqRange{seq, seq})
			} else if e.Seq != seq {
				r.damage("event %d is stored under seq %d", e.Seq, seq)
				r.Unreadable = append(r.Unreadable, SeqRange{seq, seq})
			} else {
				r.Events++
			}
			if seq > next {
				r.damage("events %s are missing", SeqRange{next, seq - 1})
			}
			next = max(next, seq+1)
			r.LastSeq = max(r.LastSeq, seq)
		case string(bucketSnapshots):
			var s struct {
				Seq *uint64 `json:"seq"`
			}
			if len(k) != 8 {
				r.damage("a snapshot under a key of %d bytes", len(k))
			} else if err := json.Unmarshal(v, &s); err != nil || s.Seq == nil || *s.Seq != binary.BigEndian.Uint64(k) {
				r.damage("the snapshot at seq %d cannot be read", binary.BigEndian.Uint64(k))
			} else {
				r.SnapshotSeq = max(r.SnapshotSeq, *s.Seq)
			}
		case string(bucketMeta):
			if string(k) == string(keyOffice) {
				r.Office = string(v)
			}
		}
	})
	if err != nil {
		if errors.Is(err, boltfile.ErrNotBolt) {
			r.damage("%s", strings.TrimPrefix(err.Error(), boltfile.ErrNotBolt.Error()+": "))
			return r, nil
		}
		return nil, fmt.Errorf("checking %s: %w", path, err)
	}
	r.addBoltDamage(rep)
	if rep.OK() {
		// Only a sound tree can say a bucket is missing rather than lost.
		buckets := map[string]bool{}
		for _, b := range rep.Buckets {
			buckets[b] = true
		}
		for _, b := range [][]byte{bucketEvents, bucketSnapshots, bucketMeta} {
			if !buckets[string(b)] {
				r.damage("it has no %q bucket: not an office log", b)
			}
		}
		if r.Office == "" && buckets[string(bucketMeta)] {
			r.damage("it does not say which office it holds")
		}
	}
	if r.SnapshotSeq > r.LastSeq && r.OK() {
		r.damage("its snapshot is at seq %d but its log ends at %d", r.SnapshotSeq, r.LastSeq)
	}
	return r, nil
}

// CheckFile reads any Numerek bbolt file (the web data, the tokens)
// without trusting it and counts its keys by bucket.
func CheckFile(path string) (*FileReport, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	r := &FileReport{Path: path, Records: map[string]int{}}
	rep, err := boltfile.Read(path, func(bucket string, k, v []byte) { r.Records[bucket]++ })
	if err != nil {
		if errors.Is(err, boltfile.ErrNotBolt) {
			r.damage("%s", strings.TrimPrefix(err.Error(), boltfile.ErrNotBolt.Error()+": "))
			return r, nil
		}
		return nil, fmt.Errorf("checking %s: %w", path, err)
	}
	r.addBoltDamage(rep)
	return r, nil
}

// guard runs fn, turning a panic or a memory fault inside bbolt (which
// maps the file and follows its offsets) into a DamagedError naming the
// file, so no data file can crash the process.
func guard(path, doing string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if r := recover(); r != nil {
			err = &DamagedError{Path: path, Problem: fmt.Sprintf("bbolt failed %s it: %v", doing, r)}
		}
	}()
	return fn()
}

// openChecked opens an existing bbolt file only after checking it: under
// bbolt's own lock (so no writer is half way through), check reads the
// whole file with plain reads; then bbolt opens it, guarded, and runs its
// own consistency check.
func openChecked(path string, opts *bolt.Options, check func(string) (*FileReport, error)) (*bolt.DB, error) {
	release, err := holdLock(path, !opts.ReadOnly, opts.Timeout)
	if err != nil {
		return nil, err
	}
	rep, err := check(path)
	release()
	if err != nil {
		return nil, err
	}
	if err := rep.Err(); err != nil {
		return nil, err
	}
	var db *bolt.DB
	err = guard(path, "opening", func() error {
		var err error
		if db, err = openBolt(path, opts); err != nil {
			return err
		}
		return db.View(func(tx *bolt.Tx) error {
			var found []string
			for err := range tx.Check() {
				found = append(found, err.Error())
			}
			if len(found) > 0 {
				return &DamagedError{Path: path, Problem: "bbolt's consistency check: " + strings.Join(found[:min(len(found), 5)], "; ")}
			}
			return nil
		})
	})
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, err
	}
	return db, nil
}

// createAtomically makes a new bbolt file at path, set up by init, so that
// path either does not exist or holds a complete file: a file that exists
// but is empty or short is then always damage, never "new".
func createAtomically(path string, opts *bolt.Options, init func(*bolt.Tx) error) error {
	tmp := path + ".new"
	// A .new file is one a crash left before it was put in place: nothing
	// was ever written through it.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	db, err := openBolt(tmp, opts)
	if err != nil {
		return err
	}
	if err := db.Update(init); err != nil {
		db.Close()
		os.Remove(tmp)
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// syncDir makes a rename in dir survive a power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// openOrCreate opens the bbolt file at path after checking it, creating an
// empty one first if there is no file (and opts is not read-only).
func openOrCreate(path string, opts *bolt.Options) (*bolt.DB, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !opts.ReadOnly {
		if err := createAtomically(path, opts, func(*bolt.Tx) error { return nil }); err != nil {
			return nil, err
		}
	}
	return openChecked(path, opts, CheckFile)
}

// CheckUnlocked runs check on the file at path while holding bbolt's
// shared lock, so no writer is half way through a transaction; ErrLocked
// if a process (a running server) holds the file.
func CheckUnlocked(path string, check func(string) (*FileReport, error)) (*FileReport, error) {
	release, err := holdLock(path, false, time.Second)
	if err != nil {
		return nil, err
	}
	defer release()
	return check(path)
}
