package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/server/outbox"
	"github.com/numerek/numerek/store"
)

// A running server holds bbolt's exclusive lock on its office logs and
// web.db, so no other process can open them, not even to read. Online
// copies are therefore made by the server itself: it listens on a Unix
// socket in its data directory (admin.sock, mode 0600 in a 0700 directory:
// only the account that owns the data can connect) and streams a copy of
// every data file, each taken in one read transaction, to
// `queue-server backup`. The same copies are what the [backup] setting
// writes once a day.

const adminSocket = "admin.sock"

// backupSource is one file of a copy: its path within the copy and how to
// write a consistent copy of it (fs.ErrNotExist if there is none).
type backupSource struct {
	name  string
	write func(io.Writer) error
}

// heldFiles are the files a running server holds open besides the office
// logs and web.db (nil where the server runs without one).
type heldFiles struct {
	fleet  *store.FleetDB
	outbox *outbox.Outbox
}

// serverSources are the files a running server copies: the logs,
// web.db and the other files it holds open, and the files it opens only
// for a moment.
func serverSources(dataDir string, logs []*store.OfficeLog, web *store.WebDB, tokens *store.TokenStore, held heldFiles) []backupSource {
	var out []backupSource
	for _, l := range logs {
		out = append(out, backupSource{filepath.Join(officesDir, filepath.Base(l.Path())), l.WriteBackup})
	}
	out = append(out, backupSource{webFile, web.WriteBackup})
	if held.fleet != nil {
		out = append(out, backupSource{fleetFile, held.fleet.WriteBackup})
	}
	if held.outbox != nil {
		out = append(out, backupSource{outboxFile, held.outbox.WriteBackup})
	}
	if tokens == nil {
		// On PostgreSQL (--store) the logs, tokens, clerks and devices
		// are the database's, backed up by its own tools (docs/cluster.md).
		return out
	}
	out = append(out, backupSource{tokensFile, tokens.WriteBackup})
	return append(out, closedFileSources(dataDir, clerksFile, devicesFile)...)
}

// fileSources are the files of a data directory no server runs on.
func fileSources(dataDir string) ([]backupSource, error) {
	offices, err := officeFiles(dataDir)
	if err != nil {
		return nil, err
	}
	return closedFileSources(dataDir, append(offices, webFile, tokensFile, clerksFile, devicesFile, fleetFile, outboxFile)...), nil
}

func closedFileSources(dataDir string, names ...string) []backupSource {
	var out []backupSource
	for _, name := range names {
		path := filepath.Join(dataDir, name)
		out = append(out, backupSource{name, func(w io.Writer) error {
			if _, err := os.Stat(path); err != nil {
				return err
			}
			return store.BackupFile(path, w)
		}})
	}
	// The key signs e-ticket links and derives booking codes: a copy
	// without it cannot serve the bookings it holds. Without the VAPID
	// key, phones subscribed to push are no longer reached.
	for _, name := range []string{keyFile, vapidKeyFile} {
		out = append(out, backupSource{name, func(w io.Writer) error {
			f, err := os.Open(filepath.Join(dataDir, name))
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(w, f)
			return err
		}})
	}
	return out
}

// writeSet writes a copy of every source into dir, each file through a
// temporary name, and returns the names written.
func writeSet(dir string, sources []backupSource) ([]string, error) {
	var written []string
	for _, s := range sources {
		var missing bool
		err := store.WriteFileAtomically(filepath.Join(dir, s.name), func(w io.Writer) error {
			err := s.write(w)
			// Data kept in PostgreSQL is backed up with the database.
			missing = store.IsNotExist(err) || errors.Is(err, store.ErrInDatabase)
			return err
		})
		if missing {
			continue
		}
		if err != nil {
			return written, fmt.Errorf("copying %s: %w", s.name, err)
		}
		written = append(written, s.name)
	}
	return written, nil
}

