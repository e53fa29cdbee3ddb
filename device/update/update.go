// Package update is kioskd's agent of system updates (protocol/update.go,
// docs/updates.md): it takes an update order from the server, downloads
// the bundle (resuming a cut download) and checks its SHA-256, installs
// it into the slot not running through an Installer (RAUC), reboots into
// it on trial, and after the reboot works out from the slots whether the
// new system was kept. Each step is written to its record (update.json)
// before it is reported, so a power cut or a restart anywhere leaves the
// device knowing where it stood.
package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/store"
)

// Record is where the device's latest update stands, as update.json
// keeps it.
type Record struct {
	Order protocol.UpdateOrder `json:"order"`
	// Action is the DeviceAction id the order came with.
	Action  string    `json:"action"`
	State   string    `json:"state"`
	Percent int       `json:"percent,omitempty"`
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"at"`
	// From is the slot that ran when the install began; Target the slot
	// the bundle went into (the other one).
	From   string `json:"from,omitempty"`
	Target string `json:"target,omitempty"`
	// Boot is the kernel's boot id when the reboot was asked: another id
	// later means the machine has rebooted since (a Raspberry Pi has no
	// clock that runs while it is off, so times cannot tell).
	Boot string `json:"boot,omitempty"`
}

// Final reports whether the update is over (nothing more will happen).
func (r Record) Final() bool {
	switch r.State {
	case protocol.UpdateCommitted, protocol.UpdateRolledBack, protocol.UpdateFailed:
		return true
	}
	return false
}

// Installer installs a bundle into the slot not running.
type Installer interface {
	// Install installs the bundle file, telling progress (0-100) as it
	// goes; the error says why it failed (RAUC's own words).
	Install(ctx context.Context, bundle string, progress func(percent int)) error
}

// Slots tells which slot runs and which boots by default.
type Slots interface {
	Status(ctx context.Context) (booted, primary string, err error)
}

// Fetcher downloads a bundle from offset on (protocol.Client's
// DownloadBundle); partial is true when the answer starts at offset.
type Fetcher func(ctx context.Context, sha256 string, offset int64) (body io.ReadCloser, partial bool, err error)

// Options are an Agent's parts.
type Options struct {
	// Dir is where bundles are downloaded (/var/lib/kioskd/updates);
	// Record the record's file (/var/lib/kioskd/update.json).
	Dir    string
	Record string
	// Release is the system's version file (/etc/numerek-release); the
	// agent does nothing where it is missing (kioskd not on the image).
	Release   string
	Fetch     Fetcher
	Installer Installer
	Slots     Slots
	// Reboot boots into the new slot on trial (`systemctl reboot "0
	// tryboot"`).
	Reboot func(ctx context.Context) error
	// Changed is told of each step, so the device reports at once; it
	// must not block.
	Changed func()
	// Installing is told when the install starts (true) and ends, for the
	// screen's "do not switch off".
	Installing func(on bool, percent int)
	Clock      func() time.Time
	Log        *slog.Logger
	// Tries is how many times a cut download is resumed before the update
	// fails (default 5), RetryWait the wait before the first retry,
	// doubled for each next (default 5 s).
	Tries     int
	RetryWait time.Duration
	// BootID is the kernel's id of this boot (default: read from
	// /proc/sys/kernel/random/boot_id).
	BootID func() (string, error)
	// TrialPoll is how often the slots are read while on trial, to see
	// the commit (default 10 s).
	TrialPoll time.Duration
}

// Agent carries out update orders one at a time.
type Agent struct {
	opts   Options
	orders chan protocol.DeviceAction

	mu      sync.Mutex
	rec     *Record
	running bool
	// seen is the slots as last read: the health report tells it, and
	// never waits on RAUC itself.
	seen seenSlots
}

// seenSlots is what the slots were last read as.
type seenSlots struct {
	booted, primary string
}

