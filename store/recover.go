package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/numerek/numerek/internal/boltfile"
	"github.com/numerek/numerek/queue"
)

// salvage is what can still be read of an office log, damaged or not.
type salvage struct {
	office string
	events map[uint64]queue.Event
	report *FileReport
	// loose counts the events read from pages the damaged tree no longer
	// points to.
	loose int
}

// salvageOfficeFile reads every event it can from the file at path: first
// through the tree, then, if the tree is damaged, from any page that still
// looks like a page of events. A seq found twice in loose pages (a stale
// copy of an unfinished transaction and the one written after it) keeps
// the later event.
func salvageOfficeFile(path string) (*salvage, error) {
	rep, err := CheckOfficeFile(path)
	if err != nil {
		return nil, err
	}
	s := &salvage{events: map[uint64]queue.Event{}, report: rep, office: rep.Office}
	take := func(k, v []byte) (uint64, queue.Event, bool) {
		if len(k) != 8 {
			return 0, queue.Event{}, false
		}
		var e queue.Event
		seq := binary.BigEndian.Uint64(k)
		if json.Unmarshal(v, &e) != nil || e.Seq != seq || e.Body == nil {
			return 0, queue.Event{}, false
		}
		return seq, e, true
	}
	pageSize := 4096
	br, err := boltfile.Read(path, func(bucket string, k, v []byte) {
		if bucket != string(bucketEvents) {
			return
		}
		if seq, e, ok := take(k, v); ok {
			s.events[seq] = e
		}
	})
	if err == nil {
		pageSize = br.PageSize
	}
	if rep.OK() {
		return s, nil
	}
	loose := map[uint64]queue.Event{}
	err = boltfile.ScanLeaves(path, pageSize, func(l boltfile.Leaf) {
		seq, e, ok := take(l.Key, l.Value)
		if !ok {
			return
		}
		if _, inTree := s.events[seq]; inTree {
			return
		}
		if prev, dup := loose[seq]; !dup || e.At.After(prev.At) {
			loose[seq] = e
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s page by page: %w", path, err)
	}
	for seq, e := range loose {
		s.events[seq] = e
	}
	s.loose = len(loose)
	return s, nil
}

// RecoverOptions say what to rebuild an office from.
type RecoverOptions struct {
	// Path is the office's file, damaged or missing.
	Path   string
	Office *queue.Office
	// Backup is a backup copy of the office's file to start from; "" for
	// none. The events of the damaged file after the backup's are added.
	Backup string
	// AllowEmpty lets the rebuilt office start with no events at all;
	// without it recovering nothing is an error.
	AllowEmpty bool
	// Now stamps the name the damaged file is kept under.
	Now time.Time
}

// Recovery says what Recover did and what was lost.
type Recovery struct {
	// KeptAs is where the damaged file now is; "" if there was none.
	KeptAs string
	// BackupSeq is the last event taken from the backup (0: none).
	BackupSeq uint64
	// FromFile are the events taken from the damaged file.
	FromFile SeqRange
	// LastSeq is the rebuilt log's last event.
	LastSeq uint64
	// FileLastSeq is the newest event found in the damaged file.
	FileLastSeq uint64
	// Lost are the seqs after LastSeq the damaged file once held but
	// that could not be read or replayed (To 0: its end is unknown).
	Lost []SeqRange
	// Dropped are events that could be read but come after lost ones, so
	// they could not be replayed; DroppedTickets are the numbers they
	// issued, for the office to know which numbers were already given.
	Dropped        []SeqRange
	DroppedTickets []string
	// Loose counts events read from pages the damaged tree no longer
	// pointed to.
	Loose int
	// Stopped says why replaying stopped before the readable events ran
	// out, if it did.
	Stopped string
	// Damage is what checking the damaged file found.
	Damage []string
	// Day is the office day the rebuilt log ends in.
	Day string
}

// Recover rebuilds an office's log from a backup copy (if given) and the
// events that can still be read from its damaged file, into a new file put
// in the damaged one's place. The damaged file is kept beside it, renamed,
// never deleted. Every event is replayed through the office's rules, so
// the new log is one the server can load.
func Recover(opts RecoverOptions) (*Recovery, error) {
	rec := &Recovery{}
	exists := true
	if _, err := os.Stat(opts.Path); IsNotExist(err) {
		exists = false
	} else if err != nil {
		return nil, err
	}
	if exists {
		release, err := holdLock(opts.Path, true, time.Second)
		if err != nil {
			return nil, fmt.Errorf("%w: stop the server before recovering", err)
		}
		defer release()
	}
	var backup *salvage
	if opts.Backup != "" {
		b, err := salvageOfficeFile(opts.Backup)
		if err != nil {
			return nil, fmt.Errorf("reading the backup: %w", err)
		}
		if err := b.report.Err(); err != nil {
			return nil, fmt.Errorf("the backup cannot be used: %w", err)
		}
		if b.office != opts.Office.ID {
			return nil, fmt.Errorf("the backup %s holds office %q, not %q", opts.Backup, b.office, opts.Office.ID)
		}
		backup = b
	}
	damaged := &salvage{events: map[uint64]queue.Event{}, report: &FileReport{}}
	if exists {
		d, err := salvageOfficeFile(opts.Path)
		if err != nil {
			return nil, err
		}
		if d.office != "" && d.office != opts.Office.ID {
			return nil, fmt.Errorf("%s holds office %q, not %q", opts.Path, d.office, opts.Office.ID)
		}
		damaged = d
		rec.Damage = d.report.Damage
		rec.Loose = d.loose
	}
	for seq := range damaged.events {
		rec.FileLastSeq = max(rec.FileLastSeq, seq)
	}

	// Replay: the backup's events, then the damaged file's that follow on.
	state := queue.NewState(opts.Office)
	var log []queue.Event
	for next := uint64(1); ; next++ {
		e, ok := queue.Event{}, false
		if backup != nil {
			if e, ok = backup.events[next]; ok {
				rec.BackupSeq = next
			}
		}
		if !ok {
			if e, ok = damaged.events[next]; ok {
				if rec.FromFile.From == 0 {
					rec.FromFile.From = next
				}
				rec.FromFile.To = next
			}
		}
		if !ok {
			break
		}
		if err := state.Apply(e); err != nil {
			rec.Stopped = fmt.Sprintf("event %d does not follow the ones before it: %v", next, err)
			if rec.FromFile.To == next {
				rec.FromFile.To--
			}
			break
		}
		log = append(log, e)
	}
	rec.LastSeq = state.Seq
	rec.Day = state.Day
	if rec.FromFile.To < rec.FromFile.From {
		rec.FromFile = SeqRange{}
	}

	// What the damaged file held after the rebuilt log's end.
	var after []uint64
	for seq := range damaged.events {
		if seq > rec.LastSeq {
			after = append(after, seq)
		}
	}
	slices.Sort(after)
	rec.Dropped = ranges(after)
	for _, seq := range after {
		if ti, ok := damaged.events[seq].Body.(queue.TicketIssued); ok {
			rec.DroppedTickets = append(rec.DroppedTickets, ti.Ticket.Number)
		}
	}
	var lost []SeqRange
	prev := rec.LastSeq
	for _, seq := range after {
		if seq > prev+1 {
			lost = append(lost, SeqRange{prev + 1, seq - 1})
		}
		prev = seq
	}
	if !damaged.report.OK() {
		// The tail past the last readable event may have held more.
		lost = append(lost, SeqRange{From: prev + 1})
	}
	rec.Lost = lost
	if len(log) == 0 && !opts.AllowEmpty {
		return nil, errors.New("no event could be read: the office would start from nothing and hand out numbers already given; give a backup, or --allow-empty to start it empty anyway")
	}

	// The new log, written beside the damaged one and then put in its place.
	tmp := opts.Path + ".recovered"
	if err := os.Remove(tmp); err != nil && !IsNotExist(err) {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(opts.Path), 0o700); err != nil {
		return nil, err
	}
	l, err := OpenOfficeLog(tmp, opts.Office.ID)
	if err != nil {
		return nil, err
	}
	for i := 0; i < len(log); i += 500 {
		if err := l.Append(log[i:min(i+500, len(log))]); err != nil {
			l.Close()
			return nil, fmt.Errorf("writing the rebuilt log: %w", err)
		}
	}
	if len(log) > 0 {
		if err := l.SaveSnapshot(state); err != nil {
			l.Close()
			return nil, fmt.Errorf("writing the rebuilt log: %w", err)
		}
	}
	if err := l.Close(); err != nil {
		return nil, err
	}
	if rep, err := CheckOfficeFile(tmp); err != nil || !rep.OK() {
		return nil, fmt.Errorf("the rebuilt log %s does not check: %v %v", tmp, err, rep.Err())
	}
	if exists {
		rec.KeptAs = fmt.Sprintf("%s.damaged-%s", opts.Path, opts.Now.Format("20060102T150405"))
		if err := os.Rename(opts.Path, rec.KeptAs); err != nil {
			return nil, fmt.Errorf("keeping the damaged file: %w", err)
		}
	}
	if err := os.Rename(tmp, opts.Path); err != nil {
		return nil, fmt.Errorf("putting the rebuilt log in place: %w", err)
	}
	return rec, syncDir(filepath.Dir(opts.Path))
}

// ranges compresses sorted seqs into ranges.
func ranges(seqs []uint64) []SeqRange {
	var out []SeqRange
	for _, s := range seqs {
		if n := len(out); n > 0 && out[n-1].To+1 == s {
			out[n-1].To = s
			continue
		}
		out = append(out, SeqRange{s, s})
	}
	return out
}
