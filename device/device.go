// Package device puts a kioskd device together for its role: it follows
// the office's events (sync), keeps its own file (store), and drives the
// role's screen (display) with, for the ticket kiosk, the printer and the
// issuing of tickets (device/kiosk), for the counter display its buttons
// (device/buttons), for the hall display its speaker (audio), and for the
// pickup locker its compartments' locks and doors (device/locker). It also
// serves a small status page for the technician on the machine itself.
package device

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/machine"
	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/device/watchdog"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// Options are how kioskd runs a device, beyond its configuration.
type Options struct {
	Log *slog.Logger
	// Version is shown on the service screen and the status page.
	Version string
	// Screenshot writes the first frame with the office's state to this
	// PNG and, with ExitAfterScreenshot, ends the run.
	Screenshot          string
	ExitAfterScreenshot bool
	// FramesDir, when set, receives every drawn frame as <name>.png: for
	// demos on a machine without a screen. It costs a read-back and a PNG
	// per frame.
	FramesDir string
	// AfterJournal is the kiosk's test hook (see kiosk.Options).
	AfterJournal func(store.JournalEntry)
	// Windowed overrides the configuration's [screen] windowed.
	Windowed bool
	// TraceFrames logs when each frame has been drawn (the GPU done with
	// it): for benchmarks.
	TraceFrames bool
	// Printers are the URI schemes the kiosk's printer may be reached by;
	// nil means printer.Builtin(). kioskd adds the emulator's.
	Printers printer.Transports
	// Key is a paired device's key: its requests prove it (see
	// protocol.ClientOptions.Key). OnControl then hears the device's
	// control events, and OnUnauthorized the server's 401 answers (see
	// the protocol and replica options of the same names).
	Key            ed25519.PrivateKey
	OnControl      func(sse.Message)
	OnUnauthorized func(*protocol.APIError)
	// RunCommand runs the system commands of remote actions (systemctl
	// reboot); nil runs them for real.
	RunCommand CommandRunner
	// HealthEvery is how often the health report goes to the server
	// until its answer says otherwise; 0 means protocol.HealthEvery.
	HealthEvery time.Duration
	// Machine reads the computer for the health report; the zero value
	// reads this one (machine.Local).
	Machine machine.Reader
	// Update is where system updates are kept and how they are installed;
	// the zero value is the image's (rauc, /etc/numerek-release).
	Update UpdateOptions
}

// DataFile is the device's file in its data folder.
const DataFile = "kioskd.db"

// Run runs the device until ctx ends or its screen is closed. It must be
// called on the main goroutine: the screen needs the main thread.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	log := opts.Log.With("role", string(cfg.Role), "device", cfg.Name)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("creating the data folder: %w", err)
	}
	db, err := store.OpenDevice(filepath.Join(cfg.DataDir, DataFile))
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("%w: is another kioskd running on %s?", err, cfg.DataDir)
		}
		return err
	}
	defer db.Close()
	offset, _, err := db.ClockOffset()
	if err != nil {
		return err
	}
	clock := replica.NewClock(offset)
	client, err := protocol.NewClient(cfg.Server.URL, cfg.Server.Office, cfg.Server.Token, protocol.ClientOptions{Clock: clock, Key: opts.Key, OnUnauthorized: opts.OnUnauthorized})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := &dev{cfg: cfg, opts: opts, log: log, db: db, clock: clock, client: client, quit: cancel}
	d.remote = newRemote(d, opts.RunCommand)
	// Remote actions are the device's own; settings and revocation are
	// kioskd's (a paired device starts again on them).
	onControl := func(m sse.Message) {
		d.remote.control(m)
		if opts.OnControl != nil && m.Event != protocol.ActionEvent {
			opts.OnControl(m)
		}
	}
	d.follower = replica.NewFollower(client, db, clock, log, replica.FollowOptions{OnControl: onControl})
	follower := d.follower
	d.metrics = newMetrics(follower)
	if _, err := follower.Restore(); err != nil {
		return err
	}
	d.health = newHealth(d)
	d.updater = newUpdater(d)
	var wait func()
	d.spawn, wait = spawner(ctx, log)
	defer wait()
	defer cancel()
	d.spawn("following the office", func(ctx context.Context) error { return follower.Run(ctx) })
	d.spawn("keeping the clock", d.keepClock)

	screen, err := d.build(ctx)
	if err != nil {
		return err
	}
	wd := watchdog.New(screen, log)
	d.remote.setScreen(screen, wd.Busy)
	d.updater.setScreen(screen)
	d.spawn("carrying out remote actions", d.remote.serve)
	d.spawn("updating the system", func(ctx context.Context) error { d.updater.agent.Run(ctx); return nil })
	d.updater.setBusy(wd.Busy)
	d.health.setScreen(screen, wd.Alive)
	d.spawn("telling systemd", func(ctx context.Context) error { wd.Run(ctx); return nil })
	d.spawn("reporting health", d.health.run)
	if cfg.Status.Listen != "" {
		if err := d.serveStatus(ctx, cfg.Status.Listen); err != nil {
			return err
		}
	}
	run := display.RunOptions{
		Windowed: cfg.Screen.Windowed || opts.Windowed, WindowScale: cfg.Screen.WindowScale,
		Title: d.screenInfo().Title, Screenshot: opts.Screenshot, ExitAfterScreenshot: opts.ExitAfterScreenshot,
		OnCloseRefused: func() {
			log.Warn("the window system asked to close the screen; a public screen stays open (quit from the service screen, or stop the kioskd service)")
		},
	}
	if opts.FramesDir != "" {
		run.Capture = d.frames(ctx, filepath.Join(opts.FramesDir, cfg.Name+".png"))
	}
	run.OnDraw = func() {
		d.metrics.frames.Inc()
		// A frame drawn after the server answered: kioskd is healthy
		// (a new system on trial is kept).
		if d.health.delivered.Load() {
			d.updater.markHealthy()
		}
	}
	if opts.TraceFrames {
		run.OnFrame = func(at time.Time) { log.Info("frame drawn", "at", at.Format(time.RFC3339Nano)) }
	}
	if opts.Screenshot != "" {
		// The first frame should show the office, not an empty screen.
		d.waitForView(ctx, 10*time.Second)
	}
	log.Info("kioskd ready", "office", cfg.Server.Office, "server", cfg.Server.URL, "data", cfg.DataDir, "status", cfg.Status.Listen)
	err = display.Run(ctx, screen, run)
	cancel()
	if err == nil && d.remote.restartAsked() {
		return ErrRestart
	}
	return err
}

