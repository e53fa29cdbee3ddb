package store

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	bolt "go.etcd.io/bbolt"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
)

func exampleOffice(t testing.TB) *queue.Office {
	t.Helper()
	cfg, err := officeconfig.Load("../examples/offices/starachowice.toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Offices[0]
}

// busyDay runs a few hundred commands and returns the state and its log.
func busyDay(t testing.TB, o *queue.Office) (*queue.State, []queue.Event) {
	t.Helper()
	s := queue.NewState(o)
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, o.Location)
	var log []queue.Event
	run := func(c queue.Command) {
		events, _, err := s.Execute(now, "test", c)
		log = append(log, events...)
		if err != nil {
			var qe *queue.Error
			if !errors.As(err, &qe) {
				t.Fatal(err)
			}
		}
	}
	for n := 1; n <= 6; n++ {
		run(queue.SetCounter{Counter: n, Status: queue.CounterOpenStatus})
	}
	services := []string{"family", "maintenance", "child800", "good-start", "care", "documents"}
	for i := 0; i < 120; i++ {
		now = now.Add(90 * time.Second)
		run(queue.Issue{Service: services[i%len(services)], Lang: "pl", Channel: queue.ChannelKiosk, RequestID: strings.Repeat("r", 1) + string(rune('a'+i%26)) + string(rune('a'+i/26))})
		if i%2 == 1 {
			run(queue.CallNext{Counter: 1 + i%6})
		}
	}
	return s, log
}

func stateJSON(t testing.TB, s *queue.State) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAppendLoadAndSnapshots(t *testing.T) {
	o := exampleOffice(t)
	want, log := busyDay(t, o)
	path := filepath.Join(t.TempDir(), "office.db")
	l, err := OpenOfficeLog(path, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(log); i += 37 {
		if err := l.Append(log[i:min(i+37, len(log))]); err != nil {
			t.Fatal(err)
		}
	}
	// A snapshot half way, then the rest of the log after it.
	half := queue.NewState(o)
	if err := half.ApplyAll(log[:len(log)/2]); err != nil {
		t.Fatal(err)
	}
	if err := l.SaveSnapshot(half); err != nil {
		t.Fatal(err)
	}
	l.Close()

	l, err = OpenOfficeLog(path, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := l.Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if stateJSON(t, got) != stateJSON(t, want) {
		t.Errorf("state after reopening differs from the acknowledged state")
	}
	if last, _ := l.LastSeq(); last != want.Seq {
		t.Errorf("last seq %d, want %d", last, want.Seq)
	}
	tail, err := l.Events(want.Seq-3, 0)
	if err != nil || len(tail) != 3 || tail[0].Seq != want.Seq-2 {
		t.Errorf("Events(after %d) = %d events from %d, %v", want.Seq-3, len(tail), tail[0].Seq, err)
	}
}

func TestAppendRefusesGapsAndKeepsWhatWasWritten(t *testing.T) {
	o := exampleOffice(t)
	_, log := busyDay(t, o)
	l, err := OpenOfficeLog(filepath.Join(t.TempDir(), "o.db"), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Append(log[:10]); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(log[11:20]); err == nil {
		t.Fatal("a gap in the log was accepted")
	}
	if last, _ := l.LastSeq(); last != 10 {
		t.Errorf("after a refused batch the log ends at %d, want 10", last)
	}
}

func TestBadSnapshotFallsBackToTheLog(t *testing.T) {
	o := exampleOffice(t)
	want, log := busyDay(t, o)
	path := filepath.Join(t.TempDir(), "o.db")
	l, err := OpenOfficeLog(path, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(log); err != nil {
		t.Fatal(err)
	}
	// A snapshot whose state does not match the log (as after a bug or a
	// torn write) must not hide acknowledged events.
	err = l.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSnapshots).Put(seqKey(50), []byte(`{"seq":50,"day":"2026-11-23","tickets":{}}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if stateJSON(t, got) != stateJSON(t, want) {
		t.Errorf("a bad snapshot changed the restored state")
	}
	l.Close()
}

func TestOfficeLogBelongsToOneOffice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.db")
	l, err := OpenOfficeLog(path, "a")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := OpenOfficeLog(path, "b"); err == nil || !strings.Contains(err.Error(), `holds office "a"`) {
		t.Errorf("opened office a's log as b: %v", err)
	}
}
