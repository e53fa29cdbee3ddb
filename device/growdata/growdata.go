// Package growdata grows the SD card's data partition to the card's end:
// the image is written small, and the card is larger. The extended
// partition (p4) is grown first and then the last logical partition in
// it, the data partition (p7), both with sfdisk, each change one sector of
// the partition table; the kernel is told the new size with resizepart,
// and ext4 is grown online by resize2fs, all under a BSD lock on the disk
// that keeps udev from probing it halfway. Every step looks before it acts,
// so running it again (after a power cut at any point, or at every boot)
// finishes what is left and otherwise does nothing.
package growdata

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Options say which disk and partition to grow; the zero value finds
// them from the filesystem mounted on /data.
type Options struct {
	// Mount is the data partition's mount point (/data).
	Mount string
	// Mountinfo is /proc/self/mountinfo; Sys is /sys; Dev is /dev.
	Mountinfo, Sys, Dev string
	// Disk and Partition, when given, are the disk (a device or an image
	// file) and the data partition's number, not looked up from Mount.
	Disk      string
	Partition int
	// Online: the partition is in use, so the kernel is told its new
	// size (resizepart) and the filesystem is grown through its device.
	// Not for an image file, whose filesystem is not grown here.
	Online bool
}

// Result says what was grown.
type Result struct {
	Disk string
	// Partition is the data partition's number; Extended the extended
	// partition's holding it (0 when it is a primary one).
	Partition, Extended int
	// GrewExtended, GrewPartition: the table was changed.
	GrewExtended, GrewPartition bool
	// Sectors is the data partition's size after, in 512-byte sectors.
	Sectors int64
}

// slack is how much space at the card's end is left without growing for
// it (1 MiB, in sectors): sfdisk aligns partitions to 1 MiB, so up to that
// much may stay free for good.
const slack = 2048

// Grow grows the data partition and its filesystem to the end of the
// disk.
func Grow(ctx context.Context, opts Options) (Result, error) {
	if opts.Mountinfo == "" {
		opts.Mountinfo = "/proc/self/mountinfo"
	}
	if opts.Sys == "" {
		opts.Sys = "/sys"
	}
	if opts.Dev == "" {
		opts.Dev = "/dev"
	}
	if opts.Mount == "" {
		opts.Mount = "/data"
	}
	res := Result{Disk: opts.Disk, Partition: opts.Partition}
	if res.Disk == "" {
		disk, part, err := findPartition(opts)
		if err != nil {
			return res, err
		}
		res.Disk, res.Partition = disk, part
	}
	// udev probes a partition's table entry by the size the kernel has
	// for it: between sfdisk writing the new size and resizepart telling
	// the kernel, a probe finds no entry, the partition's by-partuuid link
	// goes, and systemd stops /data and all that needs it (kioskd) in the
	// middle of the first boot. udev leaves a disk alone while someone
	// holds a BSD lock on it (systemd's "Locking Block Device Access"),
	// and probes it again once it is released, when all agrees.
	unlock, err := lockDisk(res.Disk)
	if err != nil {
		return res, err
	}
	defer unlock()
	diskSectors, err := sizeOf(res.Disk)
	if err != nil {
		return res, err
	}
	table, err := readTable(ctx, opts, res.Disk)
	if err != nil {
		return res, err
	}
	data, ok := table.partition(res.Partition)
	if !ok {
		return res, fmt.Errorf("%s has no partition %d", res.Disk, res.Partition)
	}
	if res.Partition > 4 {
		ext, ok := table.extended()
		if !ok {
			return res, fmt.Errorf("%s: partition %d is a logical one, but there is no extended partition", res.Disk, res.Partition)
		}
		res.Extended = ext.number
		if ext.end() < diskSectors-slack {
			if err := growToEnd(ctx, opts, res.Disk, ext.number); err != nil {
				return res, err
			}
			res.GrewExtended = true
		}
	}
	if data.end() < diskSectors-slack {
		if err := growToEnd(ctx, opts, res.Disk, res.Partition); err != nil {
			return res, err
		}
		res.GrewPartition = true
	}
	if table, err = readTable(ctx, opts, res.Disk); err != nil {
		return res, err
	}
	data, _ = table.partition(res.Partition)
	res.Sectors = data.Size * table.SectorSize / 512
	if !opts.Online {
		return res, nil
	}
	// The kernel keeps the size it read at boot for a partition in use;
	// resizepart tells it the new one (BLKPG), without a re-read. Done
	// every time, as a cut may have come between the table and this.
	if _, err := run(ctx, "", "resizepart", res.Disk, strconv.Itoa(res.Partition), strconv.FormatInt(res.Sectors, 10)); err != nil {
		return res, fmt.Errorf("telling the kernel partition %d's new size: %w", res.Partition, err)
	}
	// ext4 grows online, journalled; on a filesystem already as large
	// as its partition resize2fs does nothing.
	if _, err := run(ctx, "", "resize2fs", partitionDevice(res.Disk, res.Partition)); err != nil {
		return res, fmt.Errorf("growing the data filesystem: %w", err)
	}
	return res, nil
}

