// Package qemuvm boots the device's SD card image (make image) in
// qemu-system-aarch64, as a Raspberry Pi would boot it, for tests: qemu's
// virt board (TCG) stands in for the Pi, the card is a virtio disk, the
// screen a virtio GPU (Xorg's modesetting driver draws on it as on the
// Pi's), the network qemu's user mode (the host is 10.0.2.2).
//
// The Pi's firmware is not emulated: Start reads the kernel, the initrd and
// the command line from the boot partition the caller names (BootPartition,
// as the firmware would choose it from autoboot.txt) and gives them to qemu
// directly. The guest's reboot ends qemu (-no-reboot): a caller that follows
// reboots (the slots' boot selector) reads what the guest asked for on the
// console, chooses the next boot partition and starts again on the same
// card.
//
// The serial console is written to a file (Console, WaitConsole); the
// screen is read through qemu's monitor (Screendump); the sound card's
// output goes to speaker.wav in Options.Dir.
package qemuvm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options say what to boot and how.
type Options struct {
	// Image is the raw card image; the guest writes to it.
	Image string
	// Dir holds the run's files: the kernel and initrd taken from the boot
	// partition, console.log, the monitor's socket, screendumps.
	Dir string
	// BootPartition is the MBR partition (2: slot A, 3: slot B) whose
	// config.txt and cmdline.txt are booted; 0 means 2.
	BootPartition int
	// Append is added to the boot partition's cmdline.txt (the console is
	// always added: console=ttyAMA0).
	Append string
	// Disks are more raw disk images, each a virtio disk after the card
	// (a test hands the guest files on one, found by its label).
	Disks []string
	// MemoryMiB and CPUs default to 1536 and 2.
	MemoryMiB int
	CPUs      int
	// Stderr receives qemu's own messages (not the guest's console); nil
	// discards them.
	Stderr *os.File
}

// VM is a running qemu.
type VM struct {
	opts    Options
	cmd     *exec.Cmd
	console string
	monitor string
	done    chan struct{}
	waitErr error
	mu      sync.Mutex // one monitor command at a time
}

// Start extracts the boot files of opts.BootPartition from the card and
// starts qemu. ctx ends the VM when it is cancelled.
func Start(ctx context.Context, opts Options) (*VM, error) {
	if opts.BootPartition == 0 {
		opts.BootPartition = 2
	}
	if opts.MemoryMiB == 0 {
		opts.MemoryMiB = 1536
	}
	if opts.CPUs == 0 {
		opts.CPUs = 2
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("making the VM's folder: %w", err)
	}
	boot, err := ReadBootConfig(opts.Image, opts.BootPartition)
	if err != nil {
		return nil, err
	}
	kernel := filepath.Join(opts.Dir, "kernel")
	initrd := filepath.Join(opts.Dir, "initrd")
	for name, to := range map[string]string{boot.Kernel: kernel, boot.Initramfs: initrd} {
		data, err := ReadFile(opts.Image, opts.BootPartition, name)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", to, err)
		}
	}
	vm := &VM{
		opts:    opts,
		console: filepath.Join(opts.Dir, "console.log"),
		monitor: filepath.Join(opts.Dir, "monitor.sock"),
		done:    make(chan struct{}),
	}
	_ = os.Remove(vm.monitor)
	// Each boot's console starts empty: WaitConsole looks for this boot's
	// lines only.
	if err := os.WriteFile(vm.console, nil, 0o644); err != nil {
		return nil, fmt.Errorf("emptying the console log: %w", err)
	}
	args := []string{
		"-M", "virt", "-cpu", "cortex-a72", "-accel", "tcg,thread=multi",
		"-smp", strconv.Itoa(opts.CPUs), "-m", strconv.Itoa(opts.MemoryMiB),
		"-kernel", kernel, "-initrd", initrd,
		"-append", strings.TrimSpace(boot.Cmdline + " " + opts.Append + " console=ttyAMA0"),
		"-drive", "if=none,id=card,format=raw,cache=unsafe,file=" + opts.Image,
		"-device", "virtio-blk-pci,drive=card",
	}
	for i, d := range opts.Disks {
		args = append(args, "-drive", fmt.Sprintf("if=none,id=disk%d,format=raw,file=%s", i, d), "-device", fmt.Sprintf("virtio-blk-pci,drive=disk%d", i))
	}
	args = append(args,
		"-device", "virtio-gpu-pci",
		// No option ROM (romfile=): the kernel is loaded directly, nothing
		// boots from the network, and qemu then needs no ipxe-qemu.
		"-netdev", "user,id=net", "-device", "virtio-net-pci,netdev=net,romfile=",
		// The hall's speaker: an HD Audio card whose output qemu writes to
		// speaker.wav.
		"-audiodev", "wav,id=speaker,path="+filepath.Join(opts.Dir, "speaker.wav"),
		"-device", "intel-hda", "-device", "hda-output,audiodev=speaker",
		"-display", "none",
		"-chardev", "file,id=console,path="+vm.console, "-serial", "chardev:console",
		"-monitor", "unix:"+vm.monitor+",server=on,wait=off",
		"-no-reboot",
	)
	vm.cmd = exec.CommandContext(ctx, "qemu-system-aarch64", args...)
	vm.cmd.Stdout, vm.cmd.Stderr = opts.Stderr, opts.Stderr
	if err := vm.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting qemu-system-aarch64 (Debian package qemu-system-arm): %w", err)
	}
	go func() {
		vm.waitErr = vm.cmd.Wait()
		close(vm.done)
	}()
	return vm, nil
}

