package slots

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testCard makes a card of FAT image files with mkfs.vfat and mcopy, as
// the image build makes the real one: the first partition with
// autoboot.txt, each slot's boot partition with its cmdline.txt.
type testCard struct {
	Card
	t *testing.T
}

const cmdlineOfA = "console=serial0,115200 console=tty1 root=PARTUUID=4e554d31-05 rootfstype=ext4 ro rootwait panic=10 rauc.slot=A\n"

func newTestCard(t *testing.T, autoboot Autoboot, booted string) testCard {
	t.Helper()
	dir := t.TempDir()
	c := DefaultCard()
	c.Autoboot = fatImage(t, filepath.Join(dir, "p1.img"), "autoboot.txt", mustFormat(t, autoboot))
	c.Boot = map[string]string{
		SlotA: fatImage(t, filepath.Join(dir, "p2.img"), "cmdline.txt", []byte(cmdlineOfA)),
		// A bundle's boot image is slot A's: the other slot starts with A's
		// command line until set-primary fixes it.
		SlotB: fatImage(t, filepath.Join(dir, "p3.img"), "cmdline.txt", []byte(cmdlineOfA)),
	}
	c.Cmdline = filepath.Join(dir, "cmdline")
	tc := testCard{Card: c, t: t}
	tc.boot(booted)
	return tc
}

// boot makes the running kernel's command line the one slot's cmdline.txt
// says, as the firmware would pass it on.
func (tc testCard) boot(slot string) {
	tc.t.Helper()
	line := tc.readFile(tc.Boot[slot], "cmdline.txt")
	if err := os.WriteFile(tc.Cmdline, []byte(line), 0o644); err != nil {
		tc.t.Fatal(err)
	}
}

func mustFormat(t *testing.T, a Autoboot) []byte {
	t.Helper()
	data, err := a.Format(AutobootSize)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func fatImage(t *testing.T, img, name string, content []byte) string {
	t.Helper()
	run(t, "mkfs.vfat", "-C", img, "1024")
	src := filepath.Join(filepath.Dir(img), name)
	if err := os.WriteFile(src, content, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "mcopy", "-i", img, src, "::"+name)
	return img
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// readFile reads a file the way a user would check it: with mtools.
func (tc testCard) readFile(img, name string) string {
	tc.t.Helper()
	return run(tc.t, "mtype", "-i", img, "::"+name)
}

func (tc testCard) autoboot() Autoboot {
	tc.t.Helper()
	a, err := ParseAutoboot([]byte(tc.readFile(tc.Autoboot, "autoboot.txt")))
	if err != nil {
		tc.t.Fatal(err)
	}
	return a
}

// call runs one backend call as RAUC would and returns its output.
func (tc testCard) call(args ...string) (string, error) {
	var out bytes.Buffer
	err := tc.Backend(args, &out)
	return out.String(), err
}

func (tc testCard) mustCall(args ...string) string {
	tc.t.Helper()
	out, err := tc.call(args...)
	if err != nil {
		tc.t.Fatalf("%v: %v", args, err)
	}
	return out
}

// The calls RAUC 1.8 makes, in its order, through an update's whole life.
func TestBackendUpdateLifecycle(t *testing.T) {
	tc := newTestCard(t, Autoboot{Primary: SlotA, Tryboot: SlotA}, SlotA)
	if got := tc.mustCall("get-primary"); got != "A\n" {
		t.Fatalf("get-primary = %q", got)
	}
	if got := tc.mustCall("get-state", "B"); got != "bad\n" {
		t.Fatalf("a fresh card's empty slot B is %q, want bad", got)
	}

	// rauc install: the target marked bad, written, then made primary.
	tc.mustCall("set-state", "B", "bad")
	tc.mustCall("set-primary", "B")
	if got, want := tc.autoboot(), (Autoboot{Primary: SlotA, Tryboot: SlotB}); got != want {
		t.Fatalf("after install autoboot = %+v, want %+v: B is tried once, A stays the default", got, want)
	}
	cmdB := tc.readFile(tc.Boot[SlotB], "cmdline.txt")
	if !strings.Contains(cmdB, "root=PARTUUID=4e554d31-06 ") || !strings.Contains(cmdB, "rauc.slot=B\n") {
		t.Fatalf("slot B's cmdline.txt does not name B's root: %q", cmdB)
	}
	if got := tc.readFile(tc.Boot[SlotA], "cmdline.txt"); got != cmdlineOfA {
		t.Fatalf("slot A's cmdline.txt changed: %q", got)
	}
	if got := tc.mustCall("get-state", "B"); got != "good\n" {
		t.Fatalf("installed slot B is %q", got)
	}

	// Booted into B on trial, then rauc status mark-good.
	tc.boot(SlotB)
	if st, err := tc.Status(); err != nil || !st.OnTrial() {
		t.Fatalf("booted B: status %+v, %v; want on trial", st, err)
	}
	tc.mustCall("set-state", "B", "good")
	if got, want := tc.autoboot(), (Autoboot{Primary: SlotB, Tryboot: SlotA}); got != want {
		t.Fatalf("after commit autoboot = %+v, want %+v", got, want)
	}
	if st, _ := tc.Status(); st.OnTrial() {
		t.Fatalf("committed B still on trial: %+v", st)
	}

	// The next update goes to A; a trial that fails marks A bad.
	tc.mustCall("set-state", "A", "bad")
	if got := tc.mustCall("get-state", "A"); got != "bad\n" {
		t.Fatalf("A being written is %q", got)
	}
	tc.mustCall("set-primary", "A")
	if got := tc.readFile(tc.Boot[SlotA], "cmdline.txt"); got != cmdlineOfA {
		t.Fatalf("A's own cmdline.txt is not A's after set-primary: %q", got)
	}
	tc.boot(SlotA)
	tc.mustCall("set-state", "A", "bad")
	if got, want := tc.autoboot(), (Autoboot{Primary: SlotB, Tryboot: SlotB}); got != want {
		t.Fatalf("after a failed trial autoboot = %+v, want %+v: not even a tryboot starts A", got, want)
	}
}

func TestBackendRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		err  string
	}{
		{"the primary marked bad", []string{"set-state", "A", "bad"}, "slot A is the primary"},
		{"no such slot", []string{"set-primary", "C"}, `no slot "C"`},
		{"unknown call", []string{"get-current"}, "unknown backend call"},
		{"missing argument", []string{"set-state", "B"}, "takes 2 arguments"},
		{"unknown state", []string{"set-state", "B", "ok"}, "good or bad"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := newTestCard(t, Autoboot{Primary: SlotA, Tryboot: SlotB}, SlotA)
			before, _ := os.ReadFile(card.Autoboot)
			if _, err := card.call(tc.args...); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want one saying %q", err, tc.err)
			}
			after, _ := os.ReadFile(card.Autoboot)
			if !bytes.Equal(before, after) {
				t.Fatal("a refused call changed the card")
			}
		})
	}
}

