package main

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/audiotest"
	"github.com/numerek/numerek/audio/voicepacks"
	devsync "github.com/numerek/numerek/sync"
)

var amber = [3]uint8{0xff, 0xc2, 0x1a}

// A clerk's call through the API: the hall shows the new call (blinking),
// and its speaker says it in Polish and, as the example office wants, in
// the ticket's language (Ukrainian): exactly the composed announcement
// reaches the sound device. Restarted, the hall does not say it again.
func TestHallShowsAndSaysACall(t *testing.T) {
	needDisplay(t)
	o := startOffice(t)
	capture, err := audiotest.New(t.TempDir(), audio.DefaultRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Stop()
	hall := startDevice(t, o, "hall", "hall", "hall", "[sound]\nenabled = true\n", capture.Env()...)
	before := hall.waitFrame("with the office", 10*time.Second, func(image.Image) bool { return true })
	left := image.Rect(0, 150, before.Bounds().Dx()/2, before.Bounds().Dy()/2)
	if s := share(before, left, amber, 8); s > 0.01 {
		t.Fatalf("amber (a new call) on the hall before any call: %.2f", s)
	}

	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	var issued devsync.TicketResponse
	o.api(o.tokens["kiosk"], "POST", "/tickets", `{"service":"family","lang":"uk","request_id":"e2e-1"}`, &issued)
	var called devsync.TicketResponse
	o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", &called)
	if called.Ticket.Number != issued.Ticket.Number {
		t.Fatalf("called %s, issued %s", called.Ticket.Number, issued.Ticket.Number)
	}

	hall.waitFrame("with the new call blinking", 5*time.Second, func(img image.Image) bool { return share(img, left, amber, 8) > 0.3 })
	after := hall.waitFrame("after the blink", 15*time.Second, func(img image.Image) bool { return share(img, left, amber, 8) < 0.01 })
	if d := differ(before, after, left); d < 0.05 {
		t.Errorf("the call's part of the hall changed in %.3f of its pixels: the number is not shown", d)
	}
	waitUntil(t, "the call announced", 5*time.Second, func() bool {
		var rs struct {
			LastAnnounced uint64 `json:"last_announced"`
		}
		json.Unmarshal(hall.statusPage().RoleStatus, &rs)
		return rs.LastAnnounced > 0
	})
	voices, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		t.Fatal(err)
	}
	var anns []audio.Announcement
	for _, c := range []audio.Call{
		{Lang: "pl", Ticket: called.Ticket.Number, Counter: 1, CounterWord: "stanowisko"},
		{Lang: "uk", Ticket: called.Ticket.Number, Counter: 1},
	} {
		a, err := voices.Compose(c)
		if err != nil {
			t.Fatal(err)
		}
		anns = append(anns, a)
	}
	want := voices.Render(anns...).Samples
	// Let the speech play out; then the hall stops, and the capture holds
	// what the sound device received.
	time.Sleep(time.Duration(len(want))*time.Second/audio.DefaultRate + 1500*time.Millisecond)
	hall.stop()
	got, err := capture.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if _, inserted, err := audiotest.Find(got, 0, want); err != nil {
		t.Fatalf("the announcement (pl, then uk) is not what the sound device received: %v (%d samples captured)", err, len(got))
	} else if inserted > len(want)/4 {
		t.Errorf("%d samples of dropouts in %d", inserted, len(want))
	}

	// The hall logs each call it announces (sound or not)...
	if n := strings.Count(hall.logText(), `msg=called`); n != 1 {
		t.Errorf("the hall logged %d calls, want 1", n)
	}
	// ...and, restarted on the same data, it shows the call but does not
	// announce it again.
	again := runDevice(t, hall.cmd.Args[2], hall.frames, "hall")
	waitUntil(t, "the restarted hall following", 10*time.Second, func() bool { return again.statusPage().Follow.Online })
	time.Sleep(time.Second)
	again.stop()
	if m := again.logText(); strings.Contains(m, `msg=called`) {
		t.Errorf("the restarted hall announced again:\n%s", m)
	}
}

var red = [3]uint8{0xb4, 0x1c, 0x1c}

// The server goes away: after a few seconds the hall says it cannot reach
// the server and keeps showing the last state, even when the hall itself
// restarts meanwhile; when the server is back the warning goes.
func TestHallSaysWhenOffline(t *testing.T) {
	needDisplay(t)
	o := startOffice(t)
	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	o.api(o.tokens["kiosk"], "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"off-1"}`, nil)
	o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", nil)
	hall := startDevice(t, o, "hall", "hall", "hall", "[screen]\nblink = \"100ms\"\n[sound]\nenabled = false\n")
	banner := func(img image.Image) float64 {
		return share(img, image.Rect(0, 120, img.Bounds().Dx(), 190), red, 8)
	}
	hall.waitFrame("online with the call", 10*time.Second, func(img image.Image) bool { return banner(img) < 0.01 })
	o.proc.stop()
	offline := hall.waitFrame("saying it is offline", 15*time.Second, func(img image.Image) bool { return banner(img) > 0.5 })

	// Restarted without the server, the hall shows at once what it showed
	// before: the state kept on disk, and the warning.
	hall.stop()
	os.Remove(filepath.Join(hall.frames, "hall.png"))
	again := runDevice(t, hall.cmd.Args[2], hall.frames, "hall")
	restored := again.waitFrame("restored, offline", 15*time.Second, func(img image.Image) bool { return banner(img) > 0.5 })
	below := image.Rect(0, 200, offline.Bounds().Dx(), offline.Bounds().Dy())
	if d := differ(offline, restored, below); d > 0.01 {
		t.Errorf("the restarted hall differs from its last state in %.3f of the pixels", d)
	}

	o.restart()
	again.waitFrame("online again", 20*time.Second, func(img image.Image) bool { return banner(img) < 0.01 })
	waitUntil(t, "the hall following the server again", 10*time.Second, func() bool { return again.statusPage().Follow.Online })
}
