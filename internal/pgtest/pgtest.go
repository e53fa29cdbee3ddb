// Package pgtest starts a PostgreSQL 15 of Debian's packages for tests: a
// cluster of its own made by initdb in a temporary folder, listening on a
// free loopback port, owned by an unprivileged user when the tests run as
// root (PostgreSQL refuses to run as root, and CI runs as root). Nothing
// of a cluster the package may have set up is used or touched.
//
// A test binary starts one server in TestMain (Main) and each test takes a
// fresh database of its own (Database), so tests never see each other's
// rows and need not clean up.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL.
type Server struct {
	// Dir holds the cluster's data (Dir/data) and its log (Dir/postgres.log).
	Dir  string
	Port int
	// Bin is the folder of PostgreSQL's programs.
	Bin string

	cmd  *exec.Cmd
	cred *syscall.Credential
	done chan struct{}
	err  error
}

// Bin finds PostgreSQL 15's programs: $NUMEREK_PG_BIN, or Debian's folder.
func Bin() (string, error) {
	candidates := []string{os.Getenv("NUMEREK_PG_BIN"), "/usr/lib/postgresql/15/bin"}
	for _, dir := range candidates {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL 15 is not installed (no /usr/lib/postgresql/15/bin/postgres): apt-get install postgresql-15, or set NUMEREK_PG_BIN")
}

// Start makes a cluster in a new folder under parent ("" for the system's
// temporary folder) and starts it; ctx bounds the start only. Stop ends
// it and removes the folder.
func Start(ctx context.Context, parent string) (*Server, error) {
	bin, err := Bin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "numerek-pg-")
	if err != nil {
		return nil, fmt.Errorf("making the cluster's folder: %w", err)
	}
	s := &Server{Dir: dir, Bin: bin, done: make(chan struct{})}
	if err := s.start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	if err := s.own(); err != nil {
		return err
	}
	data := filepath.Join(s.Dir, "data")
	initdb := s.command(ctx, "initdb", "--pgdata", data, "--username", "postgres", "--auth", "trust",
		"--encoding", "UTF8", "--locale", "C.UTF-8", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb in %s: %w\n%s", data, err, out)
	}
	return s.run(ctx)
}

// own gives the server's folder to the unprivileged user when the tests
// run as root.
func (s *Server) own() error {
	if os.Geteuid() != 0 {
		return nil
	}
	cred, err := unprivileged()
	if err != nil {
		return err
	}
	s.cred = cred
	// MkdirTemp made the folder 0700 for root; its new owner must
	// enter it, and every folder above it must let it through.
	if err := os.Chown(s.Dir, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("giving %s to the unprivileged user: %w", s.Dir, err)
	}
	return checkTraversable(filepath.Dir(s.Dir))
}

// run starts postgres on the cluster in Dir/data, on a free port, and
// waits until it answers.
func (s *Server) run(ctx context.Context) error {
	data := filepath.Join(s.Dir, "data")
	port, err := freePort()
	if err != nil {
		return err
	}
	s.Port = port
	logFile, err := os.OpenFile(filepath.Join(s.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the server's log: %w", err)
	}
	if s.cred != nil {
		if err := logFile.Chown(int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			logFile.Close()
			return fmt.Errorf("giving the log to the unprivileged user: %w", err)
		}
	}
	// No unix socket: the cluster is reached on loopback TCP only, so no
	// folder of the system's (/var/run/postgresql) is needed.
	s.cmd = s.command(context.Background(), "postgres", "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories=", "-c", "max_connections=300",
		"-c", "shared_buffers=32MB", "-c", "logging_collector=off")
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	// Its own process group: a test's Ctrl-C reaches it only through Stop.
	s.cmd.SysProcAttr.Setpgid = true
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting postgres: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	return s.waitReady(ctx)
}

// command runs one of PostgreSQL's programs as the cluster's user.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.Bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	cmd.Dir = s.Dir
	return cmd
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres ended before it was ready (%v):\n%s", s.err, s.LogTail())
		case <-ctx.Done():
			s.Kill()
			return fmt.Errorf("postgres was not ready in time: %v\n%s", err, s.LogTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL is the address of database db, as its superuser.
func (s *Server) URL(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), Path: "/" + db}
	u.RawQuery = "sslmode=disable"
	return u.String()
}

// Addr is the server's host:port, for a proxy put in front of it.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// CreateDatabase makes an empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	return createOn(ctx, s.URL("postgres"), name)
}

// createOn makes database name on the server of base, a superuser's URL.
func createOn(ctx context.Context, base, name string) (string, error) {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("connecting to create database %s: %w", name, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("creating database %s: %w", name, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("reading the server's URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// LogTail is the end of the server's log, for an error message.
func (s *Server) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "postgres.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Stop shuts the server down (fast shutdown: open sessions are ended) and
// removes its folder.
func (s *Server) Stop() error {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(30 * time.Second):
			s.Kill()
		}
	}
	return os.RemoveAll(s.Dir)
}

// Kill ends the server at once, as a crash would.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// unprivileged is the user the cluster runs as under root: Debian's
// postgres user (the package makes it), else nobody.
func unprivileged() (*syscall.Credential, error) {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, errors.New("running as root, and there is neither a postgres nor a nobody user to run PostgreSQL as")
}

// checkTraversable says which folder above the cluster's stops its user.
func checkTraversable(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		info, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("checking %s: %w", d, err)
		}
		if info.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the folder %s does not let other users through (mode %v): put the cluster elsewhere (TMPDIR)", d, info.Mode().Perm())
		}
		if d == "/" || d == filepath.Dir(d) {
			return nil
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port for postgres: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// sanitize keeps a test's name usable as a database name.
func sanitize(name string) string {
	var b bytes.Buffer
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}
