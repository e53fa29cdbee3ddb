package main

import (
	"image"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/queue"
)

// hallOffline is the share of the hall's offline banner (red, under the
// header) in a frame.
func hallOffline(img image.Image) float64 {
	return share(img, image.Rect(0, 120, img.Bounds().Dx(), 190), red, 8)
}

// silentHall runs a hall display whose connection to the office passes
// through a proxy that can cut it silently, and waits until it shows the
// office online.
func silentHall(t testing.TB, o *office) (*kioskDev, *faultproxy.Proxy) {
	t.Helper()
	proxy, err := faultproxy.Listen("127.0.0.1:0", o.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	hall := startDeviceAt(t, o, "http://"+proxy.Addr(), "hall", "hall", "hall", "[screen]\nblink = \"100ms\"\n[sound]\nenabled = false\n", []string{"--frames"})
	hall.waitFrame("online", 15*time.Second, func(img image.Image) bool { return hallOffline(img) < 0.01 })
	waitUntil(t, "the hall following the office", 10*time.Second, func() bool { return hall.statusPage().Follow.Online })
	return hall, proxy
}

// A cut that sends nothing (no FIN: a pulled cable, a router that drops
// the route) between the hall and the server: within 10 s the hall says
// it cannot reach the server; when the link is back it says so no more
// and has the calls made meanwhile.
func TestHallSaysOfflineSoonAfterASilentCut(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	hall, proxy := silentHall(t, o)

	cut := time.Now()
	proxy.Set(faultproxy.BlackHole)
	// The device's own decision is held to 10 s here; the time until the
	// frame shows it (which a loaded test machine stretches) is measured
	// by make bench (BenchmarkSilentCutToOffline).
	waitUntil(t, "the hall deciding it is offline", 15*time.Second, func() bool { return !hall.statusPage().Follow.Online })
	if took := time.Since(cut); took > 10*time.Second {
		t.Errorf("the hall took itself for offline %v after the cut, want under 10 s", took.Round(time.Millisecond))
	}
	hall.waitFrame("saying it is offline", 15*time.Second, func(img image.Image) bool { return hallOffline(img) > 0.5 })

	// A call the hall cannot hear of yet.
	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	o.api(o.tokens["kiosk"], "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"cut-1"}`, nil)
	o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", nil)
	var v queue.View
	o.api(o.tokens["hall"], "GET", "/state", "", &v)

	proxy.Set(faultproxy.Pass)
	hall.waitFrame("online again", 20*time.Second, func(img image.Image) bool { return hallOffline(img) < 0.01 })
	waitUntil(t, "the call made during the cut", 10*time.Second, func() bool {
		st := hall.statusPage().Follow
		return st.Online && st.Seq >= v.Seq
	})
}