// Each switch writes one sector of the first partition and nothing else:
// a power cut leaves the old file or the new one.
func TestSwitchWritesOneSector(t *testing.T) {
	tc := newTestCard(t, Autoboot{Primary: SlotA, Tryboot: SlotA}, SlotA)
	tc.mustCall("set-primary", "B")
	tc.boot(SlotB)
	before, err := os.ReadFile(tc.Autoboot)
	if err != nil {
		t.Fatal(err)
	}
	tc.mustCall("set-state", "B", "good")
	after, err := os.ReadFile(tc.Autoboot)
	if err != nil {
		t.Fatal(err)
	}
	var changed []int
	for s := 0; s < len(before); s += 512 {
		if !bytes.Equal(before[s:s+512], after[s:s+512]) {
			changed = append(changed, s/512)
		}
	}
	if len(changed) != 1 {
		t.Fatalf("sectors changed: %v, want exactly one", changed)
	}
	run(t, "fsck.vfat", "-n", tc.Autoboot)
}

// A card whose autoboot.txt was written by hand without padding still
// switches, at its own length.
func TestBareAutoboot(t *testing.T) {
	tc := newTestCard(t, Autoboot{Primary: SlotA, Tryboot: SlotA}, SlotA)
	bare := "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n"
	tc.Autoboot = fatImage(t, filepath.Join(t.TempDir(), "bare.img"), "autoboot.txt", []byte(bare))
	tc.mustCall("set-state", "B", "bad")
	got := tc.readFile(tc.Autoboot, "autoboot.txt")
	if len(got) != len(bare) || !strings.Contains(got, "[tryboot]\nboot_partition=2") {
		t.Fatalf("bare file rewritten as %q", got)
	}
}

func TestSlotCmdline(t *testing.T) {
	for _, tc := range []struct {
		name, in, root, slot, want, err string
	}{
		{"A to B", cmdlineOfA, "PARTUUID=4e554d31-06", "B", strings.NewReplacer("-05", "-06", "slot=A", "slot=B").Replace(cmdlineOfA), ""},
		{"already right", "root=PARTUUID=4e554d31-05 rauc.slot=A", "PARTUUID=4e554d31-05", "A", "root=PARTUUID=4e554d31-05 rauc.slot=A", ""},
		{"no rauc.slot", "root=PARTUUID=4e554d31-05 ro", "PARTUUID=4e554d31-06", "B", "", "0 rauc.slot="},
		{"two roots", "root=/dev/sda root=PARTUUID=4e554d31-05 rauc.slot=A", "PARTUUID=4e554d31-06", "B", "", "2 root="},
		{"root by label", "root=LABEL=root rauc.slot=A", "PARTUUID=4e554d31-06", "B", "", "changes the command line's length"},
		{"two lines", "root=PARTUUID=4e554d31-05\nrauc.slot=A\n", "PARTUUID=4e554d31-06", "B", "", "more than one line"},
		{"not fooled by a longer name", "xroot=1 root=PARTUUID=4e554d31-05 myrauc.slot=Z rauc.slot=A", "PARTUUID=4e554d31-06", "B", "xroot=1 root=PARTUUID=4e554d31-06 myrauc.slot=Z rauc.slot=B", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SlotCmdline([]byte(tc.in), tc.root, tc.slot)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// FuzzSlotCmdline: a bundle's cmdline.txt is outside input; the rewrite
// never changes its length and names the slot when it succeeds.
func FuzzSlotCmdline(f *testing.F) {
	f.Add([]byte(cmdlineOfA))
	f.Add([]byte("root=PARTUUID=4e554d31-06 rauc.slot=B"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := SlotCmdline(in, "PARTUUID=4e554d31-06", "B")
		if err != nil {
			return
		}
		if len(out) != len(in) || !bytes.Contains(out, []byte("rauc.slot=B")) || !bytes.Contains(out, []byte("root=PARTUUID=4e554d31-06")) {
			t.Fatalf("%q rewritten as %q", in, out)
		}
	})
}
