// Package slots is the A/B slot switch of a device made from the Numerek
// image: RAUC's custom bootloader backend for the Raspberry Pi firmware's
// tryboot (autoboot.txt on the card's first partition), and the trial that
// keeps a freshly installed slot only once kioskd is healthy on it.
//
// autoboot.txt says two things: the boot partition the firmware starts by
// default ([all] boot_partition, the primary slot) and the one it starts
// once after `reboot "0 tryboot"` ([tryboot] boot_partition). Partition 2
// is slot A, 3 is slot B. The file is only ever rewritten in place at its
// own length, so one sector changes and a power cut leaves the old or the
// new file, never a torn one.
package slots

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Slot names are RAUC's bootnames, and what cmdline.txt's rauc.slot= says.
const (
	SlotA = "A"
	SlotB = "B"
)

// Partition is the boot partition number of slot ("A" or "B") on the card.
func Partition(slot string) (int, error) {
	switch slot {
	case SlotA:
		return 2, nil
	case SlotB:
		return 3, nil
	}
	return 0, fmt.Errorf("no slot %q: the slots are A and B", slot)
}

// SlotOf is the slot whose boot partition is p.
func SlotOf(p int) (string, error) {
	switch p {
	case 2:
		return SlotA, nil
	case 3:
		return SlotB, nil
	}
	return "", fmt.Errorf("boot partition %d is no slot's: A is 2, B is 3", p)
}

// Other is the slot that is not s.
func Other(s string) string {
	if s == SlotA {
		return SlotB
	}
	return SlotA
}

// Autoboot is what autoboot.txt says, as slots.
type Autoboot struct {
	// Primary is the slot the firmware boots by default.
	Primary string
	// Tryboot is the slot it boots once after a reboot with the tryboot
	// flag. It equals Primary while the other slot may not be tried (it is
	// being written, was never written, or failed its trial).
	Tryboot string
}

// MaxAutobootSize is the firmware's limit on autoboot.txt.
const MaxAutobootSize = 512

// ParseAutoboot reads autoboot.txt strictly: only what Format writes, in
// any order, with comments, blank lines and CRLF line ends (a technician
// may have opened it on a laptop). Anything else is an error naming the
// line, for a file the firmware might read differently from us must not
// be rewritten.
func ParseAutoboot(data []byte) (Autoboot, error) {
	if len(data) > MaxAutobootSize {
		return Autoboot{}, fmt.Errorf("autoboot.txt is %d bytes; the firmware reads at most %d", len(data), MaxAutobootSize)
	}
	section := "all" // the firmware's section before any header
	values := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			switch line {
			case "[all]":
				section = "all"
			case "[tryboot]":
				section = "tryboot"
			default:
				return Autoboot{}, fmt.Errorf("autoboot.txt line %d: section %s: only [all] and [tryboot] are expected", n, line)
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return Autoboot{}, fmt.Errorf("autoboot.txt line %d: %q is not key=value", n, line)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		name := section + "." + key
		switch name {
		case "all.tryboot_a_b", "all.boot_partition", "tryboot.boot_partition":
		default:
			return Autoboot{}, fmt.Errorf("autoboot.txt line %d: %s in [%s]: expected tryboot_a_b and boot_partition in [all], boot_partition in [tryboot]", n, key, section)
		}
		if _, dup := values[name]; dup {
			return Autoboot{}, fmt.Errorf("autoboot.txt line %d: %s set twice in [%s]", n, key, section)
		}
		v, err := strconv.Atoi(value)
		if err != nil {
			return Autoboot{}, fmt.Errorf("autoboot.txt line %d: %s=%q is not a number", n, key, value)
		}
		values[name] = v
	}
	if values["all.tryboot_a_b"] != 1 {
		return Autoboot{}, fmt.Errorf("autoboot.txt: [all] needs tryboot_a_b=1 (the firmware would read tryboot.txt instead of switching partitions)")
	}
	var a Autoboot
	for _, f := range []struct {
		key  string
		slot *string
	}{{"all.boot_partition", &a.Primary}, {"tryboot.boot_partition", &a.Tryboot}} {
		p, ok := values[f.key]
		if !ok {
			return Autoboot{}, fmt.Errorf("autoboot.txt: no boot_partition in [%s]", strings.TrimSuffix(f.key, ".boot_partition"))
		}
		s, err := SlotOf(p)
		if err != nil {
			return Autoboot{}, fmt.Errorf("autoboot.txt: [%s] %w", strings.TrimSuffix(f.key, ".boot_partition"), err)
		}
		*f.slot = s
	}
	return a, nil
}

// Format writes a as autoboot.txt of exactly size bytes, padded with a
// comment line, so that it replaces a file of that size in place.
func (a Autoboot) Format(size int) ([]byte, error) {
	primary, err := Partition(a.Primary)
	if err != nil {
		return nil, err
	}
	try, err := Partition(a.Tryboot)
	if err != nil {
		return nil, err
	}
	const header = "# Numerek A/B boot: written by kioskctl slot backend, do not edit.\n"
	body := fmt.Sprintf("[all]\ntryboot_a_b=1\nboot_partition=%d\n[tryboot]\nboot_partition=%d\n", primary, try)
	var b bytes.Buffer
	if len(header)+len(body) <= size { // a bare file made by hand keeps working
		b.WriteString(header)
	}
	b.WriteString(body)
	pad := size - b.Len()
	switch {
	case pad < 0:
		return nil, fmt.Errorf("autoboot.txt needs %d bytes; the file on the card has %d", b.Len(), size)
	case pad == 1:
		b.WriteString("\n")
	case pad > 1:
		b.WriteString(strings.Repeat("#", pad-1) + "\n")
	}
	return b.Bytes(), nil
}

// AutobootSize is the size of the autoboot.txt the image ships: one
// sector, all of it rewritten in one write.
const AutobootSize = 256
