// Package displaytest runs Ebiten windows in tests. Ebiten runs one game
// per process, on the main thread, so each window runs in a child process
// of the test binary: TestMain hands control to Main, a test calls Run with
// a scenario's name, and the child runs that scenario and exits. Children
// drive their windows with real X events through xdotool.
package displaytest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
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

// sharedDisplay is held by a child that runs on $DISPLAY (when Xvfb is
// missing): children that share a display must take turns, as they click
// with its one pointer.
var sharedDisplay sync.Mutex

// Run runs scenario in a child process with params ("name=value", read
// with Param) and fails tb with the child's output if it fails or takes
// longer than timeout. The child has an X server of its own (Xvfb), so
// tests that call Run can run side by side; without Xvfb the children take
// turns on $DISPLAY. It skips when there is no X display.
func Run(tb testing.TB, scenario, dir string, timeout time.Duration, params ...string) {
	tb.Helper()
	display, stop := Xvfb()
	defer stop()
	if display == "" {
		if os.Getenv("DISPLAY") == "" {
			tb.Skip("no X display: install Xvfb or run the tests under scripts/with-display.sh")
		}
		sharedDisplay.Lock()
		defer sharedDisplay.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), envScenario+"="+scenario, envDir+"="+dir)
	if display != "" {
		cmd.Env = append(cmd.Env, "DISPLAY="+display)
	}
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

// FindWindowOn is FindWindow on the X display named display (":3").
func FindWindowOn(display, title string, timeout time.Duration) (Window, error) {
	return xwin.FindOn(display, title, timeout)
}

// ScreenSizeOn is the size of the X screen of display.
func ScreenSizeOn(display string) (image.Point, error) { return xwin.ScreenSizeOn(display) }

// Xvfb starts an X server on a display of its own and returns the
// display's name (":3") and how to stop it; the name is "" when Xvfb
// cannot be started.
//
// The display number is drawn at random from a wide range, not the first
// free one (-displayfd alone): a server that is ending gives its number up
// before its sockets are gone, and one started on that number at that
// moment could lose its socket to the old server's cleanup, leaving a test
// with "failed to open display". A number still taken is refused by Xvfb,
// and another is drawn.
func Xvfb() (display string, stop func()) {
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		return "", func() {}
	}
	for range 20 {
		if display, stop := xvfbOn(bin, 1000+rand.IntN(50000)); display != "" {
			return display, stop
		}
	}
	return "", func() {}
}

// xvfbOn starts Xvfb on display number n and waits until it accepts
// clients (it writes its number to -displayfd then); "" when it could
// not take n.
func xvfbOn(bin string, n int) (display string, stop func()) {
	// The server is told to end with the OS thread that started it
	// (Pdeathsig), so a killed test binary leaves none behind. Go ends a
	// thread whose goroutine exits while locked to it, and would then end
	// the server under a running test: the thread is held, locked, by a
	// goroutine that lives as long as the server.
	started := make(chan string)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		r, w, err := os.Pipe()
		if err != nil {
			started <- ""
			return
		}
		// -noreset: by default an X server starts over when its last
		// client leaves, and a client connecting meanwhile (the window,
		// as xdotool's search ends) is refused: 3 of 600 connections in a
		// loop of two clients, none with -noreset.
		cmd := exec.Command(bin, fmt.Sprintf(":%d", n), "-displayfd", "3", "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset")
		cmd.ExtraFiles = []*os.File{w}
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		err = cmd.Start()
		w.Close()
		if err != nil {
			r.Close()
			started <- ""
			return
		}
		line, err := bufio.NewReader(r).ReadString('\n')
		r.Close()
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			started <- ""
			return
		}
		started <- ":" + strings.TrimSpace(line)
		<-quit
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	display = <-started
	stop = func() {
		close(quit)
		<-done
	}
	if display == "" {
		<-done
		return "", func() {}
	}
	// The server said it is ready; its socket must answer too (a server
	// ending on the same number could have removed it meanwhile). If not,
	// this number is given up and another drawn.
	c, err := net.Dial("unix", "/tmp/.X11-unix/X"+strings.TrimPrefix(display, ":"))
	if err != nil {
		stop()
		return "", func() {}
	}
	c.Close()
	return display, stop
}
