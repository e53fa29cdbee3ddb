package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/queue"
)

var (
	bucketEvents    = []byte("events")
	bucketSnapshots = []byte("snapshots")
	bucketMeta      = []byte("meta")
	keyOffice       = []byte("office")
)

// snapshotsKept is how many snapshots stay on disk; older ones go.
const snapshotsKept = 2

// OfficeLog is one office's event log and snapshots in a bbolt file.
type OfficeLog struct {
	db     *bolt.DB
	office string
	path   string
}

// ErrLocked means another process holds the file.
var ErrLocked = errors.New("the data file is in use by another process")

// OpenOfficeLog opens the log of office at path, creating it if there is
// no file. A log belongs to one office: opening it for another is an
// error. A file that exists is read through before it is used: if any of
// it is damaged (emptied, cut short, pages overwritten) OpenOfficeLog
// returns a *DamagedError naming the file and what is wrong, so an office
// never starts from nothing, or from part of its day, and hands out
// numbers already given.
func OpenOfficeLog(path, office string) (*OfficeLog, error) {
	opts := &bolt.Options{Timeout: 2 * time.Second, FreelistType: bolt.FreelistMapType}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		err := createAtomically(path, opts, func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketEvents, bucketSnapshots, bucketMeta} {
				if _, err := tx.CreateBucket(b); err != nil {
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put(keyOffice, []byte(office))
		})
		if err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db, err := openChecked(path, opts, checkOfficeFileQuick)
	if err != nil {
		return nil, err
	}
	err = db.View(func(tx *bolt.Tx) error {
		// CheckOfficeFile found the buckets and the office's name.
		if got := tx.Bucket(bucketMeta).Get(keyOffice); string(got) != office {
			return fmt.Errorf("the file holds office %q, not %q", got, office)
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return &OfficeLog{db: db, office: office, path: path}, nil
}

// Close closes the file.
func (l *OfficeLog) Close() error { return l.db.Close() }

func seqKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// Append writes events in one transaction and returns once they are synced
// to disk. Their seqs must continue the log without a gap.
func (l *OfficeLog) Append(events []queue.Event) error {
	if len(events) == 0 {
		return nil
	}
	return l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		var last uint64
		if k, _ := b.Cursor().Last(); k != nil {
			last = binary.BigEndian.Uint64(k)
		}
		for _, e := range events {
			if e.Seq != last+1 {
				return fmt.Errorf("appending event %d after %d to %s: seq out of order", e.Seq, last, l.office)
			}
			data, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("encoding event %d: %w", e.Seq, err)
			}
			if err := b.Put(seqKey(e.Seq), data); err != nil {
				return fmt.Errorf("writing event %d: %w", e.Seq, err)
			}
			last = e.Seq
		}
		return nil
	})
}

// LastSeq is the seq of the newest event, 0 for an empty log.
func (l *OfficeLog) LastSeq() (uint64, error) {
	var last uint64
	err := l.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketEvents).Cursor().Last(); k != nil {
			last = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return last, err
}

// Events returns up to limit events with seq > after, in order (limit <= 0:
// all).
func (l *OfficeLog) Events(after uint64, limit int) ([]queue.Event, error) {
	var out []queue.Event
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			var e queue.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("reading event %d of %s: %w", binary.BigEndian.Uint64(k), l.office, err)
			}
			out = append(out, e)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// Scan calls fn with every event in order from seq > after until fn returns
// false; for statistics over long histories without holding them all.
func (l *OfficeLog) Scan(after uint64, fn func(queue.Event) bool) error {
	return l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			var e queue.Event
			if err := json.Unmarshal(v, &e); err != nil {
				return &DamagedError{Path: l.path, Problem: fmt.Sprintf("event %d of office %s cannot be read: %v", binary.BigEndian.Uint64(k), l.office, err)}
			}
			if seq := binary.BigEndian.Uint64(k); e.Seq != seq {
				return &DamagedError{Path: l.path, Problem: fmt.Sprintf("event %d of office %s is stored under seq %d", e.Seq, l.office, seq)}
			}
			if !fn(e) {
				return nil
			}
		}
		return nil
	})
}

// SaveSnapshot stores the state (at its seq) and drops older snapshots.
func (l *OfficeLog) SaveSnapshot(s *queue.State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding snapshot of %s: %w", l.office, err)
	}
	return l.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSnapshots)
		if err := b.Put(seqKey(s.Seq), data); err != nil {
			return err
		}
		var keys [][]byte
		c := b.Cursor()
		for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys[min(len(keys), snapshotsKept):] {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// NewestSnapshot is the newest snapshot as stored (queue.State's JSON)
// and its seq; 0 and nil when there is none. For copying a log
// elsewhere (queue-server migrate) without decoding it.
func (l *OfficeLog) NewestSnapshot() (uint64, []byte, error) {
	var seq uint64
	var data []byte
	err := l.db.View(func(tx *bolt.Tx) error {
		if k, v := tx.Bucket(bucketSnapshots).Cursor().Last(); k != nil {
			seq, data = binary.BigEndian.Uint64(k), append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("reading the newest snapshot of %s: %w", l.office, err)
	}
	return seq, data, nil
}

// Load rebuilds the office's state: the newest snapshot, then the events
// after it. A snapshot that cannot be read is skipped for an older one or
// for the whole log, so a bad snapshot never loses acknowledged events.
func (l *OfficeLog) Load(o *queue.Office) (*queue.State, error) {
	var snaps [][]byte
	err := l.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSnapshots).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			snaps = append(snaps, append([]byte(nil), v...))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s, err := Fold(o, snaps, l.Scan)
	var nf *NotFoldingError
	if errors.As(err, &nf) {
		return nil, &DamagedError{Path: l.path, Problem: fmt.Sprintf("the log of office %s does not fold: %v", l.office, nf.Err)}
	}
	return s, err
}

// NotFoldingError is Fold's when the whole log, from its first event,
// does not fold.
type NotFoldingError struct{ Err error }

func (e *NotFoldingError) Error() string { return "the log does not fold: " + e.Err.Error() }

// Fold rebuilds an office's state from its snapshots, newest first (each
// queue.State's JSON as SaveSnapshot stores it), and scan, which reads
// the log's events after a seq: the newest snapshot that decodes and
// folds with the events after it, else the whole log. A bad snapshot is
// skipped, never trusted over the log, so it never loses acknowledged
// events. Both bbolt's log and PostgreSQL's (store/pgstore) load by it.
func Fold(o *queue.Office, snapshots [][]byte, scan func(after uint64, fn func(queue.Event) bool) error) (*queue.State, error) {
	for _, data := range append(snapshots, nil) {
		s := queue.NewState(o)
		if data != nil {
			if err := json.Unmarshal(data, s); err != nil {
				continue
			}
			s.Restore(o)
		}
		var foldErr error
		if err := scan(s.Seq, func(e queue.Event) bool {
			foldErr = s.Apply(e)
			return foldErr == nil
		}); err != nil {
			return nil, err
		}
		if foldErr == nil {
			return s, nil
		}
		if data == nil {
			return nil, &NotFoldingError{Err: foldErr}
		}
	}
	panic("unreachable: the whole log is tried last")
}
