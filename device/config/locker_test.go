package config

import (
	"strings"
	"testing"
	"time"
)

const lockerHead = `role = "locker"
[server]
url = "http://s"
office = "x"
token = "t"
[locker]
id = "parter"
`

// A locker's file names each compartment's pins; every mistake is named
// by file, line and setting, so the fitter knows which wire or line to
// fix.
func TestLockerErrorsSayWhere(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"no compartments", lockerHead, []string{"f.toml:6: locker: no [[locker.compartment]]"}},
		{"no id", strings.Replace(lockerHead, `id = "parter"`, "", 1) + "[[locker.compartment]]\nid = \"1\"\nlock_pin = \"GPIO17\"\ndoor_pin = \"GPIO27\"\n",
			[]string{"f.toml:6: locker.id: missing"}},
		{"pins", lockerHead + `
[[locker.compartment]]
id = "1"
lock_pin = "GPIO17"
door_pin = "GPIO27"

[[locker.compartment]]
id = "1"
lock_pin = "GPIO27"
door_closed_level = "closed"
pulse = "10s"
`, []string{
			"f.toml:15: locker.compartment[1].id: compartment 1 is already wired at compartment #1",
			"f.toml:16: locker.compartment[1].lock_pin: pin GPIO27 is already the door sensor of compartment 1",
			"f.toml:14: locker.compartment[1].door_pin: missing: the GPIO pin of the door sensor of compartment 1",
			"f.toml:17: locker.compartment[1].door_closed_level: \"closed\" is not low",
			"f.toml:18: locker.compartment[1].pulse: 10s is outside 50ms to 5s",
		}},
		{"bad id", lockerHead + "[[locker.compartment]]\nid = \"7 B\"\nlock_pin = \"GPIO17\"\ndoor_pin = \"GPIO27\"\n",
			[]string{"f.toml:9: locker.compartment[0].id: \"7 B\" is not a compartment id"}},
		{"not a locker", "role = \"hall\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[locker]\nid = \"parter\"\n",
			[]string{"f.toml:6: locker: a hall device has no locker; remove the [locker] table"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.toml", []byte(tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not say %q", err, w)
				}
			}
		})
	}
}

// A good file gives each compartment its pins, the door's closed level
// and the pulse (500 ms unless told), and the locker's screen a 10-inch
// panel unless told.
func TestLockerReadsTheWiring(t *testing.T) {
	cfg, err := Parse("f.toml", []byte(lockerHead+`
[[locker.compartment]]
id = "1"
lock_pin = "GPIO17"
door_pin = "GPIO27"

[[locker.compartment]]
id = "2"
lock_pin = "GPIO22"
door_pin = "GPIO23"
door_closed_level = "high"
pulse = "1s"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []LockerCompartment{
		{ID: "1", LockPin: "GPIO17", DoorPin: "GPIO27", DoorClosedLow: true, Pulse: 500 * time.Millisecond},
		{ID: "2", LockPin: "GPIO22", DoorPin: "GPIO23", Pulse: time.Second},
	}
	if cfg.Role != RoleLocker || cfg.Locker.ID != "parter" || len(cfg.Locker.Compartments) != 2 || cfg.Locker.Compartments[0] != want[0] || cfg.Locker.Compartments[1] != want[1] {
		t.Errorf("locker: %+v", cfg.Locker)
	}
	if cfg.Screen.Width != 1280 || cfg.Screen.Height != 800 {
		t.Errorf("screen %dx%d, want the 10-inch panel's 1280x800", cfg.Screen.Width, cfg.Screen.Height)
	}
}

// A paired locker's settings on the server may leave its wiring to the
// technician's own file; whatever they do set is checked, and the two
// together must wire the locker.
func TestLockerSettingsAndLocalWiring(t *testing.T) {
	settings := []byte("role = \"locker\"\nname = \"locker-b\"\n[screen]\nwidth = 1080\nheight = 1920\n")
	if err := CheckSettings(settings); err != nil {
		t.Errorf("a locker's settings without [locker]: %v", err)
	}
	bad := append(append([]byte(nil), settings...), "[locker]\nid = \"parter-b\"\n[[locker.compartment]]\nid = \"1\"\nlock_pin = \"GPIO4\"\n"...)
	if err := CheckSettings(bad); err == nil || !strings.Contains(err.Error(), "settings:8: locker.compartment[0].door_pin: missing") {
		t.Errorf("a locker's settings with half a compartment: %v", err)
	}
	local := []byte("[locker]\nid = \"parter-b\"\n[[locker.compartment]]\nid = \"1\"\nlock_pin = \"GPIO4\"\ndoor_pin = \"GPIO5\"\n")
	cfg, err := Layered(settings, "/etc/kioskd.toml", local, Credentials{Office: "x", Token: "t", ServerURL: "http://s"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Locker.ID != "parter-b" || len(cfg.Locker.Compartments) != 1 || cfg.Locker.Compartments[0].DoorPin != "GPIO5" {
		t.Errorf("layered locker: %+v", cfg.Locker)
	}
	if _, err := Layered(settings, "/etc/kioskd.toml", nil, Credentials{Office: "x", Token: "t", ServerURL: "http://s"}); err == nil || !strings.Contains(err.Error(), "locker.id: missing") {
		t.Errorf("a locker wired nowhere: %v", err)
	}
}
