package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

// officeDay writes a day of n issued tickets (every second one called)
// into dir's log of office o, with a snapshot after the first half when
// snapshot is set, and returns the state acknowledged.
func officeDay(t *testing.T, dir string, o *queue.Office, n int, snapshot bool) *queue.State {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, officesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := store.OpenOfficeLog(filepath.Join(dir, officesDir, o.ID+".db"), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s := queue.NewState(o)
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, o.Location)
	run := func(c queue.Command) {
		events, _, err := s.Execute(now, "test", c)
		var qe *queue.Error
		if err != nil && !errors.As(err, &qe) {
			t.Fatal(err)
		}
		if err := l.Append(events); err != nil {
			t.Fatal(err)
		}
	}
	run(queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	service := o.Services[0].ID
	for i := 0; i < n; i++ {
		now = now.Add(time.Minute)
		run(queue.Issue{Service: service, Lang: "pl", Channel: queue.ChannelKiosk, RequestID: fmt.Sprintf("r%d", i)})
		if i%2 == 1 {
			run(queue.CallNext{Counter: 1})
		}
		if snapshot && i == n/2 {
			if err := l.SaveSnapshot(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

func loadOffices(t *testing.T, path string) []*queue.Office {
	t.Helper()
	cfg, err := officeconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Offices
}

func TestMigrateUsage(t *testing.T) {
	tests := []struct {
		args []string
		says string
	}{
		{[]string{"migrate"}, "give --store URL, or --from DIR --to URL"},
		{[]string{"migrate", "--store", "/var/lib/numerek"}, `--store "/var/lib/numerek" is not a postgres:// URL`},
		{[]string{"migrate", "--from", "/var/lib/numerek"}, "--from and --to go together"},
		{[]string{"migrate", "--from", "d", "--to", "d2"}, `--to "d2" is not a postgres:// URL`},
		{[]string{"migrate", "--store", "postgres://db/n", "--from", "d"}, "--store migrates the schema only"},
		{[]string{"migrate", "--from", filepath.Join(t.TempDir(), "nosuch"), "--to", "postgres://db/n"}, "--from: "},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), tt.says) {
			t.Errorf("%v: exit %d, stderr %q; want 1 saying %q", tt.args, code, stderr.String(), tt.says)
		}
	}
}

func TestMigrateStore(t *testing.T) {
	url := pgtest.Database(t)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--store", url}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "the schema is at version") {
		t.Errorf("migrate told %q", stdout.String())
	}
	db, err := pgstore.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("the migrated database does not open: %v", err)
	}
	db.Close()
}

// A data directory's offices move into PostgreSQL with their whole
// history: a node there loads the very state the bbolt server
// acknowledged, event for event; a second copy is refused, naming the
// office and how many events it has, and copies nothing.
func TestMigrateFromDataDirectory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	offices := append(loadOffices(t, "../../examples/offices/starachowice.toml"), loadOffices(t, "../../examples/offices/czestochowa.toml")...)
	want := map[string]*queue.State{}
	for i, o := range offices[:2] {
		want[o.ID] = officeDay(t, dir, o, 40+30*i, i == 0)
	}
	// The web data and the key its booking codes are made with.
	web, err := store.OpenWebDB(filepath.Join(dir, webFile))
	if err != nil {
		t.Fatal(err)
	}
	booked := store.Booking{Office: offices[0].ID, ID: "b-1", Service: "family", Name: "Anna Nowak", Contact: "anna@example.pl", CodeKey: "code-key-1", Lang: "pl"}
	if err := web.PutBooking(booked); err != nil {
		t.Fatal(err)
	}
	web.Close()
	key := bytes.Repeat([]byte{7}, store.KeySize)
	if err := os.WriteFile(filepath.Join(dir, keyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}

	url := pgtest.Database(t)
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"migrate", "--from", dir, "--to", url}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	db, err := pgstore.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	shared, err := store.NewWebDB(db.KV(webSpace))
	if err != nil {
		t.Fatal(err)
	}
	if b, found, err := shared.BookingByCode("code-key-1"); err != nil || !found || b.Name != "Anna Nowak" {
		t.Errorf("the booking found by its code in the database: %+v %v %v", b, found, err)
	}
	if got, err := db.Secret(ctx, keyFile, []byte("another")); err != nil || !bytes.Equal(got, key) {
		t.Errorf("the shared key is %x (%v), want the data directory's", got, err)
	}
	if !strings.Contains(stdout.String(), "web.db: ") || !strings.Contains(stdout.String(), "web.key: copied") {
		t.Errorf("migrate told:\n%s\nwant the web data and the key copied", stdout.String())
	}
	for i, o := range offices[:2] {
		s := want[o.ID]
		snapshot := "no snapshot"
		if i == 0 {
			snapshot = "snapshot at seq"
		}
		line := fmt.Sprintf("office %s: %d events copied, last seq %d, %s", o.ID, s.Seq, s.Seq, snapshot)
		if !strings.Contains(stdout.String(), line) {
			t.Errorf("migrate told:\n%s\nwant a line %q", stdout.String(), line)
		}
		got, err := db.Office(o.ID, pgstore.Node{}, pgstore.OfficeOptions{}).Load(o)
		if err != nil {
			t.Fatal(err)
		}
		if stateJSON(t, got) != stateJSON(t, s) {
			t.Errorf("office %s: the state loaded from PostgreSQL differs from the one the data directory acknowledged", o.ID)
		}
		compareLogs(t, filepath.Join(dir, officesDir, o.ID+".db"), o.ID, db.Office(o.ID, pgstore.Node{}, pgstore.OfficeOptions{}))
	}

	stdout.Reset()
	stderr.Reset()
	code := run(ctx, []string{"migrate", "--from", dir, "--to", url}, &stdout, &stderr)
	first := offices[0]
	says := fmt.Sprintf("already has events of office %s (%d events)", first.ID, want[first.ID].Seq)
	if code != 1 || !strings.Contains(stderr.String(), says) || !strings.Contains(stderr.String(), "nothing was copied") {
		t.Errorf("a second copy: exit %d, stderr %q; want 1 saying %q", code, stderr.String(), says)
	}
}

func stateJSON(t *testing.T, s *queue.State) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// compareLogs checks the database holds every event of the bbolt log,
// encoded alike.
func compareLogs(t *testing.T, path, id string, pg *pgstore.Office) {
	t.Helper()
	l, err := store.OpenOfficeLog(path, id)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	from, err := l.Events(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	to, err := pg.Events(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(from) != len(to) {
		t.Fatalf("office %s: %d events in the data directory, %d in the database", id, len(from), len(to))
	}
	for i := range from {
		a, _ := json.Marshal(from[i])
		b, _ := json.Marshal(to[i])
		if string(a) != string(b) {
			t.Fatalf("office %s: event %d differs:\n%s\n%s", id, from[i].Seq, a, b)
		}
	}
}
