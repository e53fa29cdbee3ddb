package store

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

func openDevice(t testing.TB, path string) *DeviceDB {
	t.Helper()
	d, err := OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func lease(id, service, day string, first, last int) queue.Lease {
	return queue.Lease{ID: id, Device: "kiosk", Service: service, Day: day, First: first, Last: last, GrantedAt: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)}
}

// A second process (or a second open) cannot hold the device file.
func TestDeviceFileLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.db")
	openDevice(t, path)
	_, err := OpenDevice(path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
}

// What a device keeps about the office survives closing the file.
func TestDeviceKeepsFollowedStateClockAndAnnounced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.db")
	d, err := OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.LoadFollowed(); ok || err != nil {
		t.Fatalf("new file: followed state %v, %v; want none", ok, err)
	}
	f := Followed{Office: json.RawMessage(`{"id":"x"}`), State: json.RawMessage(`{"seq":42}`), Seq: 42, SavedAt: time.Unix(1700000000, 0).UTC()}
	if err := d.SaveFollowed(f); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveClockOffset(-90 * time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := d.SetAnnounced(Announced{Seq: 41, Parts: 1}); err != nil {
		t.Fatal(err)
	}
	d.Close()

	d = openDevice(t, path)
	got, ok, err := d.LoadFollowed()
	if err != nil || !ok || got.Seq != 42 || string(got.State) != `{"seq":42}` || string(got.Office) != `{"id":"x"}` || !got.SavedAt.Equal(f.SavedAt) {
		t.Errorf("followed state after reopening: %+v, %v, %v", got, ok, err)
	}
	if off, ok, err := d.ClockOffset(); err != nil || !ok || off != -90*time.Minute {
		t.Errorf("clock offset after reopening: %v, %v, %v; want -1h30m", off, ok, err)
	}
	if a, err := d.Announced(); err != nil || a != (Announced{Seq: 41, Parts: 1}) {
		t.Errorf("announced after reopening: %+v, %v; want the first announcement of call 41", a, err)
	}
	if err := d.SetAnnounced(Announced{Seq: 43}); err != nil {
		t.Fatal(err)
	}
	if a, err := d.Announced(); err != nil || a != (Announced{Seq: 43}) {
		t.Errorf("announced: %+v, %v; want call 43 in full", a, err)
	}
}

// Request ids are unique within a file and between files.
func TestRequestIDsUnique(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	for _, name := range []string{"a.db", "b.db"} {
		d := openDevice(t, filepath.Join(dir, name))
		for i := 0; i < 3; i++ {
			e, err := d.BeginRequest(JournalEntry{Source: SourceServer, Service: "family", Lang: "pl"})
			if err != nil {
				t.Fatal(err)
			}
			if e.Phase != PhaseRequested || e.Key != uint64(i+1) {
				t.Errorf("entry %d: phase %s key %d", i, e.Phase, e.Key)
			}
			if seen[e.RequestID] || len(e.RequestID) > 64 {
				t.Errorf("request id %q repeated or longer than 64", e.RequestID)
			}
			seen[e.RequestID] = true
		}
	}
}

