package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/boltfile"
	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/store"
)

const officeID = "cus-starachowice"

// startServerWith starts queue-server with extra arguments (the data
// directory and a test clock are given by the caller).
func startServerWith(t testing.TB, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return &process{cmd: cmd, base: "http://" + a + "/api/v1/offices/" + officeID}
	case <-time.After(20 * time.Second):
		t.Fatal("queue-server did not start")
	}
	return nil
}

// issueTickets issues n tickets and returns their numbers.
func issueTickets(t *testing.T, srv *process, tok string, n int, tag string) []string {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	var numbers []string
	for i := 0; i < n; i++ {
		status, tr, err := post(client, srv.base+"/tickets", tok, fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":"%s-%d"}`, tag, i))
		if err != nil || status != http.StatusCreated {
			t.Fatalf("issuing a ticket: %d %v", status, err)
		}
		numbers = append(numbers, tr.Ticket.Number)
	}
	return numbers
}

// runBin runs the binary to its end (at most 30 s) and returns its exit
// code and output.
func runBin(t testing.TB, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%v did not end within 30 s (a server started?)\nstderr:\n%s", args, stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// crashSigns are what a Go panic or a fatal signal print.
var crashSigns = []string{"panic:", "goroutine ", "SIGSEGV", "SIGBUS", "fatal error", "unexpected fault address"}

func assertNoCrash(t *testing.T, code int, out string) {
	t.Helper()
	if code == 2 || code < 0 {
		t.Errorf("exit code %d: the process crashed or was killed", code)
	}
	for _, s := range crashSigns {
		if strings.Contains(out, s) {
			t.Errorf("the process crashed (%q):\n%s", s, out)
		}
	}
}

// seededData makes a data directory holding an office with tickets issued
// through a real server, stopped cleanly; it returns the directory, the
// binary and the numbers issued.
func seededData(t *testing.T) (string, string, []string) {
	t.Helper()
	bin := buildServer(t)
	data := t.TempDir()
	tok := token(t, bin, data, "--role", "ticket", "--label", "kiosk")
	srv := startServerWith(t, bin, "--data", data, "--clock", "2026-11-23T07:45:00")
	numbers := issueTickets(t, srv, tok, 60, "seed")
	srv.cmd.Process.Signal(os.Interrupt)
	srv.cmd.Wait()
	return data, bin, numbers
}

func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	err := filepath.Walk(from, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		if info.Mode()&os.ModeSocket != 0 {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

func damageFile(t *testing.T, path string, how string, r *rand.Rand) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := boltfile.Read(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := rep.PageSize
	used := int(rep.Meta.HighMark) * ps
	switch how {
	case "emptied":
		data = nil
	case "cut to 1000 bytes":
		data = data[:1000]
	case "cut to 3 pages":
		data = data[:3*ps]
	case "cut in half":
		data = data[:used/2]
	case "last page cut short":
		data = data[:used-100]
	case "pages overwritten":
		for i := 0; i < 3; i++ {
			p := 2 + r.IntN(int(rep.Meta.HighMark)-2)
			for j := p * ps; j < (p+1)*ps; j++ {
				data[j] = byte(r.Uint32())
			}
		}
	case "meta page 0 zeroed":
		clear(data[:ps])
	case "meta page 1 zeroed":
		clear(data[ps : 2*ps])
	case "both meta pages zeroed":
		clear(data[:2*ps])
	default:
		t.Fatalf("no damage %q", how)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedOfficeFileStopsStartUp damages a real office file in each way
// and starts the real server on it: it must stop, naming the file and
// saying what is wrong, and never crash or start an empty office.
func TestDamagedOfficeFileStopsStartUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs server processes")
	}
	t.Parallel()
	seeded, bin, _ := seededData(t)
	for _, how := range []string{"emptied", "cut to 1000 bytes", "cut to 3 pages", "cut in half", "last page cut short", "pages overwritten", "meta page 0 zeroed", "meta page 1 zeroed", "both meta pages zeroed"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			data := copyDir(t, seeded)
			path := filepath.Join(data, "offices", officeID+".db")
			damageFile(t, path, how, rand.New(rand.NewPCG(5, 6)))
			code, _, stderr := runBin(t, bin, "--data", data, "--listen", "127.0.0.1:0", "--clock", "2026-11-23T08:00:00")
			assertNoCrash(t, code, stderr)
			if code != 1 || !strings.Contains(stderr, path+" is damaged") || !strings.Contains(stderr, "queue-server recover") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 naming %s as damaged and pointing to recover", code, stderr, path)
			}
			code, stdout, stderr := runBin(t, bin, "check", "--data", data)
			assertNoCrash(t, code, stdout+stderr)
			if code != 1 || !strings.Contains(stdout, "offices/"+officeID+".db: DAMAGED") || !strings.Contains(stderr, "1 of 4 data files") {
				t.Errorf("check: exit %d\n%s%s", code, stdout, stderr)
			}
		})
	}
}

// TestRandomPageDamageNeverCrashesTheServer overwrites random pages of a
// real office file again and again and starts the real server on it.
func TestRandomPageDamageNeverCrashesTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs server processes")
	}
	t.Parallel()
	seeded, bin, _ := seededData(t)
	orig, err := os.ReadFile(filepath.Join(seeded, "offices", officeID+".db"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(11, 12))
	for round := 0; round < 12; round++ {
		data := copyDir(t, seeded)
		path := filepath.Join(data, "offices", officeID+".db")
		damaged := append([]byte(nil), orig...)
		for n := 1 + r.IntN(4); n > 0; n-- {
			p := r.IntN(len(damaged) / 4096)
			for j := p * 4096; j < (p+1)*4096; j++ {
				damaged[j] = byte(r.Uint32())
			}
		}
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		// A server that starts is stopped at once: only an undamaged part
		// of the file (a free page) was hit.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, "--data", data, "--listen", "127.0.0.1:0", "--clock", "2026-11-23T08:00:00")
		var stderr lockedbuf.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ended := make(chan struct{})
		go func() { cmd.Wait(); close(ended) }()
		waitFor(t, 25*time.Second, func() bool {
			select {
			case <-ended:
				return true
			default:
				return strings.Contains(stderr.String(), "queue server ready")
			}
		})
		if strings.Contains(stderr.String(), "queue server ready") {
			cmd.Process.Signal(os.Interrupt)
		}
		<-ended
		cancel()
		code := cmd.ProcessState.ExitCode()
		assertNoCrash(t, code, stderr.String())
		if code != 0 && !strings.Contains(stderr.String(), path) {
			t.Errorf("round %d: exit %d without naming the file:\n%s", round, code, stderr.String())
		}
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	waitfor.Until(t, "the condition", within, cond)
}

// TestBackupWhileServingThenRecover copies the data of a real server while
// kiosks issue tickets, then damages the office file beyond repair and
// rebuilds it from the copy and what is left.
func TestBackupWhileServingThenRecover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs server processes")
	}
	t.Parallel()
	bin := buildServer(t)
	data := t.TempDir()
	tok := token(t, bin, data, "--role", "ticket", "--label", "kiosk")
	srv := startServerWith(t, bin, "--data", data, "--clock", "2026-11-23T07:45:00")
	before := issueTickets(t, srv, tok, 40, "before")

	// Tickets keep coming while the copy is made.
	stop := make(chan struct{})
	done := make(chan []string)
	go func() {
		var during []string
		client := &http.Client{Timeout: 5 * time.Second}
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- during
				return
			default:
			}
			status, tr, err := post(client, srv.base+"/tickets", tok, fmt.Sprintf(`{"service":"family","lang":"pl","request_id":"during-%d"}`, i))
			if err == nil && status == http.StatusCreated {
				during = append(during, tr.Ticket.Number)
			}
		}
	}()
	backups := t.TempDir()
	copyDir := filepath.Join(backups, "2026-11-23")
	code, stdout, stderr := runBin(t, bin, "backup", "--data", data, "--to", copyDir)
	close(stop)
	during := <-done
	if code != 0 || !strings.Contains(stdout, "from the running server") || !strings.Contains(stdout, "offices/"+officeID+".db: office "+officeID) {
		t.Fatalf("backup of a running server: exit %d\n%s%s", code, stdout, stderr)
	}
	rep, err := store.CheckOfficeFile(filepath.Join(copyDir, "offices", officeID+".db"))
	if err != nil || !rep.OK() {
		t.Fatalf("the copy does not check: %+v %v", rep, err)
	}
	for _, f := range []string{"web.db", "tokens.db", "web.key"} {
		if _, err := os.Stat(filepath.Join(copyDir, f)); err != nil {
			t.Errorf("the copy has no %s: %v", f, err)
		}
	}
	// check works on a running server too, through a copy.
	code, stdout, _ = runBin(t, bin, "check", "--data", data)
	if code != 0 || !strings.Contains(stdout, "checking a consistent copy") {
		t.Errorf("check of a running server: exit %d\n%s", code, stdout)
	}
	after := issueTickets(t, srv, tok, 5, "after")
	srv.cmd.Process.Kill()
	srv.cmd.Wait()

	// Every page of events lost: only the copy can bring them back.
	path := filepath.Join(data, "offices", officeID+".db")
	if err := os.Truncate(path, 2*4096); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runBin(t, bin, "recover", "--data", data, "--office", officeID)
	if code != 1 || !strings.Contains(stderr, "no event could be read") {
		t.Errorf("recover without a backup from an unreadable file: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runBin(t, bin, "recover", "--data", data, "--office", officeID, "--backups", backups)
	if code != 0 || !strings.Contains(stdout, "from the backup "+filepath.Join(copyDir, "offices", officeID+".db")) || !strings.Contains(stdout, "LOST") {
		t.Fatalf("recover: exit %d\n%s%s", code, stdout, stderr)
	}
	kept, _ := filepath.Glob(path + ".damaged-*")
	if len(kept) != 1 {
		t.Errorf("the damaged file was not kept: %v", kept)
	}

	// The rebuilt office holds every ticket issued before the copy, and
	// goes on numbering after them.
	srv = startServerWith(t, bin, "--data", data, "--clock", "2026-11-23T08:30:00")
	again := issueTickets(t, srv, tok, 5, "again")
	seen := map[string]bool{}
	for _, n := range before {
		seen[n] = true
	}
	for _, n := range again {
		if seen[n] {
			t.Errorf("number %s, issued before the backup, was given again after recovery", n)
		}
	}
	t.Logf("%d tickets before the copy, %d during it, %d after it (lost with the file)", len(before), len(during), len(after))
}

// TestScheduledBackups runs a server whose [backup] falls two seconds
// after it starts and waits for the copy and the pruning.
func TestScheduledBackups(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs server processes")
	}
	t.Parallel()
	bin := buildServer(t)
	data, backups := t.TempDir(), t.TempDir()
	setting := fmt.Sprintf("[backup]\ndir = %q\nkeep = 2\nat = \"07:45\"\n\n", backups)
	cfg := exampleOfficeWith(t, setting)
	for _, old := range []string{"2026-11-20", "2026-11-21", "2026-11-22"} {
		if err := os.MkdirAll(filepath.Join(backups, old, "offices"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tok := token(t, bin, data, "--role", "ticket")
	srv := startServerWith(t, bin, "--config", cfg, "--data", data, "--clock", "2026-11-23T07:44:57")
	issueTickets(t, srv, tok, 3, "x")
	copyPath := filepath.Join(backups, "2026-11-23", "offices", officeID+".db")
	waitFor(t, 20*time.Second, func() bool {
		_, err := os.Stat(copyPath)
		return err == nil
	})
	waitFor(t, 10*time.Second, func() bool {
		entries, _ := os.ReadDir(backups)
		return len(entries) == 2
	})
	entries, _ := os.ReadDir(backups)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "2026-11-22 2026-11-23" {
		t.Errorf("backups kept: %v, want the newest two", names)
	}
	rep, err := store.CheckOfficeFile(copyPath)
	if err != nil || !rep.OK() || rep.Office != officeID {
		t.Errorf("the daily copy: %+v %v", rep, err)
	}
}

func TestNextBackup(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	at := 2*time.Hour + 30*time.Minute
	tests := []struct{ now, want string }{
		{"2026-11-23 01:00", "2026-11-23 02:30"},
		{"2026-11-23 02:30", "2026-11-24 02:30"},
		{"2026-11-23 23:59", "2026-11-24 02:30"},
		// The night the clocks go forward 02:00→03:00 has no 02:30: the
		// copy is made at 03:30 and the next night as usual.
		{"2026-03-29 01:00", "2026-03-29 03:30"},
		{"2026-10-25 01:00", "2026-10-25 02:30"},
	}
	for _, tt := range tests {
		now, _ := time.ParseInLocation("2006-01-02 15:04", tt.now, loc)
		if got := nextBackup(now, at, loc).Format("2006-01-02 15:04"); got != tt.want {
			t.Errorf("after %s: %s, want %s", tt.now, got, tt.want)
		}
	}
}

// exampleOfficeWith writes the example office's configuration with
// settings put before it ([messages], [devices]…) and returns its path.
func exampleOfficeWith(t testing.TB, settings string) string {
	t.Helper()
	office, err := os.ReadFile("../../examples/offices/starachowice.toml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "office.toml")
	if err := os.WriteFile(cfg, append([]byte(settings), office...), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A data directory with nothing of the offices' (a node on PostgreSQL
// keeps it all in the database) is no backup: the command says where the
// data is instead of listing an empty copy.
func TestBackupOfNothingSaysWhereTheDataIs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"backup", "--data", t.TempDir(), "--to", t.TempDir()}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stdout.String(), "back the database up") {
		t.Errorf("exit %d, said %q %q", code, stdout.String(), stderr.String())
	}
}