// New reads the record kept; an unreadable record is set aside (the
// server sends its order again if it still wants it).
func New(opts Options) *Agent {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Changed == nil {
		opts.Changed = func() {}
	}
	if opts.Installing == nil {
		opts.Installing = func(bool, int) {}
	}
	if opts.Tries <= 0 {
		opts.Tries = 5
	}
	if opts.RetryWait <= 0 {
		opts.RetryWait = 5 * time.Second
	}
	if opts.BootID == nil {
		opts.BootID = bootID
	}
	if opts.TrialPoll <= 0 {
		opts.TrialPoll = 10 * time.Second
	}
	a := &Agent{opts: opts, orders: make(chan protocol.DeviceAction, 1)}
	if data, err := os.ReadFile(opts.Record); err == nil {
		var r Record
		if err := json.Unmarshal(data, &r); err != nil {
			opts.Log.Warn("the update record cannot be read; set aside", "file", opts.Record, "err", err)
		} else {
			a.rec = &r
		}
	}
	return a
}

// OnImage reports whether kioskd runs on the Numerek image (its release
// file exists): only there are updates taken.
func (a *Agent) OnImage() bool {
	_, err := os.Stat(a.opts.Release)
	return err == nil
}

// version is the running system's version.
func (a *Agent) version() string {
	data, err := os.ReadFile(a.opts.Release)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(line)
}

// System is the device's system for its health report; nil off the
// image. The slots are as Run last read them: asking RAUC takes seconds,
// and a report must not wait for it.
func (a *Agent) System() *protocol.SystemHealth {
	if !a.OnImage() {
		return nil
	}
	s := &protocol.SystemHealth{Version: a.version()}
	a.mu.Lock()
	defer a.mu.Unlock()
	s.Slot, s.Primary = a.seen.booted, a.seen.primary
	if r := a.rec; r != nil {
		s.Update = &protocol.UpdateProgress{Rollout: r.Order.Rollout, Version: r.Order.Version, State: r.State, Percent: r.Percent, Error: r.Error, At: r.At}
	}
	return s
}

// Current is the record as it stands (nil: no update yet).
func (a *Agent) Current() *Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rec == nil {
		return nil
	}
	r := *a.rec
	return &r
}

// ErrBusy is the refusal of an order while another update runs.
var ErrBusy = errors.New("another update is under way")

// Take takes an order: nil when the agent will carry it out (or it is
// done already), else why not, for the server (the order's answer).
func (a *Agent) Take(act protocol.DeviceAction) error {
	o := act.Update
	if o == nil || o.Rollout == "" || o.SHA256 == "" || o.Version == "" {
		return errors.New("the update order names no bundle")
	}
	if !a.OnImage() {
		return fmt.Errorf("this kioskd does not run on the Numerek image (no %s): update it with its packages", a.opts.Release)
	}
	if len(o.SHA256) != 64 || strings.Trim(o.SHA256, "0123456789abcdef") != "" {
		return fmt.Errorf("the order's sha256 %q is not a SHA-256", o.SHA256)
	}
	a.mu.Lock()
	if r := a.rec; r != nil && r.Order.Rollout == o.Rollout {
		// Sent again (the server had not yet heard): it goes on, or is
		// over, as the record says.
		a.mu.Unlock()
		return nil
	}
	if a.running || (a.rec != nil && (a.rec.State == protocol.UpdateRebooting || a.rec.State == protocol.UpdateTrial)) {
		busy := a.rec
		a.mu.Unlock()
		return fmt.Errorf("%w (version %s, %s)", ErrBusy, busy.Order.Version, busy.State)
	}
	a.running = true
	a.mu.Unlock()
	if o.Version == a.version() {
		// Nothing to install: the device runs it already.
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
		a.step(Record{Order: *o, Action: act.ID, State: protocol.UpdateCommitted})
		return nil
	}
	select {
	case a.orders <- act:
		return nil
	default:
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
		return ErrBusy
	}
}

// step records r as the update's state (written before it is told) and
// tells it.
func (a *Agent) step(r Record) {
	r.At = a.opts.Clock().UTC()
	if err := a.write(r); err != nil {
		a.opts.Log.Error("writing the update record", "err", err)
	}
	a.mu.Lock()
	a.rec = &r
	a.mu.Unlock()
	a.opts.Log.Info("update", "rollout", r.Order.Rollout, "version", r.Order.Version, "state", r.State, "percent", r.Percent, "error", r.Error)
	a.opts.Changed()
}