// Done is closed when qemu has ended: stopped, or the guest rebooted or
// powered off.
func (vm *VM) Done() <-chan struct{} { return vm.done }

// Err is how qemu ended, once Done is closed.
func (vm *VM) Err() error { <-vm.done; return vm.waitErr }

// ConsolePath is the file the guest's serial console is written to.
func (vm *VM) ConsolePath() string { return vm.console }

// Console is the guest's serial console of this boot so far.
func (vm *VM) Console() string {
	data, _ := os.ReadFile(vm.console)
	return string(data)
}

// WaitConsole waits for a console line matching re and returns its
// submatches; it fails when ctx ends or qemu ends first.
func (vm *VM) WaitConsole(ctx context.Context, re *regexp.Regexp) ([]string, error) {
	for step := 10 * time.Millisecond; ; step = min(2*step, 250*time.Millisecond) {
		sc := bufio.NewScanner(strings.NewReader(vm.Console()))
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				return m, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %q on the console: %w", re, ctx.Err())
		case <-vm.done:
			return nil, fmt.Errorf("waiting for %q on the console: qemu ended (%v)", re, vm.waitErr)
		case <-time.After(step):
		}
	}
}

// Monitor runs one command of qemu's human monitor (HMP) and returns its
// answer.
func (vm *VM) Monitor(command string) (string, error) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	conn, err := net.DialTimeout("unix", vm.monitor, 5*time.Second)
	if err != nil {
		return "", fmt.Errorf("connecting to qemu's monitor: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	// The monitor greets, then prompts "(qemu) " after each answer.
	if _, err := readUntilPrompt(r); err != nil {
		return "", fmt.Errorf("qemu's monitor greeting: %w", err)
	}
	if _, err := fmt.Fprintf(conn, "%s\n", command); err != nil {
		return "", fmt.Errorf("sending %q to qemu's monitor: %w", command, err)
	}
	out, err := readUntilPrompt(r)
	if err != nil {
		return "", fmt.Errorf("qemu's monitor answering %q: %w", command, err)
	}
	return cleanMonitorOutput(out, command), nil
}

func readUntilPrompt(r *bufio.Reader) (string, error) {
	var b bytes.Buffer
	for !bytes.HasSuffix(b.Bytes(), []byte("(qemu) ")) {
		c, err := r.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
	}
	return strings.TrimSuffix(b.String(), "(qemu) "), nil
}

// ansiEscape matches the terminal escapes the monitor sends as it echoes
// the command.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]|\x1b[A-Za-z]`)

func cleanMonitorOutput(out, command string) string {
	out = ansiEscape.ReplaceAllString(out, "")
	out = strings.ReplaceAll(out, "\r", "")
	lines := strings.Split(out, "\n")
	var kept []string
	for _, l := range lines {
		if strings.TrimSpace(l) == "" || strings.HasSuffix(strings.TrimSpace(l), command) {
			continue
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, "\n")
}

// Screendump is the guest's screen now, as qemu's monitor captures it (the
// virtio GPU's scanout: what a monitor on the Pi's HDMI would show).
// qemu 7.2 writes it as PPM only.
func (vm *VM) Screendump() (image.Image, error) {
	f, err := os.CreateTemp(vm.opts.Dir, "screen-*.ppm")
	if err != nil {
		return nil, fmt.Errorf("making a file for the screendump: %w", err)
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	out, err := vm.Monitor("screendump " + name)
	if err != nil {
		return nil, fmt.Errorf("screendump: %w", err)
	}
	data, err := os.ReadFile(name)
	if err != nil || len(data) == 0 {
		return nil, fmt.Errorf("screendump wrote nothing (%v): %s", err, out)
	}
	img, err := DecodePPM(data)
	if err != nil {
		return nil, fmt.Errorf("decoding the screendump: %w", err)
	}
	return img, nil
}

// DecodePPM decodes a binary PPM (P6, 8 bits a sample), what qemu's
// screendump writes.
func DecodePPM(data []byte) (image.Image, error) {
	var fields []int
	rest := data
	if !bytes.HasPrefix(rest, []byte("P6")) {
		return nil, errors.New("not a binary PPM (P6)")
	}
	rest = rest[2:]
	for len(fields) < 3 {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) > 0 && rest[0] == '#' {
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				rest = rest[i+1:]
				continue
			}
			return nil, errors.New("PPM header ends in a comment")
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' && i < 9 {
			i++
		}
		if i == 0 {
			return nil, fmt.Errorf("PPM header: want a number, found %q", string(rest[:min(len(rest), 8)]))
		}
		n, _ := strconv.Atoi(string(rest[:i]))
		fields = append(fields, n)
		rest = rest[i:]
	}
	w, h, maxval := fields[0], fields[1], fields[2]
	if len(rest) == 0 || (rest[0] != ' ' && rest[0] != '\n' && rest[0] != '\t' && rest[0] != '\r') {
		return nil, errors.New("PPM header: no white space before the pixels")
	}
	rest = rest[1:]
	switch {
	case maxval != 255:
		return nil, fmt.Errorf("PPM with %d levels, want 255", maxval)
	case w <= 0 || h <= 0 || w > 16384 || h > 16384:
		return nil, fmt.Errorf("PPM of %dx%d pixels", w, h)
	case len(rest) < 3*w*h:
		return nil, fmt.Errorf("PPM of %dx%d pixels holds %d bytes, want %d", w, h, len(rest), 3*w*h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h; i++ {
		copy(img.Pix[4*i:4*i+3], rest[3*i:3*i+3])
		img.Pix[4*i+3] = 0xff
	}
	return img, nil
}

// Stop ends qemu at once (a power cut, for the guest) and waits for it.
func (vm *VM) Stop() {
	select {
	case <-vm.done:
		return
	default:
	}
	_, _ = vm.Monitor("quit")
	select {
	case <-vm.done:
	case <-time.After(10 * time.Second):
		_ = vm.cmd.Process.Kill()
		<-vm.done
	}
}

// BootConfig is what the Pi firmware would read from a boot partition.
type BootConfig struct {
	Kernel    string // config.txt's kernel=
	Initramfs string // config.txt's initramfs
	Cmdline   string // cmdline.txt
}

// ReadBootConfig reads config.txt and cmdline.txt of a boot partition.
func ReadBootConfig(img string, partition int) (BootConfig, error) {
	config, err := ReadFile(img, partition, "config.txt")
	if err != nil {
		return BootConfig{}, err
	}
	cmdline, err := ReadFile(img, partition, "cmdline.txt")
	if err != nil {
		return BootConfig{}, err
	}
	b, err := ParseConfigTxt(config)
	if err != nil {
		return BootConfig{}, fmt.Errorf("partition %d's config.txt: %w", partition, err)
	}
	b.Cmdline = strings.TrimSpace(string(cmdline))
	return b, nil
}

// ParseConfigTxt finds the kernel and the initramfs a 64-bit Pi 4 boots
// in a Raspberry Pi config.txt: the lines of the [all] and [pi4] sections
// (and before any section), the last one of each winning, as the firmware
// reads them.
func ParseConfigTxt(data []byte) (BootConfig, error) {
	var b BootConfig
	applies := true
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "["):
			section := strings.ToLower(strings.Trim(line, "[]"))
			applies = section == "all" || section == "pi4"
		case !applies:
		case strings.HasPrefix(line, "kernel="):
			b.Kernel = strings.TrimSpace(strings.TrimPrefix(line, "kernel="))
		case strings.HasPrefix(line, "initramfs "):
			f := strings.Fields(line)
			if len(f) < 2 {
				return b, fmt.Errorf("line %d: initramfs without a file", n+1)
			}
			b.Initramfs = f[1]
		}
	}
	switch {
	case b.Kernel == "":
		return b, errors.New("no kernel= line")
	case b.Initramfs == "":
		return b, errors.New("no initramfs line")
	case strings.ContainsAny(b.Kernel+b.Initramfs, "/\\") || strings.HasPrefix(b.Kernel, ".") || strings.HasPrefix(b.Initramfs, "."):
		return b, fmt.Errorf("kernel %q or initramfs %q is not a file name in the partition", b.Kernel, b.Initramfs)
	}
	return b, nil
}

