package pgtest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numerek/numerek/internal/waitfor"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// Each test's database is its own: a table made in one is not in another,
// and the server is a PostgreSQL 15 that keeps what it commits.
func TestDatabasesAreSeparate(t *testing.T) {
	ctx := context.Background()
	first, second := Database(t), Database(t)
	if first == second {
		t.Fatalf("two databases share the URL %s", first)
	}
	a, err := pgx.Connect(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	var version int
	if err := a.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version/10000 != 15 {
		t.Errorf("server version %d, want PostgreSQL 15", version)
	}
	var fsync string
	if err := a.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "on" {
		t.Errorf("fsync is %q (%v): commits must reach the disk as in an office", fsync, err)
	}
	if _, err := a.Exec(ctx, "CREATE TABLE tickets (n int)"); err != nil {
		t.Fatal(err)
	}
	b, err := pgx.Connect(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	var n int
	if err := b.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'tickets'").Scan(&n); err != nil || n != 0 {
		t.Errorf("the second database sees %d tables named tickets (%v), want 0", n, err)
	}
}

// A server of its own starts, answers, and is gone with its folder after
// Stop; killed, it stops answering.
func TestStartKillStop(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateDatabase(ctx, "office"); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if conn, err := pgx.Connect(ctx, s.URL("office")); err == nil {
		conn.Close(ctx)
		t.Error("the killed server still answers")
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("the cluster's folder %s is still there (%v)", s.Dir, err)
	}
}

// A standby made by StartStandby follows its primary read-only; with the
// primary's synchronous_standby_names naming it, every commit the primary
// acknowledged is on the standby: the primary killed while writers commit
// and the standby promoted, it holds each acknowledged row, accepts
// writes, and a read-write URL naming both servers reaches it.
func TestStandbyKeepsEveryCommitOfAKilledPrimary(t *testing.T) {
	if testing.Short() {
		t.Skip("two PostgreSQL servers")
	}
	ctx := context.Background()
	primary, err := Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Stop()
	if _, err := primary.CreateDatabase(ctx, "office"); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, primary.URL("office"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE tickets (n int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	standby, err := primary.StartStandby(ctx, "standby")
	if err != nil {
		t.Fatal(err)
	}
	defer standby.Stop()
	if err := primary.SetSynchronousStandby(ctx, "standby"); err != nil {
		t.Fatal(err)
	}
	both := ReadWriteURL("office", primary.Addr(), standby.Addr())
	if port := serverPort(t, both); port != primary.Port {
		t.Fatalf("the read-write URL reached port %d, want the primary's %d", port, primary.Port)
	}
	sconn, err := pgx.Connect(ctx, standby.URL("office"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sconn.Exec(ctx, "INSERT INTO tickets VALUES (0)"); err == nil {
		t.Error("the standby accepted a write before its promotion")
	}
	sconn.Close(ctx)

	// Writers commit one row at a time until the primary dies under them.
	var mu sync.Mutex
	var acked []int
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgx.Connect(ctx, primary.URL("office"))
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close(ctx)
			for i := 1; ; i++ {
				n := i*4 + w
				if _, err := c.Exec(ctx, "INSERT INTO tickets VALUES ($1)", n); err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, n)
				mu.Unlock()
			}
		}()
	}
	waitfor.Until(t, "commits on the primary", 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 200 })
	primary.Kill()
	wg.Wait()
	began := time.Now()
	if err := standby.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("promoted in %v", time.Since(began))
	if port := serverPort(t, both); port != standby.Port {
		t.Fatalf("after the promotion the read-write URL reached port %d, want the promoted standby's %d", port, standby.Port)
	}
	pconn, err := pgx.Connect(ctx, both)
	if err != nil {
		t.Fatal(err)
	}
	defer pconn.Close(ctx)
	rows, err := pconn.Query(ctx, "SELECT n FROM tickets")
	if err != nil {
		t.Fatal(err)
	}
	kept, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	have := map[int]bool{}
	for _, n := range kept {
		have[n] = true
	}
	for _, n := range acked {
		if !have[n] {
			t.Errorf("row %d was acknowledged by the primary but is not on the promoted standby", n)
		}
	}
	if _, err := pconn.Exec(ctx, "INSERT INTO tickets VALUES (-1)"); err != nil {
		t.Errorf("the promoted standby refuses a write: %v", err)
	}
	t.Logf("%d rows acknowledged before the kill, %d on the promoted standby", len(acked), len(kept))
}

// serverPort is the port of the server url reaches.
func serverPort(t *testing.T, url string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var port int
	if err := conn.QueryRow(ctx, "SELECT inet_server_port()").Scan(&port); err != nil {
		t.Fatal(err)
	}
	return port
}
