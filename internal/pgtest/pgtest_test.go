package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
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
