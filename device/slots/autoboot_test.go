package slots

import (
	"strings"
	"testing"
)

func TestParseAutoboot(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       Autoboot
		err        string // part of the error; "" for none
	}{
		{name: "the firmware documentation's example", text: "[all]\ntryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n", want: Autoboot{"A", "B"}},
		{name: "committed B", text: "[all]\ntryboot_a_b=1\nboot_partition=3\n[tryboot]\nboot_partition=2\n", want: Autoboot{"B", "A"}},
		{name: "saved by Notepad", text: "# hi\r\n[all]\r\ntryboot_a_b = 1\r\nboot_partition=2\r\n\r\n[tryboot]\r\nboot_partition=2\r\n", want: Autoboot{"A", "A"}},
		{name: "keys before any section are [all]'s", text: "tryboot_a_b=1\nboot_partition=2\n[tryboot]\nboot_partition=3\n", want: Autoboot{"A", "B"}},
		{name: "sections in another order", text: "[tryboot]\nboot_partition=2\n[all]\nboot_partition=3\ntryboot_a_b=1\n", want: Autoboot{"B", "A"}},
		{name: "no tryboot_a_b", text: "[all]\nboot_partition=2\n[tryboot]\nboot_partition=3\n", err: "tryboot_a_b=1"},
		{name: "tryboot_a_b off", text: "[all]\ntryboot_a_b=0\nboot_partition=2\n[tryboot]\nboot_partition=3\n", err: "tryboot_a_b=1"},
		{name: "no [tryboot]", text: "[all]\ntryboot_a_b=1\nboot_partition=2\n", err: "no boot_partition in [tryboot]"},
		{name: "partition of no slot", text: "[all]\ntryboot_a_b=1\nboot_partition=5\n[tryboot]\nboot_partition=3\n", err: "[all] boot partition 5 is no slot's"},
		{name: "another filter", text: "[all]\ntryboot_a_b=1\nboot_partition=2\n[pi4]\nboot_partition=3\n", err: "line 4: section [pi4]"},
		{name: "unknown key", text: "[all]\ntryboot_a_b=1\nboot_partition=2\nkernel=x\n[tryboot]\nboot_partition=3\n", err: "line 4: kernel in [all]"},
		{name: "twice", text: "[all]\ntryboot_a_b=1\nboot_partition=2\nboot_partition=3\n[tryboot]\nboot_partition=3\n", err: "line 4: boot_partition set twice"},
		{name: "not a number", text: "[all]\ntryboot_a_b=1\nboot_partition=two\n", err: "line 3: boot_partition=\"two\" is not a number"},
		{name: "not key=value", text: "[all]\ntryboot_a_b\n", err: "line 2: \"tryboot_a_b\" is not key=value"},
		{name: "over the firmware's limit", text: strings.Repeat("#", 513), err: "at most 512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAutoboot([]byte(tc.text))
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

func TestFormatAutoboot(t *testing.T) {
	for _, size := range []int{64, 65, 66, 200, AutobootSize, MaxAutobootSize} {
		a := Autoboot{Primary: SlotB, Tryboot: SlotA}
		data, err := a.Format(size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if len(data) != size {
			t.Errorf("size %d: formatted %d bytes", size, len(data))
		}
		if back, err := ParseAutoboot(data); err != nil || back != a {
			t.Errorf("size %d: reads back as %+v, %v", size, back, err)
		}
	}
	if _, err := (Autoboot{SlotA, SlotB}).Format(63); err == nil {
		t.Error("a file too short for the settings was formatted")
	}
}

// FuzzParseAutoboot: whatever a card holds, parsing fails cleanly or gives
// slots that Format writes back to the same meaning at the same length.
func FuzzParseAutoboot(f *testing.F) {
	for _, a := range []Autoboot{{"A", "B"}, {"B", "A"}, {"A", "A"}} {
		data, _ := a.Format(AutobootSize)
		f.Add(data)
	}
	f.Add([]byte("[all]\r\ntryboot_a_b=1\r\nboot_partition=3\r\n[tryboot]\r\nboot_partition=2"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAutoboot(data)
		if err != nil {
			return
		}
		out, err := a.Format(len(data))
		if err != nil {
			if len(data) >= 64 {
				t.Fatalf("%q parsed but cannot be rewritten at its length: %v", data, err)
			}
			return
		}
		if back, err := ParseAutoboot(out); err != nil || back != a || len(out) != len(data) {
			t.Fatalf("%q rewritten as %q reads %+v, %v", data, out, back, err)
		}
	})
}
