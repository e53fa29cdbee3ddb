package watchdog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/numerek/numerek/device/watchdog"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/display/displaytest"
)

func TestMain(m *testing.M) {
	displaytest.Main(m, map[string]displaytest.Scenario{"stall": stallScenario})
}

// The timings of the scenario: systemd's WatchdogSec is 2 beats. A beat
// of half a second leaves a loaded machine (the whole test suite at once)
// time to turn the loop between beats: with 100 ms the loop missed beats
// it had not stalled for.
const (
	watchdogUSEC = "1000000" // beat 500 ms
	beat         = 500 * time.Millisecond
	runFor       = 2500 * time.Millisecond
	stallFor     = 3 * time.Second
)

// stallScenario runs a hall screen whose clock hangs for stallFor, as a
// screen stuck in its Update does, marking the stall's start and end on
// the notify socket (TEST=stall, TEST=resume) for the parent to compare.
func stallScenario(string) error {
	// As systemd would start kioskd. (The parent cannot set them in its
	// own environment: the X server it starts would hear them too, and
	// Xvfb says READY=1 as well.)
	os.Setenv("NOTIFY_SOCKET", displaytest.Param("socket"))
	os.Setenv("WATCHDOG_USEC", watchdogUSEC)
	var mu sync.Mutex
	gate := make(chan struct{})
	close(gate)
	now := func() time.Time {
		mu.Lock()
		g := gate
		mu.Unlock()
		<-g
		return time.Now()
	}
	hall := display.NewHall(display.HallConfig{Panel: display.LandscapeHD, Now: now})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := watchdog.New(hall, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	go func() {
		// The first frame of a full-HD screen in software GL takes a
		// while; the loop runs from then on.
		for display.LoopOf(hall).LastFrame.IsZero() {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(runFor)
		mu.Lock()
		gate = make(chan struct{})
		held := gate
		mu.Unlock()
		daemon.SdNotify(false, "TEST=stall")
		time.Sleep(stallFor)
		daemon.SdNotify(false, "TEST=resume")
		close(held)
		time.Sleep(runFor)
		cancel()
	}()
	err := display.Run(ctx, hall, display.RunOptions{Windowed: true, WindowScale: 0.25, Title: fmt.Sprintf("numerek-watchdog-%d", os.Getpid())})
	cancel()
	<-done
	return err
}

type message struct {
	state string
	at    time.Time
}

// kioskd tells systemd it is ready once its screen runs, pings the
// watchdog while the screen's loop turns, stops pinging while the loop
// hangs (so systemd would restart it), pings again when it turns, and
// says it is stopping at the end.
func TestWatchdogFollowsTheScreensLoop(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []message
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 256)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			for line := range strings.SplitSeq(strings.TrimSpace(string(buf[:n])), "\n") {
				msgs = append(msgs, message{line, time.Now()})
			}
		}
	}()
	displaytest.Run(t, "stall", t.TempDir(), time.Minute, "socket="+sock)
	conn.Close()
	<-read

	var stall, resume time.Time
	var before, during, after int
	for i, m := range msgs {
		switch m.state {
		case daemon.SdNotifyReady:
			if i != 0 {
				t.Errorf("READY=1 came after %v", msgs[:i])
			}
		case "TEST=stall":
			stall = m.at
		case "TEST=resume":
			resume = m.at
		case daemon.SdNotifyWatchdog:
			switch {
			case stall.IsZero():
				before++
			case resume.IsZero():
				// A turn begun before the hang may still be counted
				// at the next beat or two.
				if m.at.Sub(stall) > 2*beat+50*time.Millisecond {
					during++
				}
			default:
				after++
			}
		}
	}
	if len(msgs) == 0 || msgs[0].state != daemon.SdNotifyReady {
		t.Fatalf("no READY=1 first: %v", msgs)
	}
	if before < 3 || after < 3 {
		t.Errorf("%d pings before the hang and %d after, want several each", before, after)
	}
	if during > 0 {
		t.Errorf("%d WATCHDOG=1 while the screen's loop hung", during)
	}
	if last := msgs[len(msgs)-1].state; last != daemon.SdNotifyStopping {
		t.Errorf("last message %q, want STOPPING=1", last)
	}
	if stall.IsZero() || resume.IsZero() {
		t.Error(errors.New("the scenario did not mark its hang"))
	}
}
