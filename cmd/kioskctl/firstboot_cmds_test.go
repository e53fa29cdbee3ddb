package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kioskctl firstboot as the image's unit runs it at each boot: the card's
// file taken, then unchanged, then with a mistake that is printed (the
// unit still succeeds: the device runs on what it kept).
func TestFirstbootCommand(t *testing.T) {
	t.Parallel()
	boot, data, run := t.TempDir(), t.TempDir(), t.TempDir()
	card := filepath.Join(boot, "numerek.txt")
	args := []string{"--boot", boot, "--data", data, "--run", run, "--kioskd-user", "", "--set-hostname=false"}
	steps := []struct {
		name, card string
		want       []string
	}{
		{"first boot", "server = http://10.0.0.2:8080\r\nenrolment = nmke_secret\r\n", []string{"numerek.txt taken and applied"}},
		{"next boot", "", []string{"numerek.txt unchanged"}},
		{"a mistake", "server = 10.0.0.2\n", []string{"numerek.txt: line 1: “10.0.0.2” is not a server", "was not taken"}},
	}
	for _, st := range steps {
		if st.card != "" {
			if err := os.WriteFile(card, []byte(st.card), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, stdout, stderr := runCmd(t, append([]string{"firstboot"}, args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", st.name, code, stderr)
		}
		for _, w := range st.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%s: kioskctl firstboot says\n%s\nwant %q", st.name, stdout, w)
			}
		}
		if strings.Contains(stdout+stderr, "nmke_secret") {
			t.Errorf("%s: the enrolment secret is printed", st.name)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "etc/numerek/kioskd.toml")); err != nil {
		t.Errorf("no kioskd.toml: %v", err)
	}
}

// kioskctl grow-data says where it looked when /data is not a partition
// (a test machine's folder), and fails.
func TestGrowDataCommandOutsideADevice(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sfdisk"); err != nil {
		t.Skip("no sfdisk")
	}
	code, _, stderr := runCmd(t, "grow-data", "--mount", "/nonexistent-data")
	if code != 1 || !strings.Contains(stderr, "nothing is mounted on /nonexistent-data") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
