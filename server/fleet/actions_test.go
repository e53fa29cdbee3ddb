package fleet

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/protocol"
)

// pngOf is a w×h picture as PNG.
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.RGBA{0xff, 0xc2, 0x1a, 0xff})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// An action's state as the admin sees it: sent while the device may yet
// answer, timed out after ActionTimeout, and the device's answer wins
// even when late; a device that holds no stream gets nothing.
func TestActionStates(t *testing.T) {
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		connected bool
		after     time.Duration
		result    *protocol.ActionResult
		want      ActionState
		detail    string
	}{
		{"not connected", false, 0, nil, ActionNotConnected, ""},
		{"sent, no answer yet", true, ActionTimeout, nil, ActionSent, ""},
		{"no answer in time", true, ActionTimeout + time.Second, nil, ActionTimedOut, ""},
		{"done", true, time.Second, &protocol.ActionResult{OK: true, Detail: "1920x1080"}, ActionDone, "1920x1080"},
		{"failed", true, time.Second, &protocol.ActionResult{Detail: "no printer"}, ActionFailed, "no printer"},
		{"answered late", true, time.Minute, &protocol.ActionResult{OK: true}, ActionDone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := testclock.New(start)
			hub := NewHub(clock.Now)
			if tt.connected {
				defer hub.Detach(hub.Attach("hall-1", true))
			}
			acts := NewActions(hub, clock.Now)
			a, err := acts.Ask("hall-1", protocol.ActionScreenshot, "kierownik")
			if err != nil {
				t.Fatal(err)
			}
			clock.Set(start.Add(tt.after))
			if tt.result != nil {
				_, err := acts.Report("hall-1", a.ID, *tt.result)
				if err != nil {
					t.Fatal(err)
				}
			}
			got, ok := acts.Get("hall-1", a.ID)
			if !ok || got.State != tt.want || got.Detail != tt.detail || got.By != "kierownik" {
				t.Fatalf("the action: %+v (found %v), want state %q detail %q", got, ok, tt.want, tt.detail)
			}
		})
	}
}

// A device answers only its own actions, and a screenshot only to a
// screenshot action; a device keeps its latest KeptActions.
func TestActionsBelongToTheirDevice(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	hub := NewHub(clock.Now)
	defer hub.Detach(hub.Attach("hall-1", true))
	acts := NewActions(hub, clock.Now)
	shot, _ := acts.Ask("hall-1", protocol.ActionScreenshot, "admin")
	if _, err := acts.Report("kiosk-1", shot.ID, protocol.ActionResult{OK: true}); !errors.Is(err, ErrNoAction) {
		t.Errorf("another device answered the hall's action: %v", err)
	}
	if err := acts.PutScreenshot("kiosk-1", shot.ID, pngOf(t, 8, 6)); !errors.Is(err, ErrNoAction) {
		t.Errorf("another device sent the hall's screenshot: %v", err)
	}
	print, _ := acts.Ask("hall-1", protocol.ActionTestPrint, "admin")
	if err := acts.PutScreenshot("hall-1", print.ID, pngOf(t, 8, 6)); !errors.Is(err, ErrNoAction) {
		t.Errorf("a screenshot taken as the answer to a test print: %v", err)
	}
	if err := acts.PutScreenshot("hall-1", shot.ID, pngOf(t, 8, 6)); err != nil {
		t.Fatal(err)
	}
	if s, ok := acts.LatestScreenshot("hall-1"); !ok || s.Width != 8 || s.Height != 6 || s.Action != shot.ID {
		t.Errorf("the latest screenshot: %+v %v", s, ok)
	}
	if _, err := acts.Ask("hall-1", "self-destruct", "admin"); err == nil || !strings.Contains(err.Error(), "self-destruct") {
		t.Errorf("an unknown kind: %v", err)
	}
	for range KeptActions + 5 {
		acts.Ask("hall-2", protocol.ActionIdentify, "admin")
	}
	if n := len(acts.Recent("hall-2")); n != KeptActions {
		t.Errorf("%d actions kept, want %d", n, KeptActions)
	}
}

// CheckScreenshot takes one whole PNG and says what is wrong with
// anything else.
func TestCheckScreenshot(t *testing.T) {
	good := pngOf(t, 40, 30)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"a PNG", good, ""},
		{"empty", nil, "not a PNG"},
		{"a JPEG's start", []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F'}, "not a PNG"},
		{"cut short", good[:len(good)-20], "broken PNG"},
		{"too many pixels", pngOf(t, 5000, 4000), "pixels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, h, err := CheckScreenshot(tt.data)
			switch {
			case tt.want == "" && (err != nil || w != 40 || h != 30):
				t.Fatalf("%dx%d %v, want 40x30", w, h, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

// FuzzCheckScreenshot: whatever a device sends, the check answers without
// panicking, and what it passes decodes as a PNG of the size it said.
func FuzzCheckScreenshot(f *testing.F) {
	f.Add(pngOf(f, 4, 3))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		w, h, err := CheckScreenshot(data)
		if err != nil {
			return
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			t.Fatalf("passed %dx%d, but decoding says %v", w, h, err)
		}
	})
}

// sendFunc is a Sender: a device's stream as the test plays it.
type sendFunc func(device string, ctl Control) int

func (f sendFunc) Send(device string, ctl Control) int { return f(device, ctl) }

// A device answers as soon as it has an action (a failure at once, a
// restart before it goes): the action is kept before it is sent, so the
// answer finds it; otherwise the admin's page would wait out
// ActionTimeout and say it timed out (seen once in the device's test).
func TestAnAnswerAtOnceFindsItsAction(t *testing.T) {
	var acts *Actions
	var answered []Action
	acts = NewActions(sendFunc(func(device string, ctl Control) int {
		act := ctl.Data.(protocol.DeviceAction)
		got, err := acts.Report(device, act.ID, protocol.ActionResult{Detail: "no printer"})
		if err != nil {
			t.Errorf("the device's answer the moment it got %s: %v", act.Kind, err)
		}
		answered = append(answered, got)
		return 1
	}), nil)
	a, err := acts.Ask("hall-1", protocol.ActionTestPrint, "kierownik")
	if err != nil {
		t.Fatal(err)
	}
	if len(answered) != 1 || answered[0].ID != a.ID {
		t.Fatalf("the device answered %+v, want action %s", answered, a.ID)
	}
	if got, ok := acts.Get("hall-1", a.ID); !ok || got.State != ActionFailed || got.Detail != "no printer" {
		t.Errorf("the admin sees %+v (found %v), want it failed saying \"no printer\"", got, ok)
	}
}
