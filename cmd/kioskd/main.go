// Command kioskd is the daemon of every Numerek device: one role per
// device, set in its configuration file: the ticket kiosk in the lobby
// (touch screen and ticket printer), the number display above a counter
// (with optional buttons), or the hall's big screen and speaker.
//
//	kioskd --config FILE                       run the device
//	kioskd --config FILE --check               check the configuration and exit
//	kioskd --config FILE --screenshot OUT.png  write the first frame and exit
//	kioskd --version                           print the version (the package's) and exit
//
// A file that gives the server's address but no office and no token is a
// device that pairs with the server (docs/devices.md): kioskd shows a
// pairing code until an admin approves it, then runs as the role the
// server gave, with the server's settings under its own file.
//
// It runs full screen with no cursor; --windowed (or [screen] windowed) shows
// a window instead, for development and demos. SIGINT and SIGTERM stop it
// cleanly: the state and the journal are on disk at every moment anyway.
// An admin's remote restart ends it with status 75, for systemd to start
// it again (docs/devices-remote.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	_ "time/tzdata" // offices' time zones on devices without a zone database

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/firstboot"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/store"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// crashEnv names the test hook that stops kioskd the hard way (SIGKILL,
// as a power cut) right after a ticket is journalled and before it is
// printed. Only the tests of this command set it.
const crashEnv = "NUMEREK_KIOSKD_TEST_CRASH"

func main() {
	// The process's lifetime, ended by a signal: the root each device's
	// context is cut from.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kioskd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showVersion := fs.Bool("version", false, "print kioskd's version and exit")
	configPath := fs.String("config", "", "the device's configuration file (TOML; see examples/devices/)")
	check := fs.Bool("check", false, "check the configuration, say what the device is, and exit")
	screenshot := fs.String("screenshot", "", "write the first frame showing the office (or, unpaired, the pairing code) to this PNG file and exit")
	windowed := fs.Bool("windowed", false, "show a window instead of the full screen")
	frames := fs.String("frames", "", "write every drawn frame to DIR/NAME.png (demos without a screen; costs CPU)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	traceFrames := fs.Bool("trace-frames", false, "log when each frame has been drawn (for benchmarks)")
	cardProblems := fs.String("card-problems", filepath.Join("/run", firstboot.ProblemsFile), "what kioskctl firstboot found wrong in the card's numerek.txt, shown on the pairing screen")
	healthyFile := fs.String("healthy-file", device.DefaultHealthy, "written once the screen has drawn and the server has answered: numerek-trial.service keeps a new system on trial when it appears (docs/updates.md)")
	releaseFile := fs.String("release-file", device.DefaultRelease, "the system's version; where it is missing kioskd does not run on the Numerek image and takes no system updates")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kioskd --config FILE [--check | --screenshot OUT.png] [--windowed] [--frames DIR]\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "kioskd", version)
		return 0
	}
	if *configPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "kioskd: --log-level %q is not debug, info, warn or error\n", *logLevel)
		return 2
	}
	local, err := config.ReadLocal(*configPath)
	if err != nil {
		return configProblem(stderr, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts := device.Options{
		Log: log, Version: version, Screenshot: *screenshot, ExitAfterScreenshot: *screenshot != "",
		FramesDir: *frames, Windowed: *windowed || *screenshot != "", TraceFrames: *traceFrames,
		// Real printers, and the emulator for demos and tests:
		// emulator:///DIR prints a PNG per ticket.
		Printers: emulator.Register(printer.Builtin()),
		Update:   device.UpdateOptions{Healthy: *healthyFile, Release: *releaseFile},
	}
	if !local.ByHand {
		f := &fleet{local: local, log: log, opts: opts, check: *check, stdout: stdout, stderr: stderr,
			find: discover, cardProblems: *cardProblems}
		return f.run(ctx)
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return configProblem(stderr, err)
	}
	if err := checkPrinter(cfg, opts); err != nil {
		fmt.Fprintf(stderr, "kioskd: the configuration is wrong:\n%v\n", err)
		return 1
	}
	if *check {
		fmt.Fprintln(stdout, describe(cfg))
		return 0
	}
	if os.Getenv(crashEnv) == "after-journal" {
		opts.AfterJournal = func(e store.JournalEntry) {
			log.Warn("TEST HOOK: stopping hard after journalling", "ticket", e.Number, "request", e.RequestID)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	if err := device.Run(ctx, cfg, opts); err != nil {
		if errors.Is(err, device.ErrRestart) {
			log.Info("exiting to be restarted", "exit", restartExit)
			return restartExit
		}
		fmt.Fprintf(stderr, "kioskd: %v\n", err)
		return 1
	}
	return 0
}

// configProblem says what is wrong with the configuration.
func configProblem(stderr io.Writer, err error) int {
	var errs config.Errors
	if errors.As(err, &errs) {
		fmt.Fprintf(stderr, "kioskd: the configuration is wrong:\n%v\n", err)
	} else {
		fmt.Fprintf(stderr, "kioskd: %v\n", err)
	}
	return 1
}

// checkPrinter checks that a ticket kiosk's printer URI is one kioskd can
// open.
func checkPrinter(cfg *config.Config, opts device.Options) error {
	if cfg.Role != config.RoleTicket {
		return nil
	}
	if _, err := opts.Printers.Parse(cfg.Printer.URI); err != nil {
		return fmt.Errorf("%s: printer.uri: %v", cfg.File, err)
	}
	return nil
}

// restartExit is kioskd's exit status when an admin asked it to restart
// (a remote action): systemd's Restart=always in deploy/systemd/kioskd.service
// starts it again; the status tells this exit from a crash in the journal.
// 75 is EX_TEMPFAIL of sysexits.h.
const restartExit = 75

// describe says in one paragraph what the configuration makes of the
// device.
func describe(cfg *config.Config) string {
	s := fmt.Sprintf("%s: a %s device named %q for office %s at %s; data in %s; screen %dx%d",
		cfg.File, cfg.Role, cfg.Name, cfg.Server.Office, cfg.Server.URL, cfg.DataDir, cfg.Screen.Width, cfg.Screen.Height)
	if cfg.Screen.Rotation != 0 {
		s += fmt.Sprintf(" turned %d°", cfg.Screen.Rotation)
	}
	switch cfg.Role {
	case config.RoleTicket:
		s += fmt.Sprintf("; printer %s (%s); leases of %d numbers", cfg.Printer.URI, cfg.Printer.Profile, cfg.Lease.Size)
		if cfg.TechnicianPIN == "" {
			s += "; no service screen"
		}
	case config.RoleCounter:
		s += fmt.Sprintf("; counter %d with %d buttons", cfg.Counter.Number, len(cfg.Buttons.Pins))
	case config.RoleHall:
		if cfg.Sound.Enabled {
			s += "; calls are said aloud"
		} else {
			s += "; sound off"
		}
	case config.RoleLocker:
		s += fmt.Sprintf("; locker %s with %d compartments wired", cfg.Locker.ID, len(cfg.Locker.Compartments))
	}
	return s + "."
}
