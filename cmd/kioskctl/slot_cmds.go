package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	"github.com/numerek/numerek/device/slots"
)

// slotCommands are the kioskctl subcommands of the image's A/B slots.
func slotCommands() []command {
	return []command{
		{name: "slot", summary: "the A/B system slots: status, RAUC's bootloader backend, the trial of a new slot", run: runSlot},
	}
}

const slotUsage = `usage: kioskctl slot status [card flags]
       kioskctl slot backend [card flags] get-primary | set-primary SLOT | get-state SLOT | set-state SLOT good|bad
       kioskctl slot trial [card flags] [--within 5m] [--healthy FILE]

status   which slot runs, which the card boots by default, whether a trial runs
backend  RAUC's custom bootloader backend (system.conf's bootloader-custom-backend
         runs it through /usr/lib/numerek/rauc-slot-backend)
trial    on a boot on trial: commit when kioskd is healthy, else mark bad and reboot`

func runSlot(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, slotUsage)
		return errUsage
	}
	switch args[0] {
	case "status":
		return runSlotStatus(args[1:], stdout, stderr)
	case "backend":
		return runSlotBackend(args[1:], stdout, stderr)
	case "trial":
		return runSlotTrial(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stderr, slotUsage)
		return flag.ErrHelp
	}
	fmt.Fprintf(stderr, "kioskctl slot: unknown subcommand %q\n%s\n", args[0], slotUsage)
	return errUsage
}

// cardFlags adds the flags that say where the card's partitions are; the
// defaults are the image's.
func cardFlags(fs *flag.FlagSet) *slots.Card {
	c := slots.DefaultCard()
	fs.StringVar(&c.Autoboot, "autoboot", c.Autoboot, "the card's first partition (FAT) with autoboot.txt")
	bootA, bootB := c.Boot[slots.SlotA], c.Boot[slots.SlotB]
	fs.Func("boot-a", "slot A's boot partition (default "+bootA+")", func(s string) error { c.Boot[slots.SlotA] = s; return nil })
	fs.Func("boot-b", "slot B's boot partition (default "+bootB+")", func(s string) error { c.Boot[slots.SlotB] = s; return nil })
	fs.StringVar(&c.Cmdline, "cmdline", c.Cmdline, "the running kernel's command line")
	return &c
}

func runSlotStatus(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("slot status", stderr)
	card := cardFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	st, err := card.Status()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "booted:  %s\nprimary: %s\ntryboot: %s\n", st.Booted, st.Primary, st.Tryboot)
	if st.OnTrial() {
		fmt.Fprintf(stdout, "on trial: slot %s runs once; it is kept when kioskd gets healthy\n", st.Booted)
	}
	return nil
}

func runSlotBackend(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("slot backend", stderr)
	card := cardFlags(fs)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	return card.Backend(fs.Args(), stdout)
}

func runSlotTrial(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("slot trial", stderr)
	card := cardFlags(fs)
	within := fs.Duration("within", 5*time.Minute, "how long the new slot has to get healthy")
	healthy := fs.String("healthy", "/run/kioskd/healthy", "the file kioskd writes when it is healthy")
	rauc := fs.String("rauc", "rauc", "the rauc command")
	reboot := fs.String("reboot", "systemctl reboot", "the command that reboots normally (no tryboot)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	runCmd := func(ctx context.Context, argv ...string) error {
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	trial := slots.Trial{
		Card:     *card,
		Healthy:  *healthy,
		Within:   *within,
		MarkGood: func(ctx context.Context) error { return runCmd(ctx, *rauc, "status", "mark-good", "booted") },
		MarkBad:  func(ctx context.Context) error { return runCmd(ctx, *rauc, "status", "mark-bad", "booted") },
		Reboot:   func(ctx context.Context) error { return runCmd(ctx, strings.Fields(*reboot)...) },
		Poll:     time.Second,
		Log:      stdout,
	}
	_, err := trial.Run(ctx)
	return err
}