// lockDisk takes an exclusive BSD lock on the whole disk (waiting for
// udev to finish what it is doing with it) and returns its release.
func lockDisk(disk string) (unlock func(), err error) {
	f, err := os.Open(disk)
	if err != nil {
		return nil, fmt.Errorf("opening %s to lock it: %w", disk, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s against udev: %w", disk, err)
	}
	return func() { f.Close() }, nil
}

// growToEnd makes partition n end where the free space after it ends.
func growToEnd(ctx context.Context, opts Options, disk string, n int) error {
	// --no-reread: the disk is in use, and the kernel is told of the
	// data partition alone, by resizepart. --lock=no: Grow holds the
	// lock already (an sfdisk asked to lock by LOCK_BLOCK_DEVICE in its
	// environment would wait for it forever).
	_, err := run(ctx, ", +\n", "sfdisk", "--lock=no", "--no-reread", "--no-tell-kernel", "--quiet", "-N", strconv.Itoa(n), disk)
	if err != nil {
		return fmt.Errorf("growing partition %d of %s: %w", n, disk, err)
	}
	return nil
}

// table is what sfdisk --json says of an MBR.
type table struct {
	Label      string `json:"label"`
	SectorSize int64  `json:"sectorsize"`
	Partitions []struct {
		Node  string `json:"node"`
		Start int64  `json:"start"`
		Size  int64  `json:"size"`
		Type  string `json:"type"`
	} `json:"partitions"`
}

type partition struct {
	number      int
	Start, Size int64
	Type        string
}

func (p partition) end() int64 { return p.Start + p.Size }

func (t *table) all() []partition {
	var out []partition
	for _, p := range t.Partitions {
		n := trailingNumber(p.Node)
		out = append(out, partition{number: n, Start: p.Start, Size: p.Size, Type: p.Type})
	}
	return out
}

func (t *table) partition(n int) (partition, bool) {
	for _, p := range t.all() {
		if p.number == n {
			return p, true
		}
	}
	return partition{}, false
}

// extended is the MBR's extended partition (types 5, f and 85).
func (t *table) extended() (partition, bool) {
	for _, p := range t.all() {
		if p.number <= 4 && (p.Type == "5" || p.Type == "f" || p.Type == "85") {
			return p, true
		}
	}
	return partition{}, false
}

func readTable(ctx context.Context, opts Options, disk string) (*table, error) {
	out, err := run(ctx, "", "sfdisk", "--json", disk)
	if err != nil {
		return nil, fmt.Errorf("reading the partition table of %s: %w", disk, err)
	}
	var doc struct {
		Table table `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("reading the partition table of %s: sfdisk said %w", disk, err)
	}
	if doc.Table.Label != "dos" {
		return nil, fmt.Errorf("%s has a %q partition table; the card has an MBR (dos) one", disk, doc.Table.Label)
	}
	if doc.Table.SectorSize == 0 {
		doc.Table.SectorSize = 512
	}
	return &doc.Table, nil
}

// sizeOf is a disk's (or an image file's) size in 512-byte sectors.
func sizeOf(disk string) (int64, error) {
	f, err := os.Open(disk)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("finding the size of %s: %w", disk, err)
	}
	return n / 512, nil
}

// findPartition finds the disk and partition number of the filesystem
// mounted on opts.Mount: its device number from mountinfo, then sysfs.
func findPartition(opts Options) (disk string, part int, err error) {
	devno, err := mountedDevice(opts.Mountinfo, opts.Mount)
	if err != nil {
		return "", 0, err
	}
	sysPath := filepath.Join(opts.Sys, "dev/block", devno)
	data, err := os.ReadFile(filepath.Join(sysPath, "partition"))
	if err != nil {
		return "", 0, fmt.Errorf("%s (device %s) is not on a partition: %w", opts.Mount, devno, err)
	}
	part, err = strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return "", 0, fmt.Errorf("device %s: partition number %q", devno, data)
	}
	// The partition's folder in sysfs is inside its disk's.
	real, err := filepath.EvalSymlinks(sysPath)
	if err != nil {
		return "", 0, err
	}
	return filepath.Join(opts.Dev, filepath.Base(filepath.Dir(real))), part, nil
}

// mountedDevice is the "major:minor" of what is mounted on mount (the
// last mount there wins, as the kernel's view does).
func mountedDevice(mountinfo, mount string) (string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return "", err
	}
	defer f.Close()
	found := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// id parent major:minor root mountpoint ...
		if len(fields) >= 5 && unescapeMount(fields[4]) == mount {
			found = fields[2]
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if found == "" {
		return "", fmt.Errorf("nothing is mounted on %s", mount)
	}
	return found, nil
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// partitionDevice is the device of a disk's partition n: mmcblk0 → mmcblk0p7,
// sda → sda7.
func partitionDevice(disk string, n int) string {
	if last := disk[len(disk)-1]; last >= '0' && last <= '9' {
		return disk + "p" + strconv.Itoa(n)
	}
	return disk + strconv.Itoa(n)
}

func trailingNumber(s string) int {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(s[i:])
	return n
}

func run(ctx context.Context, stdin, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
