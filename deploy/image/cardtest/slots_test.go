package cardtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/device/slots"
	"github.com/numerek/numerek/internal/bootsel"
	"github.com/numerek/numerek/internal/qemuvm"
)

// The card's A/B updates in qemu, the Raspberry Pi firmware's choice of
// boot partition followed by internal/bootsel: a signed bundle is
// installed into slot B by the real rauc through kioskctl's backend, the
// device reboots with tryboot into B, kioskd gets healthy there and
// numerek-trial.service commits B. Then a bundle whose kioskd never starts
// is installed into A, booted on trial, not committed within the trial,
// and the device comes back on B by a normal reboot.
//
// Stand-ins, each for a part this test does not exercise: kioskd's update
// agent (it downloads the bundle from the server and runs rauc install) is
// a unit on the test's card that installs the bundle found on a second
// disk and reboots "0 tryboot"; until kioskd writes /run/kioskd/healthy
// itself, the good bundle holds a unit that writes it once kioskd.service
// is active; the office's signing certificate is put into the card's root
// as make image does with RAUC_KEYRING.
func TestCardUpdatesAndRollsBack(t *testing.T) {
	imageXZ := os.Getenv("NUMEREK_IMAGE")
	if imageXZ == "" {
		t.Skip("boots the SD card image in qemu: set NUMEREK_IMAGE=out/image/numerek-device-arm64.img.xz (make image-test)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	dir := t.TempDir()
	card := filepath.Join(dir, "card.img")
	run(t, "bmaptool", "copy", imageXZ, card)

	// The office's signing key (deploy/README.md) and the card trusting it.
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	run(t, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", key, "-out", cert,
		"-subj", "/O=Numerek card test/CN=Numerek card test update signing")
	replaceFile(t, card, 5, cert, "/etc/rauc/keyring.pem")
	putUnit(t, card, 5, "numerek-test-install.service", installerUnit)
	// A short trial, as an office may set it (/etc/numerek is on /data).
	trialEnv := filepath.Join(dir, "trial.env")
	if err := os.WriteFile(trialEnv, []byte("TRIAL_WITHIN=240s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	replaceFile(t, card, 7, trialEnv, "/etc/numerek/trial.env")
	version := strings.TrimSpace(catOnPartition(t, card, 5, "/etc/numerek-release"))

	good := makeBundle(t, card, cert, key, version+"-good", func(img string) {
		putUnit(t, img, 5, "numerek-test-healthy.service", healthyStandIn)
	})
	bad := makeBundle(t, card, cert, key, version+"-bad", func(img string) {
		maskUnit(t, img, 5, "kioskd.service")
	})

	run(t, "qemu-img", "resize", "-f", "raw", card, strconv.Itoa(6<<30))
	srv := startServer(t, dir)
	writeNumerekTxt(t, card, srv.port)
	bundles := bundleDisk(t, dir, good)

	pi := &bootsel.Pi{VM: qemuvm.Options{Image: card, Dir: filepath.Join(dir, "vm"), Disks: []string{bundles}, Stderr: os.Stderr}, Log: &testLog{t}}
	var boot *bootsel.Boot
	defer func() {
		if boot != nil {
			boot.VM.Stop()
			if t.Failed() {
				t.Logf("the guest's console:\n%s", tail(boot.VM.Console(), 150))
			}
		}
	}()
	start := func(wantPartition int, wantTryboot bool) {
		t.Helper()
		var err error
		if boot, err = pi.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if boot.Partition != wantPartition || boot.Tryboot != wantTryboot {
			t.Fatalf("the firmware chose partition %d (tryboot %v), want %d (%v)", boot.Partition, boot.Tryboot, wantPartition, wantTryboot)
		}
	}
	waitLine := func(re string) {
		t.Helper()
		if _, err := boot.VM.WaitConsole(ctx, regexp.MustCompile(re)); err != nil {
			t.Fatal(err)
		}
	}
	waitEnd := func(want bootsel.Request) {
		t.Helper()
		next, halted, err := boot.Wait(ctx)
		if err != nil || halted || next != want {
			t.Fatalf("the boot ended asking %+v (halted %v, %v), want %+v", next, halted, err, want)
		}
	}

	// 1. Slot A installs the good bundle into B and reboots on trial.
	start(2, false)
	waitLine(`test-install: slot A version ` + regexp.QuoteMeta(version) + `\s*$`)
	waitLine(`test-install: installing`)
	installed := time.Now()
	waitEnd(bootsel.Request{Partition: 0, Tryboot: true})
	wantAutoboot(t, card, slots.Autoboot{Primary: slots.SlotA, Tryboot: slots.SlotB})

	// 2. B boots once on trial; kioskd gets healthy; B is committed.
	start(3, true)
	waitLine(`test-install: slot B version ` + regexp.QuoteMeta(version+"-good") + `\s*$`)
	waitLine(`kioskd is healthy on slot B: committed`)
	recordFigure(t, "BenchmarkCardUpdate", time.Since(installed).Seconds(), "s")
	wantAutoboot(t, card, slots.Autoboot{Primary: slots.SlotB, Tryboot: slots.SlotA})
	boot.PowerCut()

	// 3. Committed B boots by default and installs the bad bundle into A.
	putBundle(t, bundles, bad)
	start(3, false)
	waitLine(`test-install: installing`)
	waitEnd(bootsel.Request{Partition: 0, Tryboot: true})
	wantAutoboot(t, card, slots.Autoboot{Primary: slots.SlotB, Tryboot: slots.SlotA})

	// 4. A on trial: kioskd never starts; the trial marks A bad and reboots.
	start(2, true)
	trialBoot := time.Now()
	waitLine(`test-install: slot A version ` + regexp.QuoteMeta(version+"-bad") + `\s*$`)
	waitLine(`kioskd not healthy on slot A within 4m0s: rolling back to slot B`)
	waitEnd(bootsel.Request{})
	wantAutoboot(t, card, slots.Autoboot{Primary: slots.SlotB, Tryboot: slots.SlotB})

	// 5. Back on B, as before the bad update.
	start(3, false)
	waitLine(`test-install: slot B version ` + regexp.QuoteMeta(version+"-good") + `\s*$`)
	waitLine(`slot B is the primary: no trial`)
	recordFigure(t, "BenchmarkCardRollback", time.Since(trialBoot).Seconds(), "s")
}

// installerUnit stands in for kioskd's update agent: it installs the
// bundle the test left on the disk labelled BUNDLES and reboots on trial.
const installerUnit = `[Unit]
Description=Card test stand-in for kioskd's update agent
After=local-fs.target dbus.service
Requires=dev-disk-by\x2dlabel-BUNDLES.device
After=dev-disk-by\x2dlabel-BUNDLES.device

[Service]
Type=oneshot
StandardOutput=journal+console
StandardError=journal+console
ExecStart=/bin/sh -c 'echo "test-install: slot $$(sed -n "s/.*rauc.slot=\\([AB]\\).*/\\1/p" /proc/cmdline) version $$(cat /etc/numerek-release)"; \
  mkdir -p /run/bundles && mount /dev/disk/by-label/BUNDLES /run/bundles || exit 1; \
  if [ -f /run/bundles/next.raucb ]; then \
    mv /run/bundles/next.raucb /run/bundles/installing.raucb && sync && echo "test-install: installing" && \
    rauc install /run/bundles/installing.raucb && mv /run/bundles/installing.raucb /run/bundles/done.raucb && \
    umount /run/bundles && echo "test-install: rebooting on trial" && systemctl reboot "0 tryboot"; \
  fi'

[Install]
WantedBy=multi-user.target
`

// healthyStandIn writes kioskd's healthy file once kioskd.service is
// active, until kioskd writes it itself.
const healthyStandIn = `[Unit]
Description=Card test stand-in: kioskd healthy once its unit is active
After=kioskd.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'until systemctl is-active --quiet kioskd.service; do sleep 1; done; mkdir -p /run/kioskd; touch /run/kioskd/healthy'

[Install]
WantedBy=multi-user.target
`

// onPartition runs debugfs commands (writable) on an ext4 partition of a
// card image, without mounting it.
func onPartition(t *testing.T, img string, n int, commands string) {
	t.Helper()
	p, err := qemuvm.PartitionOf(img, n)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "debugfs")
	if err := os.WriteFile(script, []byte(commands), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("debugfs", "-w", "-f", script, fmt.Sprintf("%s?offset=%d", img, p.Start)).CombinedOutput()
	if err != nil || debugfsError.Match(out) {
		t.Fatalf("debugfs on partition %d: %v\n%s", n, err, out)
	}
}

// debugfsError matches debugfs's complaint about one of its commands (its
// echo of each command starts with "debugfs: ").
var debugfsError = regexp.MustCompile(`(?m)^(write|rm|symlink|mkdir): `)

// replaceFile puts src at path on an ext4 partition of a card image,
// replacing what is there.
func replaceFile(t *testing.T, img string, n int, src, path string) {
	t.Helper()
	removeOnPartition(t, img, n, path)
	onPartition(t, img, n, fmt.Sprintf("write %s %s\n", src, path))
}

// removeOnPartition removes path from an ext4 partition of a card image;
// nothing there is no error.
func removeOnPartition(t *testing.T, img string, n int, path string) {
	t.Helper()
	p, err := qemuvm.PartitionOf(img, n)
	if err != nil {
		t.Fatal(err)
	}
	_ = exec.Command("debugfs", "-w", "-R", "rm "+path, fmt.Sprintf("%s?offset=%d", img, p.Start)).Run()
}

func catOnPartition(t *testing.T, img string, n int, path string) string {
	t.Helper()
	p, err := qemuvm.PartitionOf(img, n)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("debugfs", "-R", "cat "+path, fmt.Sprintf("%s?offset=%d", img, p.Start)).Output()
	if err != nil {
		t.Fatalf("debugfs cat %s: %v", path, err)
	}
	return string(out)
}

// putUnit installs a unit into the card's root and enables it.
func putUnit(t *testing.T, img string, n int, name, unit string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(src, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	onPartition(t, img, n, fmt.Sprintf("write %s /etc/systemd/system/%s\nsymlink /etc/systemd/system/multi-user.target.wants/%s /etc/systemd/system/%s\n", src, name, name, name))
}

// maskUnit masks a unit in the card's root (a link to /dev/null in
// /etc/systemd/system, over the unit file if it is there).
func maskUnit(t *testing.T, img string, n int, name string) {
	t.Helper()
	removeOnPartition(t, img, n, "/etc/systemd/system/"+name)
	onPartition(t, img, n, fmt.Sprintf("symlink /etc/systemd/system/%s /dev/null\n", name))
}

// makeBundle builds a bundle (deploy/image/make-bundle.sh) from a copy of
// the card whose root says version and was changed by edit.
func makeBundle(t *testing.T, card, cert, key, version string, edit func(img string)) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "card.img")
	run(t, "cp", "--sparse=always", card, img)
	release := filepath.Join(dir, "numerek-release")
	if err := os.WriteFile(release, []byte(version+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	replaceFile(t, img, 5, release, "/etc/numerek-release")
	edit(img)
	bundle := filepath.Join(dir, "update.raucb")
	cmd := exec.Command("bash", "../make-bundle.sh", img, bundle)
	cmd.Env = append(os.Environ(), "BUNDLE_CERT="+cert, "BUNDLE_KEY="+key, "BUNDLE_KEYRING="+cert, "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-bundle.sh: %v\n%s", err, out)
	}
	_ = os.Remove(img)
	return bundle
}

// bundleDisk makes the second disk, an ext4 file system labelled BUNDLES
// holding next.raucb.
func bundleDisk(t *testing.T, dir, bundle string) string {
	t.Helper()
	content := filepath.Join(dir, "bundles")
	if err := os.MkdirAll(content, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", bundle, filepath.Join(content, "next.raucb"))
	disk := filepath.Join(dir, "bundles.img")
	st, err := os.Stat(bundle)
	if err != nil {
		t.Fatal(err)
	}
	run(t, "truncate", "-s", strconv.FormatInt(3*st.Size()+64<<20, 10), disk)
	run(t, "mke2fs", "-q", "-t", "ext4", "-L", "BUNDLES", "-d", content, disk)
	return disk
}

// putBundle leaves bundle as next.raucb on the (unused) bundles disk.
func putBundle(t *testing.T, disk, bundle string) {
	t.Helper()
	out, err := exec.Command("debugfs", "-w", "-R", "rm /done.raucb", disk).CombinedOutput()
	if err != nil {
		t.Fatalf("debugfs rm: %v\n%s", err, out)
	}
	if out, err := exec.Command("debugfs", "-w", "-R", "write "+bundle+" /next.raucb", disk).CombinedOutput(); err != nil {
		t.Fatalf("debugfs write: %v\n%s", err, out)
	}
}

func wantAutoboot(t *testing.T, card string, want slots.Autoboot) {
	t.Helper()
	data, err := qemuvm.ReadFile(card, 1, "autoboot.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := slots.ParseAutoboot(data)
	if err != nil || got != want {
		t.Fatalf("autoboot.txt says %+v (%v), want %+v:\n%s", got, err, want, data)
	}
}

type testLog struct{ t *testing.T }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
