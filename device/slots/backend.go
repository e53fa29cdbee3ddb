package slots

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/numerek/numerek/internal/fatfile"
)

// Card says where the slot tools find the card's partitions and the
// kernel's command line. DefaultCard is the image's layout; tests point
// it at FAT image files.
type Card struct {
	// Autoboot is the card's first partition (FAT), holding autoboot.txt.
	Autoboot string
	// Boot is each slot's boot partition (FAT), holding its cmdline.txt.
	Boot map[string]string
	// Root is each slot's root= as its cmdline.txt names it.
	Root map[string]string
	// Cmdline is the running kernel's command line, naming the booted slot
	// (rauc.slot=).
	Cmdline string
}

// DiskID is the card's MBR disk identifier, the stem of its PARTUUIDs.
const DiskID = "4e554d31"

// DefaultCard is the Numerek image's card (see the issue 13 contract).
func DefaultCard() Card {
	part := func(n int) string { return fmt.Sprintf("/dev/disk/by-partuuid/%s-%02d", DiskID, n) }
	return Card{
		Autoboot: part(1),
		Boot:     map[string]string{SlotA: part(2), SlotB: part(3)},
		Root: map[string]string{
			SlotA: fmt.Sprintf("PARTUUID=%s-05", DiskID),
			SlotB: fmt.Sprintf("PARTUUID=%s-06", DiskID),
		},
		Cmdline: "/proc/cmdline",
	}
}

const autobootName = "autoboot.txt"

// ReadAutoboot reads and parses autoboot.txt.
func (c Card) ReadAutoboot() (Autoboot, error) {
	f, err := os.Open(c.Autoboot)
	if err != nil {
		return Autoboot{}, fmt.Errorf("opening the card's first partition: %w", err)
	}
	defer f.Close()
	vol, err := fatfile.Open(f)
	if err != nil {
		return Autoboot{}, fmt.Errorf("%s: %w", c.Autoboot, err)
	}
	data, err := vol.ReadFile(autobootName)
	if err != nil {
		return Autoboot{}, fmt.Errorf("%s: %w", c.Autoboot, err)
	}
	return ParseAutoboot(data)
}

// writeAutoboot rewrites autoboot.txt in place at its own length and
// waits until the card has it.
func (c Card) writeAutoboot(a Autoboot) error {
	return rewriteInPlace(c.Autoboot, autobootName, func(old []byte) ([]byte, error) {
		if _, err := ParseAutoboot(old); err != nil {
			return nil, err
		}
		return a.Format(len(old))
	})
}

// rewriteInPlace replaces name on the FAT volume dev with what edit makes
// of it (same length), then syncs the device.
func rewriteInPlace(dev, name string, edit func(old []byte) ([]byte, error)) error {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("opening %s to rewrite %s: %w", dev, name, err)
	}
	defer f.Close()
	vol, err := fatfile.Open(f)
	if err != nil {
		return fmt.Errorf("%s: %w", dev, err)
	}
	old, err := vol.ReadFile(name)
	if err != nil {
		return fmt.Errorf("%s: %w", dev, err)
	}
	next, err := edit(old)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", name, dev, err)
	}
	if _, err := vol.Rewrite(f, name, next); err != nil {
		return fmt.Errorf("%s: %w", dev, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s after rewriting %s: %w", dev, name, err)
	}
	return f.Close()
}

var raucSlotArg = regexp.MustCompile(`(?:^|\s)rauc\.slot=(\S+)`)

// Booted is the slot the running kernel was started from (rauc.slot= on
// its command line, as RAUC reads it).
func (c Card) Booted() (string, error) {
	data, err := os.ReadFile(c.Cmdline)
	if err != nil {
		return "", fmt.Errorf("reading the kernel command line: %w", err)
	}
	m := raucSlotArg.FindSubmatch(data)
	if m == nil {
		return "", fmt.Errorf("%s has no rauc.slot=: this system was not booted from a slot", c.Cmdline)
	}
	s := string(m[1])
	if _, err := Partition(s); err != nil {
		return "", fmt.Errorf("%s: rauc.slot=%s: %w", c.Cmdline, s, err)
	}
	return s, nil
}

// Status is where the slots stand.
type Status struct {
	Booted  string // the slot running now
	Primary string // the slot the card boots by default
	Tryboot string // the slot a tryboot reboot starts
}

// OnTrial reports whether the running slot is not the primary: it was
// booted once to be tried and is not committed yet.
func (s Status) OnTrial() bool { return s.Booted != s.Primary }

// Status reads autoboot.txt and the kernel command line.
func (c Card) Status() (Status, error) {
	a, err := c.ReadAutoboot()
	if err != nil {
		return Status{}, err
	}
	booted, err := c.Booted()
	if err != nil {
		return Status{}, err
	}
	return Status{Booted: booted, Primary: a.Primary, Tryboot: a.Tryboot}, nil
}

