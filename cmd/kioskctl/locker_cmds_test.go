package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/locker/lockertest"
	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/store"
)

// The GPIO tests below register test pins by name with periph.io, as a
// board's driver does, and unregister them when done. They do not run in
// parallel: the registry is the process's, and TestButtonsWithoutGPIO and
// TestLockerWithoutGPIO judge by what it holds.

// lockerRig is a locker's configuration whose compartments are test pins.
type lockerRig struct {
	config string
	data   string
	pins   map[string]lockertest.Compartment
}

// newLockerRig writes a locker's configuration wiring ids to test pins
// named after the test, and registers the pins; missing are compartments
// wired to pins the machine does not have.
func newLockerRig(t *testing.T, ids []string, missing ...string) *lockerRig {
	t.Helper()
	dir := t.TempDir()
	r := &lockerRig{config: filepath.Join(dir, "kioskd.toml"), data: filepath.Join(dir, "data"), pins: map[string]lockertest.Compartment{}}
	prefix := strings.ToUpper(strings.ReplaceAll(t.Name(), "/", "_")) + "_"
	v := config.Values{Role: config.RoleLocker, DataDir: r.data, ServerURL: "http://10.0.0.2:8080", Office: "cus-starachowice", Token: "t", LockerID: "parter-b"}
	for _, id := range ids {
		p := lockertest.New(prefix, id)
		if err := p.Register(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			gpioreg.Unregister(p.Lock.N)
			gpioreg.Unregister(p.Door.N)
		})
		r.pins[id] = p
		v.Compartments = append(v.Compartments, config.LockerCompartment{ID: id, LockPin: p.Lock.N, DoorPin: p.Door.N, DoorClosedLow: true, Pulse: 50 * time.Millisecond})
	}
	for _, id := range missing {
		v.Compartments = append(v.Compartments, config.LockerCompartment{ID: id, LockPin: prefix + "NOLOCK" + id, DoorPin: prefix + "NODOOR" + id, DoorClosedLow: true})
	}
	if err := os.WriteFile(r.config, []byte(config.Template(v)), 0o600); err != nil {
		t.Fatal(err)
	}
	return r
}

// running is a kioskctl command running in the test's process.
type running struct {
	t              *testing.T
	stdout, stderr lockedbuf.Buffer
	cancel         context.CancelFunc
	code           chan int
}

func startCmd(t *testing.T, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	r := &running{t: t, cancel: cancel, code: make(chan int, 1)}
	go func() { r.code <- run(ctx, args, &r.stdout, &r.stderr) }()
	t.Cleanup(func() {
		cancel()
		<-r.code
	})
	return r
}

// says waits for the command to print want.
func (r *running) says(want string) {
	r.t.Helper()
	waitfor.Until(r.t, "kioskctl to print "+want, 10*time.Second, func() bool { return strings.Contains(r.stdout.String(), want) })
}

// exit waits for the command to end and returns its exit code.
func (r *running) exit() int {
	r.t.Helper()
	select {
	case code := <-r.code:
		r.code <- code // for the cleanup
		return code
	case <-time.After(10 * time.Second):
		r.t.Fatalf("kioskctl did not end; it said:\n%s%s", r.stdout.String(), r.stderr.String())
		return 0
	}
}

// Without --open, kioskctl locker prints each compartment's pins and door
// as its sensor reads, then each door opened or closed; a compartment
// whose pins the machine lacks is named, and the others still checked.
func TestLockerShowsTheDoors(t *testing.T) {
	r := newLockerRig(t, []string{"1", "2"}, "3")
	r.pins["2"].Door.Pin.Out(gpio.High) // open before the check starts
	cmd := startCmd(t, "locker", "--config", r.config)
	cmd.says("open and close the doors")
	prefix := strings.TrimSuffix(r.pins["1"].Lock.N, "LOCK1")
	for _, row := range [][]string{
		{"1", prefix + "LOCK1", prefix + "DOOR1", "closed"},
		{"2", prefix + "LOCK2", prefix + "DOOR2", "open"},
		{"3", prefix + "NOLOCK3", prefix + "NODOOR3", "pin missing"},
	} {
		if !containsRow(cmd.stdout.String(), row) {
			t.Errorf("no row %v in:\n%s", row, cmd.stdout.String())
		}
	}
	stderr := cmd.stderr.String()
	for _, want := range []string{"no GPIO pin " + prefix + "NOLOCK3 (the lock of compartment 3)", prefix + "NODOOR3 (the door sensor of compartment 3)", "checking the others"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q: %s", want, stderr)
		}
	}

	r.pins["1"].Open()
	cmd.says("compartment 1 open\n")
	r.pins["2"].Close()
	cmd.says("compartment 2 closed\n")
	r.pins["1"].Close()
	cmd.says("compartment 1 closed\n")
	cmd.cancel()
	if code := cmd.exit(); code != 0 {
		t.Errorf("exit %d after Ctrl-C: %s", code, cmd.stderr.String())
	}
	if !r.pins["1"].NotPulsed() || !r.pins["2"].NotPulsed() {
		t.Error("watching the doors pulsed a lock")
	}
}

