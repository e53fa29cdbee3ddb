package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/numerek/numerek/queue"
)

const counterHead = "role = \"counter\"\n[server]\nurl = \"http://s\"\noffice = \"x\"\ntoken = \"t\"\n[counter]\nnumber = 5\n[buttons]\n"

// The buttons a file may name are queue's: every one of them is read as a
// pin, the usual six first.
func TestButtonsAreTheTables(t *testing.T) {
	var want []Button
	for _, b := range queue.CounterButtons() {
		want = append(want, Button(b.Name))
	}
	if !slices.Equal(AllButtons, want) {
		t.Errorf("AllButtons %v, the table's %v", AllButtons, want)
	}
	if !slices.Equal(AllButtons[:6], []Button{ButtonNext, ButtonRecall, ButtonFinish, ButtonGood, ButtonNeutral, ButtonBad}) {
		t.Errorf("the usual six are not first: %v", AllButtons)
	}
	var text strings.Builder
	text.WriteString(counterHead)
	for i, b := range AllButtons {
		fmt.Fprintf(&text, "%s = \"GPIO%d\"\n", b, i+2)
	}
	cfg, err := Parse("f.toml", []byte(text.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range AllButtons {
		if got := cfg.Buttons.Pins[b]; got != fmt.Sprintf("GPIO%d", i+2) {
			t.Errorf("%s: pin %q", b, got)
		}
	}
	// Template writes them all, and they read back.
	pins := map[Button]string{}
	for i, b := range AllButtons {
		pins[b] = fmt.Sprintf("GPIO%d", i+2)
	}
	data := Template(Values{Role: RoleCounter, ServerURL: "http://s", Office: "x", Token: "nmk_c", Counter: 5, Pins: pins})
	back, err := Parse("t.toml", []byte(data))
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !maps.Equal(back.Buttons.Pins, pins) {
		t.Errorf("read back %v, wrote %v", back.Buttons.Pins, pins)
	}
}

// A setting of [buttons] that is no button says why, by file, line and
// setting: an action whose buttons have other names, one no button can
// do, or nothing at all; and a value of the wrong kind says what is wanted.
func TestButtonErrorsSayWhy(t *testing.T) {
	for _, tc := range []struct {
		name, lines string
		want        string
	}{
		{"rate", "rate = \"GPIO5\"\n", "f.toml:9: buttons.rate: the rate action has a button each for good, neutral, bad"},
		{"transfer", "next = \"GPIO17\"\ntransfer = \"GPIO5\"\n", "f.toml:10: buttons.transfer: no button can transfer: it needs to_service, to_counter, keep_place, note, chosen on a screen at the time; the buttons are next, recall, finish, good, neutral, bad,"},
		{"call", "call = \"GPIO5\"\n", "f.toml:9: buttons.call: no button can call: it needs ticket, chosen on a screen"},
		{"unknown", "dance = \"GPIO5\"\n", "f.toml:9: buttons.dance: not a button; the buttons are next, recall, finish, good, neutral, bad, start, no-show, park, pause, open, close, undo, beside the settings pressed and debounce"},
		{"pin not text", "next = 17\n", "f.toml:9: buttons.next: 17 is not a pin name like \"GPIO17\""},
		{"pressed not text", "pressed = 1\n", "f.toml:9: buttons.pressed: \"1\" is not low"},
		{"debounce", "debounce = \"soon\"\n", "f.toml:9: buttons.debounce: \"soon\" is not a duration like \"30ms\""},
		{"debounce not text", "debounce = 30\n", "f.toml:9: buttons.debounce: \"30\" is not a duration"},
		{"debounce too long", "debounce = \"2s\"\n", "f.toml:9: buttons.debounce: 2s is outside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.toml", []byte(counterHead+tc.lines))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n%v\ndoes not say %q", err, tc.want)
			}
		})
	}
}

// A new button name (pause) works beside the usual ones, and settings
// keep their meaning.
func TestButtonsBesideTheirSettings(t *testing.T) {
	cfg, err := Parse("f.toml", []byte(counterHead+"next = \"GPIO17\"\npause = \" GPIO5 \"\nno-show = \"\"\npressed = \"high\"\ndebounce = \"50ms\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Buttons
	if len(b.Pins) != 2 || b.Pins[ButtonNext] != "GPIO17" || b.Pins["pause"] != "GPIO5" || b.ActiveLow || b.Debounce.Milliseconds() != 50 {
		t.Errorf("%+v", b)
	}
}
