package growdata_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek/device/growdata"
)

// cardLayout is the card's MBR (CONTRACT13: p1-p3 FAT, p4 extended with
// the two roots and the data partition), shrunk to fit a test, the data
// partition the last 16 MiB of the extended one as the image writes it.
const cardLayout = `label: dos
label-id: 0x4e554d31

start=2048, size=8M, type=c
size=16M, type=c
size=16M, type=c
type=5, size=60M
size=20M, type=83
size=20M, type=83
type=83
`

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/install-deps.sh installs fdisk and e2fsprogs): %v", tool, err)
		}
	}
}

// card makes an image file of size MiB with the card's partitions.
func card(t *testing.T, size int64) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "card.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, size<<20); err != nil {
		t.Fatal(err)
	}
	sh(t, cardLayout, "sfdisk", "--quiet", img)
	return img
}

func sh(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

type part struct {
	Start, Size int64
	Type        string
}

// partitions reads the disk's table as sfdisk does, by number.
func partitions(t *testing.T, disk string) map[int]part {
	t.Helper()
	var doc struct {
		Table struct {
			Partitions []struct {
				Node        string
				Start, Size int64
				Type        string
			}
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal([]byte(sh(t, "", "sfdisk", "--json", disk)), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[int]part{}
	for _, p := range doc.Table.Partitions {
		n, _ := strconv.Atoi(p.Node[strings.LastIndexAny(p.Node, "abcdefghijklmnopqrstuvwxyz")+1:])
		out[n] = part{p.Start, p.Size, p.Type}
	}
	return out
}

// The card's partition table grows, whether from the image as written
// or after a power cut between the extended partition and the data
// partition, and a second run changes nothing; the other partitions are
// left as they were.
func TestGrowTheCardsTable(t *testing.T) {
	need(t, "sfdisk")
	const cardMiB = 200
	end := int64(cardMiB << 20 / 512)
	tests := []struct {
		name string
		// before changes the fresh card's table as a cut run left it.
		before                    func(t *testing.T, img string)
		wantExtended, wantGrowing bool
	}{
		{"as the image is written", func(*testing.T, string) {}, true, true},
		{"the extended partition grown, then a power cut", func(t *testing.T, img string) {
			sh(t, ", +\n", "sfdisk", "--quiet", "--no-reread", "-N", "4", img)
		}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := card(t, cardMiB)
			before := partitions(t, img)
			tt.before(t, img)
			res, err := growdata.Grow(context.Background(), growdata.Options{Disk: img, Partition: 7})
			if err != nil {
				t.Fatal(err)
			}
			if res.GrewExtended != tt.wantExtended || res.GrewPartition != tt.wantGrowing || res.Extended != 4 {
				t.Errorf("result %+v", res)
			}
			after := partitions(t, img)
			for _, n := range []int{4, 7} {
				if e := after[n].Start + after[n].Size; e < end-2048 || e > end {
					t.Errorf("partition %d ends at sector %d, the card at %d", n, e, end)
				}
			}
			if after[7].Start != before[7].Start || res.Sectors != after[7].Size {
				t.Errorf("the data partition moved or its size is misreported: %+v, result %+v", after[7], res)
			}
			for _, n := range []int{1, 2, 3, 5, 6} {
				if after[n] != before[n] {
					t.Errorf("partition %d changed: %+v, was %+v", n, after[n], before[n])
				}
			}
			again, err := growdata.Grow(context.Background(), growdata.Options{Disk: img, Partition: 7})
			if err != nil || again.GrewExtended || again.GrewPartition || again.Sectors != res.Sectors {
				t.Errorf("a second run: %+v, %v", again, err)
			}
		})
	}
}

// Grow waits while udev (or anyone) holds a lock on the disk, changes
// nothing meanwhile, and leaves the disk unlocked when done: udev probes
// the table only before or after the change, never halfway through.
func TestGrowWaitsForTheDisksLock(t *testing.T) {
	need(t, "sfdisk")
	img := card(t, 200)
	before := partitions(t, img)
	udev, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer udev.Close()
	// A udev worker holds a shared lock while it probes a disk.
	if err := syscall.Flock(int(udev.Fd()), syscall.LOCK_SH); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := growdata.Grow(context.Background(), growdata.Options{Disk: img, Partition: 7})
		done <- err
	}()
	waitForBlockedLock(t, img, done)
	if after := partitions(t, img); after[7] != before[7] || after[4] != before[4] {
		t.Errorf("the table changed while the disk was locked: %+v, was %+v", after, before)
	}
	udev.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if after := partitions(t, img); after[7].Size <= before[7].Size {
		t.Errorf("the data partition did not grow once the disk was unlocked: %+v", after[7])
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Errorf("the disk is still locked after Grow: %v", err)
	}
}

// waitForBlockedLock waits until /proc/locks shows an exclusive lock on
// file blocked behind another (Grow waiting), or Grow ends first.
func waitForBlockedLock(t *testing.T, file string, done <-chan error) {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	inode := ":" + strconv.FormatUint(st.Sys().(*syscall.Stat_t).Ino, 10) + " "
	for {
		data, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Skipf("no /proc/locks to see Grow wait: %v", err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "-> FLOCK") && strings.Contains(line, "WRITE") && strings.Contains(line, inode) {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("Grow ended (%v) while the disk was locked", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// hasSysResource reports whether this process may grow a mounted ext4
// (EXT4_IOC_RESIZE_FS needs CAP_SYS_RESOURCE, which containers drop).
func hasSysResource() bool {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<24) != 0
		}
	}
	return false
}

// The whole of kioskctl grow-data on a real block device: a card image
// on a loop device, its data partition formatted and mounted with a file
// on it. The disk and partition are found from the mount, the table
// grows, the kernel is told the partition's new size, and the mounted
// filesystem grows online, the file still there.
func TestGrowAMountedDataPartition(t *testing.T) {
	need(t, "sfdisk", "losetup", "partx", "mke2fs", "resize2fs", "resizepart")
	if os.Geteuid() != 0 {
		t.Skip("loop devices and mounts need root")
	}
	img := card(t, 200)
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device here: %v %s", err, out)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "-d", loop).Run() })
	sh(t, "", "partx", "--add", loop)
	t.Cleanup(func() { exec.Command("partx", "--delete", loop).Run() })
	dataDev := loop + "p7"
	sh(t, "", "mke2fs", "-q", "-t", "ext4", "-L", "NUMEREK_DATA", dataDev)
	mnt := t.TempDir()
	if err := syscall.Mount(dataDev, mnt, "ext4", 0, ""); err != nil {
		t.Skipf("cannot mount here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, 0) })
	if err := os.WriteFile(filepath.Join(mnt, "ticket.journal"), []byte("A001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var before syscall.Statfs_t
	if err := syscall.Statfs(mnt, &before); err != nil {
		t.Fatal(err)
	}

	res, err := growdata.Grow(context.Background(), growdata.Options{Mount: mnt, Online: true})
	if res.Disk != loop || res.Partition != 7 || !res.GrewExtended || !res.GrewPartition {
		t.Fatalf("found and grew %+v (%v), want %s partition 7", res, err, loop)
	}
	kernel, _ := os.ReadFile(filepath.Join("/sys/class/block", filepath.Base(dataDev), "size"))
	if got := strings.TrimSpace(string(kernel)); got != strconv.FormatInt(res.Sectors, 10) {
		t.Errorf("the kernel sees %s sectors, the table %d", got, res.Sectors)
	}
	if !hasSysResource() {
		// The table and the kernel are grown; the filesystem's online
		// resize is the kernel's own and needs the capability.
		if err == nil || !strings.Contains(err.Error(), "resize2fs") {
			t.Errorf("without CAP_SYS_RESOURCE: %v", err)
		}
		t.Skip("this process lacks CAP_SYS_RESOURCE, which growing a mounted ext4 needs: the filesystem's growth is not checked here")
	}
	if err != nil {
		t.Fatal(err)
	}
	var after syscall.Statfs_t
	if err := syscall.Statfs(mnt, &after); err != nil {
		t.Fatal(err)
	}
	if got, want := int64(after.Blocks)*after.Bsize, res.Sectors*512*9/10; got < want {
		t.Errorf("the filesystem is %d bytes after, want about %d", got, res.Sectors*512)
	}
	if data, _ := os.ReadFile(filepath.Join(mnt, "ticket.journal")); string(data) != "A001\n" {
		t.Errorf("the file on the data partition holds %q", data)
	}
	if again, err := growdata.Grow(context.Background(), growdata.Options{Mount: mnt, Online: true}); err != nil || again.GrewPartition {
		t.Errorf("a second run: %+v %v", again, err)
	}
}
