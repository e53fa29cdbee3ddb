// Package watchdog tells systemd how kioskd is (sd_notify): READY=1 once
// the screen's loop has turned, WATCHDOG=1 only while it goes on turning,
// and STOPPING=1 when kioskd stops. A screen stuck in its Update or Draw
// (a driver hang, a deadlock) stops the pings, and systemd restarts
// kioskd after WatchdogSec: a public screen must not stay frozen. It also
// says whether the screen is alive for the health report. Without
// systemd (no NOTIFY_SOCKET) it only watches.
package watchdog

import (
	"context"
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

	mu    sync.Mutex
	alive bool
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
		w.beat, w.watching = every/2, true
	}
	return w
}

// Alive reports whether the screen's loop turned within the last beat
// it was nudged.
func (w *Watchdog) Alive() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.alive
}

// Run watches until ctx ends, then tells systemd kioskd is stopping. Call
// it before the screen runs: READY=1 goes once the loop has turned.
func (w *Watchdog) Run(ctx context.Context) {
	defer w.notify(daemon.SdNotifyStopping)
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
