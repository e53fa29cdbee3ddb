package main

import (
	"fmt"
	"image"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/protocol"
)

var frameLine = regexp.MustCompile(`msg="frame drawn" .*at=(\S+)`)

// frameTimes returns when each frame the device logged was drawn.
func (d *kioskDev) frameTimes() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []time.Time
	for _, l := range d.log {
		if m := frameLine.FindStringSubmatch(l); m != nil {
			if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				out = append(out, at)
			}
		}
	}
	return out
}

func quantile(xs []time.Duration, p float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return float64(s[int(math.Ceil(p*float64(len(s))))-1]) / float64(time.Millisecond)
}

// BenchmarkCallToHallFrame measures, through real processes, a clerk's
// "next" (the request sent to the queue server) to the hall's frame with
// the call drawn: the server's command and sync, the event stream, the
// hall's fold and view, and Ebiten's frame (GPU done). The hall blinks
// for 100 ms only, so the calls can come every 400 ms without a blink's
// frame being taken for the call's. It runs its rounds once, whatever b.N.
func BenchmarkCallToHallFrame(b *testing.B) {
	if os.Getenv("DISPLAY") == "" {
		b.Skip("no X display")
	}
	o := startOffice(b)
	hall := startDeviceWith(b, o, "hall", "hall", "hall", "[screen]\nblink = \"100ms\"\n[sound]\nenabled = false\n", []string{"--trace-frames"})
	waitUntil(b, "the hall's first frames", 10*time.Second, func() bool { return len(hall.frameTimes()) > 0 })
	const rounds = 40
	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	for i := range rounds {
		o.api(o.tokens["kiosk"], "POST", "/tickets", fmt.Sprintf(`{"service":"family","lang":"pl","request_id":"b%d"}`, i), nil)
	}
	time.Sleep(500 * time.Millisecond)
	var lat []time.Duration
	for range rounds {
		t0 := time.Now()
		o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", nil)
		var drawn time.Time
		waitUntil(b, "the call's frame", 5*time.Second, func() bool {
			for _, at := range hall.frameTimes() {
				if at.After(t0) {
					drawn = at
					return true
				}
			}
			return false
		})
		lat = append(lat, drawn.Sub(t0))
		time.Sleep(400 * time.Millisecond)
	}
	for range b.N {
	}
	b.ReportMetric(quantile(lat, 0.5), "p50-ms")
	b.ReportMetric(quantile(lat, 0.99), "p99-ms")
}

