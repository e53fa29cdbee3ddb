package update

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Rauc is the real Installer and Slots: the rauc command line.
type Rauc struct {
	// Command is rauc's path (default "rauc").
	Command string
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

// raucStatus is what `rauc status --output-format=json` says of the slots
// (the parts the agent reads).
type raucStatus struct {
	Booted      string                       `json:"booted"`
	BootPrimary string                       `json:"boot_primary"`
	Slots       []map[string]json.RawMessage `json:"slots"`
}

// ParseStatus reads `rauc status --output-format=json`: the booted slot's
// bootname, and the primary slot's (RAUC names the primary by its slot,
// "rootfs.1", whose bootname is "B").
func ParseStatus(data []byte) (booted, primary string, err error) {
	var st raucStatus
	if err := json.Unmarshal(data, &st); err != nil {
		return "", "", fmt.Errorf("reading rauc status: %w", err)
	}
	primary = st.BootPrimary
	for _, m := range st.Slots {
		for name, raw := range m {
			var slot struct {
				Bootname string `json:"bootname"`
			}
			if json.Unmarshal(raw, &slot) == nil && name == st.BootPrimary && slot.Bootname != "" {
				primary = slot.Bootname
			}
		}
	}
	if st.Booted == "" {
		return "", "", fmt.Errorf("rauc status names no booted slot")
	}
	return st.Booted, primary, nil
}

// Status runs `rauc status --output-format=json`.
func (r Rauc) Status(ctx context.Context) (booted, primary string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, r.command(), "status", "--output-format=json").Output()
	if err != nil {
		return "", "", fmt.Errorf("rauc status: %w", err)
	}
	return ParseStatus(out)
}

// bootID is the kernel's id of this boot.
func bootID() (string, error) {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}