// Backend runs one call of RAUC's custom bootloader backend interface
// (RAUC 1.8: get-primary, set-primary SLOT, get-state SLOT, set-state SLOT
// good|bad) and writes its answer to stdout.
//
// The rules: the primary is [all]'s slot. A slot is good while the
// firmware may start it, as primary or as [tryboot]'s; marking the other
// slot bad points [tryboot] at the primary (RAUC does so before writing
// it), so a tryboot never starts a half-written slot. set-primary of the
// other slot (RAUC's last step of an install) first makes its cmdline.txt
// name its own root and rauc.slot, then makes it [tryboot]'s: it is booted
// once on trial and becomes the primary only when marked good while it is
// the booted slot (rauc status mark-good, numerek-trial.service). The
// primary cannot be marked bad: the card would then boot a slot never
// tried, so an install while a trial runs is refused.
func (c Card) Backend(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("no backend call: want get-primary, set-primary SLOT, get-state SLOT or set-state SLOT good|bad")
	}
	call, rest := args[0], args[1:]
	want := map[string]int{"get-primary": 0, "set-primary": 1, "get-state": 1, "set-state": 2}
	n, ok := want[call]
	if !ok {
		return fmt.Errorf("unknown backend call %q: want get-primary, set-primary, get-state or set-state", call)
	}
	if len(rest) != n {
		return fmt.Errorf("%s takes %d arguments, got %d", call, n, len(rest))
	}
	if n > 0 {
		if _, err := Partition(rest[0]); err != nil {
			return fmt.Errorf("%s: %w", call, err)
		}
	}
	a, err := c.ReadAutoboot()
	if err != nil {
		return err
	}
	switch call {
	case "get-primary":
		_, err = fmt.Fprintln(stdout, a.Primary)
		return err
	case "get-state":
		state := "bad"
		if rest[0] == a.Primary || rest[0] == a.Tryboot {
			state = "good"
		}
		_, err = fmt.Fprintln(stdout, state)
		return err
	case "set-primary":
		return c.setPrimary(a, rest[0])
	default:
		switch rest[1] {
		case "good":
			return c.markGood(a, rest[0])
		case "bad":
			return c.markBad(a, rest[0])
		}
		return fmt.Errorf("set-state %s %q: the state is good or bad", rest[0], rest[1])
	}
}

func (c Card) setPrimary(a Autoboot, slot string) error {
	if slot == a.Primary {
		return nil
	}
	if err := c.fixCmdline(slot); err != nil {
		return err
	}
	a.Tryboot = slot
	return c.writeAutoboot(a)
}

func (c Card) markGood(a Autoboot, slot string) error {
	booted, err := c.Booted()
	if err != nil {
		return err
	}
	next := a
	switch {
	case slot == a.Primary:
	case slot == booted:
		// The commit: the slot on trial becomes the default, and the old
		// one stays startable by a tryboot.
		next = Autoboot{Primary: slot, Tryboot: Other(slot)}
	default:
		next.Tryboot = slot
	}
	if next == a {
		return nil
	}
	return c.writeAutoboot(next)
}

func (c Card) markBad(a Autoboot, slot string) error {
	if slot == a.Primary {
		return fmt.Errorf("slot %s is the primary (the one the card boots); marking it bad would leave the card booting slot %s, which was never tried: commit or roll back the running trial first", slot, Other(slot))
	}
	if a.Tryboot == a.Primary {
		return nil
	}
	a.Tryboot = a.Primary
	return c.writeAutoboot(a)
}

// fixCmdline makes slot's cmdline.txt name slot's root and rauc.slot: a
// bundle's boot image is slot A's, and the kernel must mount the root
// written beside it.
func (c Card) fixCmdline(slot string) error {
	dev, ok := c.Boot[slot]
	if !ok {
		return fmt.Errorf("no boot partition known for slot %s", slot)
	}
	return rewriteInPlace(dev, "cmdline.txt", func(old []byte) ([]byte, error) {
		return SlotCmdline(old, c.Root[slot], slot)
	})
}

var rootArg = regexp.MustCompile(`(^|\s)root=(\S+)`)

// SlotCmdline rewrites a kernel command line to name root and slot, at the
// same length (the slots' roots differ only in their partition number).
func SlotCmdline(cmdline []byte, root, slot string) ([]byte, error) {
	for _, arg := range []struct {
		re   *regexp.Regexp
		name string
	}{{rootArg, "root="}, {raucSlotArg, "rauc.slot="}} {
		if n := len(arg.re.FindAllIndex(cmdline, -1)); n != 1 {
			return nil, fmt.Errorf("the command line has %d %s, want exactly one", n, arg.name)
		}
	}
	if bytes.Count(cmdline, []byte("\n")) > 1 || (bytes.Contains(cmdline, []byte("\n")) && !bytes.HasSuffix(cmdline, []byte("\n"))) {
		return nil, errors.New("the command line is more than one line; the firmware reads only the first")
	}
	out := rootArg.ReplaceAll(cmdline, []byte("${1}root="+root))
	out = raucSlotArg.ReplaceAllFunc(out, func(m []byte) []byte {
		i := bytes.Index(m, []byte("rauc.slot="))
		return append(append([]byte{}, m[:i]...), "rauc.slot="+slot...)
	})
	if len(out) != len(cmdline) {
		return nil, fmt.Errorf("naming root=%s rauc.slot=%s changes the command line's length (%d to %d bytes); it must be rewritten in place", root, slot, len(cmdline), len(out))
	}
	return out, nil
}
