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
	"testing"
	"time"

	"github.com/numerek/numerek/display/xwin"
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

// Window is an X window the tests drive (see package xwin).
type Window = xwin.Window

// FindWindow waits for a shown window titled exactly title.
func FindWindow(title string, timeout time.Duration) (Window, error) {
	return xwin.Find(title, timeout)
}

// ScreenSize is the size of the X screen the tests run on.
func ScreenSize() (image.Point, error) { return xwin.ScreenSize() }
