package store

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numerek/numerek/internal/boltfile"
	"github.com/numerek/numerek/queue"
)

// writeLog makes an office log holding a busy day (a snapshot half way)
// and returns its path and the state it holds.
func writeLog(t *testing.T, o *queue.Office) (string, *queue.State) {
	t.Helper()
	want, log := busyDay(t, o)
	path := filepath.Join(t.TempDir(), o.ID+".db")
	l, err := OpenOfficeLog(path, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(log); i += 7 {
		if err := l.Append(log[i:min(i+7, len(log))]); err != nil {
			t.Fatal(err)
		}
		if i == 140 {
			half := queue.NewState(o)
			if err := half.ApplyAll(log[:i+7]); err != nil {
				t.Fatal(err)
			}
			if err := l.SaveSnapshot(half); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path, want
}

// Damage is done to a file the way disks, copies and people do it.
type damage func(t *testing.T, path string, r *rand.Rand)

func truncateTo(frac float64) damage {
	return func(t *testing.T, path string, _ *rand.Rand) {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, int64(float64(info.Size())*frac)); err != nil {
			t.Fatal(err)
		}
	}
}

func truncateBytes(n int64) damage {
	return func(t *testing.T, path string, _ *rand.Rand) {
		if err := os.Truncate(path, n); err != nil {
			t.Fatal(err)
		}
	}
}

// overwritePages fills n pages in use (not the meta pages) with garbage.
func overwritePages(n int, zero bool) damage {
	return func(t *testing.T, path string, r *rand.Rand) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		pages := usedPages(t, path)
		for i := 0; i < n && len(pages) > 0; i++ {
			k := r.IntN(len(pages))
			p := pages[k]
			pages = append(pages[:k], pages[k+1:]...)
			page := data[p*4096 : (p+1)*4096]
			for j := range page {
				if zero {
					page[j] = 0
				} else {
					page[j] = byte(r.Uint32())
				}
			}
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// usedPages lists the data pages the tree uses (branch and leaf pages).
func usedPages(t *testing.T, path string) []int {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for p := 2; (p+1)*4096 <= len(data); p++ {
		if f := data[p*4096+8]; f == 0x01 || f == 0x02 {
			out = append(out, p)
		}
	}
	return out
}

func zeroMeta(pages ...int) damage {
	return func(t *testing.T, path string, _ *rand.Rand) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range pages {
			if _, err := f.WriteAt(make([]byte, 4096), int64(p)*4096); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// flipMetaByte changes one byte of a meta page's content, as a bad sector
// would, leaving its checksum wrong.
func flipMetaByte(page int) damage {
	return func(t *testing.T, path string, _ *rand.Rand) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, 1)
		off := int64(page)*4096 + 16 + 40 // the high water mark
		if _, err := f.ReadAt(b, off); err != nil {
			t.Fatal(err)
		}
		b[0] ^= 0x40
		if _, err := f.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDamagedOfficeLogStopsOpen(t *testing.T) {
	o := exampleOffice(t)
	tests := []struct {
		name   string
		damage damage
		says   string
	}{
		{"emptied", truncateBytes(0), "the file is empty (0 bytes)"},
		{"cut to 100 bytes", truncateBytes(100), "cut short"},
		{"cut to one page", truncateBytes(4096), "cut short"},
		{"cut to 50 bytes", truncateBytes(50), "both meta pages are broken"},
		{"cut to two pages", truncateBytes(8192), "cut short"},
		{"cut in half", truncateTo(0.5), "cut short"},
		{"last page cut by one byte", func(t *testing.T, path string, r *rand.Rand) {
			rep, err := boltfile.Read(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			truncateBytes(int64(rep.Meta.HighMark)*int64(rep.PageSize)-1)(t, path, r)
		}, "cut short"},
		{"one page overwritten", overwritePages(1, false), "page"},
		{"three pages overwritten", overwritePages(3, false), "page"},
		{"a page zeroed", overwritePages(1, true), "page"},
		{"meta page 0 zeroed", zeroMeta(0), "meta page 0 is broken"},
		{"meta page 1 zeroed", zeroMeta(1), "meta page 1 is broken"},
		{"both meta pages zeroed", zeroMeta(0, 1), "both meta pages are broken"},
		{"a meta byte flipped", flipMetaByte(1), "checksum does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := writeLog(t, o)
			tt.damage(t, path, rand.New(rand.NewPCG(1, 2)))
			l, err := OpenOfficeLog(path, o.ID)
			if err == nil {
				l.Close()
				t.Fatalf("a damaged log opened")
			}
			var de *DamagedError
			if !errors.As(err, &de) || de.Path != path {
				t.Fatalf("error %v (%T), want a DamagedError naming %s", err, err, path)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q, want it to name the file and say %q", err, tt.says)
			}
			if _, statErr := os.Stat(path + ".new"); statErr == nil {
				t.Errorf("opening a damaged log started a new file")
			}
			rep, err := CheckOfficeFile(path)
			if err != nil || rep.OK() {
				t.Errorf("CheckOfficeFile: %+v, %v; want damage found", rep, err)
			}
		})
	}
}

// TestRandomDamageNeverCrashes overwrites random stretches of a log many
// times: opening it must never panic or fault, and if it opens, it must
// hold every event it held before.
func TestRandomDamageNeverCrashes(t *testing.T) {
	o := exampleOffice(t)
	clean, want := writeLog(t, o)
	orig, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	rounds := 300
	if testing.Short() {
		rounds = 40
	}
	r := rand.New(rand.NewPCG(7, 9))
	path := filepath.Join(t.TempDir(), "o.db")
	opened, changed := 0, 0
	for i := 0; i < rounds; i++ {
		data := append([]byte(nil), orig...)
		for n := 1 + r.IntN(3); n > 0; n-- {
			off := r.IntN(len(data))
			size := 1 + r.IntN(4096)
			if r.IntN(3) == 0 {
				size = 1 + r.IntN(16) // a few bytes: offsets and counts
			}
			for j := off; j < min(off+size, len(data)); j++ {
				data[j] = byte(r.Uint32())
			}
		}
		if r.IntN(4) == 0 {
			data = data[:r.IntN(len(data))]
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := CheckOfficeFile(path); err != nil {
			t.Fatalf("round %d: check: %v", i, err)
		}
		l, err := OpenOfficeLog(path, o.ID)
		if err != nil {
			var de *DamagedError
			if !errors.As(err, &de) && !strings.Contains(err.Error(), path) {
				t.Fatalf("round %d: error %v does not name the file", i, err)
			}
			continue
		}
		s, err := l.Load(o)
		l.Close()
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("round %d: load error %v does not name the file", i, err)
			}
			continue
		}
		opened++
		// bbolt keeps no checksums of values: bytes changed inside a
		// stored string can still read as valid JSON. What must hold is
		// that no event is lost, so no number is handed out again.
		if s.Seq != want.Seq {
			t.Fatalf("round %d: a damaged log opened at seq %d, want %d", i, s.Seq, want.Seq)
		}
		if stateJSON(t, s) != stateJSON(t, want) {
			changed++
		}
	}
	t.Logf("%d of %d damaged copies opened (damage in unused bytes or inside stored text; %d with changed values), none lost an event", opened, rounds, changed)
}

func TestNewLogIsCreatedWholeOrNotAtAll(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "o.db")
	// A crash while creating the file leaves the .new file, never an empty
	// office file.
	if err := os.WriteFile(path+".new", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenOfficeLog(path, "o")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := os.Stat(path + ".new"); err == nil {
		t.Errorf("the .new file stayed")
	}
	rep, err := CheckOfficeFile(path)
	if err != nil || !rep.OK() || rep.Office != "o" || rep.Events != 0 {
		t.Errorf("a new log checks as %+v, %v", rep, err)
	}
}

func TestDamagedWebAndTokenFiles(t *testing.T) {
	dir := t.TempDir()
	web := filepath.Join(dir, "web.db")
	db, err := OpenWebDB(web)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	tokens := NewTokenStore(filepath.Join(dir, "tokens.db"))
	secret, _, err := tokens.Create(Token{Office: "o", Role: "hall"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{web, tokens.Path()} {
		if err := os.Truncate(p, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := OpenWebDB(web); err == nil || !strings.Contains(err.Error(), web+" is damaged") {
		t.Errorf("an emptied web.db: %v", err)
	}
	if _, _, err := tokens.Lookup(secret); err == nil || !strings.Contains(err.Error(), tokens.Path()+" is damaged") {
		t.Errorf("an emptied tokens.db: %v", err)
	}
}
