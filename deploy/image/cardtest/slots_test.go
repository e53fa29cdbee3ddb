package cardtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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

// The card's A/B updates from the office's server, in qemu, the Raspberry
// Pi firmware's choice of boot partition followed by internal/bootsel. The
// device is paired as a hall; an admin uploads a signed bundle and rolls
// it out to it; kioskd downloads it from the server, has the real rauc
// install it into slot B through kioskctl's backend, and reboots with
// tryboot into B; kioskd gets healthy there, numerek-trial.service commits
// B, and the rollout shows the device committed. Then a bundle whose
// kioskd never starts is rolled out: installed into A, booted on trial,
// not committed within the trial; the device comes back on B by a normal
// reboot, and the rollout shows it rolled back.
//
// The office's signing certificate is put into the card's root as make
// image does with RAUC_KEYRING.
func TestCardUpdatesFromTheServer(t *testing.T) {
	dir, card := flashCard(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()

	// The office's signing key (deploy/README.md) and the card trusting it.
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	run(t, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-keyout", key, "-out", cert,
		"-subj", "/O=Numerek card test/CN=Numerek card test update signing")
	replaceFile(t, card, 5, cert, "/etc/rauc/keyring.pem")
	// A short trial, as an office may set it (/etc/numerek is on /data).
	trialEnv := filepath.Join(dir, "trial.env")
	if err := os.WriteFile(trialEnv, []byte("TRIAL_WITHIN=240s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	replaceFile(t, card, 7, trialEnv, "/etc/numerek/trial.env")
	version := strings.TrimSpace(catOnPartition(t, card, 5, "/etc/numerek-release"))

	good := makeBundle(t, card, cert, key, version+"-good", func(string) {})
	bad := makeBundle(t, card, cert, key, version+"-bad", func(img string) {
		maskUnit(t, img, 5, "kioskd.service")
	})

	run(t, "qemu-img", "resize", "-f", "raw", card, strconv.Itoa(6<<30))
	srv := startServer(t, dir)
	writeNumerekTxt(t, card, srv.port)

	pi := &bootsel.Pi{VM: qemuvm.Options{Image: card, Dir: filepath.Join(dir, "vm"), Append: guestDiagnostics, Stderr: os.Stderr}, Log: &testLog{t}}
	var boot *bootsel.Boot
	defer func() {
		if boot != nil {
			boot.VM.Stop()
			reportGuest(t, boot.VM, card)
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
	waitEnd := func(want bootsel.Request) {
		t.Helper()
		next, halted, err := boot.Wait(ctx)
		if err != nil || halted || next != want {
			t.Fatalf("the boot ended asking %+v (halted %v, %v), want %+v", next, halted, err, want)
		}
	}
	onSlot := func(slot, primary, version string) func(fleetDevice) bool {
		return func(d fleetDevice) bool {
			if d.Report == nil {
				return false
			}
			sys := d.Report.System
			return d.Status == "online" && sys != nil && sys.Slot == slot && sys.Primary == primary && sys.Version == version
		}
	}

	// 1. Paired as the hall on slot A, the device reports its system.
	start(2, false)
	approveAsHall(ctx, t, srv, boot.VM)
	hall := srv.waitDevice(ctx, t, "hall-card", onSlot("A", "A", version))

	// 2. The good bundle, rolled out to the hall: downloaded, installed
	// into B, and the device reboots on trial.
	rolledOut := time.Now()
	goodRollout := srv.rollOut(t, srv.upload(t, good), hall.ID)
	waitEnd(bootsel.Request{Partition: 0, Tryboot: true})
	t.Logf("downloaded, installed and rebooting %v after the rollout", time.Since(rolledOut).Round(time.Second))
	wantAutoboot(t, card, slots.Autoboot{Primary: slots.SlotA, Tryboot: slots.SlotB})

	// 3. B on trial: kioskd gets healthy, the trial commits B, and the
	// rollout shows the device committed.
	start(3, true)
	srv.waitOrder(ctx, t, goodRollout, hall.ID, "committed")
	srv.waitDevice(ctx, t, "hall-card", onSlot("B", "B", version+"-good"))
	recordFigure(t, "BenchmarkCardUpdate", time.Since(rolledOut).Seconds(), "s")
	wantAutoboot(t, card, slots.Autoboot{Primary: slots.SlotB, Tryboot: slots.SlotA})

	// 4. The bad bundle: installed into A, which boots on trial with no
	// kioskd; the trial marks A bad and reboots normally.
	badRollout := srv.rollOut(t, srv.upload(t, bad), hall.ID)
	waitEnd(bootsel.Request{Partition: 0, Tryboot: true})
	wantAutoboot(t, card, slots.Autoboot{Primary: slots.SlotB, Tryboot: slots.SlotA})
	start(2, true)
	trialBoot := time.Now()
	if _, err := boot.VM.WaitConsole(ctx, regexp.MustCompile(`kioskd not healthy on slot A within 4m0s: rolling back to slot B`)); err != nil {
		t.Fatal(err)
	}
	waitEnd(bootsel.Request{})
	wantAutoboot(t, card, slots.Autoboot{Primary: slots.SlotB, Tryboot: slots.SlotB})

	// 5. Back on B as before, and the rollout says so.
	start(3, false)
	order := srv.waitOrder(ctx, t, badRollout, hall.ID, "rolled-back")
	if !strings.Contains(order.Error, "slot A") {
		t.Errorf("the rolled-back order says %q, want it to name slot A", order.Error)
	}
	srv.waitDevice(ctx, t, "hall-card", onSlot("B", "B", version+"-good"))
	recordFigure(t, "BenchmarkCardRollback", time.Since(trialBoot).Seconds(), "s")
}

// upload sends a bundle to the server as an admin, returning its SHA-256.
func (s *server) upload(t *testing.T, bundle string) string {
	t.Helper()
	f, err := os.Open(bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	req, _ := http.NewRequest("POST", s.url+"/api/v1/bundles", f)
	req.Header.Set("Authorization", "Bearer "+s.tokens["admin"])
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct {
		SHA256 string `json:"sha256"`
	}
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(data, &b) != nil || b.SHA256 == "" {
		t.Fatalf("uploading %s: %d %s", filepath.Base(bundle), resp.StatusCode, data)
	}
	return b.SHA256
}

// rollOut rolls a bundle out to one device, returning the rollout's id.
func (s *server) rollOut(t *testing.T, sha256, device string) string {
	t.Helper()
	var r struct {
		ID string `json:"id"`
	}
	data := s.api(t, "admin", "POST", "/rollouts", fmt.Sprintf(`{"bundle":%q,"device":%q}`, sha256, device))
	if err := json.Unmarshal(data, &r); err != nil || r.ID == "" {
		t.Fatalf("the rollout: %s (%v)", data, err)
	}
	return r.ID
}

// rolloutOrder is one device's order in GET /api/v1/rollouts/{id}.
type rolloutOrder struct {
	Device string `json:"device"`
	State  string `json:"state"`
	Error  string `json:"error"`
}

// waitOrder waits until the device's order in the rollout is in state.
func (s *server) waitOrder(ctx context.Context, t *testing.T, rollout, device, state string) rolloutOrder {
	t.Helper()
	var last rolloutOrder
	until(ctx, t, "the rollout's order "+state, func() bool {
		var r struct{ Devices []rolloutOrder }
		data, status := s.apiStatus("admin", "GET", "/rollouts/"+url.PathEscape(rollout), "")
		if status != http.StatusOK || json.Unmarshal(data, &r) != nil {
			return false
		}
		for _, o := range r.Devices {
			if o.Device == device {
				if o != last {
					t.Logf("the rollout's order: %+v", o)
				}
				last = o
			}
		}
		return last.State == state
	})
	return last
}

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
	// zstd at a low level: built several times faster than the default
	// gzip on a 2-core builder; the card's kernel and the server read it.
	cmd.Env = append(os.Environ(), "BUNDLE_CERT="+cert, "BUNDLE_KEY="+key, "BUNDLE_KEYRING="+cert, "VERSION="+version, "BUNDLE_COMPRESSION=zstd -Xcompression-level 3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-bundle.sh: %v\n%s", err, out)
	}
	_ = os.Remove(img)
	return bundle
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