// Leased numbers are given in order, lease after lease, never twice, only
// for the lease's service and day; every one lands in the outbox.
func TestIssueFromLease(t *testing.T) {
	d := openDevice(t, filepath.Join(t.TempDir(), "device.db"))
	const day = "2026-11-23"
	for _, l := range []queue.Lease{lease("l2", "family", day, 31, 32), lease("l1", "family", day, 21, 22), lease("old", "family", "2026-11-20", 1, 50), lease("c", "care", day, 5, 5)} {
		if err := d.AddLease(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddLease(lease("l1", "family", day, 21, 22)); err != nil {
		t.Fatalf("adding a lease again: %v", err)
	}
	if err := d.AddLease(lease("bad", "family", day, 5, 4)); err == nil {
		t.Error("a lease of numbers 5-4 was kept")
	}
	if left, _ := d.LeaseLeft("family", day); left != 4 {
		t.Errorf("family numbers left: %d, want 4", left)
	}
	var got []string
	for i := 0; i < 4; i++ {
		e, err := d.IssueFromLease(JournalEntry{Service: "family", Lang: "uk", IssuedAt: time.Now()}, day, "A")
		if err != nil {
			t.Fatal(err)
		}
		if e.Phase != PhaseIssued || e.HandIn != HandInPending || e.Source != SourceLease || e.TicketID != day+"-"+e.Number {
			t.Errorf("leased entry %+v", e)
		}
		got = append(got, e.Number)
	}
	if want := "A021 A022 A031 A032"; strings.Join(got, " ") != want {
		t.Errorf("numbers %v, want %s", got, want)
	}
	if _, err := d.IssueFromLease(JournalEntry{Service: "family", Lang: "pl"}, day, "A"); !errors.Is(err, ErrNoLease) {
		t.Errorf("fifth family ticket: %v, want ErrNoLease", err)
	}
	if _, err := d.IssueFromLease(JournalEntry{Service: "documents", Lang: "pl"}, day, "D"); !errors.Is(err, ErrNoLease) {
		t.Errorf("a service without a lease: %v, want ErrNoLease", err)
	}
	pending, err := d.PendingHandIns()
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 4 || pending[0].Number != "A021" || pending[3].Number != "A032" {
		t.Fatalf("outbox %v", pending)
	}
	// Handing one in takes it out of the outbox; the others stay in order.
	if _, err := d.UpdateEntry(pending[1].Key, func(e *JournalEntry) error { e.HandIn = HandInDone; return nil }); err != nil {
		t.Fatal(err)
	}
	pending, _ = d.PendingHandIns()
	if len(pending) != 3 || pending[1].Number != "A031" {
		t.Errorf("outbox after one hand-in: %v", pending)
	}
	if n, err := d.DropLeasesBefore(day); err != nil || n != 1 {
		t.Errorf("dropping old leases: %d, %v; want 1", n, err)
	}
	if leases, _ := d.Leases(); len(leases) != 3 {
		t.Errorf("leases left: %v", leases)
	}
}

// Recover settles what a stopped device left open, and Prune forgets
// settled entries but never one still to be handed in.
func TestRecoverAndPrune(t *testing.T) {
	d := openDevice(t, filepath.Join(t.TempDir(), "device.db"))
	const day = "2026-11-23"
	if err := d.AddLease(lease("l", "family", day, 1, 10)); err != nil {
		t.Fatal(err)
	}
	asked, _ := d.BeginRequest(JournalEntry{Source: SourceServer, Service: "family", Lang: "pl"})
	leased, _ := d.IssueFromLease(JournalEntry{Service: "family", Lang: "pl"}, day, "A")
	printed, _ := d.BeginRequest(JournalEntry{Source: SourceServer, Service: "family", Lang: "pl"})
	if _, err := d.UpdateEntry(printed.Key, func(e *JournalEntry) error { e.Phase, e.Number = PhasePrinted, "A011"; return nil }); err != nil {
		t.Fatal(err)
	}
	changed, err := d.Recover()
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 2 || changed[0].Key != asked.Key || changed[0].Phase != PhaseUnanswered || changed[1].Key != leased.Key || changed[1].Phase != PhaseInterrupted {
		t.Fatalf("recovered %+v", changed)
	}
	if again, _ := d.Recover(); len(again) != 0 {
		t.Errorf("second recovery changed %v", again)
	}
	// The unanswered request printed nothing: it waits to be withdrawn at
	// the server. The interrupted leased ticket may be in a resident's
	// hand: it waits to be handed in.
	pending, _ := d.PendingHandIns()
	if len(pending) != 2 || pending[0].Key != asked.Key || pending[0].HandIn != HandInWithdraw || pending[1].Key != leased.Key || pending[1].HandIn != HandInPending {
		t.Errorf("the outbox after recovery: %v", pending)
	}
	n, err := d.Prune(time.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Errorf("pruned %d, %v; want 1 (the outbox stays)", n, err)
	}
	st, err := d.Stats()
	if err != nil || st.Entries != 2 || st.PendingHandIns != 2 || st.ByPhase[PhaseInterrupted] != 1 {
		t.Errorf("stats %+v, %v", st, err)
	}
	if _, err := d.UpdateEntry(asked.Key, func(e *JournalEntry) error { e.HandIn = HandInWithdrawn; return nil }); err != nil {
		t.Fatal(err)
	}
	if pending, _ := d.PendingHandIns(); len(pending) != 1 || pending[0].Key != leased.Key {
		t.Errorf("a withdrawn request left in the outbox: %v", pending)
	}
}

// A request the server did not answer in time takes a leased number under
// its own request id, in one write; a request whose answer is journalled,
// or that is not a ticket asked of the server, never does.
func TestLeaseForRequest(t *testing.T) {
	d := openDevice(t, filepath.Join(t.TempDir(), "device.db"))
	const day = "2026-11-23"
	if err := d.AddLease(lease("l", "family", day, 5, 6)); err != nil {
		t.Fatal(err)
	}
	asked, _ := d.BeginRequest(JournalEntry{Source: SourceServer, Service: "family", Lang: "pl"})
	e, err := d.LeaseForRequest(asked.Key, day, "A")
	if err != nil {
		t.Fatal(err)
	}
	if e.Key != asked.Key || e.RequestID != asked.RequestID || e.Number != "A005" || e.Source != SourceLease || e.Phase != PhaseIssued || e.HandIn != HandInPending {
		t.Errorf("leased for the request: %+v", e)
	}
	answered, _ := d.BeginRequest(JournalEntry{Source: SourceServer, Service: "family", Lang: "pl"})
	if _, err := d.UpdateEntry(answered.Key, func(e *JournalEntry) error { e.Phase, e.Number = PhaseIssued, "A001"; return nil }); err != nil {
		t.Fatal(err)
	}
	checkin, _ := d.BeginRequest(JournalEntry{Source: SourceCheckIn, Service: "family", Lang: "pl"})
	for _, key := range []uint64{asked.Key, answered.Key, checkin.Key} {
		if _, err := d.LeaseForRequest(key, day, "A"); !errors.Is(err, ErrAnswered) {
			t.Errorf("a leased number for entry %d: %v, want ErrAnswered", key, err)
		}
	}
	if left, _ := d.LeaseLeft("family", day); left != 1 {
		t.Errorf("%d numbers left, want 1", left)
	}
	other, _ := d.BeginRequest(JournalEntry{Source: SourceServer, Service: "documents", Lang: "pl"})
	if _, err := d.LeaseForRequest(other.Key, day, "D"); !errors.Is(err, ErrNoLease) {
		t.Errorf("no lease of the service: %v", err)
	}
	if got, _ := d.Entry(other.Key); got.Phase != PhaseRequested {
		t.Errorf("a request with no number left changed: %+v", got)
	}
}

// envCrashChild makes the test binary a child that issues leased tickets
// into the named file until it is killed, printing each key once its
// write has returned.
const envCrashChild = "NUMEREK_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(envCrashChild); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

func crashChild(path string) int {
	d, err := OpenDevice(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		e, err := d.IssueFromLease(JournalEntry{Service: "family", Lang: "pl", IssuedAt: time.Now()}, "2026-11-23", "A")
		if errors.Is(err, ErrNoLease) {
			return 0
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("%d %s\n", e.Key, e.Number)
		if _, err := d.UpdateEntry(e.Key, func(e *JournalEntry) error { e.Phase = PhasePrinted; return nil }); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
}

// A process killed (SIGKILL) in the middle of issuing leaves a journal
// where every ticket it reported is kept, no number is given twice or
// skipped, and the lease goes on after the last number given.
func TestJournalSurvivesKill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.db")
	d, err := OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddLease(lease("big", "family", "2026-11-23", 1, 999)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashChild+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		reported := map[uint64]string{}
		for len(reported) < 15+round*7 && sc.Scan() {
			f := strings.Fields(sc.Text())
			k, _ := strconv.ParseUint(f[0], 10, 64)
			reported[k] = f[1]
		}
		cmd.Process.Kill()
		cmd.Wait()

		d := openDevice(t, path)
		entries, err := d.Journal(0, 0)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[uint64]JournalEntry{}
		for i, e := range entries {
			byKey[e.Key] = e
			if want := queue.FormatNumber("A", i+1); e.Number != want {
				t.Fatalf("round %d: entry %d has number %s, want %s (given twice or skipped)", round, e.Key, e.Number, want)
			}
			if e.HandIn != HandInPending {
				t.Errorf("round %d: entry %d left the outbox: %s", round, e.Key, e.HandIn)
			}
		}
		for k, num := range reported {
			if byKey[k].Number != num {
				t.Errorf("round %d: reported ticket %d %s is not in the journal", round, k, num)
			}
		}
		leases, _ := d.Leases()
		if leases[0].Next != len(entries)+1 {
			t.Errorf("round %d: lease goes on at %d after %d tickets", round, leases[0].Next, len(entries))
		}
		if _, err := d.Recover(); err != nil {
			t.Fatal(err)
		}
		d.Close()
	}
}

// kioskctl reads a device file read-only; while kioskd holds it, it says so.
func TestOpenDeviceReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "device.db")
	if _, err := OpenDeviceReadOnly(path); err == nil {
		t.Error("opened a file that does not exist")
	}
	d, err := OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.BeginRequest(JournalEntry{Source: SourceServer, Service: "family", Lang: "pl"}); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDeviceReadOnly(path); !errors.Is(err, ErrLocked) {
		t.Errorf("while held: %v, want ErrLocked", err)
	}
	d.Close()
	r, err := OpenDeviceReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if entries, err := r.Journal(0, 0); err != nil || len(entries) != 1 {
		t.Errorf("journal read-only: %v, %v", entries, err)
	}
	other := filepath.Join(t.TempDir(), "other.db")
	os.WriteFile(other, nil, 0o600)
	if _, err := OpenDeviceReadOnly(other); err == nil {
		t.Error("an empty file opened as a device file")
	}
}
