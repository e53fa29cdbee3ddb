package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

// buildBinaries builds queue-server and kioskd into dir.
func buildBinaries(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(os.PathSeparator),
		"github.com/numerek/numerek/cmd/queue-server", "github.com/numerek/numerek/cmd/kioskd")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building queue-server and kioskd: %v\n%s", err, out)
	}
	return nil
}

// proc is a running program whose log the run reads.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  []string
	done chan struct{}
	// echo, when set, gets every log line (--verbose).
	echo io.Writer
}

func startProc(name string, env []string, echo io.Writer, bin string, args ...string) (*proc, error) {
	p := &proc{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{}), echo: echo}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = io.Discard
	// A program left behind by a chaos run killed itself would hold its
	// port and data.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			p.mu.Unlock()
			if p.echo != nil {
				fmt.Fprintf(p.echo, "[%s] %s\n", name, sc.Text())
			}
		}
		_ = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// lines returns the log so far.
func (p *proc) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.log...)
}

func (p *proc) tail(n int) string {
	l := p.lines()
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// waitLog waits for a log line matching re and returns its submatches.
func (p *proc) waitLog(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, l := range p.lines() {
			if m := re.FindStringSubmatch(l); m != nil {
				return m, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s ended before logging %v:\n%s", p.name, re, p.tail(20))
		default:
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s did not log %v within %v:\n%s", p.name, re, timeout, p.tail(20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the program as a power cut does.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop ends the program as systemd does, and kills it if it lingers.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

const officeID = "cus-starachowice"

var readyLine = regexp.MustCompile(`msg="queue server ready" listen=(\S+)`)

// office is a queue-server process on the example office, with its data
// and tokens.
type office struct {
	bin    string
	data   string
	addr   string
	echo   io.Writer
	proc   *proc
	tokens map[string]string
	// store is the PostgreSQL database holding the office's log, tokens
	// and devices; "" keeps them in bbolt files in data.
	store string
	// clock gives the office-local time the server is started at.
	clock func() time.Time
}

// newOffice makes tokens, in data or in the database at storeURL when it
// is set; the names map to queue-server token arguments.
func newOffice(bin, data, storeURL string, echo io.Writer, clock func() time.Time, tokens map[string][]string) (*office, error) {
	o := &office{bin: bin, data: data, store: storeURL, echo: echo, tokens: map[string]string{}, clock: clock}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("making the server's data folder: %w", err)
	}
	where := []string{"--data", data}
	if storeURL != "" {
		where = []string{"--store", storeURL}
	}
	for name, args := range tokens {
		out, err := exec.Command(bin, append(append([]string{"token"}, where...), append([]string{"--office", officeID}, args...)...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("making the %s token: %w%s", name, err, stderrOf(err))
		}
		o.tokens[name] = strings.TrimSpace(string(out))
		if err := os.WriteFile(o.tokenFile(name), out, 0o600); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// stderrOf is what a program that failed said, for an error message.
func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok && len(ee.Stderr) > 0 {
		return ": " + strings.TrimSpace(string(ee.Stderr))
	}
	return ""
}

func (o *office) tokenFile(name string) string { return filepath.Join(o.data, name+".token") }

// nodeName is the --node of the server on PostgreSQL: the same name in
// every life, as a restarted service has.
const nodeName = "chaos"

// start runs the server, on the address it had before if it had one.
// Right after a kill the port may take a moment to be free again.
func (o *office) start() error {
	listen := o.addr
	if listen == "" {
		listen = "127.0.0.1:0"
		if o.store != "" {
			// The node's URL, which the lease row names, is made from
			// --listen's port: a real one from the first life on.
			port, err := freePort()
			if err != nil {
				return err
			}
			listen = fmt.Sprintf("127.0.0.1:%d", port)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		clock := o.clock().Format("2006-01-02T15:04:05")
		args := []string{"--data", o.data, "--listen", listen, "--clock", clock, "--public-url", "http://numerek.test"}
		if o.store != "" {
			// One node and no --cluster-secret-file: a single server on
			// PostgreSQL, which forwards no commands.
			args = append(args, "--store", o.store, "--node", nodeName)
		}
		p, err := startProc("queue-server", nil, o.echo, o.bin, args...)
		if err != nil {
			return err
		}
		m, err := p.waitLog(readyLine, 30*time.Second)
		if err == nil {
			o.proc, o.addr = p, m[1]
			return nil
		}
		p.kill()
		if time.Now().After(deadline) || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var leadingLine = regexp.MustCompile(`msg="leading the office"`)

// writing waits until the server can write the office's log: at once on
// bbolt; on PostgreSQL once it holds the office's lease, which a node
// killed before it held for up to its TTL (store/pgstore/lease.go).
func (o *office) writing(timeout time.Duration) error {
	if o.store == "" {
		return nil
	}
	_, err := o.proc.waitLog(leadingLine, timeout)
	return err
}

// readLog reads every event of the office's log, once the server is
// stopped: from its bbolt file, or from the database.
func (o *office) readLog(ctx context.Context) ([]queue.Event, error) {
	var events []queue.Event
	collect := func(e queue.Event) bool { events = append(events, e); return true }
	if o.store == "" {
		l, err := store.OpenOfficeLog(filepath.Join(o.data, "offices", officeID+".db"), officeID)
		if err != nil {
			return nil, fmt.Errorf("opening the office's log after the run: %w", err)
		}
		defer l.Close()
		if err := l.Scan(0, collect); err != nil {
			return nil, fmt.Errorf("reading the office's log: %w", err)
		}
		return events, nil
	}
	db, err := pgstore.Open(ctx, o.store)
	if err != nil {
		return nil, fmt.Errorf("opening the office's database after the run: %w", err)
	}
	defer db.Close()
	// Reading only: a Node of no name never leads, so never appends.
	if err := db.Office(officeID, pgstore.Node{}, pgstore.OfficeOptions{}).Scan(0, collect); err != nil {
		return nil, fmt.Errorf("reading the office's log from the database: %w", err)
	}
	return events, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (o *office) url() string { return "http://" + o.addr }

func (o *office) api(ctx context.Context, client *http.Client, token, method, path, body string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, o.url()+"/api/v1/offices/"+officeID+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+o.tokens[token])
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// tokenID asks the server what it calls a token: the prefix of the
// request ids it stores for it.
func (o *office) tokenID(ctx context.Context, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", o.url()+"/api/v1/whoami", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+o.tokens[token])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var who struct {
		TokenID string `json:"token_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&who); err != nil {
		return "", fmt.Errorf("whoami: %w", err)
	}
	return who.TokenID, nil
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %s", timeout, what)
		}
		time.Sleep(30 * time.Millisecond)
	}
	return nil
}