// Partition is one entry of the card's partition table.
type Partition struct {
	Number int
	Start  int64 // bytes from the start of the image
	Size   int64 // bytes
	Type   string
}

// Partitions reads the card's partition table (sfdisk --json).
func Partitions(img string) ([]Partition, error) {
	out, err := exec.Command("sfdisk", "--json", img).Output()
	if err != nil {
		return nil, fmt.Errorf("reading %s's partition table (sfdisk --json): %w", img, err)
	}
	var table struct {
		PartitionTable struct {
			SectorSize int64 `json:"sectorsize"`
			Partitions []struct {
				Node  string `json:"node"`
				Start int64  `json:"start"`
				Size  int64  `json:"size"`
				Type  string `json:"type"`
			} `json:"partitions"`
		} `json:"partitiontable"`
	}
	if err := json.Unmarshal(out, &table); err != nil {
		return nil, fmt.Errorf("decoding sfdisk's table of %s: %w", img, err)
	}
	sector := table.PartitionTable.SectorSize
	if sector == 0 {
		sector = 512
	}
	var parts []Partition
	for _, p := range table.PartitionTable.Partitions {
		n, err := strconv.Atoi(strings.TrimPrefix(p.Node, img))
		if err != nil {
			return nil, fmt.Errorf("partition %q of %s: %w", p.Node, img, err)
		}
		parts = append(parts, Partition{Number: n, Start: p.Start * sector, Size: p.Size * sector, Type: p.Type})
	}
	return parts, nil
}

