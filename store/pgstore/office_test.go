package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
)

// migrated makes a fresh database at this build's schema and returns its URL.
func migrated(t testing.TB) string {
	t.Helper()
	u := pgtest.Database(t)
	if err := Migrate(context.Background(), u, io.Discard); err != nil {
		t.Fatal(err)
	}
	return u
}

func open(t testing.TB, u string) *DB {
	t.Helper()
	db, err := Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// behindProxy puts a faultproxy between the database at u and whoever
// connects to the URL returned.
func behindProxy(t testing.TB, u string) (string, *faultproxy.Proxy) {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.Listen("127.0.0.1:0", parsed.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	parsed.Host = p.Addr()
	return parsed.String(), p
}

func exampleOffice(t testing.TB) *queue.Office {
	t.Helper()
	cfg, err := officeconfig.Load("../../examples/offices/starachowice.toml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Offices[0]
}

// busyDay runs issues (and a call after every second one) and returns
// the state and its log.
func busyDay(t testing.TB, o *queue.Office, issues int) (*queue.State, []queue.Event) {
	t.Helper()
	s := queue.NewState(o)
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, o.Location)
	var log []queue.Event
	run := func(c queue.Command) {
		events, _, err := s.Execute(now, "test", c)
		log = append(log, events...)
		var qe *queue.Error
		if err != nil && !errors.As(err, &qe) {
			t.Fatal(err)
		}
	}
	for n := 1; n <= 6; n++ {
		run(queue.SetCounter{Counter: n, Status: queue.CounterOpenStatus})
	}
	services := []string{"family", "maintenance", "child800", "good-start", "care", "documents"}
	for i := 0; i < issues; i++ {
		now = now.Add(7*time.Second + 123456789*time.Nanosecond)
		run(queue.Issue{Service: services[i%len(services)], Lang: "pl", Channel: queue.ChannelKiosk, RequestID: fmt.Sprintf("r%d", i)})
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

var (
	nodeA = Node{ID: "a-1f3k", URL: "http://10.0.0.1:8080"}
	nodeB = Node{ID: "b-9x2p", URL: "http://10.0.0.2:8080"}
)

// leading is an Office of node on db that has won the lease.
func leading(t testing.TB, db *DB, office string, node Node, opts OfficeOptions) (*Office, context.Context) {
	t.Helper()
	o := db.Office(office, node, opts)
	// Not a context with a timeout: the leadership would end with it.
	lead, err := o.Lead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Release(context.Background()) })
	return o, lead
}

func appendAll(t testing.TB, o *Office, log []queue.Event, batch int) {
	t.Helper()
	for i := 0; i < len(log); i += batch {
		if err := o.Append(log[i:min(i+batch, len(log))]); err != nil {
			t.Fatal(err)
		}
	}
}

// What a node appends it reads back as the same state; a snapshot half
// way and the events after it rebuild what was acknowledged; Events and
// Scan page through more than one statement's worth.
func TestAppendLoadAndSnapshots(t *testing.T) {
	db := open(t, migrated(t))
	o := exampleOffice(t)
	want, log := busyDay(t, o, 700)
	if len(log) <= scanPage {
		t.Fatalf("the day has %d events: too few to read in more than one page", len(log))
	}
	office, _ := leading(t, db, o.ID, nodeA, OfficeOptions{})
	appendAll(t, office, log, 37)
	half := queue.NewState(o)
	if err := half.ApplyAll(log[:len(log)/2]); err != nil {
		t.Fatal(err)
	}
	if err := office.SaveSnapshot(half); err != nil {
		t.Fatal(err)
	}

	// Another node reads what this one wrote.
	reader := db.Office(o.ID, nodeB, OfficeOptions{})
	got, err := reader.Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if stateJSON(t, got) != stateJSON(t, want) {
		t.Errorf("the state loaded differs from the acknowledged state")
	}
	if last, err := reader.LastSeq(); err != nil || last != want.Seq {
		t.Errorf("LastSeq = %d, %v; want %d", last, err, want.Seq)
	}
	tests := []struct {
		after      uint64
		limit      int
		first, len int
	}{
		{0, 0, 1, len(log)},
		{want.Seq - 3, 0, int(want.Seq) - 2, 3},
		{10, 5, 11, 5},
		{want.Seq, 0, 0, 0},
	}
	for _, tt := range tests {
		events, err := reader.Events(tt.after, tt.limit)
		if err != nil || len(events) != tt.len || (tt.len > 0 && events[0].Seq != uint64(tt.first)) {
			t.Errorf("Events(%d, %d): %d events, %v; want %d from %d", tt.after, tt.limit, len(events), err, tt.len, tt.first)
		}
	}
	var seen []uint64
	if err := reader.Scan(100, func(e queue.Event) bool {
		seen = append(seen, e.Seq)
		return e.Seq < 1200
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1100 || seen[0] != 101 || seen[len(seen)-1] != 1200 {
		t.Errorf("Scan from 100 stopping at 1200 saw %d events, %d to %d", len(seen), seen[0], seen[len(seen)-1])
	}
}

// An event comes back exactly as bbolt's log would hold it: its time to
// the nanosecond and text PostgreSQL's jsonb would refuse.
func TestEventsKeepTheirJSONExactly(t *testing.T) {
	db := open(t, migrated(t))
	office, _ := leading(t, db, "exact", nodeA, OfficeOptions{})
	at := time.Date(2026, 11, 23, 8, 0, 0, 123456789, time.FixedZone("CET", 3600))
	events := []queue.Event{
		{Seq: 1, At: at, Actor: "kiosk:lobby", Body: queue.DayRolledOver{Day: "2026-11-23"}},
		{Seq: 2, At: at, Actor: "clerk:anna\u0000", Body: queue.TicketIssued{Ticket: queue.Ticket{Number: "A001"}, RequestID: "ż\u0000\"\\"}},
	}
	if err := office.Append(events); err != nil {
		t.Fatal(err)
	}
	got, err := office.Events(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		want, _ := json.Marshal(events[i])
		have, _ := json.Marshal(got[i])
		if string(want) != string(have) {
			t.Errorf("event %d came back as\n%s\nwant\n%s", i+1, have, want)
		}
	}
}

// A snapshot that does not fold (a bug, a torn write) never hides
// acknowledged events; one ahead of the log is refused.
func TestBadSnapshotFallsBackToTheLog(t *testing.T) {
	db := open(t, migrated(t))
	o := exampleOffice(t)
	want, log := busyDay(t, o, 60)
	office, _ := leading(t, db, o.ID, nodeA, OfficeOptions{})
	appendAll(t, office, log, 64)
	_, err := db.Pool.Exec(context.Background(), `INSERT INTO office_snapshots (office, seq, state) VALUES ($1, 50, $2)`,
		o.ID, []byte(`{"seq":50,"day":"2026-11-23","tickets":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := office.Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if stateJSON(t, got) != stateJSON(t, want) {
		t.Errorf("a bad snapshot changed the restored state")
	}
	ahead := queue.NewState(o)
	ahead.Seq = want.Seq + 1
	if err := office.SaveSnapshot(ahead); err == nil {
		t.Errorf("a snapshot at seq %d of a log ending at %d was taken", ahead.Seq, want.Seq)
	}
}

// Only the newest two snapshots are kept, as in bbolt's log.
func TestOldSnapshotsGo(t *testing.T) {
	db := open(t, migrated(t))
	o := exampleOffice(t)
	_, log := busyDay(t, o, 30)
	office, _ := leading(t, db, o.ID, nodeA, OfficeOptions{})
	appendAll(t, office, log, 64)
	s := queue.NewState(o)
	for i, e := range log[:30] {
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
		if i%10 == 9 {
			if err := office.SaveSnapshot(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	var seqs []int64
	rows, err := db.Pool.Query(context.Background(), `SELECT seq FROM office_snapshots WHERE office = $1 ORDER BY seq`, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq int64
		rows.Scan(&seq)
		seqs = append(seqs, seq)
	}
	if fmt.Sprint(seqs) != "[20 30]" {
		t.Errorf("snapshots kept at seqs %v, want [20 30]", seqs)
	}
}

// A batch that does not continue the log is refused and nothing of it
// is written: a gap is an error, seqs someone else wrote mean this node
// is no longer the writer.
func TestAppendRefusesGapsAndOverlaps(t *testing.T) {
	db := open(t, migrated(t))
	o := exampleOffice(t)
	_, log := busyDay(t, o, 20)
	office, _ := leading(t, db, o.ID, nodeA, OfficeOptions{})
	appendAll(t, office, log[:10], 10)
	tests := []struct {
		name      string
		batch     []queue.Event
		notWriter bool
	}{
		{"a gap", log[11:15], false},
		{"a hole inside the batch", append(append([]queue.Event{}, log[10:12]...), log[13]), false},
		{"seqs already written", log[8:12], true},
	}
	for _, tt := range tests {
		err := office.Append(tt.batch)
		if err == nil || errors.Is(err, ErrNotWriter) != tt.notWriter {
			t.Errorf("%s: Append = %v, want refused (ErrNotWriter: %v)", tt.name, err, tt.notWriter)
		}
	}
	if last, _ := office.LastSeq(); last != 10 {
		t.Errorf("after refused batches the log ends at %d, want 10", last)
	}
}
