package watchdog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
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
	stallFor     = 3 * time.Second
)

// stallScenario runs a hall screen whose clock hangs for stallFor, as a
// screen stuck in its Update does, marking the stall's start and end on
// the notify socket (TEST=stall, TEST=resume) for the parent to compare.
// It stalls after the watchdog has pinged a few times and ends after it
// has pinged a few times again: it hears the pings through a relay of its
// own in front of the parent's socket.
func stallScenario(string) error {
	pings, err := relay(displaytest.Param("socket"))
	if err != nil {
		return err
	}
	// As systemd would start kioskd. (The parent cannot set WATCHDOG_USEC
	// in its own environment: the X server it starts would hear it too.)
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
	failed := make(chan error, 1)
	go func() {
		defer cancel()
		if err := hear(pings, pingsAround); err != nil {
			failed <- fmt.Errorf("before the hang: %w", err)
			return
		}
		done := func() {}
		if displaytest.Param("busy") != "" {
			done = w.Busy("the test's update")
		}
		mu.Lock()
		gate = make(chan struct{})
		held := gate
		mu.Unlock()
		daemon.SdNotify(false, "TEST=stall")
		time.Sleep(stallFor) // the hang itself
		for len(pings) > 0 {
			<-pings // beats begun before the hang
		}
		daemon.SdNotify(false, "TEST=resume")
		done()
		close(held)
		if err := hear(pings, pingsAround); err != nil {
			failed <- fmt.Errorf("after the hang: %w", err)
		}
	}()
	err = display.Run(ctx, hall, display.RunOptions{Windowed: true, WindowScale: 0.25, Title: fmt.Sprintf("numerek-watchdog-%d", os.Getpid())})
	cancel()
	<-done
	select {
	case err = <-failed:
	default:
	}
	return err
}

// pingsAround is how many pings the scenario waits for before and after
// the hang.
const pingsAround = 4

// relay puts a socket of this process in front of the parent's: each
// message goes on to the parent as it came, and each WATCHDOG=1 is also
// told on the channel returned. NOTIFY_SOCKET names the relay.
func relay(parent string) (<-chan struct{}, error) {
	out, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: parent, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	path := parent + ".relay"
	in, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	os.Setenv("NOTIFY_SOCKET", path)
	pings := make(chan struct{}, 64)
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := in.Read(buf)
			if err != nil {
				return
			}
			_, _ = out.Write(buf[:n])
			if strings.TrimSpace(string(buf[:n])) == daemon.SdNotifyWatchdog {
				select {
				case pings <- struct{}{}:
				default:
				}
			}
		}
	}()
	return pings, nil
}

// hear waits for n pings, for as long as a loaded machine may take to
// start a full-HD screen in software GL.
func hear(pings <-chan struct{}, n int) error {
	limit := time.After(time.Minute)
	for range n {
		select {
		case <-pings:
		case <-limit:
			return errors.New("the watchdog did not ping")
		}
	}
	return nil
}

type message struct {
	state string
	at    time.Time
}

// notifications runs the stall scenario and returns what it told systemd.
func notifications(t *testing.T, params ...string) []message {
	t.Helper()
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
	displaytest.Run(t, "stall", t.TempDir(), time.Minute, append([]string{"socket=" + sock}, params...)...)
	conn.Close()
	<-read
	return msgs
}

// While a system update keeps the machine busy, kioskd tells systemd to
// wait longer for its screen (WATCHDOG_USEC) before the screen stalls, and
// gives the usual timeout back only after the loop has turned again and
// the watchdog was pinged: a slow last frame is not killed by a timeout
// counted from a ping long ago.
func TestWatchdogWaitsLongerWhileBusy(t *testing.T) {
	msgs := notifications(t, "busy=1")
	long := fmt.Sprintf("WATCHDOG_USEC=%d", watchdog.BusyTimeout.Microseconds())
	var states []string
	for _, m := range msgs {
		if m.state != daemon.SdNotifyWatchdog {
			states = append(states, m.state)
		}
	}
	want := []string{daemon.SdNotifyReady, long, "TEST=stall", "TEST=resume", "WATCHDOG_USEC=" + watchdogUSEC}
	if !slices.Equal(states, want) {
		t.Fatalf("told systemd %q (pings left out), want %q", states, want)
	}
	for i, m := range msgs {
		if m.state == "WATCHDOG_USEC="+watchdogUSEC && (i == 0 || msgs[i-1].state != daemon.SdNotifyWatchdog) {
			t.Errorf("the usual timeout came back without a ping just before it: %v", msgs[max(0, i-3):i+1])
		}
	}
}

// kioskd tells systemd it is ready once its screen runs, pings the
// watchdog while the screen's loop turns, stops pinging while the loop
// hangs (so systemd would restart it), pings again when it turns, and
// never says it is stopping (see Run).
func TestWatchdogFollowsTheScreensLoop(t *testing.T) {
	msgs := notifications(t)

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
	for _, m := range msgs {
		if m.state == daemon.SdNotifyStopping {
			t.Errorf("told systemd STOPPING=1: systemd would kill a kioskd that starts again in its own process")
		}
	}
	if stall.IsZero() || resume.IsZero() {
		t.Error(errors.New("the scenario did not mark its hang"))
	}
}
