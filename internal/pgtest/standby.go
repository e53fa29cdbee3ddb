package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// StartStandby makes a streaming standby of s: pg_basebackup -R (as the
// user s runs as) copies s into a new folder beside s's, with a
// replication slot of s named name that keeps the WAL the standby has
// not yet received, and a postgres on a port of its own follows s from
// there, read-only, until Promote. name is also the standby's
// application_name, what s's synchronous_standby_names names it by
// (SetSynchronousStandby). It returns once s sees the standby streaming.
// Stop ends it and removes its folder.
func (s *Server) StartStandby(ctx context.Context, name string) (*Server, error) {
	if !validName(name) {
		return nil, fmt.Errorf("standby name %q: give lower-case letters, digits and _ (it names a replication slot)", name)
	}
	dir, err := os.MkdirTemp(filepath.Dir(s.Dir), "numerek-pg-standby-")
	if err != nil {
		return nil, fmt.Errorf("making the standby's folder: %w", err)
	}
	sb := &Server{Dir: dir, Bin: s.Bin, done: make(chan struct{})}
	if err := sb.startStandby(ctx, s, name); err != nil {
		sb.Kill()
		os.RemoveAll(dir)
		return nil, err
	}
	return sb, nil
}

func (sb *Server) startStandby(ctx context.Context, primary *Server, name string) error {
	if err := sb.own(); err != nil {
		return err
	}
	data := filepath.Join(sb.Dir, "data")
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=%s", primary.Port, name)
	// -R writes primary_conninfo (with the application_name) and
	// standby.signal; --checkpoint=fast starts the copy at once instead
	// of after a spread checkpoint.
	backup := sb.command(ctx, "pg_basebackup", "--dbname", conninfo, "--pgdata", data,
		"--write-recovery-conf", "--create-slot", "--slot", name, "--wal-method", "stream", "--checkpoint", "fast")
	if out, err := backup.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_basebackup of the server on port %d: %w\n%s", primary.Port, err, out)
	}
	if err := sb.run(ctx); err != nil {
		return fmt.Errorf("starting the standby: %w", err)
	}
	return primary.waitStandby(ctx, name, "streaming", func(_, _ string) bool { return true })
}

// waitStandby waits until s's pg_stat_replication shows the standby name
// in state and with a sync_state ok accepts.
func (s *Server) waitStandby(ctx context.Context, name, state string, ok func(state, syncState string) bool) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to the primary to watch its standby: %w", err)
	}
	defer conn.Close(context.Background())
	var st, sync string
	for {
		err := conn.QueryRow(ctx, "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = $1", name).Scan(&st, &sync)
		if err == nil && st == state && ok(st, sync) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for standby %s to be %s (it is %q, %q; %v): %w", name, state, st, sync, err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SetSynchronousStandby sets s's synchronous_standby_names to name (ALTER
// SYSTEM: kept in s's postgresql.auto.conf, so a standby copied after
// this has it too) and waits until s counts that standby as synchronous:
// from then on a commit on s returns only once the standby has the
// commit's WAL on its disk (synchronous_commit is on). An empty name
// stops the waiting.
func (s *Server) SetSynchronousStandby(ctx context.Context, name string) error {
	if name != "" && !validName(name) {
		return fmt.Errorf("standby name %q: give lower-case letters, digits and _", name)
	}
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to set synchronous_standby_names: %w", err)
	}
	defer conn.Close(context.Background())
	// ALTER SYSTEM takes no parameters; the name was checked above.
	if _, err := conn.Exec(ctx, "ALTER SYSTEM SET synchronous_standby_names = '"+name+"'"); err != nil {
		return fmt.Errorf("setting synchronous_standby_names: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_reload_conf()"); err != nil {
		return fmt.Errorf("reloading the configuration: %w", err)
	}
	if name == "" {
		return nil
	}
	return s.waitStandby(ctx, name, "streaming", func(_, sync string) bool { return sync == "sync" })
}

// Promote makes a standby a primary (pg_promote) and returns once it
// accepts writes.
func (s *Server) Promote(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connecting to the standby to promote it: %w", err)
	}
	defer conn.Close(context.Background())
	var promoted bool
	if err := conn.QueryRow(ctx, "SELECT pg_promote(true, 60)").Scan(&promoted); err != nil {
		return fmt.Errorf("promoting the standby: %w", err)
	}
	if !promoted {
		return fmt.Errorf("the standby was not promoted within 60 s:\n%s", s.LogTail())
	}
	return nil
}

// ReadWriteURL is the address of database db on whichever of the
// servers at addrs (host:port, Addr) accepts writes: libpq's list of
// hosts, tried in turn, with target_session_attrs=read-write so that a
// standby is passed over, and connect_timeout so that a host that does
// not answer is too.
func ReadWriteURL(db string, addrs ...string) string {
	return "postgres://postgres@" + strings.Join(addrs, ",") + "/" + db + "?sslmode=disable&target_session_attrs=read-write&connect_timeout=2"
}

// validName tells a name usable unquoted as a replication slot's and in
// synchronous_standby_names.
func validName(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