// PartitionOf is partition n of the card.
func PartitionOf(img string, n int) (Partition, error) {
	parts, err := Partitions(img)
	if err != nil {
		return Partition{}, err
	}
	for _, p := range parts {
		if p.Number == n {
			return p, nil
		}
	}
	return Partition{}, fmt.Errorf("%s has no partition %d", img, n)
}

// mtoolsImage names a FAT partition of the card for mtools (-i).
func mtoolsImage(img string, partition int) (string, error) {
	p, err := PartitionOf(img, partition)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s@@%d", img, p.Start), nil
}

// ReadFile reads a file from a FAT partition of the card (mtools: no
// mounts).
func ReadFile(img string, partition int, name string) ([]byte, error) {
	fat, err := mtoolsImage(img, partition)
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command("mcopy", "-n", "-i", fat, "::"+name, "-")
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("reading %s from partition %d: %v: %s", name, partition, err, stderr.String())
	}
	return out, nil
}

// WriteFile writes a file to a FAT partition of the card (a technician's
// edit of numerek.txt on a PC), replacing it.
func WriteFile(img string, partition int, name string, data []byte) error {
	fat, err := mtoolsImage(img, partition)
	if err != nil {
		return err
	}
	cmd := exec.Command("mcopy", "-o", "-i", fat, "-", "::"+name)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	cmd.Stdin = bytes.NewReader(data)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("writing %s to partition %d: %v: %s", name, partition, err, out)
	}
	return nil
}