// The admin protocol: the client sends one JSON line, {"op":"backup"};
// the server answers, for each file, a JSON line {"file":NAME} followed by
// chunks (a 4-byte big-endian length, then that many bytes) ending with an
// empty chunk, and at the end {"done":true} or {"error":TEXT}.
type adminMessage struct {
	Op    string `json:"op,omitempty"`
	File  string `json:"file,omitempty"`
	Done  bool   `json:"done,omitempty"`
	Error string `json:"error,omitempty"`
}

// adminServer answers `queue-server backup` on dataDir/admin.sock.
type adminServer struct {
	ln      net.Listener
	sources func() []backupSource
	logger  *slog.Logger
	wg      sync.WaitGroup
}

// listenAdmin starts the admin socket. A socket left by a killed server is
// removed first: the caller already holds the office logs, so no other
// server is running on dataDir.
func listenAdmin(dataDir string, sources func() []backupSource, logger *slog.Logger) (*adminServer, error) {
	path := filepath.Join(dataDir, adminSocket)
	if err := os.Remove(path); err != nil && !store.IsNotExist(err) {
		return nil, fmt.Errorf("removing the old %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	a := &adminServer{ln: ln, sources: sources, logger: logger}
	a.wg.Add(1)
	go a.serve()
	return a, nil
}

func (a *adminServer) serve() {
	defer a.wg.Done()
	for {
		conn, err := a.ln.Accept()
		if err != nil {
			return
		}
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			defer conn.Close()
			if err := a.handle(conn); err != nil {
				a.logger.Warn("online backup failed", "err", err)
			}
		}()
	}
}

// Close stops listening and waits for copies under way.
func (a *adminServer) Close() {
	a.ln.Close()
	a.wg.Wait()
}

func (a *adminServer) handle(conn net.Conn) error {
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	conn.SetReadDeadline(time.Time{})
	var req adminMessage
	if err := json.Unmarshal(line, &req); err != nil || req.Op != "backup" {
		return writeJSONLine(conn, adminMessage{Error: fmt.Sprintf("unknown request %q", line)})
	}
	start := time.Now()
	w := bufio.NewWriter(conn)
	var names []string
	for _, s := range a.sources() {
		cw := &chunkWriter{w: w, header: adminMessage{File: s.name}}
		err := s.write(cw)
		if store.IsNotExist(err) && !cw.started {
			continue
		}
		if err == nil {
			err = cw.end()
		}
		if err != nil {
			writeJSONLine(w, adminMessage{Error: fmt.Sprintf("copying %s: %v", s.name, err)})
			w.Flush()
			return err
		}
		names = append(names, s.name)
	}
	if err := writeJSONLine(w, adminMessage{Done: true}); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	a.logger.Info("online backup sent", "files", len(names), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

func writeJSONLine(w io.Writer, m adminMessage) error {
	data, _ := json.Marshal(m)
	_, err := w.Write(append(data, '\n'))
	return err
}

// chunkWriter frames one file's bytes; its header goes out with the first
// bytes, so a file that turns out not to exist sends nothing.
type chunkWriter struct {
	w       *bufio.Writer
	header  adminMessage
	started bool
}

func (c *chunkWriter) start() error {
	if c.started {
		return nil
	}
	c.started = true
	return writeJSONLine(c.w, c.header)
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	if err := c.start(); err != nil {
		return 0, err
	}
	total := len(p)
	for len(p) > 0 {
		n := min(len(p), 1<<20)
		var size [4]byte
		binary.BigEndian.PutUint32(size[:], uint32(n))
		if _, err := c.w.Write(size[:]); err != nil {
			return 0, err
		}
		if _, err := c.w.Write(p[:n]); err != nil {
			return 0, err
		}
		p = p[n:]
	}
	return total, nil
}

func (c *chunkWriter) end() error {
	if err := c.start(); err != nil {
		return err
	}
	_, err := c.w.Write([]byte{0, 0, 0, 0})
	return err
}

// errNoServer means no server answers on the data directory's socket.
var errNoServer = errors.New("no server answers")

// fetchBackup asks the server running on dataDir for a copy of every data
// file and writes it into to.
func fetchBackup(dataDir, to string) ([]string, error) {
	conn, err := net.DialTimeout("unix", filepath.Join(dataDir, adminSocket), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %v", errNoServer, filepath.Join(dataDir, adminSocket), err)
	}
	defer conn.Close()
	if err := writeJSONLine(conn, adminMessage{Op: "backup"}); err != nil {
		return nil, err
	}
	r := bufio.NewReader(conn)
	var written []string
	for {
		conn.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := r.ReadBytes('\n')
		if err != nil {
			return written, fmt.Errorf("reading the server's copy: %w", err)
		}
		var m adminMessage
		if err := json.Unmarshal(line, &m); err != nil {
			return written, fmt.Errorf("reading the server's copy: %q: %w", line, err)
		}
		switch {
		case m.Error != "":
			return written, fmt.Errorf("the server: %s", m.Error)
		case m.Done:
			return written, nil
		case !filepath.IsLocal(m.File):
			return written, fmt.Errorf("the server sent a file named %q", m.File)
		}
		err = store.WriteFileAtomically(filepath.Join(to, m.File), func(w io.Writer) error {
			for {
				conn.SetReadDeadline(time.Now().Add(time.Minute))
				var size [4]byte
				if _, err := io.ReadFull(r, size[:]); err != nil {
					return err
				}
				n := binary.BigEndian.Uint32(size[:])
				if n == 0 {
					return nil
				}
				if _, err := io.CopyN(w, r, int64(n)); err != nil {
					return err
				}
			}
		})
		if err != nil {
			return written, fmt.Errorf("receiving %s: %w", m.File, err)
		}
		written = append(written, m.File)
	}
}

func runBackup(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue-server backup", stderr)
	dataDir := fs.String("data", "numerek-data", "the server's data directory")
	to := fs.String("to", "", "directory to write the copy to (created if needed; files in it are replaced)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: queue-server backup --data DIR --to DIR\n\nWrites a consistent copy of every data file. While a server runs on --data,\nthe server makes the copy (through DIR/admin.sock) without stopping; otherwise\nthe files are copied directly. Each copied file is checked.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *to == "" {
		return usageError(fs, "--to is required")
	}
	if _, err := os.Stat(*dataDir); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	if err := os.MkdirAll(*to, 0o700); err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	how := "from the running server"
	names, err := fetchBackup(*dataDir, *to)
	if errors.Is(err, errNoServer) {
		how = "directly (no server is running)"
		var sources []backupSource
		if sources, err = fileSources(*dataDir); err == nil {
			names, err = writeSet(*to, sources)
		}
		if errors.Is(err, store.ErrLocked) {
			err = fmt.Errorf("%w, and no server answers on %s: is a server of an older version running?", err, filepath.Join(*dataDir, adminSocket))
		}
	}
	if err != nil {
		return err
	}
	if len(names) == 0 {
		// A node on PostgreSQL keeps nothing of the offices' in --data.
		fmt.Fprintf(stdout, "nothing to copy in %s: a server on PostgreSQL (--store) keeps its data in the database; back the database up (docs/cluster.md)\n", *dataDir)
		return nil
	}
	fmt.Fprintf(stdout, "copied %s to %s %s:\n", *dataDir, *to, how)
	bad := 0
	for _, name := range names {
		path := filepath.Join(*to, name)
		var rep *store.FileReport
		switch filepath.Ext(name) {
		case ".key":
			fmt.Fprintf(stdout, "  %s\n", name)
			continue
		default:
			if filepath.Dir(name) == officesDir {
				rep, err = store.CheckOfficeFile(path)
			} else {
				rep, err = store.CheckFile(path)
			}
		}
		if err == nil {
			err = rep.Err()
		}
		if err != nil {
			bad++
			fmt.Fprintf(stdout, "  %s: the copy does not check: %v\n", name, err)
			continue
		}
		if rep.Records == nil {
			fmt.Fprintf(stdout, "  %s: office %s, %d events, last seq %d\n", name, rep.Office, rep.Events, rep.LastSeq)
		} else {
			fmt.Fprintf(stdout, "  %s\n", name)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d copied files do not check", bad)
	}
	return nil
}

// runScheduledBackups writes a copy into b.Dir/DATE every day at b.At
// (office-local, in loc) and keeps the newest b.Keep.
func runScheduledBackups(ctx context.Context, b officeconfig.Backup, loc *time.Location, clock func() time.Time, sources func() []backupSource, logger *slog.Logger) {
	for {
		next := nextBackup(clock(), b.At, loc)
		t := time.NewTimer(next.Sub(clock()))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		day := next.In(loc).Format(time.DateOnly)
		removed, err := writeDailyBackup(b, day, sources())
		if err != nil {
			logger.Error("scheduled backup failed", "dir", b.Dir, "err", err)
			continue
		}
		logger.Info("scheduled backup written", "dir", filepath.Join(b.Dir, day), "pruned", removed)
	}
}

// nextBackup is the first time after now that is at (since midnight) on
// an office-local day.
func nextBackup(now time.Time, at time.Duration, loc *time.Location) time.Time {
	n := now.In(loc)
	h, m := int(at/time.Hour), int(at%time.Hour/time.Minute)
	t := time.Date(n.Year(), n.Month(), n.Day(), h, m, 0, 0, loc)
	if !t.After(now) {
		t = time.Date(n.Year(), n.Month(), n.Day()+1, h, m, 0, 0, loc)
	}
	return t
}

// writeDailyBackup writes the day's copy (through DIR/DATE.partial, so a
// copy under a date is always whole) and prunes the old ones.
func writeDailyBackup(b officeconfig.Backup, day string, sources []backupSource) ([]string, error) {
	final := filepath.Join(b.Dir, day)
	partial := final + ".partial"
	if err := os.RemoveAll(partial); err != nil {
		return nil, err
	}
	if _, err := writeSet(partial, sources); err != nil {
		return nil, err
	}
	// A second copy the same day (after a restart) replaces the first.
	old := final + ".old"
	if err := os.RemoveAll(old); err != nil {
		return nil, err
	}
	if err := os.Rename(final, old); err != nil && !store.IsNotExist(err) {
		return nil, err
	}
	if err := os.Rename(partial, final); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(old); err != nil {
		return nil, err
	}
	return pruneBackups(b.Dir, b.Keep)
}

// pruneBackups removes all but the newest keep daily copies in dir.
func pruneBackups(dir string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var days []string
	for _, e := range entries {
		if e.IsDir() && isBackupName(e.Name()) {
			days = append(days, e.Name())
		}
	}
	sort.Strings(days)
	var removed []string
	for _, d := range days[:max(0, len(days)-keep)] {
		if err := os.RemoveAll(filepath.Join(dir, d)); err != nil {
			return removed, err
		}
		removed = append(removed, d)
	}
	return removed, nil
}

// startDataServices starts what a running server does for its data files
// besides serving: online copies on admin.sock, and the daily copies of
// the [backup] setting. stop ends both and waits for a copy under way.
func startDataServices(dataDir string, cfg *officeconfig.Config, logs []*store.OfficeLog, web *store.WebDB, tokens *store.TokenStore, held heldFiles, clock func() time.Time, logger *slog.Logger) (stop func()) {
	sources := func() []backupSource { return serverSources(dataDir, logs, web, tokens, held) }
	admin, err := listenAdmin(dataDir, sources, logger)
	if err != nil {
		// The server runs without it; `queue-server backup` will say that
		// no server answers.
		logger.Warn("online backups are not available", "err", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if cfg.Backup.Dir != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runScheduledBackups(ctx, cfg.Backup, cfg.Offices[0].Location, clock, sources, logger)
		}()
		logger.Info("daily backups on", "dir", cfg.Backup.Dir, "keep", cfg.Backup.Keep, "at", fmt.Sprintf("%02d:%02d", int(cfg.Backup.At/time.Hour), int(cfg.Backup.At%time.Hour/time.Minute)))
	}
	return func() {
		cancel()
		if admin != nil {
			admin.Close()
		}
		wg.Wait()
	}
}
