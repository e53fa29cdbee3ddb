// Package watchdog tells systemd how kioskd is (sd_notify): READY=1 once
// the screen's loop has turned, and WATCHDOG=1 only while it goes on
// turning. A screen stuck in its Update or Draw
// (a driver hang, a deadlock) stops the pings, and systemd restarts
// kioskd after WatchdogSec: a public screen must not stay frozen. It also
// says whether the screen is alive for the health report. Without
// systemd (no NOTIFY_SOCKET) it only watches.
package watchdog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/numerek/numerek/display"
)

// DefaultBeat is how often the loop is nudged and looked at when systemd
// sets no watchdog.
const DefaultBeat = 5 * time.Second

// Watchdog watches one screen's loop.
type Watchdog struct {
	screen display.Screen
	log    *slog.Logger
	// beat is how often the loop is nudged and looked at: half
	// systemd's WatchdogSec, as sd_watchdog_enabled advises.
	beat     time.Duration
	watching bool // systemd wants WATCHDOG=1
	// usual is systemd's timeout as the unit sets it.
	usual time.Duration

	mu    sync.Mutex
	alive bool
	// busy counts the Busy periods under way; restore is set when the
	// last one ends, until the usual timeout is given back.
	busy    int
	restore bool
}

// New watches screen, with the watchdog systemd asks for in the process's
// environment (WATCHDOG_USEC), if any.
func New(screen display.Screen, log *slog.Logger) *Watchdog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w := &Watchdog{screen: screen, log: log, beat: DefaultBeat}
	if every, err := daemon.SdWatchdogEnabled(false); err != nil {
		log.Warn("systemd's watchdog setting is unreadable; not pinging it", "err", err)
	} else if every > 0 {
		w.beat, w.watching, w.usual = every/2, true, every
	}
	return w
}

// BusyTimeout is how long the screen's loop may stand still while the
// machine is busy with a system update.
const BusyTimeout = 10 * time.Minute

// Busy tells systemd that, for a while, the screen may turn slowly: an
// update's download and install take the machine's processors and card,
// and a Raspberry Pi drawing in software, or one under emulation, can
// miss a beat. The watchdog's timeout becomes BusyTimeout
// (WATCHDOG_USEC) until done is called; the usual one comes back at the
// next beat the loop has turned in, so a slow last frame is not punished
// by a timeout counted from a ping long ago. A loop stuck for good is
// still restarted, later.
func (w *Watchdog) Busy(why string) (done func()) {
	if !w.watching {
		return func() {}
	}
	w.mu.Lock()
	w.busy++
	first := w.busy == 1
	w.mu.Unlock()
	if first {
		w.log.Info("the screen may turn slowly for a while: systemd's watchdog waits longer", "why", why, "timeout", BusyTimeout)
		w.notify(fmt.Sprintf("WATCHDOG_USEC=%d", BusyTimeout.Microseconds()))
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.busy--
			if w.busy == 0 {
				w.restore = true
			}
		})
	}
}

// Alive reports whether the screen's loop turned within the last beat
// it was nudged.
func (w *Watchdog) Alive() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.alive
}

// Run watches until ctx ends. Call it before the screen runs: READY=1
// goes once the loop has turned. It never says STOPPING=1: kioskd starts
// again in its own process (exec) after pairing and on new settings, and
// systemd takes STOPPING=1 from a running service as the start of its
// stop, killing it TimeoutStopSec later; when systemd stops kioskd, it
// knows already.
func (w *Watchdog) Run(ctx context.Context) {
	if !w.waitReady(ctx) {
		return
	}
	w.notify(daemon.SdNotifyReady)
	t := time.NewTicker(w.beat)
	defer t.Stop()
	nudged := time.Now()
	display.Nudge(w.screen)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		loop := display.LoopOf(w.screen)
		turned := loop.Running && loop.LastTurn.After(nudged)
		w.mu.Lock()
		was := w.alive
		w.alive = turned
		w.mu.Unlock()
		switch {
		case was && !turned:
			w.log.Error("the screen's loop has not turned for a beat: it is stuck", "beat", w.beat, "last_turn", loop.LastTurn)
		case !was && turned:
			w.log.Info("the screen's loop turns again")
		}
		if turned && w.watching {
			w.notify(daemon.SdNotifyWatchdog)
			w.mu.Lock()
			restore := w.restore && w.busy == 0
			w.restore = false
			w.mu.Unlock()
			if restore {
				w.notify(fmt.Sprintf("WATCHDOG_USEC=%d", w.usual.Microseconds()))
			}
		}
		nudged = time.Now()
		display.Nudge(w.screen)
	}
}

// waitReady waits for the loop's first turn; false if ctx ended first.
func (w *Watchdog) waitReady(ctx context.Context) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if l := display.LoopOf(w.screen); l.Running && !l.LastTurn.IsZero() {
			w.mu.Lock()
			w.alive = true
			w.mu.Unlock()
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

func (w *Watchdog) notify(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		w.log.Warn("telling systemd", "state", state, "err", err)
	}
}
