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

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		name, in        string
		booted, primary string
		err             bool
	}{
		{"on trial", `{"compatible":"numerek-rpi4","variant":"","booted":"B","boot_primary":"rootfs.0","slots":[{"rootfs.0":{"class":"rootfs","bootname":"A","state":"inactive"}},{"rootfs.1":{"class":"rootfs","bootname":"B","state":"booted"}},{"boot.0":{"class":"boot","state":"inactive"}}]}`, "B", "A", false},
		{"committed", `{"booted":"B","boot_primary":"rootfs.1","slots":[{"rootfs.0":{"bootname":"A"}},{"rootfs.1":{"bootname":"B"}}]}`, "B", "B", false},
		{"primary by bootname", `{"booted":"A","boot_primary":"A","slots":[]}`, "A", "A", false},
		{"nothing booted", `{"booted":"","slots":[]}`, "", "", true},
		{"not json", `rauc: D-Bus error`, "", "", true},
	} {
		b, p, err := ParseStatus([]byte(tc.in))
		if (err != nil) != tc.err || b != tc.booted || p != tc.primary {
			t.Errorf("%s: %q %q %v", tc.name, b, p, err)
		}
	}
}

func FuzzParseRauc(f *testing.F) {
	f.Add(`{"booted":"B","boot_primary":"rootfs.1","slots":[{"rootfs.1":{"bootname":"B"}}]}`)
	f.Add(" 40% Copying image to rootfs.1")
	f.Fuzz(func(t *testing.T, s string) {
		if p, _, ok := ParseProgress(s); ok && (p < 0 || p > 100) {
			t.Fatalf("%q: percent %d", s, p)
		}
		if b, _, err := ParseStatus([]byte(s)); err == nil && b == "" {
			t.Fatalf("%q: no booted slot, yet no error", s)
		}
	})
}
