package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/locker"
	"github.com/numerek/numerek/store"
)

// How kioskctl locker follows the doors: the device's own defaults, so a
// door the check sees is one kioskd would see.
const (
	lockerPoll   = locker.DefaultPoll
	lockerSettle = locker.DefaultSettle
)

// errKioskdRunning is kioskctl locker's refusal while kioskd holds the
// device's file: a lock pulsed under it would be journalled and reported
// to the office as a forced door.
var errKioskdRunning = errors.New("kioskd is running; stop it first (systemctl stop kioskd)")

// listFlag reads a flag given several times, or once with a comma list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return fmt.Errorf("%q: an empty compartment id", s)
		}
		if !slices.Contains(*l, part) {
			*l = append(*l, part)
		}
	}
	return nil
}

func runLocker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("locker", stderr)
	cfgPath := fs.String("config", "/etc/numerek/kioskd.toml", "the locker's kioskd configuration: check its [locker] wiring")
	var opens listFlag
	fs.Var(&opens, "open", "pulse these compartments' locks and see their doors open: 3, 1,2,7 (or repeat the flag), or all")
	within := fs.Duration("within", locker.DefaultOpenWithin, "--open: how long after the pulse a door must be seen open (as kioskd waits)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kioskctl locker [--config FILE] [--open ID,...|all]")
		fmt.Fprintln(stderr, "\nWithout --open: prints each compartment's pins and door, then each door")
		fmt.Fprintln(stderr, "opened or closed until Ctrl-C. With --open: pulses each lock in turn and")
		fmt.Fprintln(stderr, "says whether its door opened. kioskd must be stopped.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, _, err := deviceConfig(*cfgPath)
	if err != nil {
		return fmt.Errorf("reading the locker's configuration: %w", err)
	}
	if cfg.Role != config.RoleLocker {
		return fmt.Errorf("%s is a %s device, not a locker", *cfgPath, cfg.Role)
	}
	order, err := lockerToOpen(cfg.Locker.Compartments, opens)
	if err != nil {
		return err
	}
	release, err := holdDeviceFile(cfg.DataDir)
	if err != nil {
		return err
	}
	defer release()

	comps, err := locker.Open(locker.WiringOf(cfg.Locker.Compartments))
	if errors.Is(err, locker.ErrNoGPIO) {
		return fmt.Errorf("%w: run this on the locker's Raspberry Pi", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl locker: %v; checking the others\n", err)
	}
	if len(comps) == 0 {
		return errors.New("no compartment to check")
	}
	byID := map[string]*locker.Compartment{}
	for i := range comps {
		c := &comps[i]
		if err := c.Setup(); err != nil {
			return err
		}
		byID[c.ID] = c
	}

	out := &lockedWriter{w: stdout}
	doors := newDoorWatch(comps)
	watchCtx, stopWatching := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopWatching()
	watching := len(order) == 0
	for _, c := range comps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.WatchDoor(watchCtx, lockerPoll, lockerSettle, func(open bool) {
				if doors.set(c.ID, open) && watching {
					out.printf("%s compartment %s %s\n", time.Now().Format("15:04:05.000"), c.ID, doorWord(open))
				}
			})
		}()
	}

	if watching {
		var table bytes.Buffer // written at once, not between a watcher's lines
		tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "COMPARTMENT\tLOCK\tDOOR SENSOR\tDOOR")
		for _, w := range cfg.Locker.Compartments {
			state := "pin missing"
			if byID[w.ID] != nil {
				state = doorWord(doors.isOpen(w.ID))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.ID, w.LockPin, w.DoorPin, state)
		}
		tw.Flush()
		table.WriteString("open and close the doors; each change is printed; Ctrl-C ends\n")
		out.Write(table.Bytes())
		<-ctx.Done()
		return nil
	}

	failed := 0
	for i, id := range order {
		c := byID[id]
		if c == nil {
			out.printf("compartment %s: not checked: a pin of it is missing (above)\n", id)
			failed++
			continue
		}
		if doors.isOpen(id) {
			out.printf("compartment %s: its door is open; waiting for it to be closed to test the lock\n", id)
			if !doors.waitClosed(ctx, id) {
				return ctx.Err()
			}
		}
		before := doors.openings(id)
		if err := c.PulseLock(ctx); err != nil {
			out.printf("compartment %s: %v\n", id, err)
			failed++
			continue
		}
		if !doors.waitOpened(ctx, id, before, *within) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			out.printf("compartment %s: the door did not open: check the relay and the lock's wiring\n", id)
			failed++
			continue
		}
		out.printf("compartment %s: opened\n", id)
		if i < len(order)-1 {
			out.printf("waiting for the door of compartment %s to be closed before compartment %s\n", id, order[i+1])
			if !doors.waitClosed(ctx, id) {
				return ctx.Err()
			}
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d compartments did not open", failed, len(order))
	}
	return nil
}