// containsRow says whether a line of out has the fields of row, in order,
// and nothing else.
func containsRow(out string, row []string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(row, " ") {
			return true
		}
	}
	return false
}

// --open pulses exactly the compartment asked for (its relay high, then
// low) and says whether its door was seen to open.
func TestLockerOpen(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opens bool
		code  int
		want  string
	}{
		{"the door opens", true, 0, "compartment 2: opened\n"},
		{"the door stays shut", false, 1, "compartment 2: the door did not open: check the relay and the lock's wiring\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newLockerRig(t, []string{"1", "2"})
			cmd := startCmd(t, "locker", "--config", r.config, "--open", "2", "--within", "300ms")
			if err := r.pins["2"].Pulsed(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			if tc.opens {
				r.pins["2"].Open()
			}
			cmd.says(tc.want)
			if code := cmd.exit(); code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, cmd.stderr.String())
			}
			if !r.pins["1"].NotPulsed() {
				t.Error("compartment 1's lock was pulsed too")
			}
			if !r.pins["2"].NotPulsed() {
				t.Error("compartment 2's lock was pulsed more than once")
			}
		})
	}
}

// --open all goes through the compartments in order and pulses the next
// only once the door of the last one is closed again, saying what it
// waits for, so one person can walk the wall.
func TestLockerOpenAllWaitsForEachDoor(t *testing.T) {
	r := newLockerRig(t, []string{"1", "2", "3"})
	cmd := startCmd(t, "locker", "--config", r.config, "--open", "all")
	for i, id := range []string{"1", "2", "3"} {
		if err := r.pins[id].Pulsed(10 * time.Second); err != nil {
			t.Fatal(err)
		}
		r.pins[id].Open()
		cmd.says("compartment " + id + ": opened\n")
		if i == 2 {
			break
		}
		next := []string{"1", "2", "3"}[i+1]
		cmd.says("waiting for the door of compartment " + id + " to be closed before compartment " + next + "\n")
		if !r.pins[next].NotPulsed() {
			t.Fatalf("compartment %s was pulsed while the door of %s stood open", next, id)
		}
		r.pins[id].Close()
	}
	if code := cmd.exit(); code != 0 {
		t.Errorf("exit %d: %s", code, cmd.stderr.String())
	}
}

