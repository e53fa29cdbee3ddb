package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"time"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/firstboot"
	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/device/pairing"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
)

// fleet runs a device whose own file gives no office and no token: it
// pairs with the server, then runs as what the server made it, with the
// server's settings under its own file (config.Layered). Pairing, a
// change of settings and a revocation each end the process by starting
// kioskd again in its place (exec, same arguments and environment): one
// process runs one screen (Ebiten runs one game per process), and a fresh
// start reads everything as a boot would.
type fleet struct {
	local  *config.Local
	log    *slog.Logger
	opts   device.Options
	check  bool
	stdout io.Writer
	stderr io.Writer
	// find looks for the server on the network (DNS-SD).
	find func(ctx context.Context) (string, error)
	// cardProblems is the file of the card's numerek.txt's mistakes
	// (firstboot.ReadProblems).
	cardProblems string
}

func (f *fleet) run(ctx context.Context) int {
	dir := f.local.DataDir
	paired, err := identity.LoadPaired(dir)
	switch {
	case errors.Is(err, identity.ErrCorrupt):
		f.log.Error("the credentials are damaged; the device pairs again", "err", err)
		paired = nil
	case err != nil:
		fmt.Fprintf(f.stderr, "kioskd: %v\n", err)
		return 1
	}
	var key ed25519.PrivateKey
	if !f.check { // --check changes nothing on the device
		var replaced bool
		if key, replaced, err = identity.Key(dir); err != nil {
			fmt.Fprintf(f.stderr, "kioskd: %v\n", err)
			return 1
		}
		if replaced {
			// The server knows the device by its old key: the pairing
			// is worthless.
			f.log.Error("the device key was damaged; made a new one: the device pairs again", "file", filepath.Join(dir, identity.KeyFile))
			if err := identity.Forget(dir); err != nil {
				f.log.Error("forgetting the credentials", "err", err)
			}
			paired = nil
		}
	}
	server, err := f.server(ctx, paired)
	if err != nil {
		fmt.Fprintf(f.stderr, "kioskd: %v\n", err)
		return 1
	}
	if paired == nil {
		return f.pair(ctx, key, server)
	}
	return f.runPaired(ctx, key, paired, server)
}

// server is the queue server's address: the local file's, or found on
// the network; a paired device that finds none uses the one it was
// paired with, and an unpaired one leaves the looking to the pairing
// screen ("").
func (f *fleet) server(ctx context.Context, paired *identity.Paired) (string, error) {
	if !f.local.Discover() {
		return f.local.ServerURL, nil
	}
	if f.check {
		if paired != nil {
			return paired.ServerURL, nil
		}
		return config.DiscoverURL, nil
	}
	if paired == nil {
		// The pairing screen looks for it, saying so.
		return "", nil
	}
	url, err := f.find(ctx)
	if err == nil {
		f.log.Info("found the queue server on the network", "url", url)
		return url, nil
	}
	f.log.Warn("no queue server found on the network; using the one the device was paired with", "err", err, "url", paired.ServerURL)
	return paired.ServerURL, nil
}

func (f *fleet) pair(ctx context.Context, key ed25519.PrivateKey, server string) int {
	if f.check {
		fmt.Fprintf(f.stdout, "%s: not paired: pairs with the queue server at %s; data in %s; screen %dx%d.\n",
			f.local.File, server, f.local.DataDir, f.local.Screen.Width, f.local.Screen.Height)
		return 0
	}
	hw := pairing.ReadHardware("/")
	hw.Screen = fmt.Sprintf("%dx%d", f.local.Screen.Width, f.local.Screen.Height)
	hw.Printer = f.local.Printer.URI != ""
	problems, err := firstboot.ReadProblems(f.cardProblems)
	if err != nil {
		f.log.Error("cannot read what is wrong in the card's numerek.txt", "err", err)
	}
	creds, server, err := device.Pair(ctx, device.PairOptions{Local: f.local, ServerURL: server, Find: f.find, Key: key, Hardware: hw,
		CardProblems: problems}, f.opts)
	if err != nil {
		fmt.Fprintf(f.stderr, "kioskd: %v\n", err)
		return 1
	}
	if creds == nil {
		return 0
	}
	if err := identity.SavePaired(f.local.DataDir, identity.Paired{Credentials: *creds, ServerURL: server}); err != nil {
		fmt.Fprintf(f.stderr, "kioskd: %v\n", err)
		return 1
	}
	return f.restart("paired")
}

// layered is the device's configuration under settings.
func (f *fleet) layered(settings protocol.DeviceSettings, paired *identity.Paired, server string) (*config.Config, error) {
	return config.Layered([]byte(settings.TOML), f.local.File, f.local.Text,
		config.Credentials{Office: paired.Office, Token: paired.Token, ServerURL: server})
}