// lockerToOpen is the compartments --open asks for, in the order to
// open them: every wired one for "all".
func lockerToOpen(wired []config.LockerCompartment, asked []string) ([]string, error) {
	var ids []string
	for _, w := range wired {
		ids = append(ids, w.ID)
	}
	if slices.Contains(asked, "all") {
		return ids, nil
	}
	for _, id := range asked {
		if !slices.Contains(ids, id) {
			return nil, fmt.Errorf("--open: the configuration wires no compartment %q (it wires %s)", id, strings.Join(ids, ", "))
		}
	}
	return asked, nil
}

// holdDeviceFile refuses while kioskd holds the device's file in dataDir,
// and keeps a reader's hold on it until release, so that a kioskd started
// meanwhile does not run beside the check. A folder kioskd never ran in
// has no file to hold.
func holdDeviceFile(dataDir string) (release func(), err error) {
	db, err := store.OpenDeviceReadOnly(filepath.Join(dataDir, device.DataFile))
	switch {
	case errors.Is(err, store.ErrLocked):
		return nil, errKioskdRunning
	case errors.Is(err, fs.ErrNotExist):
		return func() {}, nil
	case err != nil:
		return nil, fmt.Errorf("checking that kioskd is stopped: %w", err)
	}
	return func() { db.Close() }, nil
}

func doorWord(open bool) string {
	if open {
		return "open"
	}
	return "closed"
}

// doorWatch is what kioskctl locker knows of the doors: each one's state
// and how often it was seen to open, and a signal at each change.
type doorWatch struct {
	mu      sync.Mutex
	open    map[string]bool
	opened  map[string]int
	changed chan struct{} // closed at a change, then replaced
}

func newDoorWatch(comps []locker.Compartment) *doorWatch {
	w := &doorWatch{open: map[string]bool{}, opened: map[string]int{}, changed: make(chan struct{})}
	for i := range comps {
		w.open[comps[i].ID] = comps[i].DoorOpen()
	}
	return w
}

// set records what a door reads; it says whether that is a change.
func (w *doorWatch) set(id string, open bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.open[id] == open {
		return false
	}
	w.open[id] = open
	if open {
		w.opened[id]++
	}
	close(w.changed)
	w.changed = make(chan struct{})
	return true
}

func (w *doorWatch) isOpen(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.open[id]
}

func (w *doorWatch) openings(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.opened[id]
}

// until waits for cond (read under the lock), at most timeout (0: no
// limit) and until ctx ends; it says whether cond came true.
func (w *doorWatch) until(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	for {
		w.mu.Lock()
		ok, changed := cond(), w.changed
		w.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-changed:
		case <-expired:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// waitOpened waits for the door to have opened more often than before.
func (w *doorWatch) waitOpened(ctx context.Context, id string, before int, timeout time.Duration) bool {
	return w.until(ctx, timeout, func() bool { return w.opened[id] > before })
}

func (w *doorWatch) waitClosed(ctx context.Context, id string) bool {
	return w.until(ctx, 0, func() bool { return !w.open[id] })
}

// lockedWriter lets the doors' watchers and the command print whole
// lines without interleaving.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) printf(format string, args ...any) {
	fmt.Fprintf(l, format, args...)
}