// write writes r to the record's file so that a power cut leaves the old
// record or the new one.
func (a *Agent) write(r Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return store.WriteFileAtomically(a.opts.Record, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// readSlots asks where the slots stand, and keeps the answer for the
// health report.
func (a *Agent) readSlots(ctx context.Context) (booted, primary string, err error) {
	booted, primary, err = a.opts.Slots.Status(ctx)
	if err != nil {
		return "", "", err
	}
	a.mu.Lock()
	a.seen = seenSlots{booted: booted, primary: primary}
	a.mu.Unlock()
	return booted, primary, nil
}

// Run carries out the orders taken and, after a reboot, works out how the
// update went, until ctx ends.
func (a *Agent) Run(ctx context.Context) {
	if a.OnImage() && a.opts.Slots != nil {
		if _, _, err := a.readSlots(ctx); err != nil {
			a.opts.Log.Warn("reading the slots", "err", err)
		} else {
			a.opts.Changed()
		}
	}
	if r := a.Current(); r != nil && (r.State == protocol.UpdateDownloading || r.State == protocol.UpdateInstalling) {
		// kioskd stopped halfway (a restart, a power cut): the download
		// resumes from what it kept, and an install begins again.
		a.mu.Lock()
		a.running = true
		a.mu.Unlock()
		a.carryOut(ctx, protocol.DeviceAction{ID: r.Action, Kind: protocol.ActionUpdate, Update: &r.Order})
		a.mu.Lock()
		a.running = false
		a.mu.Unlock()
	}
	a.afterBoot(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case act := <-a.orders:
			a.carryOut(ctx, act)
			a.mu.Lock()
			a.running = false
			a.mu.Unlock()
			a.afterBoot(ctx)
		}
	}
}

// afterBoot works out, from the slots, what became of an update that
// rebooted: booted into the target and it is primary: committed; booted
// into the target, not primary: on trial (watched until it is one or the
// other); booted elsewhere: rolled back.
func (a *Agent) afterBoot(ctx context.Context) {
	for {
		r := a.Current()
		if r == nil || (r.State != protocol.UpdateRebooting && r.State != protocol.UpdateTrial) || a.opts.Slots == nil {
			return
		}
		if r.State == protocol.UpdateRebooting && !a.rebooted(r) {
			// Installed, and kioskd restarted before the machine did:
			// the reboot is still to come.
			return
		}
		booted, primary, err := a.readSlots(ctx)
		if err == nil {
			next := *r
			next.Percent, next.Error = 0, ""
			switch {
			case booted == r.Target && primary == booted:
				next.State = protocol.UpdateCommitted
			case booted == r.Target:
				next.State = protocol.UpdateTrial
			default:
				next.State = protocol.UpdateRolledBack
				next.Error = fmt.Sprintf("slot %s did not stay; back on slot %s", r.Target, booted)
			}
			if next.State != r.State || next.Error != r.Error {
				a.step(next)
			}
			if next.State != protocol.UpdateTrial {
				return
			}
		} else {
			a.opts.Log.Warn("reading the slots after an update", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(a.opts.TrialPoll):
		}
	}
}

// rebooted reports whether the machine booted since the reboot was asked.
func (a *Agent) rebooted(r *Record) bool {
	id, err := a.opts.BootID()
	return err != nil || r.Boot == "" || id != r.Boot
}

// carryOut downloads, checks, installs and reboots; any failure is
// recorded as failed with its reason, and nothing changed on the device.
func (a *Agent) carryOut(ctx context.Context, act protocol.DeviceAction) {
	o := *act.Update
	r := Record{Order: o, Action: act.ID, State: protocol.UpdateDownloading}
	fail := func(err error) {
		if ctx.Err() != nil {
			// kioskd is stopping: the record stays as it was, and the
			// next start takes the update up again.
			return
		}
		r.State, r.Percent, r.Error = protocol.UpdateFailed, 0, err.Error()
		a.step(r)
	}
	a.step(r)
	var file string
	var err error
	wait := a.opts.RetryWait
	for try := 1; ; try++ {
		if file, err = a.download(ctx, &r); err == nil {
			break
		}
		var bad *badDownload
		if errors.As(err, &bad) || try >= a.opts.Tries || ctx.Err() != nil {
			fail(err)
			return
		}
		a.opts.Log.Warn("the download was cut; resuming", "try", try, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait *= 2
	}
	if a.opts.Slots != nil {
		booted, _, err := a.readSlots(ctx)
		if err != nil {
			fail(fmt.Errorf("reading the slots: %w", err))
			return
		}
		r.From, r.Target = booted, otherSlot(booted)
	}
	r.State, r.Percent = protocol.UpdateInstalling, 0
	a.step(r)
	a.opts.Installing(true, 0)
	last := 0
	err = a.opts.Installer.Install(ctx, file, func(p int) {
		a.opts.Installing(true, p)
		if p/10 != last/10 || p == 100 {
			last = p
			r.Percent = p
			a.step(r)
		}
	})
	a.opts.Installing(false, 100)
	// The bundle is in the slot (or was refused): its file is not needed.
	_ = os.Remove(file)
	if err != nil {
		fail(fmt.Errorf("installing: %w", err))
		return
	}
	if a.opts.Slots != nil {
		// RAUC made the new slot the one to try: the fleet sees it.
		if _, _, err := a.readSlots(ctx); err != nil {
			a.opts.Log.Warn("reading the slots after the install", "err", err)
		}
	}
	r.State, r.Percent = protocol.UpdateRebooting, 0
	if r.Boot, err = a.opts.BootID(); err != nil {
		a.opts.Log.Warn("reading the boot id", "err", err)
	}
	a.step(r)
	if err := a.opts.Reboot(ctx); err != nil {
		fail(fmt.Errorf("rebooting into the new system: %w", err))
	}
}

func otherSlot(s string) string {
	switch s {
	case "A":
		return "B"
	case "B":
		return "A"
	}
	return ""
}

// download fetches the bundle into Dir, resuming a file cut off earlier,
// and checks its SHA-256; it returns the file's path.
func (a *Agent) download(ctx context.Context, r *Record) (string, error) {
	o := r.Order
	if err := os.MkdirAll(a.opts.Dir, 0o750); err != nil {
		return "", fmt.Errorf("making the downloads' folder: %w", err)
	}
	// Bundles of other orders are of no use now.
	if old, _ := filepath.Glob(filepath.Join(a.opts.Dir, "*.raucb")); len(old) > 0 {
		for _, f := range old {
			if filepath.Base(f) != o.SHA256+".raucb" {
				_ = os.Remove(f)
			}
		}
	}
	path := filepath.Join(a.opts.Dir, o.SHA256+".raucb")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return "", fmt.Errorf("opening the download: %w", err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return "", fmt.Errorf("reading the download's size: %w", err)
	}
	if o.Size > 0 && have > o.Size {
		if err := f.Truncate(0); err != nil {
			return "", err
		}
		have = 0
	}
	if have < o.Size || o.Size <= 0 {
		body, partial, err := a.opts.Fetch(ctx, o.SHA256, have)
		if err != nil {
			return "", fmt.Errorf("downloading the bundle: %w", err)
		}
		defer body.Close()
		if !partial {
			// The whole file from its start: begin again.
			if err := f.Truncate(0); err != nil {
				return "", err
			}
			have = 0
		}
		if _, err := f.Seek(have, io.SeekStart); err != nil {
			return "", err
		}
		buf := make([]byte, 256<<10)
		last := -1
		for {
			n, rerr := body.Read(buf)
			if n > 0 {
				if _, err := f.Write(buf[:n]); err != nil {
					return "", fmt.Errorf("writing the download: %w", err)
				}
				have += int64(n)
				if o.Size > 0 && have > o.Size {
					_ = os.Remove(path)
					return "", &badDownload{fmt.Sprintf("the server sent more than the order's %d bytes", o.Size)}
				}
				if p := percent(have, o.Size); p/10 != last/10 {
					last = p
					r.Percent = p
					a.step(*r)
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				// What came is kept: the next try resumes from it.
				_ = f.Sync()
				return "", fmt.Errorf("downloading the bundle (%d of %d bytes kept): %w", have, o.Size, rerr)
			}
		}
		if err := f.Sync(); err != nil {
			return "", fmt.Errorf("writing the download: %w", err)
		}
	}
	if o.Size > 0 && have != o.Size {
		return "", fmt.Errorf("the download stopped at %d of %d bytes", have, o.Size)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checking the download: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != o.SHA256 {
		// A damaged file is not resumed again.
		_ = os.Remove(path)
		return "", &badDownload{fmt.Sprintf("the downloaded bundle's SHA-256 is %s, not the order's %s", got, o.SHA256)}
	}
	return path, nil
}

// badDownload is a download that trying again cannot mend.
type badDownload struct{ msg string }

func (b *badDownload) Error() string { return b.msg }

func percent(have, size int64) int {
	if size <= 0 {
		return 0
	}
	return int(min(100, have*100/size))
}
