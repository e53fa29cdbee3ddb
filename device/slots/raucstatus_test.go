package slots

import (
	"strings"
	"testing"
)

// raucJSON is rauc 1.8's status of the image's slots, as its
// --output-format=json writes it.
func raucJSON(booted, primary, statusA, statusB string) string {
	return `{"compatible":"numerek-rpi4","variant":null,"booted":"` + booted + `","boot_primary":"` + primary + `","slots":[` +
		`{"rootfs.0":{"class":"rootfs","device":"/dev/disk/by-partuuid/4e554d31-05","type":"ext4","bootname":"A","state":"booted","parent":null,"mountpoint":"/","boot_status":"` + statusA + `"}},` +
		`{"boot.0":{"class":"boot","device":"/dev/disk/by-partuuid/4e554d31-02","type":"vfat","bootname":null,"state":"active","parent":"rootfs.0","mountpoint":null,"boot_status":null}},` +
		`{"rootfs.1":{"class":"rootfs","device":"/dev/disk/by-partuuid/4e554d31-06","type":"ext4","bootname":"B","state":"inactive","parent":null,"mountpoint":null,"boot_status":"` + statusB + `"}}]}`
}

func TestParseRaucStatus(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       Status
		err        string
	}{
		{"fresh card", raucJSON("A", "rootfs.0", "good", "bad"), Status{"A", "A", "A"}, ""},
		{"installed, not yet tried", raucJSON("A", "rootfs.0", "good", "good"), Status{"A", "A", "B"}, ""},
		{"on trial", raucJSON("B", "rootfs.0", "good", "good"), Status{"B", "A", "B"}, ""},
		{"committed", raucJSON("B", "rootfs.1", "good", "good"), Status{"B", "B", "A"}, ""},
		{"no primary", raucJSON("A", "", "good", "bad"), Status{}, "no bootable slot"},
		{"the primary a boot partition", raucJSON("A", "boot.0", "good", "bad"), Status{}, "no bootable slot"},
		{"booted from elsewhere", raucJSON("_external_", "rootfs.0", "good", "bad"), Status{}, `no slot "_external_"`},
		{"not JSON", "rauc-Message: hello", Status{}, "rauc status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRaucStatus([]byte(tc.json))
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

// FuzzParseRaucStatus: whatever rauc prints, the answer is an error or
// slots that exist.
func FuzzParseRaucStatus(f *testing.F) {
	f.Add([]byte(raucJSON("B", "rootfs.0", "good", "good")))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := ParseRaucStatus(data)
		if err != nil {
			return
		}
		for _, s := range []string{st.Booted, st.Primary, st.Tryboot} {
			if _, err := Partition(s); err != nil {
				t.Fatalf("%q gave %+v", data, st)
			}
		}
	})
}
