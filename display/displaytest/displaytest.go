// Package displaytest runs Ebiten windows in tests. Ebiten runs one game
// per process, on the main thread, so each window runs in a child process
// of the test binary: TestMain hands control to Main, a test calls Run with
// a scenario's name, and the child runs that scenario and exits. Children
// drive their windows with real X events through xdotool.
package displaytest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	envScenario = "NUMEREK_DISPLAYTEST_SCENARIO"
	envDir      = "NUMEREK_DISPLAYTEST_DIR"
)

// Scenario is what a child process runs, on its main goroutine, with a
// folder for the files it leaves for the parent.
type Scenario func(dir string) error

// Main runs the scenario the environment names and exits when the process
// is a child, and the tests otherwise. Call it from TestMain.
func Main(m *testing.M, scenarios map[string]Scenario) {
	name := os.Getenv(envScenario)
	if name == "" {
		os.Exit(m.Run())
	}
	s, ok := scenarios[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "displaytest: no scenario %q\n", name)
		os.Exit(2)
	}
	if err := s(os.Getenv(envDir)); err != nil {
		fmt.Fprintf(os.Stderr, "displaytest: scenario %s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Param reads a scenario parameter that Run passed as "name=value".
func Param(name string) string { return os.Getenv("NUMEREK_DISPLAYTEST_P_" + name) }

// Run runs scenario in a child process with params ("name=value", read
// with Param) and fails tb with the child's output if it fails or takes
// longer than timeout. It skips when there is no X display.
func Run(tb testing.TB, scenario, dir string, timeout time.Duration, params ...string) {
	tb.Helper()
	if os.Getenv("DISPLAY") == "" {
		tb.Skip("no X display: run the tests under scripts/with-display.sh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), envScenario+"="+scenario, envDir+"="+dir)
	for _, p := range params {
		cmd.Env = append(cmd.Env, "NUMEREK_DISPLAYTEST_P_"+p)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		tb.Fatalf("window scenario %s took longer than %v:\n%s", scenario, timeout, out.String())
	}
	if err != nil {
		tb.Fatalf("window scenario %s: %v:\n%s", scenario, err, out.String())
	}
}

// ReadPNG reads a picture a child left.
func ReadPNG(tb testing.TB, path string) image.Image {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("reading picture: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("decoding picture %s: %v", path, err)
	}
	return img
}

// Window is an X window found by its title.
type Window struct{ ID string }

// FindWindow waits for a shown window titled exactly title.
func FindWindow(title string, timeout time.Duration) (Window, error) {
	deadline := time.Now().Add(timeout)
	for {
		out, err := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^"+title+"$").Output()
		if err == nil {
			if f := strings.Fields(string(out)); len(f) > 0 {
				return Window{ID: f[0]}, nil
			}
		}
		if time.Now().After(deadline) {
			return Window{}, fmt.Errorf("no window titled %q after %v (is xdotool installed? %v)", title, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Click presses the left mouse button at x, y in the window's pixels and
// releases it 60 ms later, as a finger on a touchscreen does (a touch
// panel reports itself as a mouse).
func (w Window) Click(x, y int) error {
	// Raised first: the click goes to whatever window is on top where the
	// pointer is, and without a window manager windows may overlap.
	if err := xdotool("windowraise", w.ID); err != nil {
		return err
	}
	if err := xdotool("mousemove", "--window", w.ID, strconv.Itoa(x), strconv.Itoa(y), "mousedown", "1"); err != nil {
		return err
	}
	time.Sleep(60 * time.Millisecond)
	err := xdotool("mouseup", "1")
	time.Sleep(30 * time.Millisecond)
	return err
}

// Type focuses the window and types s as a keyboard (or a barcode
// scanner) would; "\n" is Enter.
func (w Window) Type(s string) error {
	if err := xdotool("windowfocus", "--sync", w.ID); err != nil {
		return err
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if line != "" {
			if err := xdotool("type", "--delay", "8", line); err != nil {
				return err
			}
		}
		if i < len(lines)-1 {
			if err := xdotool("key", "Return"); err != nil {
				return err
			}
		}
	}
	return nil
}

func xdotool(args ...string) error {
	out, err := exec.Command("xdotool", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("xdotool %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}
