package update

import "testing"

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
