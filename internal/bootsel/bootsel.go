// Package bootsel stands in for the Raspberry Pi firmware's choice of boot
// partition when the card boots in qemu (the firmware itself cannot run
// there): autoboot.txt's [all] and [tryboot] sections, tryboot_a_b, the
// partition and the one-shot tryboot flag a reboot asks for, as the
// firmware's documentation describes them (config_txt/autoboot.adoc and
// the TRYBOOT boot flow). A Pi drives qemu (internal/qemuvm) boot after
// boot: each guest reboot ends qemu (-no-reboot), the restart command the
// guest kernel printed on the console ("reboot: Restarting system with
// command '0 tryboot'") is what the next boot is asked for, and anything
// else (a power cut, a crash, a halt) is a plain power-on with the flag
// cleared.
package bootsel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/numerek/numerek/internal/qemuvm"
)

// Request is what the firmware is asked at a start: the partition given
// to the reboot command (0: the default one) and the tryboot flag. The
// zero Request is a power-on.
type Request struct {
	Partition int
	Tryboot   bool
}

// Choice is the firmware's decision for one boot.
type Choice struct {
	Partition int
	// Tryboot: the flag was set for this boot ([tryboot] sections applied).
	Tryboot bool
	// Config is the partition's file the firmware reads: config.txt, or
	// tryboot.txt on a tryboot without tryboot_a_b.
	Config string
}

// AutobootLimit is how much of autoboot.txt the firmware reads.
const AutobootLimit = 512

// ErrNotBootable is returned when the chosen partition cannot boot.
var ErrNotBootable = errors.New("the partition cannot boot")

// Choose decides which partition boots, as the firmware does: a partition
// named by the reboot command wins; else autoboot.txt's boot_partition,
// the [tryboot] sections counting only when the flag is set, the last
// setting winning; else the first bootable partition. autoboot is nil when
// the card's first partition has no autoboot.txt. bootable says whether a
// partition is a FAT partition holding the firmware (start4.elf).
func Choose(autoboot []byte, req Request, bootable func(partition int) bool) (Choice, error) {
	settings := parseAutoboot(autoboot, req.Tryboot)
	c := Choice{Partition: req.Partition, Tryboot: req.Tryboot, Config: "config.txt"}
	if req.Tryboot && settings["tryboot_a_b"] != 1 {
		c.Config = "tryboot.txt"
	}
	if c.Partition == 0 {
		c.Partition = settings["boot_partition"]
	}
	if c.Partition == 0 {
		for p := 1; p <= 4; p++ {
			if bootable(p) {
				c.Partition = p
				return c, nil
			}
		}
		return c, fmt.Errorf("no partition of the card holds the firmware: %w", ErrNotBootable)
	}
	if !bootable(c.Partition) {
		return c, fmt.Errorf("partition %d: %w", c.Partition, ErrNotBootable)
	}
	return c, nil
}

// parseAutoboot reads autoboot.txt as the firmware does: its first 512
// bytes, comment lines skipped, the [all], [none] and [tryboot] filters
// (another filter is not one autoboot.txt supports: its lines do not
// apply), integer settings, the last one winning.
func parseAutoboot(data []byte, tryboot bool) map[string]int {
	if len(data) > AutobootLimit {
		data = data[:AutobootLimit]
	}
	settings := map[string]int{}
	applies := true
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			switch strings.ToLower(line) {
			case "[all]":
				applies = true
			case "[tryboot]":
				applies = tryboot
			default:
				applies = false
			}
		case applies:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			if n, err := strconv.Atoi(strings.TrimSpace(value)); err == nil {
				settings[strings.TrimSpace(key)] = n
			}
		}
	}
	return settings
}

var restartLine = regexp.MustCompile(`reboot: (?:Restarting system(?: with command '([^']*)')?|(Power down|System halted))`)

// ParseRestart reads the guest kernel's console for how it ended: the
// last restart line's command as the next Request (a Pi's firmware driver
// takes the partition number first, then flags such as tryboot). halted is
// true when the guest powered off; without any such line (a crash, a power
// cut) the next boot is a power-on.
func ParseRestart(console string) (next Request, halted bool) {
	all := restartLine.FindAllStringSubmatch(console, -1)
	if all == nil {
		return Request{}, false
	}
	m := all[len(all)-1]
	if m[2] != "" {
		return Request{}, true
	}
	fields := strings.Fields(m[1])
	if len(fields) > 0 {
		if n, err := strconv.Atoi(fields[0]); err == nil && n >= 0 && n <= 63 {
			next.Partition = n
		}
		for _, f := range fields[1:] {
			if f == "tryboot" {
				next.Tryboot = true
			}
		}
	}
	return next, false
}

// ChooseOnCard is Choose on a card image: its first partition's
// autoboot.txt, and a partition bootable when it holds start4.elf. A
// request whose partition cannot boot fails that boot; the bootloader then
// starts over as after a reset (the tryboot flag already cleared), which
// log is told.
func ChooseOnCard(image string, req Request, log io.Writer) (Choice, error) {
	autoboot, err := qemuvm.ReadFile(image, 1, "autoboot.txt")
	if err != nil {
		autoboot = nil // no autoboot.txt: the firmware's default partition
	}
	bootable := func(n int) bool {
		_, err := qemuvm.ReadFile(image, n, "start4.elf")
		return err == nil
	}
	c, err := Choose(autoboot, req, bootable)
	if errors.Is(err, ErrNotBootable) && req != (Request{}) {
		fmt.Fprintf(log, "bootsel: %v; starting over as after a reset\n", err)
		c, err = Choose(autoboot, Request{}, bootable)
	}
	return c, err
}

// Pi is a Raspberry Pi 4 in qemu with the card inserted: each Boot asks
// the firmware's rules which partition starts, and starts it.
type Pi struct {
	// VM is the template of each boot's qemu (Image, Dir, Append...);
	// BootPartition is set by the selector.
	VM  qemuvm.Options
	Log io.Writer
	// next is what the last boot's end asked for.
	next Request
}

// Boot is one boot of the Pi.
type Boot struct {
	Choice
	VM *qemuvm.VM
	pi *Pi
}

// Start boots the card as the firmware would after the last boot's end
// (a power-on the first time).
func (p *Pi) Start(ctx context.Context) (*Boot, error) {
	req := p.next
	p.next = Request{} // the flag is one-shot: cleared as the firmware reads it
	c, err := ChooseOnCard(p.VM.Image, req, p.Log)
	if err != nil {
		return nil, err
	}
	if c.Config != "config.txt" {
		return nil, fmt.Errorf("partition %d would boot from %s (tryboot without tryboot_a_b), which the qemu runner does not read", c.Partition, c.Config)
	}
	opts := p.VM
	opts.BootPartition = c.Partition
	fmt.Fprintf(p.Log, "bootsel: asked %+v, booting partition %d (tryboot %v)\n", req, c.Partition, c.Tryboot)
	vm, err := qemuvm.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Boot{Choice: c, VM: vm, pi: p}, nil
}

// Wait waits for this boot to end and records what the next one is asked
// for. halted is true when the guest powered off.
func (b *Boot) Wait(ctx context.Context) (next Request, halted bool, err error) {
	select {
	case <-ctx.Done():
		b.VM.Stop()
		return Request{}, false, ctx.Err()
	case <-b.VM.Done():
	}
	next, halted = ParseRestart(b.VM.Console())
	b.pi.next = next
	return next, halted, nil
}

// PowerCut ends this boot at once, as pulling the plug does; the next
// boot is a power-on.
func (b *Boot) PowerCut() {
	b.VM.Stop()
	b.pi.next = Request{}
}
