package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
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
	// clock gives the office-local time the server is started at.
	clock func() time.Time
}

// newOffice makes tokens in data; the names map to queue-server token
// arguments.
func newOffice(bin, data string, echo io.Writer, clock func() time.Time, tokens map[string][]string) (*office, error) {
	o := &office{bin: bin, data: data, echo: echo, tokens: map[string]string{}, clock: clock}
	for name, args := range tokens {
		out, err := exec.Command(bin, append([]string{"token", "--data", data, "--office", officeID}, args...)...).Output()
		if err != nil {
			return nil, fmt.Errorf("making the %s token: %w", name, err)
		}
		o.tokens[name] = strings.TrimSpace(string(out))
		if err := os.WriteFile(o.tokenFile(name), out, 0o600); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func (o *office) tokenFile(name string) string { return filepath.Join(o.data, name+".token") }

// start runs the server, on the address it had before if it had one.
// Right after a kill the port may take a moment to be free again.
func (o *office) start() error {
	listen := o.addr
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		clock := o.clock().Format("2006-01-02T15:04:05")
		p, err := startProc("queue-server", nil, o.echo, o.bin, "--data", o.data, "--listen", listen,
			"--clock", clock, "--public-url", "http://numerek.test")
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
