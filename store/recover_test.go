package store

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

// eventPages are the leaf pages holding events.
func eventPages(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, p := range usedPages(t, path) {
		page := data[p*4096 : (p+1)*4096]
		if page[8] == 0x02 && len(page) > 100 && bytes.Contains(page, []byte(`{"seq":`)) {
			out = append(out, p)
		}
	}
	return out
}

func loadFile(t *testing.T, path string, o *queue.Office) *queue.State {
	t.Helper()
	l, err := OpenOfficeLog(path, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := l.Load(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRecover(t *testing.T) {
	o := exampleOffice(t)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	t.Run("a page in the middle lost, no backup", func(t *testing.T) {
		path, want := writeLog(t, o)
		pages := eventPages(t, path)
		if len(pages) < 3 {
			t.Fatalf("only %d event pages", len(pages))
		}
		overwritePagesAt(t, path, pages[len(pages)/2])
		rec, err := Recover(RecoverOptions{Path: path, Office: o, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if rec.LastSeq == 0 || rec.LastSeq >= want.Seq || len(rec.Lost) == 0 || len(rec.Dropped) == 0 {
			t.Errorf("recovery %+v: want events up to the lost page kept, the rest reported", rec)
		}
		if _, err := os.Stat(rec.KeptAs); err != nil {
			t.Errorf("the damaged file was not kept: %v", err)
		}
		if got := loadFile(t, path, o); got.Seq != rec.LastSeq {
			t.Errorf("the rebuilt office is at seq %d, the report says %d", got.Seq, rec.LastSeq)
		}
	})
	t.Run("a backup covers the lost page", func(t *testing.T) {
		path, want := writeLog(t, o)
		backup := filepath.Join(t.TempDir(), "backup.db")
		l, err := OpenOfficeLog(path, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteFileAtomically(backup, l.WriteBackup); err != nil {
			t.Fatal(err)
		}
		l.Close()
		overwritePagesAt(t, path, eventPages(t, path)[0])
		rec, err := Recover(RecoverOptions{Path: path, Office: o, Backup: backup, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if rec.LastSeq != want.Seq || rec.BackupSeq != want.Seq {
			t.Errorf("recovery %+v: want every event back from the backup", rec)
		}
		if stateJSON(t, loadFile(t, path, o)) != stateJSON(t, want) {
			t.Errorf("the rebuilt office differs from the one before the damage")
		}
	})
	t.Run("an emptied file without a backup is refused", func(t *testing.T) {
		path, _ := writeLog(t, o)
		os.Truncate(path, 0)
		if _, err := Recover(RecoverOptions{Path: path, Office: o, Now: now}); err == nil {
			t.Errorf("recovered an office from nothing")
		}
		if info, err := os.Stat(path); err != nil || info.Size() != 0 {
			t.Errorf("a refused recovery touched the file: %v", err)
		}
	})
	t.Run("only the meta page broken", func(t *testing.T) {
		path, want := writeLog(t, o)
		zeroMeta(0)(t, path, rand.New(rand.NewPCG(1, 1)))
		rec, err := Recover(RecoverOptions{Path: path, Office: o, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if rec.LastSeq != want.Seq {
			t.Errorf("recovered up to %d, want %d", rec.LastSeq, want.Seq)
		}
	})
}

func overwritePagesAt(t *testing.T, path string, pages ...int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range pages {
		b := make([]byte, 4096)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if _, err := f.WriteAt(b, int64(p)*4096); err != nil {
			t.Fatal(err)
		}
	}
}