// cpuTicks is a process's CPU time so far, in clock ticks.
func cpuTicks(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The command name may hold spaces; the fields after it do not.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// rssMB is a process's resident memory.
func rssMB(b *testing.B, pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkIdleDevices runs a hall display and a ticket kiosk (with its
// emulated printer) against a queue server and, with nothing happening,
// measures the CPU each uses over 30 s (in % of one core), their resident
// memory, and how long each took from start to its first frame. The
// clock tick of /proc is 10 ms: over 30 s, 0.03 %.
func BenchmarkIdleDevices(b *testing.B) {
	if os.Getenv("DISPLAY") == "" {
		b.Skip("no X display")
	}
	o := startOffice(b)
	o.api(o.tokens["counter1"], "POST", "/counters/1/open", "", nil)
	o.api(o.tokens["kiosk"], "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"idle-1"}`, nil)
	o.api(o.tokens["counter1"], "POST", "/counters/1/next", "", nil)
	hall := startDeviceWith(b, o, "hall", "hall", "hall", "", []string{"--trace-frames"})
	kiosk := startDeviceWith(b, o, "kiosk", "ticket", "kiosk", fmt.Sprintf("[printer]\nuri = \"emulator://%s\"\n", b.TempDir()), []string{"--trace-frames"})
	devices := []*kioskDev{hall, kiosk}
	for _, d := range devices {
		waitUntil(b, d.name+"'s first frame", 20*time.Second, func() bool { return len(d.frameTimes()) > 0 })
	}
	// Let the start-up work (leases, printer check) settle.
	time.Sleep(5 * time.Second)
	const span = 30 * time.Second
	ticks := func() []int64 {
		out := make([]int64, len(devices))
		for i, d := range devices {
			out[i] = cpuTicks(b, d.cmd.Process.Pid)
		}
		return out
	}
	before, t0 := ticks(), time.Now()
	time.Sleep(span)
	after, t1 := ticks(), time.Now()
	for range b.N {
	}
	const hz = 100 // USER_HZ on Linux
	for i, d := range devices {
		cpu := float64(after[i]-before[i]) / hz / t1.Sub(t0).Seconds() * 100
		b.ReportMetric(cpu, d.name+"-cpu-%")
		b.ReportMetric(rssMB(b, d.cmd.Process.Pid), d.name+"-rss-MB")
		b.ReportMetric(float64(d.frameTimes()[0].Sub(d.startedAt))/float64(time.Millisecond), d.name+"-first-frame-ms")
	}
}

// BenchmarkSilentCutToOffline measures, through real processes, the time
// from a cut that sends nothing (the proxy between the hall and the
// server stops forwarding without closing) to the hall's frame saying it
// cannot reach the server: the stream's silence noticed, the device
// offline, the banner drawn. Three cuts, the link healed between them.
// It runs its rounds once, whatever b.N.
func BenchmarkSilentCutToOffline(b *testing.B) {
	if os.Getenv("DISPLAY") == "" {
		b.Skip("no X display")
	}
	o := startOffice(b)
	hall, proxy := silentHall(b, o)
	const rounds = 3
	var took []time.Duration
	for range rounds {
		cut := time.Now()
		proxy.Set(faultproxy.BlackHole)
		hall.waitFrame("saying it is offline", 20*time.Second, func(img image.Image) bool { return hallOffline(img) > 0.5 })
		took = append(took, time.Since(cut))
		proxy.Set(faultproxy.Pass)
		hall.waitFrame("online again", 30*time.Second, func(img image.Image) bool { return hallOffline(img) < 0.01 })
		waitUntil(b, "the hall following again", 10*time.Second, func() bool { return hall.statusPage().Follow.Online })
	}
	for range b.N {
	}
	b.ReportMetric(quantile(took, 1)/1000, "worst-s")
	b.ReportMetric(quantile(took, 0.5)/1000, "median-s")
}

// BenchmarkPairingToFirstFrame measures, through real processes, an
// admin's approval of a pairing code (the stand-in pairing endpoints
// answer the device's next poll with its credentials) to the first frame
// of the hall display the device becomes: the poll's interval (1 s at
// most), the credentials stored, kioskd started again in its place, the
// office read and the hall's first frame drawn. Three pairings, the
// device revoked between them. It runs its rounds once, whatever b.N.
func BenchmarkPairingToFirstFrame(b *testing.B) {
	if os.Getenv("DISPLAY") == "" {
		b.Skip("no X display")
	}
	o := startOffice(b)
	front := startPairingFront(b, o)
	cfg, _ := pairedLocalFile(b, front.srv.URL)
	_, bin := binaries(b)
	p := start(b, "kioskd pairing", nil, bin, "--config", cfg, "--trace-frames")
	ready := regexp.MustCompile(`msg="kioskd ready" .*role=hall`)
	const rounds = 3
	var took []time.Duration
	for i := range rounds {
		status := p.nthLog(statusLine, 2*i+1, 20*time.Second)[1]
		var code string
		waitUntil(b, "a code", 20*time.Second, func() bool {
			st := statusOf(b, status)
			if st.Pairing != nil {
				code = st.Pairing.Code
			}
			return code != ""
		})
		front.revoked.Store(false)
		t0 := time.Now()
		creds := protocol.Credentials{DeviceID: "tok_hall", Token: o.tokens["hall"], Office: officeID, Role: "hall", Name: "hall",
			Settings: protocol.DeviceSettings{Revision: 1, TOML: "role = \"hall\"\n[sound]\nenabled = false\n"}}
		if err := front.Approve(code, creds); err != nil {
			b.Fatal(err)
		}
		p.nthLog(ready, i+1, 20*time.Second)
		var drawn time.Time
		waitUntil(b, "the hall's first frame", 20*time.Second, func() bool {
			drawn = p.frameAfter(ready, i+1)
			return !drawn.IsZero()
		})
		took = append(took, drawn.Sub(t0))
		front.revoke()
	}
	for range b.N {
	}
	b.ReportMetric(quantile(took, 1), "worst-ms")
	b.ReportMetric(quantile(took, 0.5), "median-ms")
}

// frameAfter is when the first frame was drawn after the n-th log line
// matching re; zero while there is none.
func (p *proc) frameAfter(re *regexp.Regexp, n int) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen := 0
	for _, l := range p.log {
		if seen < n {
			if re.MatchString(l) {
				seen++
			}
			continue
		}
		if m := frameLine.FindStringSubmatch(l); m != nil {
			if at, err := time.Parse(time.RFC3339Nano, m[1]); err == nil {
				return at
			}
		}
	}
	return time.Time{}
}