func (f *fleet) runPaired(ctx context.Context, key ed25519.PrivateKey, paired *identity.Paired, server string) int {
	dir := f.local.DataDir
	settings := paired.Settings
	if cached, found, err := identity.LoadSettings(dir); err != nil {
		f.log.Error("the cached settings are damaged; starting from those given at pairing", "err", err)
	} else if found && cached.Revision >= settings.Revision {
		settings = cached
	}
	cfg, err := f.layered(settings, paired, server)
	if err != nil && settings != paired.Settings {
		f.log.Error("the server's settings do not fit this device; starting from those given at pairing", "revision", settings.Revision, "err", err)
		settings = paired.Settings
		cfg, err = f.layered(settings, paired, server)
	}
	if err != nil {
		fmt.Fprintf(f.stderr, "kioskd: the configuration is wrong:\n%v\n", err)
		return 1
	}
	if err := checkPrinter(cfg, f.opts); err != nil {
		fmt.Fprintf(f.stderr, "kioskd: the configuration is wrong:\n%v\n", err)
		return 1
	}
	if f.check {
		fmt.Fprintf(f.stdout, "%s Paired as device %s (settings revision %d).\n", describe(cfg), paired.DeviceID, settings.Revision)
		return 0
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	w := &watch{f: f, paired: paired, server: server, running: cfg, revision: settings.Revision, stop: stop}
	opts := f.opts
	opts.Key = key
	opts.OnControl = w.control
	opts.OnUnauthorized = w.refused
	go w.checkSettings(runCtx, key)
	err = device.Run(runCtx, cfg, opts)
	if why := w.reason(); why != "" && ctx.Err() == nil {
		return f.restart(why)
	}
	if err != nil {
		fmt.Fprintf(f.stderr, "kioskd: %v\n", err)
		return 1
	}
	return 0
}

// restart runs kioskd again in this process's place.
func (f *fleet) restart(why string) int {
	exe, err := os.Executable()
	if err == nil {
		f.log.Info("starting again", "why", why)
		err = syscall.Exec(exe, os.Args, os.Environ())
	}
	fmt.Fprintf(f.stderr, "kioskd: starting again (%s): %v\n", why, err)
	return 1
}

// watch hears what the server says of a paired device while it runs:
// new settings, a revocation.
type watch struct {
	f        *fleet
	paired   *identity.Paired
	server   string
	running  *config.Config
	stop     context.CancelFunc
	mu       sync.Mutex
	revision int
	why      string
	// later runs work the stream's goroutine must not wait for; nil: a
	// goroutine of its own (tests run it at once).
	later func(func())
}

// again ends the run so that kioskd starts again, for why.
func (w *watch) again(why string) {
	w.mu.Lock()
	if w.why == "" {
		w.why = why
	}
	w.mu.Unlock()
	w.stop()
}

func (w *watch) reason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

// control hears the device's control events (on the stream's goroutine:
// it does not block).
func (w *watch) control(m sse.Message) {
	switch m.Event {
	case protocol.RevokedEvent:
		w.revoked("the server revoked the device")
	case protocol.SettingsEvent:
		var s protocol.DeviceSettings
		if err := json.Unmarshal(m.Data, &s); err != nil {
			w.f.log.Error("reading the device's new settings", "err", err)
			return
		}
		if w.later == nil {
			go w.settings(s)
		} else {
			w.later(func() { w.settings(s) })
		}
	}
}

// refused hears the server's 401s: a revoked token unpairs the device.
func (w *watch) refused(ae *protocol.APIError) {
	if protocol.TokenRevoked(ae) {
		w.revoked("the server no longer knows the device's token")
	}
}

func (w *watch) revoked(why string) {
	w.f.log.Warn("unpaired: pairing again", "why", why)
	if err := identity.Forget(w.f.local.DataDir); err != nil {
		w.f.log.Error("forgetting the credentials", "err", err)
	}
	w.again("revoked")
}

// checkSettings asks the server once for the device's settings: a
// device that was off while they were edited catches up at its start.
func (w *watch) checkSettings(ctx context.Context, key ed25519.PrivateKey) {
	// A clock of its own: a Pi starts with no battery clock, and a proof
	// refused for the time teaches it the server's before the one retry.
	c, err := protocol.NewClient(w.server, w.paired.Office, w.paired.Token,
		protocol.ClientOptions{Key: key, Clock: replica.NewClock(0), OnUnauthorized: w.refused})
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	s, err := c.DeviceSettings(ctx)
	if err != nil {
		w.f.log.Info("could not ask the server for the device's settings; running on those cached", "err", err)
		return
	}
	w.settings(s)
}

// settings takes settings from the server: cached when newer than the
// device's and fit for it, and the device starts again when they change
// what it runs.
func (w *watch) settings(s protocol.DeviceSettings) {
	w.mu.Lock()
	if s.Revision <= w.revision {
		w.mu.Unlock()
		return
	}
	w.revision = s.Revision
	w.mu.Unlock()
	cfg, err := w.f.layered(s, w.paired, w.server)
	if err != nil {
		// Not cached either: the next start runs what runs now.
		w.f.log.Error("the server's new settings do not fit this device; running on", "revision", s.Revision, "err", err)
		return
	}
	if err := identity.SaveSettings(w.f.local.DataDir, s); err != nil {
		w.f.log.Error("caching the device's settings", "err", err)
	}
	if reflect.DeepEqual(cfg, w.running) {
		w.f.log.Info("new settings change nothing here", "revision", s.Revision)
		return
	}
	w.f.log.Info("new settings", "revision", s.Revision)
	w.again(fmt.Sprintf("settings revision %d", s.Revision))
}
