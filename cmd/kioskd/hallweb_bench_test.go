package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/internal/browsertest"
	"github.com/numerek/numerek/protocol"
)

// pageShown records, in the hall page, when each newest call was on the
// screen: the board's change seen, then the next frame (a timer after the
// animation frame runs once the frame is handed to the compositor).
const pageShown = `(() => {
	window.__shown = [];
	const board = document.getElementById('hall-board');
	let last = '';
	new MutationObserver(() => {
		const n = document.getElementById('hall-number');
		const text = n ? n.textContent : '';
		if (text === last) return;
		last = text;
		requestAnimationFrame(() => setTimeout(() => window.__shown.push({number: text, at: Date.now()})));
	}).observe(board, {childList: true, subtree: true});
	return true;
})()`

type pageCall struct {
	Number string `json:"number"`
	At     int64  `json:"at"`
}

// treeOf is pid and every process under it (chromium's renderer, GPU and
// utility processes).
func treeOf(b *testing.B, pid int) []int {
	parents := map[int][]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // ended meanwhile
		}
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
		ppid, _ := strconv.Atoi(f[1])
		parents[ppid] = append(parents[ppid], child)
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, parents[out[i]]...)
	}
	return out
}

// pssMB is the proportional memory of the processes: each shared page
// counted once over all who share it, so chromium's processes add up to
// what they take together.
func pssMB(b *testing.B, pids []int) float64 {
	total := 0.0
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue // ended meanwhile
		}
		for _, l := range strings.Split(string(data), "\n") {
			if rest, ok := strings.CutPrefix(l, "Pss:"); ok {
				kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
				total += kb / 1024
			}
		}
	}
	return total
}

func treeTicks(b *testing.B, pids []int) int64 {
	var n int64
	for _, pid := range pids {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			n += cpuTicks(b, pid)
		}
	}
	return n
}

// BenchmarkHallWebSideBySide runs kioskd's hall (under Xvfb, Mesa's
// software GL) and the hall web page (/o/{office}/hall in chromium, a
// window on the same X display, the kiosk mode's autoplay flag) on one
// queue server, at the same window size (960×540), and measures both in
// one run: memory (PSS: chromium's processes together, shared pages once),
// CPU over 30 s with nothing happening (% of one core), and for 20 calls
// the clerk's "next" (the request sent) to the frame with the call: kioskd's
// frame drawn (--trace-frames), the page's first frame after its board
// changed. kioskd's sound is off (no sound card here); the page's sound is
// allowed but fetches nothing while idle. It runs once, whatever b.N.
func BenchmarkHallWebSideBySide(b *testing.B) {
	if os.Getenv("DISPLAY") == "" {
		b.Skip("no X display")
	}
	needDisplay(b)
	o := startOffice(b)
	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	const rounds = 20
	for i := range rounds {
		o.api(o.tokens["kiosk"], "POST", "/tickets", fmt.Sprintf(`{"service":"family","lang":"pl","request_id":"w%d"}`, i), nil)
	}
	o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", nil)
	hall := startDeviceWith(b, o, "hall", "hall", "hall", "[screen]\nblink = \"100ms\"\n[sound]\nenabled = false\n", []string{"--trace-frames"})
	if d := displayOf(b); d != "" {
		b.Setenv("DISPLAY", d) // chromium's window goes where kioskd's does
	}
	ctx := browsertest.Start(b, browsertest.Options{Width: 960, Height: 540, Visible: true, Frames: true,
		Flags: []chromedp.ExecAllocatorOption{chromedp.Flag("kiosk", true), chromedp.Flag("autoplay-policy", "no-user-gesture-required")}})
	browsertest.Do(b, ctx, 20*time.Second, "the hall page",
		chromedp.Navigate(o.url()+"/o/"+officeID+"/hall"), chromedp.WaitVisible(chromedp.CSS("#hall-number")))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](pageShown)); err != nil {
		b.Fatal(err)
	}
	browser := chromedp.FromContext(ctx).Browser.Process().Pid
	waitUntil(b, "the hall's first frame", 20*time.Second, func() bool { return len(hall.frameTimes()) > 0 })
	// Let the start-up work settle, as BenchmarkIdleDevices does.
	time.Sleep(5 * time.Second)

	const span = 30 * time.Second
	pages := treeOf(b, browser)
	kBefore, pBefore, t0 := cpuTicks(b, hall.cmd.Process.Pid), treeTicks(b, pages), time.Now()
	time.Sleep(span)
	kAfter, pAfter, t1 := cpuTicks(b, hall.cmd.Process.Pid), treeTicks(b, pages), time.Now()
	const hz = 100 // USER_HZ on Linux
	secs := t1.Sub(t0).Seconds()
	b.ReportMetric(float64(kAfter-kBefore)/hz/secs*100, "kioskd-idle-cpu-%")
	b.ReportMetric(float64(pAfter-pBefore)/hz/secs*100, "page-idle-cpu-%")
	b.ReportMetric(pssMB(b, []int{hall.cmd.Process.Pid}), "kioskd-pss-MB")
	b.ReportMetric(pssMB(b, treeOf(b, browser)), "page-pss-MB")

	var kioskdLat, pageLat []time.Duration
	for range rounds - 1 {
		var called protocol.TicketResponse
		start := time.Now()
		o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", &called)
		number := called.Ticket.Number
		var drawn time.Time
		waitUntil(b, "kioskd's frame of "+number, 5*time.Second, func() bool {
			for _, at := range hall.frameTimes() {
				if at.After(start) {
					drawn = at
					return true
				}
			}
			return false
		})
		kioskdLat = append(kioskdLat, drawn.Sub(start))
		var shown time.Time
		waitUntil(b, "the page's frame of "+number, 5*time.Second, func() bool {
			calls, err := chromedp.Run(ctx, chromedp.Evaluate[[]pageCall](`window.__shown`))
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range calls {
				if c.Number == number {
					shown = time.UnixMilli(c.At)
					return true
				}
			}
			return false
		})
		pageLat = append(pageLat, shown.Sub(start))
		time.Sleep(400 * time.Millisecond) // kioskd's blink (100 ms) is over: its next frame is the next call's
	}
	for range b.N {
	}
	b.ReportMetric(quantile(kioskdLat, 0.5), "kioskd-p50-ms")
	b.ReportMetric(quantile(kioskdLat, 0.99), "kioskd-p99-ms")
	b.ReportMetric(quantile(pageLat, 0.5), "page-p50-ms")
	b.ReportMetric(quantile(pageLat, 0.99), "page-p99-ms")
}
