package qemuvm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfigTxtTakesWhatAPi4Boots(t *testing.T) {
	tests := []struct {
		name, config string
		want         BootConfig
		err          string
	}{
		{
			name: "raspi-firmware's file",
			config: "# Do not modify this file!\n\narm_64bit=1\nenable_uart=1\nupstream_kernel=1\n\nkernel=vmlinuz-6.1.0-28-arm64\n# For details on the initramfs directive, see\ninitramfs initrd.img-6.1.0-28-arm64 followkernel\n\n[pi4]\ndtoverlay=vc4-kms-v3d\n",
			want: BootConfig{Kernel: "vmlinuz-6.1.0-28-arm64", Initramfs: "initrd.img-6.1.0-28-arm64"},
		},
		{
			name:   "another board's section is not the Pi 4's",
			config: "kernel=a\ninitramfs b followkernel\n[pi5]\nkernel=c\n[all]\ninitramfs d\n",
			want:   BootConfig{Kernel: "a", Initramfs: "d"},
		},
		{name: "no kernel", config: "initramfs b\n", err: "no kernel= line"},
		{name: "no initramfs", config: "kernel=a\n", err: "no initramfs line"},
		{name: "a path out of the partition", config: "kernel=../etc/passwd\ninitramfs b\n", err: "not a file name"},
		{name: "initramfs without a file", config: "kernel=a\ninitramfs\t \n", err: "no initramfs line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfigTxt([]byte(tt.config))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseConfigTxt(f *testing.F) {
	f.Add([]byte("kernel=vmlinuz\ninitramfs initrd followkernel\n[pi4]\n"))
	f.Add([]byte("[all]\nkernel=\ninitramfs \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseConfigTxt(data)
		if err != nil {
			return
		}
		for _, name := range []string{b.Kernel, b.Initramfs} {
			if name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
				t.Fatalf("accepted file name %q", name)
			}
		}
	})
}

// A card made as build.sh makes one (sfdisk on a file, mkfs.vfat -C, dd):
// its partitions are found and its FAT files read and written in place,
// as the card test edits numerek.txt.
func TestPartitionsAndFATFilesOfACard(t *testing.T) {
	for _, tool := range []string{"sfdisk", "mkfs.vfat", "mcopy"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (scripts/install-deps.sh)", tool)
		}
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "card.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 40<<20); err != nil {
		t.Fatal(err)
	}
	sfdisk := exec.Command("sfdisk", "--quiet", img)
	sfdisk.Stdin = strings.NewReader("label: dos\nlabel-id: 0x4e554d31\nunit: sectors\n\nstart=2048, size=16384, type=c\nsize=32768, type=c\ntype=5\nsize=6144, type=83\n")
	if out, err := sfdisk.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	fat := filepath.Join(dir, "p2.img")
	run(t, "mkfs.vfat", "-C", "-n", "BOOT_A", fat, "16384")
	run(t, "dd", "if="+fat, "of="+img, "bs=1M", fmt.Sprintf("seek=%d", 9<<20), "oflag=seek_bytes", "conv=notrunc,sparse", "status=none")

	parts, err := Partitions(img)
	if err != nil {
		t.Fatal(err)
	}
	want := []Partition{{1, 1 << 20, 8 << 20, "c"}, {2, 9 << 20, 16 << 20, "c"}, {3, 25 << 20, 15 << 20, "5"}, {5, 26 << 20, 3 << 20, "83"}}
	if fmt.Sprint(parts) != fmt.Sprint(want) {
		t.Fatalf("partitions %+v, want %+v", parts, want)
	}
	config := []byte("kernel=vmlinuz\ninitramfs initrd followkernel\n")
	if err := WriteFile(img, 2, "config.txt", config); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(img, 2, "cmdline.txt", []byte("root=PARTUUID=4e554d31-05 ro rauc.slot=A\n")); err != nil {
		t.Fatal(err)
	}
	got, err := ReadBootConfig(img, 2)
	want2 := BootConfig{Kernel: "vmlinuz", Initramfs: "initrd", Cmdline: "root=PARTUUID=4e554d31-05 ro rauc.slot=A"}
	if err != nil || got != want2 {
		t.Fatalf("boot config %+v, %v; want %+v", got, err, want2)
	}
	if back, err := ReadFile(img, 2, "config.txt"); err != nil || !bytes.Equal(back, config) {
		t.Fatalf("read back %q, %v", back, err)
	}
	if _, err := ReadFile(img, 2, "missing.txt"); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("reading a missing file: %v, want an error naming it", err)
	}
	if _, err := ReadFile(img, 4, "config.txt"); err == nil || !strings.Contains(err.Error(), "no partition 4") {
		t.Errorf("reading from a missing partition: %v, want an error naming it", err)
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}
