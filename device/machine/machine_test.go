package machine

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// What a Raspberry Pi and a PC without its files say, read from fake
// trees in testdata.
func TestReader(t *testing.T) {
	vcgencmd, err := filepath.Abs("testdata/vcgencmd")
	if err != nil {
		t.Fatal(err)
	}
	temp := 61.842
	for _, tc := range []struct {
		name      string
		r         Reader
		model     string
		serial    string
		host      string
		temp      *float64
		throttled []string
		route     *Route
	}{
		{
			name: "pi", r: Reader{Root: os.DirFS("testdata/pi")},
			model: "Raspberry Pi 4 Model B Rev 1.5", serial: "10000000a1b2c3d4", host: "kiosk-1", temp: &temp,
			throttled: []string{"under-voltage", "throttled"},
			route:     &Route{Interface: "eth0", Gateway: net.IPv4(192, 0, 2, 1).To4()},
		},
		{name: "pc", r: Reader{Root: os.DirFS("testdata/pc")}, host: "office-pc"},
		{
			name: "pi without the sysfs file", r: Reader{Root: os.DirFS("testdata/pc"), Vcgencmd: vcgencmd},
			host: "office-pc", throttled: []string{"soft-temperature-limit"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hw := tc.r.Hardware()
			if hw.Model != tc.model || hw.Serial != tc.serial || hw.Hostname != tc.host {
				t.Errorf("hardware %+v", hw)
			}
			switch got := tc.r.TemperatureC(); {
			case (got == nil) != (tc.temp == nil):
				t.Errorf("temperature %v, want %v", got, tc.temp)
			case got != nil && *got != *tc.temp:
				t.Errorf("temperature %v °C, want %v", *got, *tc.temp)
			}
			th, err := tc.r.Throttled(context.Background())
			if err != nil || !reflect.DeepEqual(th, tc.throttled) {
				t.Errorf("throttled %q (%v), want %q", th, err, tc.throttled)
			}
			rt, ok := tc.r.DefaultRoute()
			if ok != (tc.route != nil) || (ok && (rt.Interface != tc.route.Interface || !rt.Gateway.Equal(tc.route.Gateway))) {
				t.Errorf("default route %+v %v, want %+v", rt, ok, tc.route)
			}
		})
	}
}

func TestParseThrottled(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		bad  bool
	}{
		{"0", 0, false},
		{"50005\n", 0x50005, false},
		{"throttled=0x80008\n", 0x80008, false},
		{"throttled=", 0, true},
		{"hot", 0, true},
	} {
		got, err := ParseThrottled(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("%q: %#x %v", tc.in, got, err)
		}
	}
}

// FuzzParseThrottled reads whatever vcgencmd or the sysfs file might
// say: a number comes back whole, and only the four flags are named.
func FuzzParseThrottled(f *testing.F) {
	f.Add("throttled=0x50005")
	f.Add("e0000")
	f.Fuzz(func(t *testing.T, s string) {
		bits, err := ParseThrottled(s)
		if err != nil {
			return
		}
		if n := len(ThrottledNames(bits)); n > 4 {
			t.Fatalf("%q: %d flags", s, n)
		}
	})
}

func TestDisk(t *testing.T) {
	free, size, err := Disk(t.TempDir())
	if err != nil || size == 0 || free > size {
		t.Errorf("disk free %d of %d (%v)", free, size, err)
	}
	if _, _, err := Disk(filepath.Join(t.TempDir(), "gone")); err == nil {
		t.Error("a missing folder has a disk")
	}
}

func TestSoundCards(t *testing.T) {
	got := Reader{Root: os.DirFS("testdata/pi")}.SoundCards()
	want := []SoundCard{{0, "bcm2835 Headphones"}, {1, "USB Audio Device"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cards %+v, want %+v", got, want)
	}
	if c := (Reader{Root: os.DirFS("testdata/pc")}).SoundCards(); c != nil {
		t.Errorf("a machine without ALSA has cards %+v", c)
	}
}
