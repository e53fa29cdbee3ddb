package update

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/numerek/numerek/device/slots"
)

// Rauc is the real Installer and Slots: the rauc command line.
type Rauc struct {
	// Command is rauc's path (default "rauc").
	Command string
	// Busctl is busctl's path (default "busctl"), to ask RAUC's service
	// whether it is still installing.
	Busctl string
	// IdlePoll is how often a busy RAUC is asked again (default 2 s).
	IdlePoll time.Duration
}

func (r Rauc) command() string {
	if r.Command == "" {
		return "rauc"
	}
	return r.Command
}

// progressLine is a line of `rauc install`'s progress: "  20% Checking
// bundle done.".
var progressLine = regexp.MustCompile(`^\s*(\d{1,3})%\s+(.*)$`)

// ParseProgress reads one line of `rauc install`'s output: ok is false for
// a line that is no progress line.
func ParseProgress(line string) (percent int, what string, ok bool) {
	m := progressLine.FindStringSubmatch(line)
	if m == nil {
		return 0, "", false
	}
	p, err := strconv.Atoi(m[1])
	if err != nil || p > 100 {
		return 0, "", false
	}
	return p, strings.TrimSpace(m[2]), true
}

// Install runs `rauc install FILE` and tells its progress lines; a
// failure's error carries RAUC's last words.
func (r Rauc) Install(ctx context.Context, bundle string, progress func(int)) error {
	if err := r.waitIdle(ctx); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, r.command(), "install", bundle)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting rauc: %w", err)
	}
	var last []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if p, _, ok := ParseProgress(line); ok {
			progress(p)
			continue
		}
		if strings.TrimSpace(line) != "" {
			last = append(last, strings.TrimSpace(line))
			if len(last) > 3 {
				last = last[1:]
			}
		}
	}
	_, _ = io.Copy(io.Discard, out)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("rauc install: %w: %s", err, strings.Join(last, "; "))
	}
	return nil
}

// waitIdle returns once RAUC's service installs nothing. Stopping
// `rauc install` does not stop the service's install: when kioskd restarts
// halfway through one, the service goes on, and a second install asked
// meanwhile would be refused.
func (r Rauc) waitIdle(ctx context.Context) error {
	busctl, poll := r.Busctl, r.IdlePoll
	if busctl == "" {
		busctl = "busctl"
	}
	if poll <= 0 {
		poll = 2 * time.Second
	}
	for {
		out, err := exec.CommandContext(ctx, busctl, "get-property", "de.pengutronix.rauc", "/", "de.pengutronix.rauc.Installer", "Operation").Output()
		if err != nil {
			// No service to ask (it starts with the install): nothing runs.
			return nil
		}
		op, ok := ParseOperation(string(out))
		if !ok || op == "idle" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for RAUC's install under way to end: %w", ctx.Err())
		case <-time.After(poll):
		}
	}
}

// ParseOperation reads busctl's answer for RAUC's Operation property
// (`s "installing"`).
func ParseOperation(out string) (string, bool) {
	f := strings.Fields(strings.TrimSpace(out))
	if len(f) != 2 || f[0] != "s" {
		return "", false
	}
	op, err := strconv.Unquote(f[1])
	return op, err == nil
}

// Status asks RAUC where the slots stand (slots.RaucStatus: kioskd may
// not read the card's first partition itself). Under emulation RAUC's
// service starts slowly: a minute at most.
func (r Rauc) Status(ctx context.Context) (booted, primary string, err error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	st, err := slots.RaucStatus(ctx, r.command())
	if err != nil {
		return "", "", err
	}
	return st.Booted, st.Primary, nil
}

// bootID is the kernel's id of this boot.
func bootID() (string, error) {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}
