package bootsel

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const (
	// The firmware documentation's initial and updated autoboot.txt.
	docInitial = "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n"
	docUpdated = "[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=2\n"
)

// The selection rules, each from the firmware's documentation
// (config_txt/autoboot.adoc, the TRYBOOT boot flow).
func TestChoose(t *testing.T) {
	bootableAll := map[int]bool{1: false, 2: true, 3: true}
	for _, tc := range []struct {
		name     string
		autoboot string // "-" for no autoboot.txt
		req      Request
		bootable map[int]bool
		want     Choice
		err      string
	}{
		{"power on boots [all]'s partition", docInitial, Request{}, bootableAll, Choice{2, false, "config.txt"}, ""},
		{`reboot "0 tryboot" boots [tryboot]'s, reading config.txt (tryboot_a_b)`, docInitial, Request{0, true}, bootableAll, Choice{3, true, "config.txt"}, ""},
		{"a plain reboot after the trial: the flag is gone, [all]'s again", docInitial, Request{}, bootableAll, Choice{2, false, "config.txt"}, ""},
		{"committed: [all] is 3", docUpdated, Request{}, bootableAll, Choice{3, false, "config.txt"}, ""},
		{"committed, then a tryboot: the old partition", docUpdated, Request{0, true}, bootableAll, Choice{2, true, "config.txt"}, ""},
		{`reboot "3" names the partition over autoboot.txt`, docInitial, Request{3, false}, bootableAll, Choice{3, false, "config.txt"}, ""},
		{`reboot "2 tryboot": the named partition, tryboot flag set`, docUpdated, Request{2, true}, bootableAll, Choice{2, true, "config.txt"}, ""},
		{"without tryboot_a_b a tryboot reads tryboot.txt", "[all]\nboot_partition=2\n[tryboot]\nboot_partition=3\n", Request{0, true}, bootableAll, Choice{3, true, "tryboot.txt"}, ""},
		{"no autoboot.txt: the first bootable FAT partition", "-", Request{}, map[int]bool{2: true, 3: true}, Choice{2, false, "config.txt"}, ""},
		{"boot_partition=0 means the default partition", "[all]\nboot_partition=0\n", Request{}, map[int]bool{1: true}, Choice{1, false, "config.txt"}, ""},
		{"[none] never applies", "[all]\nboot_partition=2\n[none]\nboot_partition=3\n", Request{}, bootableAll, Choice{2, false, "config.txt"}, ""},
		{"the last setting wins; keys before a section are [all]'s", "boot_partition=3\n[all]\nboot_partition=2\n", Request{}, bootableAll, Choice{2, false, "config.txt"}, ""},
		{"a filter autoboot.txt does not support does not apply", "[all]\nboot_partition=2\n[pi4]\nboot_partition=3\n", Request{}, bootableAll, Choice{2, false, "config.txt"}, ""},
		{"past 512 bytes nothing is read", "[all]\nboot_partition=2\n" + strings.Repeat("#", 520) + "\nboot_partition=3\n", Request{}, bootableAll, Choice{2, false, "config.txt"}, ""},
		{"CRLF and comments", "# A/B\r\n[all]\r\ntryboot_a_b=1\r\nboot_partition=3\r\n", Request{}, bootableAll, Choice{3, false, "config.txt"}, ""},
		{"an empty slot does not boot", docInitial, Request{0, true}, map[int]bool{2: true}, Choice{}, "partition 3: the partition cannot boot"},
		{"nothing bootable", "-", Request{}, map[int]bool{}, Choice{}, "no partition of the card holds the firmware"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var autoboot []byte
			if tc.autoboot != "-" {
				autoboot = []byte(tc.autoboot)
			}
			got, err := Choose(autoboot, tc.req, func(p int) bool { return tc.bootable[p] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("= %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseRestart(t *testing.T) {
	for _, tc := range []struct {
		name, console string
		want          Request
		halted        bool
	}{
		{"tryboot", "[   42.1] systemd-shutdown[1]: Rebooting with argument '0 tryboot'.\n[   42.2] reboot: Restarting system with command '0 tryboot'\n", Request{0, true}, false},
		{"plain reboot", "[   9.0] reboot: Restarting system\n", Request{}, false},
		{"a partition", "reboot: Restarting system with command '3'\r\n", Request{3, false}, false},
		{"the last line counts", "reboot: Restarting system with command '0 tryboot'\nreboot: Restarting system\n", Request{}, false},
		{"power off", "[  5.0] reboot: Power down\n", Request{}, true},
		{"a crash or a power cut: a power-on", "Kernel panic - not syncing: VFS\n", Request{}, false},
		{"nonsense argument", "reboot: Restarting system with command 'now'\n", Request{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, halted := ParseRestart(tc.console)
			if got != tc.want || halted != tc.halted {
				t.Fatalf("= %+v, halted %v; want %+v, %v", got, halted, tc.want, tc.halted)
			}
		})
	}
}

// FuzzParseRestart: the console is the guest's output; any of it parses
// to a request the firmware could be given.
func FuzzParseRestart(f *testing.F) {
	f.Add("reboot: Restarting system with command '0 tryboot'\n")
	f.Add("reboot: Power down")
	f.Fuzz(func(t *testing.T, console string) {
		req, _ := ParseRestart(console)
		if req.Partition < 0 || req.Partition > 63 {
			t.Fatalf("partition %d from %q", req.Partition, console)
		}
	})
}

// The same rules read off a real card image made as the image build makes
// it (sfdisk on a file, mkfs.vfat -C, mcopy): slot B's partition is empty
// until an update, so a tryboot into it starts over on A.
func TestChooseOnCard(t *testing.T) {
	dir := t.TempDir()
	card := filepath.Join(dir, "card.img")
	run(t, "truncate", "-s", "40M", card)
	sfdisk := exec.Command("sfdisk", "--quiet", card)
	sfdisk.Stdin = strings.NewReader("label: dos\nlabel-id: 0x4e554d31\n" +
		"start=2048, size=8192, type=c\nstart=10240, size=16384, type=c\nstart=26624, size=16384, type=c\n")
	if out, err := sfdisk.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	part := func(start, sectors int, files map[string]string) {
		img := filepath.Join(dir, "part.img")
		_ = os.Remove(img)
		run(t, "mkfs.vfat", "-C", img, strconv.Itoa(sectors/2))
		for name, content := range files {
			src := filepath.Join(dir, name)
			if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			run(t, "mcopy", "-i", img, src, "::"+name)
		}
		run(t, "dd", "if="+img, "of="+card, "bs=512", "seek="+strconv.Itoa(start), "conv=notrunc", "status=none")
	}
	part(2048, 8192, map[string]string{"autoboot.txt": docInitial})
	part(10240, 16384, map[string]string{"start4.elf": "firmware", "config.txt": "kernel=vmlinuz\n"})
	part(26624, 16384, nil)

	var log strings.Builder
	got, err := ChooseOnCard(card, Request{}, io.Discard)
	if err != nil || got.Partition != 2 {
		t.Fatalf("power on: %+v, %v", got, err)
	}
	got, err = ChooseOnCard(card, Request{Tryboot: true}, &log)
	if err != nil || got.Partition != 2 || got.Tryboot {
		t.Fatalf("tryboot into the empty B: %+v, %v; want partition 2 after starting over", got, err)
	}
	if !strings.Contains(log.String(), "partition 3: the partition cannot boot") {
		t.Errorf("the failed try is not told: %q", log.String())
	}
	part(26624, 16384, map[string]string{"start4.elf": "firmware", "config.txt": "kernel=vmlinuz\n"})
	got, err = ChooseOnCard(card, Request{Tryboot: true}, io.Discard)
	if err != nil || got.Partition != 3 || !got.Tryboot {
		t.Fatalf("tryboot into the written B: %+v, %v", got, err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