// While kioskd holds the device's file kioskctl locker pulses nothing
// and says to stop it; once it is stopped the check runs.
func TestLockerRefusesWhileKioskdRuns(t *testing.T) {
	r := newLockerRig(t, []string{"1"})
	if err := os.MkdirAll(r.data, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenDevice(filepath.Join(r.data, device.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	cmd := startCmd(t, "locker", "--config", r.config, "--open", "1")
	if code := cmd.exit(); code != 1 || !strings.Contains(cmd.stderr.String(), "kioskd is running; stop it first (systemctl stop kioskd)") {
		t.Errorf("with kioskd's file held: exit %d: %s", code, cmd.stderr.String())
	}
	if !r.pins["1"].NotPulsed() {
		t.Error("a lock was pulsed under a running kioskd")
	}
	db.Close()
	cmd = startCmd(t, "locker", "--config", r.config, "--open", "1")
	if err := r.pins["1"].Pulsed(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	r.pins["1"].Open()
	cmd.says("compartment 1: opened\n")
	if code := cmd.exit(); code != 0 {
		t.Errorf("kioskd stopped: exit %d: %s", code, cmd.stderr.String())
	}
}

// A machine without GPIO (CI, a desktop) is told where to run the check;
// one with GPIO but not these pins names the compartment and the pin.
func TestLockerWithoutGPIO(t *testing.T) {
	if _, err := host.Init(); err != nil {
		t.Fatalf("starting periph.io: %v", err)
	}
	r := newLockerRig(t, nil, "1")
	want := []string{"no GPIO pins", "run this on the locker's Raspberry Pi"}
	if len(gpioreg.All()) > 0 {
		want = []string{"(the lock of compartment 1)", "no compartment to check"}
	}
	code, _, stderr := runCmd(t, "locker", "--config", r.config)
	if code != 1 {
		t.Errorf("exit %d, want 1: %s", code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not say %q: %s", w, stderr)
		}
	}
}

// Asking to open a compartment the configuration does not wire, or
// checking a device of another role, is refused before any pin is
// touched.
func TestLockerRefusesWhatItCannotCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "kioskd.toml")
	os.WriteFile(cfg, []byte(config.Template(config.Values{Role: config.RoleLocker, DataDir: dir, ServerURL: "http://10.0.0.2:8080", Office: "o", Token: "t",
		LockerID: "parter-b", Compartments: []config.LockerCompartment{{ID: "1", LockPin: "GPIO4", DoorPin: "GPIO5"}, {ID: "2", LockPin: "GPIO6", DoorPin: "GPIO7"}}})), 0o600)
	hall := filepath.Join(dir, "hall.toml")
	os.WriteFile(hall, []byte(config.Template(config.Values{Role: config.RoleHall, ServerURL: "http://10.0.0.2:8080", Office: "o", Token: "t"})), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config", cfg, "--open", "1,9"}, `--open: the configuration wires no compartment "9" (it wires 1, 2)`},
		{[]string{"--config", cfg, "--open", "1,,2"}, "an empty compartment id"},
		{[]string{"--config", hall}, "is a hall device, not a locker"},
	} {
		code, _, stderr := runCmd(t, append([]string{"locker"}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d: %s", tc.args, code, stderr)
		}
	}
}

// journal on a locker's data folder lists its openings and faults and
// the reports the server has not acknowledged, as text and as JSON.
func TestJournalOfALocker(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := store.OpenDevice(filepath.Join(dir, device.DataFile))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 9, 5, 0, 0, time.UTC)
	stored, err := db.BeginLockerEntry(store.LockerEntry{Flow: store.LockerFlowDeposit, Phase: store.LockerOpening, Deposit: "dep-6", Compartment: "4", Code: "clerk"})
	if err != nil {
		t.Fatal(err)
	}
	db.UpdateLockerEntry(stored.Key, func(e *store.LockerEntry) error {
		e.Phase, e.At, e.Report, e.Reported = store.LockerClosed, at, "stored", store.LockerReportDone
		return nil
	})
	pickup, _ := db.BeginLockerEntry(store.LockerEntry{Flow: store.LockerFlowPickup, Phase: store.LockerOpening, Deposit: "dep-7", Compartment: "7", Code: "pickup", Offline: true})
	db.UpdateLockerEntry(pickup.Key, func(e *store.LockerEntry) error {
		e.Phase, e.At, e.Report, e.Reported = store.LockerClosed, at, "picked-up", store.LockerReportPending
		return nil
	})
	db.BeginLockerEntry(store.LockerEntry{Flow: store.LockerFlowFault, Phase: store.LockerNoted, Compartment: "3", At: at, Report: "door-forced", Reported: store.LockerReportPending})
	db.Close()

	code, stdout, stderr := runCmd(t, "journal", "--data", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, row := range [][]string{
		{"dep-6", "deposit", "closed", "stored", "done"},
		{"dep-7", "pickup", "(offline)", "closed", "picked-up", "pending"},
		{"-", "fault", "noted", "door-forced", "pending"},
	} {
		if !strings.Contains(strings.Join(strings.Fields(stdout), " "), strings.Join(row, " ")) {
			t.Errorf("journal does not list %v:\n%s", row, stdout)
		}
	}
	for _, want := range []string{"3 openings and door faults in the locker's journal; 2 reports not yet acknowledged by the server", "reports to send:", pickup.ID + " picked-up compartment 7 deposit dep-7", "(opened offline)", "door-forced compartment 3 at"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("journal does not say %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "tickets in the journal") {
		t.Errorf("a locker's journal speaks of tickets:\n%s", stdout)
	}

	code, stdout, _ = runCmd(t, "journal", "--data", dir, "--json")
	var doc struct {
		Locker  []store.LockerEntry `json:"locker_journal"`
		Pending []store.LockerEntry `json:"locker_pending"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || len(doc.Locker) != 3 || len(doc.Pending) != 2 || doc.Pending[0].ID != pickup.ID {
		t.Errorf("--json: exit %d: %s", code, stdout)
	}
}

// device-config --role locker writes a file kioskd --check accepts, with
// each compartment's pins, level and pulse.
func TestDeviceConfigLocker(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "kioskd.toml")
	code, _, stderr := runCmd(t, "device-config", "--role", "locker", "--server", "http://10.0.0.2:8080", "--office", "cus-starachowice", "--token", "t",
		"--locker", "parter-b", "--compartments", "1=GPIO4:GPIO5, 2=GPIO6:GPIO7", "--compartments", "11=GPIO24:GPIO25",
		"--door-closed-level", "high", "--pulse", "800ms", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// What kioskd --check does with a file by hand.
	local, err := config.ReadLocal(out)
	if err != nil || !local.ByHand {
		t.Fatalf("kioskd reads it as paired (%v) or not at all: %v", local, err)
	}
	cfg, err := config.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []config.LockerCompartment{
		{ID: "1", LockPin: "GPIO4", DoorPin: "GPIO5", Pulse: 800 * time.Millisecond},
		{ID: "2", LockPin: "GPIO6", DoorPin: "GPIO7", Pulse: 800 * time.Millisecond},
		{ID: "11", LockPin: "GPIO24", DoorPin: "GPIO25", Pulse: 800 * time.Millisecond},
	}
	if cfg.Role != config.RoleLocker || cfg.Locker.ID != "parter-b" || len(cfg.Locker.Compartments) != 3 {
		t.Fatalf("written config %+v", cfg.Locker)
	}
	for i, w := range want {
		if cfg.Locker.Compartments[i] != w {
			t.Errorf("compartment %d: %+v, want %+v", i, cfg.Locker.Compartments[i], w)
		}
	}
	text, _ := os.ReadFile(out)
	if !strings.Contains(string(text), "kioskctl locker --config") {
		t.Errorf("the file does not say how to check the wiring:\n%s", text)
	}
}

// Bad locker flags are refused naming the flag and the bad part; nothing
// is written.
func TestDeviceConfigLockerRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--compartments", "1=GPIO4"}, `"1=GPIO4": want ID=LOCKPIN:DOORPIN, e.g. 1=GPIO4:GPIO5`},
		{[]string{"--compartments", "1=:GPIO5"}, `"1=:GPIO5": want ID=LOCKPIN:DOORPIN`},
		{[]string{"--compartments", "GPIO4:GPIO5"}, `"GPIO4:GPIO5": want ID=LOCKPIN:DOORPIN`},
		{[]string{"--compartments", "1=GPIO4:GPIO4"}, `"1=GPIO4:GPIO4": the lock and the door sensor need a pin each`},
		{[]string{"--compartments", "1=GPIO4:GPIO5,2=GPIO5:GPIO6"}, `"2=GPIO5:GPIO6": pin GPIO5 is already the door sensor of compartment 1`},
		{[]string{"--compartments", "1=GPIO4:GPIO5", "--compartments", "1=GPIO6:GPIO7"}, `"1=GPIO6:GPIO7": compartment 1 is given twice`},
		{[]string{"--compartments", "a b=GPIO4:GPIO5"}, `locker.compartment[0].id: "a b" is not a compartment id`},
		{[]string{"--compartments", "1=GPIO4:GPIO5", "--door-closed-level", "closed"}, `-door-closed-level: "closed" is not low or high`},
		{[]string{"--compartments", "1=GPIO4:GPIO5", "--pulse", "10ms"}, "--pulse: 10ms is not between 50ms and 5s"},
		{[]string{}, "--compartments: missing"},
		{[]string{"--locker", "", "--compartments", "1=GPIO4:GPIO5"}, "--locker: missing"},
	} {
		out := filepath.Join(t.TempDir(), "kioskd.toml")
		args := []string{"device-config", "--role", "locker", "--server", "http://10.0.0.2:8080", "--office", "o", "--token", "t", "--locker", "parter-b", "--out", out}
		code, _, stderr := runCmd(t, append(args, tc.flags...)...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d: %s", tc.flags, code, stderr)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: a configuration was written", tc.flags)
		}
	}
}
