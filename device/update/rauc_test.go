package update

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestParseProgress(t *testing.T) {
	for _, tc := range []struct {
		line    string
		percent int
		ok      bool
	}{
		{"  0% Installing", 0, true},
		{" 20% Checking bundle done.", 20, true},
		{"100% Installing done.", 100, true},
		{"installing", 0, false},
		{"LastError: Failed mounting bundle", 0, false},
		{"250% nonsense", 0, false},
		{"", 0, false},
	} {
		p, _, ok := ParseProgress(tc.line)
		if ok != tc.ok || p != tc.percent {
			t.Errorf("%q: %d %v, want %d %v", tc.line, p, ok, tc.percent, tc.ok)
		}
	}
}

func FuzzParseProgress(f *testing.F) {
	f.Add(" 40% Copying image to rootfs.1")
	f.Fuzz(func(t *testing.T, s string) {
		if p, _, ok := ParseProgress(s); ok && (p < 0 || p > 100) {
			t.Fatalf("%q: percent %d", s, p)
		}
	})
}

func TestParseOperation(t *testing.T) {
	for _, tc := range []struct {
		out, op string
		ok      bool
	}{
		{`s "idle"` + "\n", "idle", true},
		{`s "installing"`, "installing", true},
		{`b true`, "", false},
		{"", "", false},
		{`s "unterminated`, "", false},
	} {
		op, ok := ParseOperation(tc.out)
		if op != tc.op || ok != tc.ok {
			t.Errorf("%q: %q %v, want %q %v", tc.out, op, ok, tc.op, tc.ok)
		}
	}
}

func FuzzParseOperation(f *testing.F) {
	f.Add(`s "installing"`)
	f.Fuzz(func(t *testing.T, s string) {
		if op, ok := ParseOperation(s); !ok && op != "" {
			t.Fatalf("%q: %q though not read", s, op)
		}
	})
}

// TestInstallWaitsForTheServiceToBeIdle: a kioskd restarted halfway
// through an install finds RAUC's service still installing the bundle it
// asked for before; its own install starts only when the service is idle,
// not refused.
func TestInstallWaitsForTheServiceToBeIdle(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The service says "installing" three times, then "idle".
	busctl := script("busctl", `n=$(cat "`+dir+`/asked" 2>/dev/null || echo 0); n=$((n+1)); echo $n >"`+dir+`/asked"
echo "asked $n" >>"`+log+`"
if [ $n -le 3 ]; then echo 's "installing"'; else echo 's "idle"'; fi
`)
	rauc := script("rauc", `echo "rauc $*" >>"`+log+`"; echo "100% Installing done."
`)
	var got []int
	err := Rauc{Command: rauc, Busctl: busctl, IdlePoll: 1}.Install(context.Background(), "/data/update.raucb", func(p int) { got = append(got, p) })
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(log)
	want := "asked 1\nasked 2\nasked 3\nasked 4\nrauc install /data/update.raucb\n"
	if string(data) != want {
		t.Errorf("the calls:\n%s\nwant:\n%s", data, want)
	}
	if len(got) != 1 || got[0] != 100 {
		t.Errorf("progress %v, want [100]", got)
	}
}