// spawner starts a device's goroutines on ctx, each logged if it stops
// with an error before ctx ends; wait waits for every one.
func spawner(ctx context.Context, log *slog.Logger) (spawn func(string, func(context.Context) error), wait func()) {
	var wg sync.WaitGroup
	spawn = func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				log.Error(name+" stopped", "err", err)
			}
		}()
	}
	return spawn, wg.Wait
}

// dev is a running device.
type dev struct {
	cfg      *config.Config
	opts     Options
	log      *slog.Logger
	db       *store.DeviceDB
	clock    *replica.Clock
	client   *protocol.Client
	follower *replica.Follower
	quit     context.CancelFunc
	spawn    func(name string, fn func(context.Context) error)
	metrics  *metrics
	health   *health
	updater  *updater

	mu       sync.Mutex
	viewSet  bool
	shownSeq uint64     // the seq of the last view given to the screen
	status   func() any // the role's part of the status page
	sound    *soundOnce
	// testPrint prints a test ticket (the kiosk's printer); nil: no
	// printer.
	testPrint func(context.Context) error
	remote    *remote
}

// build makes the role's screen and starts the role's work.
func (d *dev) build(ctx context.Context) (display.Screen, error) {
	switch d.cfg.Role {
	case config.RoleTicket:
		return d.buildKiosk(ctx)
	case config.RoleCounter:
		return d.buildCounter(ctx)
	case config.RoleHall:
		return d.buildHall(ctx)
	case config.RoleLocker:
		return d.buildLocker(ctx)
	}
	return nil, fmt.Errorf("unknown role %q", d.cfg.Role)
}

// panel is the configured screen.
func (d *dev) panel() display.Panel {
	s := d.cfg.Screen
	return display.Panel{Width: s.Width, Height: s.Height, Rotation: s.Rotation, WidthMM: s.WidthMM}
}

