package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/buttons"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/store"
)

// deviceCommands are the kioskctl subcommands for the device part of a device.
func deviceCommands() []command {
	return []command{
		{name: "device-config", summary: "write a kioskd configuration for a device's role, checked", run: runDeviceConfig},
		{name: "buttons", summary: "test a counter's GPIO buttons: print each press", run: runButtons},
		{name: "journal", summary: "list a ticket kiosk's or a locker's journal, outbox and number leases (kioskd stopped)", run: runJournal},
		{name: "locker", summary: "check a locker's wiring: its doors as they open and close, or pulse its locks (kioskd stopped)", run: runLocker},
		{name: "diag", summary: "check this device on site: screen, printer, sound, network, server, token, clock, disk (OK/WARN/FAIL)", run: runDiag},
		{name: "device-status", summary: "print a running kioskd's status page", run: runDeviceStatus},
		{name: "tap", summary: "tap a target of a running kiosk's screen, as a finger would (demos, remote support; needs xdotool)", run: runTap},
	}
}

// pinsFlag reads "next=GPIO17,recall=GPIO27,...".
type pinsFlag map[config.Button]string

func (p pinsFlag) String() string {
	var parts []string
	for _, b := range config.AllButtons {
		if pin := p[b]; pin != "" {
			parts = append(parts, string(b)+"="+pin)
		}
	}
	return strings.Join(parts, ",")
}

func (p pinsFlag) Set(s string) error {
	for _, part := range strings.Split(s, ",") {
		name, pin, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || pin == "" {
			return fmt.Errorf("%q: want BUTTON=PIN, e.g. next=GPIO17", part)
		}
		b := config.Button(name)
		known := false
		for _, k := range config.AllButtons {
			known = known || k == b
		}
		if !known {
			names := make([]string, len(config.AllButtons))
			for i, k := range config.AllButtons {
				names[i] = string(k)
			}
			return fmt.Errorf("%q: the buttons are %s", name, strings.Join(names, ", "))
		}
		p[b] = pin
	}
	return nil
}

// compartmentsFlag reads "1=GPIO4:GPIO5,2=GPIO6:GPIO7": each compartment's
// id, its lock's pin and its door sensor's pin.
type compartmentsFlag []config.LockerCompartment

func (c *compartmentsFlag) String() string {
	parts := make([]string, len(*c))
	for i, x := range *c {
		parts[i] = x.ID + "=" + x.LockPin + ":" + x.DoorPin
	}
	return strings.Join(parts, ",")
}

func (c *compartmentsFlag) Set(s string) error {
	pins := map[string]string{}
	for _, x := range *c {
		pins[x.LockPin], pins[x.DoorPin] = "the lock of compartment "+x.ID, "the door sensor of compartment "+x.ID
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		id, wiring, ok := strings.Cut(part, "=")
		lock, door, ok2 := strings.Cut(wiring, ":")
		id, lock, door = strings.TrimSpace(id), strings.TrimSpace(lock), strings.TrimSpace(door)
		if !ok || !ok2 || id == "" || lock == "" || door == "" {
			return fmt.Errorf("%q: want ID=LOCKPIN:DOORPIN, e.g. 1=GPIO4:GPIO5", part)
		}
		for _, x := range *c {
			if x.ID == id {
				return fmt.Errorf("%q: compartment %s is given twice", part, id)
			}
		}
		if lock == door {
			return fmt.Errorf("%q: the lock and the door sensor need a pin each", part)
		}
		for _, p := range []struct{ pin, what string }{{lock, "the lock"}, {door, "the door sensor"}} {
			if pins[p.pin] != "" {
				return fmt.Errorf("%q: pin %s is already %s", part, p.pin, pins[p.pin])
			}
			pins[p.pin] = p.what + " of compartment " + id
		}
		*c = append(*c, config.LockerCompartment{ID: id, LockPin: lock, DoorPin: door})
	}
	return nil
}

// languagesFlag reads "pl,uk,en".
type languagesFlag []string

func (l *languagesFlag) String() string { return strings.Join(*l, ",") }
func (l *languagesFlag) Set(s string) error {
	*l = nil
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			*l = append(*l, x)
		}
	}
	return nil
}

func runDeviceConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("device-config", stderr)
	var v config.Values
	pins := pinsFlag{}
	var langs languagesFlag
	var comps compartmentsFlag
	role := fs.String("role", "", "ticket, counter, hall or locker (required)")
	fs.StringVar(&v.Name, "name", "", "the device's name in logs and faults, e.g. kiosk-lobby")
	fs.StringVar(&v.DataDir, "data", "", "the device's data folder (default /var/lib/kioskd)")
	fs.Var(&langs, "languages", "languages in order, e.g. pl,uk,en (default all five, Polish first)")
	fs.StringVar(&v.ServerURL, "server", "", "the queue server's address, e.g. http://10.0.0.2:8080 (required)")
	fs.StringVar(&v.Office, "office", "", "the office id, e.g. cus-starachowice (required)")
	fs.StringVar(&v.Token, "token", "", "the device's token (or --token-file)")
	fs.StringVar(&v.TokenFile, "token-file", "", "a file holding the device's token")
	fs.IntVar(&v.Width, "width", 0, "screen width in pixels (default 1920; counter 800)")
	fs.IntVar(&v.Height, "height", 0, "screen height in pixels (default 1080; counter 480)")
	fs.IntVar(&v.Rotation, "rotation", 0, "0, 90, 180 or 270: turn the picture for a panel mounted on its side")
	fs.BoolVar(&v.Windowed, "windowed", false, "a window instead of the full screen (development, demos)")
	fs.Float64Var(&v.WindowScale, "window-scale", 0, "window size against the panel, e.g. 0.5")
	fs.StringVar(&v.Message, "message", "", "hall: the bottom line")
	fs.StringVar(&v.PrinterURI, "printer", "", "ticket: printer URI, e.g. usb:///dev/usb/lp0 (required for ticket)")
	fs.StringVar(&v.PrinterProfile, "profile", "", "ticket: printer profile (kioskctl printer-profiles)")
	fs.StringVar(&v.TechnicianPIN, "pin", "", "ticket: the service screen's PIN (4-12 digits)")
	fs.IntVar(&v.LeaseSize, "lease", 0, "ticket: numbers kept per service for offline issuing (default 20)")
	fs.IntVar(&v.Counter, "counter", 0, "counter: the counter's number (required for counter)")
	fs.Var(pins, "pins", "counter: buttons, e.g. next=GPIO17,recall=GPIO27,finish=GPIO22,good=GPIO5,neutral=GPIO6,bad=GPIO13")
	fs.BoolVar(&v.Sound, "sound", true, "hall: say the calls aloud")
	fs.StringVar(&v.LockerID, "locker", "", "locker: the office's locker id, e.g. parter-b (required for locker)")
	fs.Var(&comps, "compartments", "locker: each compartment's id=lockpin:doorpin, e.g. 1=GPIO4:GPIO5,2=GPIO6:GPIO7 (required for locker)")
	closedLow := true
	fs.Func("door-closed-level", "locker: what the door sensors read while closed: low (switch to ground; default) or high", func(s string) error {
		switch s {
		case "low", "high":
			closedLow = s == "low"
			return nil
		}
		return fmt.Errorf("%q is not low or high", s)
	})
	pulse := fs.Duration("pulse", 500*time.Millisecond, "locker: how long each lock's relay is held, 50ms to 5s")
	fs.StringVar(&v.StatusListen, "status", "", "serve the status page here, e.g. 127.0.0.1:7070")
	out := fs.String("out", "", "write the file here (default: standard output)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kioskctl device-config --role ROLE --server URL --office ID --token-file FILE [role flags] [--out FILE]")
		fmt.Fprintln(stderr, "\nWrites a commented kioskd configuration and checks it as kioskd would.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v.Role, v.Pins, v.Languages = config.Role(*role), pins, langs
	if v.Role == config.RoleLocker {
		var problems []string
		if v.LockerID == "" {
			problems = append(problems, "--locker: missing: the office's locker id, e.g. parter-b")
		}
		if len(comps) == 0 {
			problems = append(problems, "--compartments: missing: each compartment's id=lockpin:doorpin, e.g. 1=GPIO4:GPIO5")
		}
		if *pulse < 50*time.Millisecond || *pulse > 5*time.Second {
			problems = append(problems, fmt.Sprintf("--pulse: %v is not between 50ms and 5s", *pulse))
		}
		if len(problems) > 0 {
			fmt.Fprintf(stderr, "kioskctl device-config: %s\n", strings.Join(problems, "\n"))
			return errUsage
		}
		for i := range comps {
			comps[i].DoorClosedLow, comps[i].Pulse = closedLow, *pulse
		}
		v.Compartments = comps
	}
	text := config.Template(v)
	// Check it where it will live, so relative paths resolve as kioskd's.
	name := *out
	if name == "" {
		name = "kioskd.toml"
	}
	if _, err := config.Parse(name, []byte(text)); err != nil {
		fmt.Fprintf(stderr, "kioskctl device-config: the configuration would be wrong:\n%v\n", err)
		return errUsage
	}
	if *out == "" {
		_, err := io.WriteString(stdout, text)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	// The file may hold a token: only its owner reads it.
	if err := os.WriteFile(*out, []byte(text), 0o600); err != nil {
		return fmt.Errorf("writing the configuration: %w", err)
	}
	fmt.Fprintf(stderr, "wrote %s; check it with: kioskd --config %s --check\n", *out, *out)
	return nil
}

func runButtons(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("buttons", stderr)
	cfgPath := fs.String("config", "", "a counter's kioskd configuration: test its [buttons]")
	pins := pinsFlag{}
	fs.Var(pins, "pins", "or name the buttons: next=GPIO17,recall=GPIO27,...")
	high := fs.Bool("active-high", false, "buttons pull their pins to 3.3 V (default: to ground)")
	debounce := fs.Duration("debounce", 30*time.Millisecond, "how long a pin must hold its level to count")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kioskctl buttons --config FILE | --pins next=GPIO17,...\n\nPrints each button press until Ctrl-C.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts := buttons.Options{ActiveLow: !*high, Debounce: *debounce}
	if *cfgPath != "" {
		cfg, _, err := deviceConfig(*cfgPath)
		if err != nil {
			return err
		}
		if cfg.Role != config.RoleCounter {
			return fmt.Errorf("%s is a %s device; only counter displays have buttons", *cfgPath, cfg.Role)
		}
		pins = cfg.Buttons.Pins
		opts = buttons.Options{ActiveLow: cfg.Buttons.ActiveLow, Debounce: cfg.Buttons.Debounce}
	}
	if len(pins) == 0 {
		fmt.Fprintln(stderr, "kioskctl buttons: give --config or --pins")
		return errUsage
	}
	found, err := buttons.Open(pins)
	if errors.Is(err, buttons.ErrNoGPIO) {
		return fmt.Errorf("%w: run this on the counter's Raspberry Pi", err)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kioskctl buttons: %v; testing the others\n", err)
	}
	if len(found) == 0 {
		return errors.New("no button to test")
	}
	var names []string
	for b, p := range found {
		names = append(names, fmt.Sprintf("%s on %s", b, p))
	}
	sort.Strings(names)
	fmt.Fprintf(stdout, "press the buttons (%s); Ctrl-C ends\n", strings.Join(names, ", "))
	return buttons.Watch(ctx, found, opts, func(b config.Button) {
		fmt.Fprintf(stdout, "%s %s\n", time.Now().Format("15:04:05.000"), b)
	})
}

// deviceConfig is the configuration the device runs with: its own file,
// and for a paired device (one set up from the card) the server's
// settings under it, as kioskd reads them; key is a paired device's key
// (nil for one set up by hand).
func deviceConfig(path string) (cfg *config.Config, key ed25519.PrivateKey, err error) {
	local, err := config.ReadLocal(path)
	if err != nil {
		return nil, nil, err
	}
	return identity.Effective(local)
}

func runJournal(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("journal", stderr)
	data := fs.String("data", "/var/lib/kioskd", "the kiosk's data folder (data_dir of its configuration)")
	last := fs.Int("last", 50, "show the last N tickets, and of a locker the last N openings (0: all)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := store.OpenDeviceReadOnly(filepath.Join(*data, device.DataFile))
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: kioskd is running; stop it first, or see kioskctl device-status", err)
	}
	if err != nil {
		return err
	}
	defer db.Close()
	entries, err := db.Journal(0, 0)
	if err != nil {
		return err
	}
	if *last > 0 && len(entries) > *last {
		entries = entries[len(entries)-*last:]
	}
	leases, err := db.Leases()
	if err != nil {
		return err
	}
	stats, err := db.Stats()
	if err != nil {
		return err
	}
	lockerEntries, err := db.LockerEntries(0, 0)
	if err != nil {
		return fmt.Errorf("reading the locker's journal: %w", err)
	}
	if *last > 0 && len(lockerEntries) > *last {
		lockerEntries = lockerEntries[len(lockerEntries)-*last:]
	}
	lockerPending, err := db.PendingLockerReports()
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"journal": entries, "leases": leases, "stats": stats,
			"locker_journal": nonNil(lockerEntries), "locker_pending": nonNil(lockerPending)})
	}
	if len(lockerEntries) > 0 || len(lockerPending) > 0 {
		writeLockerJournal(stdout, lockerEntries, lockerPending)
		if len(entries) == 0 && len(leases) == 0 {
			return nil // a locker: no tickets to list
		}
		fmt.Fprintln(stdout)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tISSUED\tTICKET\tSERVICE\tLANG\tFROM\tPHASE\tHANDED IN\tNOTE")
	for _, e := range entries {
		note := e.Detail
		if e.HandInNote != "" {
			note = e.HandInNote
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Key, e.IssuedAt.Format("2006-01-02 15:04:05"),
			orDash(e.Number), orDash(e.Service), e.Lang, e.Source, e.Phase, orDash(string(e.HandIn)), note)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d tickets in the journal; %d waiting to be handed in", stats.Entries, stats.ByHandIn[store.HandInPending])
	if n := stats.ByHandIn[store.HandInWithdraw]; n > 0 {
		// A request the kiosk printed nothing for: the server is still to be
		// told, so that a ticket it issued too late is withdrawn.
		fmt.Fprintf(stdout, "; withdrawals to send: %d (requests nothing was printed for)", n)
	}
	fmt.Fprintln(stdout)
	if len(leases) > 0 {
		fmt.Fprintln(stdout, "\nleases:")
		for _, l := range leases {
			fmt.Fprintf(stdout, "  %s %s numbers %d-%d, next %d (%d left)\n", l.Day, l.Service, l.First, l.Last, l.Next, l.Left())
		}
	}
	return nil
}

// writeLockerJournal lists a locker's openings and the reports the server
// has not acknowledged yet.
func writeLockerJournal(w io.Writer, entries, pending []store.LockerEntry) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tTIME\tCOMPARTMENT\tDEPOSIT\tFLOW\tPHASE\tREPORT\tREPORTED\tNOTE")
	for _, e := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Key, lockerEntryTime(e).Format("2006-01-02 15:04:05"),
			e.Compartment, orDash(e.Deposit), lockerFlow(e), e.Phase, orDash(e.Report), orDash(string(e.Reported)), e.Note)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d openings and door faults in the locker's journal; %d reports not yet acknowledged by the server\n", len(entries), len(pending))
	if len(pending) == 0 {
		return
	}
	fmt.Fprintln(w, "\nreports to send:")
	for _, e := range pending {
		fmt.Fprintf(w, "  %s %s compartment %s", e.ID, e.Report, e.Compartment)
		if e.Deposit != "" {
			fmt.Fprintf(w, " deposit %s", e.Deposit)
		}
		fmt.Fprintf(w, " at %s", lockerEntryTime(e).Format("2006-01-02 15:04:05"))
		if e.Offline {
			fmt.Fprint(w, " (opened offline)")
		}
		fmt.Fprintln(w)
	}
}

// lockerEntryTime is when the door closed or the fault happened, or, for
// an opening not closed yet, when the entry last changed.
func lockerEntryTime(e store.LockerEntry) time.Time {
	if !e.At.IsZero() {
		return e.At.Local()
	}
	return e.Changed.Local()
}

// lockerFlow is what the opening was for, as the technician reads it; a
// code opening made while the server was away says so.
func lockerFlow(e store.LockerEntry) string {
	if e.Offline {
		return string(e.Flow) + " (offline)"
	}
	return string(e.Flow)
}

// nonNil makes an empty list print as [] in JSON, not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runDeviceStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("device-status", stderr)
	addr := fs.String("status", "127.0.0.1:7070", "where kioskd serves its status page ([status] listen)")
	text := fs.Bool("text", false, "print the health report kioskd sends the server, as text, instead of the JSON status")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	page := "/status"
	if *text {
		page = "/status.txt"
	}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+*addr+page, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reading kioskd's status page (is [status] listen = %q set and kioskd running?): %w", *addr, err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(stdout, resp.Body)
	return err
}
