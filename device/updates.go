package device

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/numerek/numerek/device/update"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/protocol"
)

// System updates (device/update): kioskd takes the server's update orders
// as remote actions, shows "updating, do not switch off" while the bundle
// is installed, reports each step at once, and says when it is healthy so
// that a new system on trial is kept.

// UpdateOptions are where kioskd's update agent works; the zero value is
// a real device's (docs/updates.md).
type UpdateOptions struct {
	// Release is the system's version file; default /etc/numerek-release.
	// Without it kioskd does not run on the image: no updates.
	Release string
	// Record and Dir default to update.json and updates/ in the data
	// folder (/var/lib/kioskd).
	Record string
	Dir    string
	// Healthy is written once the screen has drawn and the server has
	// answered; numerek-trial.service keeps a new system on trial when it
	// appears. Default /run/kioskd/healthy.
	Healthy string
	// Installer and Slots default to rauc.
	Installer update.Installer
	Slots     update.Slots
}

// DefaultRelease and DefaultHealthy are the image's paths.
const (
	DefaultRelease = "/etc/numerek-release"
	DefaultHealthy = "/run/kioskd/healthy"
)

// updater is the device's update agent and what it shows.
type updater struct {
	d     *dev
	agent *update.Agent
	opts  UpdateOptions

	mu     sync.Mutex
	screen display.Screen
	// busy makes the watchdog lenient (watchdog.Busy) while an update
	// downloads and installs; endBusy ends it.
	busy    func(why string) (done func())
	endBusy func()
	// healthy is set once the healthy file is written (checked at every
	// frame until then).
	healthy atomic.Bool
}

func newUpdater(d *dev) *updater {
	o := d.opts.Update
	if o.Release == "" {
		o.Release = DefaultRelease
	}
	if o.Record == "" {
		o.Record = filepath.Join(d.cfg.DataDir, "update.json")
	}
	if o.Dir == "" {
		o.Dir = filepath.Join(d.cfg.DataDir, "updates")
	}
	if o.Healthy == "" {
		o.Healthy = DefaultHealthy
	}
	if o.Installer == nil {
		o.Installer = update.Rauc{}
	}
	if o.Slots == nil {
		o.Slots = update.Rauc{}
	}
	u := &updater{d: d, opts: o}
	u.agent = update.New(update.Options{
		Dir: o.Dir, Record: o.Record, Release: o.Release,
		Fetch: d.client.DownloadBundle, Installer: o.Installer, Slots: o.Slots,
		Reboot: func(ctx context.Context) error {
			// The firmware boots the other slot once (tryboot); the trial
			// service keeps it if kioskd gets healthy there. logind is
			// asked over D-Bus, not through `systemctl reboot "0
			// tryboot"`: systemctl writes the parameter's file itself,
			// and kioskd's sandbox keeps /run read-only; logind writes it
			// (polkit lets kioskd ask, deploy/polkit).
			for _, call := range [][]string{
				{"SetRebootParameter", "s", "0 tryboot"},
				{"Reboot", "b", "false"},
			} {
				args := append([]string{"call", "org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager"}, call...)
				if out, err := u.d.remote.run(ctx, "busctl", args...); err != nil {
					return fmt.Errorf("asking logind to %s: %w: %s", call[0], err, strings.TrimSpace(string(out)))
				}
			}
			return nil
		},
		Changed: func() {
			d.health.now()
			u.stepped()
		},
		Installing: u.showInstalling,
		Log:        d.log.With("part", "update"),
	})
	return u
}

// stepped keeps the watchdog lenient while the update downloads or
// installs: the machine's processors and card are busy, and the screen
// may miss a beat without being stuck.
func (u *updater) stepped() {
	r := u.agent.Current()
	heavy := r != nil && (r.State == protocol.UpdateDownloading || r.State == protocol.UpdateInstalling)
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case heavy && u.endBusy == nil && u.busy != nil:
		u.endBusy = u.busy("a system update " + r.State)
	case !heavy && u.endBusy != nil:
		u.endBusy()
		u.endBusy = nil
	}
}

// setBusy gives the updater the watchdog's Busy.
func (u *updater) setBusy(busy func(why string) (done func())) {
	u.mu.Lock()
	u.busy = busy
	u.mu.Unlock()
	u.stepped()
}

func (u *updater) setScreen(s display.Screen) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.screen = s
}

// showInstalling keeps "updating, do not switch off" on the screen while
// the bundle is written, in Polish and English like the pairing screen
// (whoever stands by it may read either).
func (u *updater) showInstalling(on bool, percent int) {
	u.mu.Lock()
	s := u.screen
	u.mu.Unlock()
	if s == nil {
		return
	}
	if !on {
		display.ShowNotice(s, nil)
		return
	}
	cat := i18n.Messages()
	display.ShowNotice(s, &display.Notice{
		Title: cat.T("pl", "device.update.installing") + " · " + cat.T("en", "device.update.installing"),
		Lines: []string{
			cat.T("pl", "device.update.keep_on", "percent", percent),
			cat.T("en", "device.update.keep_on", "percent", percent),
		},
	})
}

// markHealthy writes the healthy file once: the screen draws and the
// server answered a report.
func (u *updater) markHealthy() {
	if u.healthy.Load() {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.healthy.Load() {
		return
	}
	if !u.agent.OnImage() {
		u.healthy.Store(true) // nothing to tell off the image
		return
	}
	if err := os.MkdirAll(filepath.Dir(u.opts.Healthy), 0o755); err != nil {
		u.d.log.Warn("marking kioskd healthy", "err", err)
		return
	}
	if err := os.WriteFile(u.opts.Healthy, []byte("ok\n"), 0o644); err != nil {
		u.d.log.Warn("marking kioskd healthy", "err", err)
		return
	}
	u.healthy.Store(true)
	u.d.log.Info("kioskd is healthy: the screen draws and the server answers", "file", u.opts.Healthy)
}
