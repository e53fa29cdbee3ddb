package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kioskctl slot on a card's first partition made with mkfs.vfat and
// mcopy: status says which slot runs and whether it is on trial; backend
// answers RAUC's calls and commits the slot on trial.
func TestSlotCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p1 := filepath.Join(dir, "p1.img")
	autoboot := filepath.Join(dir, "autoboot.txt")
	os.WriteFile(autoboot, []byte("[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n"), 0o644)
	for _, c := range [][]string{{"mkfs.vfat", "-C", p1, "1024"}, {"mcopy", "-i", p1, autoboot, "::autoboot.txt"}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cmdline, []byte("console=tty1 root=PARTUUID=4e554d31-06 ro rauc.slot=B\n"), 0o644)
	card := []string{"--autoboot", p1, "--cmdline", cmdline}

	for _, st := range []struct {
		args []string
		code int
		want string
	}{
		{append([]string{"slot", "status"}, card...), 0, "booted:  B\nprimary: A\ntryboot: B\non trial: slot B runs once"},
		{append(append([]string{"slot", "backend"}, card...), "get-primary"), 0, "A\n"},
		{append(append([]string{"slot", "backend"}, card...), "set-state", "B", "good"), 0, ""},
		{append([]string{"slot", "status"}, card...), 0, "booted:  B\nprimary: B\ntryboot: A\n"},
		{append(append([]string{"slot", "backend"}, card...), "set-state", "B", "bad"), 1, "slot B is the primary"},
		{[]string{"slot", "reboot"}, 2, "unknown subcommand"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), st.args, &stdout, &stderr)
		if code != st.code || !strings.Contains(stdout.String()+stderr.String(), st.want) {
			t.Fatalf("kioskctl %s: exit %d, want %d; out %q err %q; want %q", strings.Join(st.args, " "), code, st.code, stdout.String(), stderr.String(), st.want)
		}
		if st.want == "" && stdout.Len() != 0 {
			t.Fatalf("kioskctl %s printed %q", strings.Join(st.args, " "), stdout.String())
		}
	}
}
