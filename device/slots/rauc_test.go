package slots

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
)

// raucCard is a card of partition files that the real rauc 1.8 installs
// into, with the image's own system.conf pointed at them and kioskctl as
// its bootloader backend.
type raucCard struct {
	t        *testing.T
	dir      string
	kioskctl string
	conf     string
	card     Card
	env      []string // the private D-Bus the service and the client share
	service  *exec.Cmd
}

// The card's partitions as files, the sizes small (sectors of 512 bytes).
var raucParts = []struct {
	n       int
	sectors int
}{{1, 2048}, {2, 8192}, {3, 8192}, {5, 16384}, {6, 16384}}

func newRaucCard(t *testing.T) *raucCard {
	for _, tool := range []string{"rauc", "dbus-daemon", "mksquashfs", "openssl", "mkfs.vfat", "mcopy", "mke2fs", "debugfs", "sfdisk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is missing (scripts/install-deps.sh installs it): %v", tool, err)
		}
	}
	dir := t.TempDir()
	rc := &raucCard{t: t, dir: dir}
	rc.kioskctl = filepath.Join(dir, "kioskctl")
	if out, err := exec.Command("go", "build", "-o", rc.kioskctl, "github.com/numerek/numerek/cmd/kioskctl").CombinedOutput(); err != nil {
		t.Fatalf("building kioskctl: %v\n%s", err, out)
	}
	part := func(n int) string { return filepath.Join(dir, fmt.Sprintf("p%d.img", n)) }
	for _, p := range raucParts {
		if err := os.WriteFile(part(p.n), make([]byte, p.sectors*512), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The card as flashed: slot A holds version 1, B is empty.
	autoboot := mustFormat(t, Autoboot{Primary: SlotA, Tryboot: SlotA})
	formatFAT(t, part(1), map[string]string{"autoboot.txt": string(autoboot)})
	formatFAT(t, part(2), map[string]string{"cmdline.txt": cmdlineOfA, "version": "1"})
	formatExt4(t, part(5), "1")

	rc.card = DefaultCard()
	rc.card.Autoboot = part(1)
	rc.card.Boot = map[string]string{SlotA: part(2), SlotB: part(3)}
	rc.card.Cmdline = filepath.Join(dir, "cmdline")

	backend := filepath.Join(dir, "rauc-backend")
	script := fmt.Sprintf("#!/bin/sh\nexec %s slot backend --autoboot %s --boot-a %s --boot-b %s --cmdline %s \"$@\"\n",
		rc.kioskctl, part(1), part(2), part(3), rc.card.Cmdline)
	if err := os.WriteFile(backend, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	// The image's own system.conf, its devices and paths made the test's.
	conf, err := os.ReadFile("../../deploy/image/rootfs/etc/rauc/system.conf")
	if err != nil {
		t.Fatal(err)
	}
	repl := []string{
		"/usr/lib/numerek/rauc-slot-backend", backend,
		"/etc/rauc/keyring.pem", filepath.Join(dir, "cert.pem"),
		"statusfile=/data/rauc/status.raucs", "statusfile=" + filepath.Join(dir, "status.raucs") + "\nmountprefix=" + filepath.Join(dir, "mnt"),
	}
	for _, p := range raucParts[1:] { // p1 is not a slot: only the backend knows it
		repl = append(repl, fmt.Sprintf("/dev/disk/by-partuuid/%s-%02d", DiskID, p.n), part(p.n))
	}
	for i := 0; i < len(repl); i += 2 {
		if !strings.Contains(string(conf), repl[i]) {
			t.Fatalf("the image's system.conf has no %q to point at the test's card", repl[i])
		}
	}
	rc.conf = filepath.Join(dir, "system.conf")
	if err := os.WriteFile(rc.conf, []byte(strings.NewReplacer(repl...).Replace(string(conf))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}

	// A throwaway signing key, as an office makes its own (deploy/README.md).
	rc.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
		"-keyout", filepath.Join(dir, "key.pem"), "-out", filepath.Join(dir, "cert.pem"),
		"-subj", "/O=Numerek test office/CN=Numerek test update signing")

	rc.startBus()
	return rc
}

func (rc *raucCard) run(name string, args ...string) string {
	rc.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), rc.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		rc.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// startBus starts a private D-Bus for rauc's service and client: rauc 1.8
// as Debian builds it installs only through its service.
func (rc *raucCard) startBus() {
	t := rc.t
	bus := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	stdout, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	t.Cleanup(func() { _ = bus.Process.Kill(); _ = bus.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading dbus-daemon's address: %v", err)
	}
	rc.env = []string{"DBUS_SESSION_BUS_ADDRESS=" + strings.TrimSpace(addr), "DBUS_STARTER_BUS_TYPE=session"}
}

// boot "boots" slot: the kernel command line is that slot's cmdline.txt,
// and rauc's service (restarted, as at a boot) sees that slot booted.
func (rc *raucCard) boot(slot string) {
	t := rc.t
	t.Helper()
	line := run(t, "mtype", "-i", rc.card.Boot[slot], "::cmdline.txt")
	if err := os.WriteFile(rc.card.Cmdline, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if rc.service != nil {
		_ = rc.service.Process.Kill()
		_ = rc.service.Wait()
	}
	booted, err := rc.card.Booted()
	if err != nil {
		t.Fatal(err)
	}
	svc := exec.Command("rauc", "--conf", rc.conf, "service", "--override-boot-slot", booted)
	svc.Env = append(os.Environ(), rc.env...)
	svc.Stdout, svc.Stderr = &testLog{t}, &testLog{t}
	if err := svc.Start(); err != nil {
		t.Fatalf("starting rauc service: %v", err)
	}
	rc.service = svc
	t.Cleanup(func() { _ = svc.Process.Kill(); _ = svc.Wait() })
	waitfor.Until(t, "rauc's service on the bus", 20*time.Second, func() bool {
		cmd := exec.Command("rauc", "--conf", rc.conf, "status")
		cmd.Env = append(os.Environ(), rc.env...)
		return cmd.Run() == nil
	})
}

type testLog struct{ t *testing.T }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Logf("rauc: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// bundle builds a bundle of version with make-bundle.sh from a card image
// whose slot A holds that version.
func (rc *raucCard) bundle(version string) string {
	t := rc.t
	dir := t.TempDir()
	boot, root := filepath.Join(dir, "boot.img"), filepath.Join(dir, "root.img")
	for _, f := range []string{boot, root} {
		if err := os.WriteFile(f, make([]byte, 8192*512), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	formatFAT(t, boot, map[string]string{"cmdline.txt": cmdlineOfA, "version": version})
	if err := os.Truncate(root, 16384*512); err != nil {
		t.Fatal(err)
	}
	formatExt4(t, root, version)
	card := filepath.Join(dir, "card.img")
	if err := os.WriteFile(card, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(card, 64<<20); err != nil {
		t.Fatal(err)
	}
	layout := "label: dos\nlabel-id: 0x4e554d31\nunit: sectors\n" +
		"start=2048, size=2048, type=c\nstart=4096, size=8192, type=c\nstart=12288, size=8192, type=c\n" +
		"start=20480, size=100000, type=5\nstart=22528, size=16384, type=83\nstart=40960, size=16384, type=83\n"
	cmd := exec.Command("sfdisk", "--quiet", card)
	cmd.Stdin = strings.NewReader(layout)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	for _, p := range []struct {
		file  string
		start int
	}{{boot, 4096}, {root, 22528}} {
		run(t, "dd", "if="+p.file, "of="+card, "bs=512", fmt.Sprintf("seek=%d", p.start), "conv=notrunc,sparse", "status=none")
	}
	bundle := filepath.Join(dir, "update.raucb")
	mk := exec.Command("bash", "../../deploy/image/make-bundle.sh", card, bundle)
	mk.Env = append(os.Environ(), "BUNDLE_CERT="+filepath.Join(rc.dir, "cert.pem"), "BUNDLE_KEY="+filepath.Join(rc.dir, "key.pem"),
		"BUNDLE_KEYRING="+filepath.Join(rc.dir, "cert.pem"), "VERSION="+version)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make-bundle.sh: %v\n%s", err, out)
	}
	return bundle
}

func formatFAT(t *testing.T, img string, files map[string]string) {
	t.Helper()
	run(t, "mkfs.vfat", img)
	for name, content := range files {
		src := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, "mcopy", "-i", img, src, "::"+name)
	}
}

func formatExt4(t *testing.T, img, version string) {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "numerek-release"), []byte(version+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "mke2fs", "-q", "-F", "-t", "ext4", "-d", root, img)
}

// release is the version in a root partition's /etc/numerek-release.
func release(t *testing.T, img string) string {
	t.Helper()
	out, err := exec.Command("debugfs", "-R", "cat /etc/numerek-release", img).Output()
	if err != nil {
		t.Fatalf("debugfs %s: %v", img, err)
	}
	return strings.TrimSpace(string(out))
}

// The real rauc installs a signed bundle into the other slot through the
// image's system.conf and kioskctl's backend; the new slot boots on trial
// and is committed; the next update's trial fails and is rolled back.
func TestRaucInstall(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("rauc install mounts the bundle: run as root (make test does)")
	}
	rc := newRaucCard(t)
	rc.boot(SlotA)
	v2 := rc.bundle("2")
	out := rc.run("rauc", "--conf", rc.conf, "install", v2)
	t.Logf("rauc install:\n%s", out)

	if got := release(t, filepath.Join(rc.dir, "p6.img")); got != "2" {
		t.Fatalf("slot B's root holds version %q, want 2", got)
	}
	if got := release(t, filepath.Join(rc.dir, "p5.img")); got != "1" {
		t.Fatalf("the running slot A's root changed: version %q", got)
	}
	if got := run(t, "mtype", "-i", rc.card.Boot[SlotB], "::version"); got != "2" {
		t.Fatalf("slot B's boot partition holds version %q", got)
	}
	cmdB := run(t, "mtype", "-i", rc.card.Boot[SlotB], "::cmdline.txt")
	if !strings.Contains(cmdB, "root=PARTUUID=4e554d31-06 ") || !strings.Contains(cmdB, "rauc.slot=B") {
		t.Fatalf("slot B's cmdline.txt: %q", cmdB)
	}
	a, err := rc.card.ReadAutoboot()
	if err != nil || a != (Autoboot{Primary: SlotA, Tryboot: SlotB}) {
		t.Fatalf("after install autoboot = %+v, %v: want A primary, B tried once", a, err)
	}

	// The tryboot reboot: B runs on trial; kioskd is healthy; the trial
	// commits through rauc.
	rc.boot(SlotB)
	healthy := filepath.Join(rc.dir, "healthy")
	if err := os.WriteFile(healthy, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rc.trial(healthy, "1m")
	if a, _ := rc.card.ReadAutoboot(); a != (Autoboot{Primary: SlotB, Tryboot: SlotA}) {
		t.Fatalf("after the trial autoboot = %+v, want B primary", a)
	}
	if st, err := RaucStatus(context.Background(), rc.raucWrapper()); err != nil || st != (Status{Booted: SlotB, Primary: SlotB, Tryboot: SlotA}) {
		t.Fatalf("rauc status reads as %+v, %v; want B booted and primary, A startable by tryboot", st, err)
	}

	// Version 3 into A; its trial never gets healthy: marked bad through
	// rauc, rebooted, and B stays the card's slot.
	rc.boot(SlotB)
	rc.run("rauc", "--conf", rc.conf, "install", rc.bundle("3"))
	if a, _ := rc.card.ReadAutoboot(); a != (Autoboot{Primary: SlotB, Tryboot: SlotA}) {
		t.Fatalf("after installing 3 autoboot = %+v", a)
	}
	rc.boot(SlotA)
	if err := os.Remove(healthy); err != nil {
		t.Fatal(err)
	}
	out = rc.trial(healthy, "200ms")
	if !strings.Contains(out, "rolling back to slot B") {
		t.Fatalf("the failed trial did not reboot:\n%s", out)
	}
	if a, _ := rc.card.ReadAutoboot(); a != (Autoboot{Primary: SlotB, Tryboot: SlotB}) {
		t.Fatalf("after the failed trial autoboot = %+v, want B only", a)
	}

	// While on trial (booted A, primary B) a new install is refused before
	// anything is written: it would overwrite the primary.
	cmd := exec.Command("rauc", "--conf", rc.conf, "install", v2)
	cmd.Env = append(os.Environ(), rc.env...)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "non-bootable") {
		t.Fatalf("install over the primary during a trial: err %v\n%s", err, out)
	}
	if got := release(t, filepath.Join(rc.dir, "p6.img")); got != "2" {
		t.Fatalf("the primary's root was overwritten: version %q", got)
	}
}

// trial runs kioskctl slot trial as numerek-trial.service does, with
// rauc on the test's bus and a reboot that only says so.
func (rc *raucCard) trial(healthy, within string) string {
	rc.t.Helper()
	return rc.run(rc.kioskctl, "slot", "trial", "--autoboot", rc.card.Autoboot,
		"--boot-a", rc.card.Boot[SlotA], "--boot-b", rc.card.Boot[SlotB], "--cmdline", rc.card.Cmdline,
		"--within", within, "--healthy", healthy,
		"--rauc", rc.raucWrapper(), "--reboot", "echo rebooted")
}

// raucWrapper is rauc with the test's system.conf and bus.
func (rc *raucCard) raucWrapper() string {
	p := filepath.Join(rc.dir, "rauc")
	script := fmt.Sprintf("#!/bin/sh\nexport %s\nexec rauc --conf %s \"$@\"\n", strings.Join(rc.env, " "), rc.conf)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		rc.t.Fatal(err)
	}
	return p
}