// office returns the office's configuration, waiting up to wait for the
// follower to learn it; nil if it does not.
func (d *dev) office(ctx context.Context, wait time.Duration) *queue.Office {
	deadline := time.Now().Add(wait)
	for {
		if o := d.follower.Office(); o != nil {
			return o
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// location is the office's time zone, or the machine's while the office
// is unknown.
func location(o *queue.Office) *time.Location {
	if o == nil || o.Location == nil {
		return time.Local
	}
	return o.Location
}

// news is what a screen's react is told: the follower's changes, or that
// time passed.
type news struct {
	replica.Change
	// Tick says refresh has passed: what the screen shows of times (the
	// waits, whether the office is open) may have changed with the clock
	// alone.
	Tick bool
}

// feed keeps a screen showing the office. w says what changed; react,
// called with the state under the follower's lock, recomputes only the
// parts its screen draws that changed and returns what to hand the
// screen (run outside the lock), or nil when its screen shows nothing
// new. Where the screen shows times, refresh > 0 calls react every
// refresh besides. feed ends the watch when it returns.
func (d *dev) feed(ctx context.Context, w *replica.Watcher, refresh time.Duration, react func(s *queue.State, n news) func()) error {
	defer w.Stop()
	var tick <-chan time.Time
	if refresh > 0 {
		t := time.NewTicker(refresh)
		defer t.Stop()
		tick = t.C
	}
	for {
		var n news
		select {
		case <-ctx.Done():
			return nil
		case <-w.C():
		case <-tick:
			n.Tick = true
		}
		var show func()
		var seq uint64
		if !w.Read(func(s *queue.State, ch replica.Change) {
			n.Change, seq = ch, s.Seq
			if n.Any() || n.Tick {
				show = react(s, n)
			}
		}) {
			continue
		}
		if show != nil {
			show()
		}
		d.mu.Lock()
		d.viewSet, d.shownSeq = true, seq
		d.mu.Unlock()
	}
}

// clockParts sets the parts of v that change with the clock alone (and
// with the events of PartLines): whether the office is open, when it
// opens next, and the services' lines with their waits.
func clockParts(v *queue.View, s *queue.State, now time.Time) {
	_, _, v.Open = s.Office.OpenInterval(now)
	v.Closing, _ = s.Office.ClosingToday(now)
	v.NextOpening, _ = s.Office.NextOpening(now)
	v.Services = s.ServiceViews(now)
}

// officeParts brings the parts of v that every screen of the office draws
// from the state and the clock up to date: the office's name and day, and
// (after events in the lines, a reset or a tick) what clockParts sets. It
// reports whether the lines changed as a screen shows them.
func officeParts(v *queue.View, s *queue.State, now time.Time, n news) (changed bool) {
	v.Office, v.Name, v.Day = s.Office.ID, s.Office.Name, s.Day // a new name comes with a Reset, a new day with all parts
	if !n.Reset && !n.Tick && n.Parts&queue.PartLines == 0 {
		return false
	}
	before := *v
	clockParts(v, s, now)
	return n.Parts&queue.PartLines != 0 || !sameClockParts(*v, before)
}

// onScreen is what a screen is handed after a change: its new view when
// redraw, and whether the server can be reached when that changed; nil
// when neither.
func onScreen(redraw bool, n news, setView func(), setOnline func(bool)) func() {
	if !redraw && !n.OnlineChanged {
		return nil
	}
	return func() {
		if redraw {
			setView()
		}
		if n.OnlineChanged {
			setOnline(n.Online)
		}
	}
}

// sameClockParts reports whether the parts clockParts sets are as they
// were, as far as a screen shows them. After a tick without events these
// are all that can differ, and an unchanged screen is not redrawn (a
// redraw costs a full frame on a Pi's GPU, or a CPU's software GL).
func sameClockParts(a, b queue.View) bool {
	if a.Open != b.Open || !a.Closing.Equal(b.Closing) || !a.NextOpening.Equal(b.NextOpening) || len(a.Services) != len(b.Services) {
		return false
	}
	for i, x := range a.Services {
		y := b.Services[i]
		if x.ID != y.ID || x.Open != y.Open || x.Waiting != y.Waiting || x.EstimatedWaitS != y.EstimatedWaitS || refusalOf(x) != refusalOf(y) {
			return false
		}
	}
	return true
}

// refusal is what a screen shows of a service's refusal, comparable.
type refusal struct {
	reason         queue.Reason
	until, closing int64
	holiday        string
}

func refusalOf(s queue.ServiceView) refusal {
	r := s.Refusal
	if r == nil {
		return refusal{}
	}
	// The holiday's names are the office's configuration: they change
	// only with it (a Reset).
	return refusal{reason: r.Reason, until: r.Until.UnixNano(), closing: r.Closing.UnixNano(), holiday: r.Holiday}
}

// waitForView waits until the screen has been given the office as the
// server has it now (not only the state saved at the last run), or wait
// passes: then it shows what it has.
func (d *dev) waitForView(ctx context.Context, wait time.Duration) {
	deadline := time.Now().Add(wait)
	var seq uint64
	vctx, cancel := context.WithTimeout(ctx, wait/2)
	if v, err := d.client.View(vctx); err == nil {
		seq = v.Seq
	}
	cancel()
	for time.Now().Before(deadline) && ctx.Err() == nil {
		d.mu.Lock()
		done := d.viewSet && d.shownSeq >= seq
		d.mu.Unlock()
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keepClock saves the server's clock offset now and then, so a device
// restarted without the server keeps office time.
func (d *dev) keepClock(ctx context.Context) error {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	save := func() {
		if d.clock.Known() {
			if err := d.db.SaveClockOffset(d.clock.Offset()); err != nil {
				d.log.Error("saving the clock offset", "err", err)
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			save()
			return nil
		case <-t.C:
			save()
		}
	}
}

// frames returns a capture function that writes each frame to path
// (through a temporary file, so a reader never sees half a picture),
// encoding off the drawing thread and skipping frames while one is being
// written.
func (d *dev) frames(ctx context.Context, path string) func(*image.RGBA, time.Time) bool {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		d.log.Error("frames folder", "err", err)
	}
	latest := make(chan *image.RGBA, 1)
	d.spawn("writing frames", func(ctx context.Context) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case img := <-latest:
				if err := writePNG(path, img); err != nil {
					d.log.Error("writing a frame", "err", err)
				}
			}
		}
	})
	return func(f *image.RGBA, _ time.Time) bool {
		cp := &image.RGBA{Pix: append([]byte(nil), f.Pix...), Stride: f.Stride, Rect: f.Rect}
		select {
		case <-latest:
		default:
		}
		latest <- cp
		return false
	}
}

func writePNG(path string, img image.Image) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(f, img); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
