package display

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/queue"
)

// idleFigures is what bench-idle measures.
type idleFigures struct {
	CPUPercent   float64
	RSSMB        float64
	FirstFrameMS float64
	Frames       int
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sinceProcessStart is how long ago the process began, from /proc (clock
// ticks of 10 ms).
func sinceProcessStart() (time.Duration, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	start, err := strconv.ParseFloat(fields[19], 64)
	if err != nil {
		return 0, err
	}
	up, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	uptime, err := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	if err != nil {
		return 0, err
	}
	return time.Duration((uptime - start/100) * float64(time.Second)), nil
}

func rssMB() float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// benchIdle shows a hall or kiosk in a real window and measures the CPU
// it uses while nothing happens.
func benchIdle(dir string) error {
	secs, _ := strconv.Atoi(displaytest.Param("secs"))
	o := busyOffice()
	var s Screen
	if displaytest.Param("screen") == "kiosk" {
		k := NewKiosk(KioskConfig{Panel: LandscapeHD, Location: warsaw}, &syncRecorder{}, nil)
		k.SetView(o.view(at("10:12")))
		s = k
	} else {
		h := NewHall(HallConfig{Panel: LandscapeHD, Location: warsaw, Message: "Godziny pracy: pon.–pt. 7:30–15:30"})
		h.SetView(o.view(at("10:12")), nil)
		s = h
	}
	var (
		mu     sync.Mutex
		fig    idleFigures
		first  = make(chan struct{})
		frames int
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-first
		time.Sleep(2 * time.Second)
		c0, t0 := cpuTime(), time.Now()
		mu.Lock()
		f0 := frames
		mu.Unlock()
		time.Sleep(time.Duration(secs) * time.Second)
		c1, t1 := cpuTime(), time.Now()
		mu.Lock()
		fig.CPUPercent = 100 * (c1 - c0).Seconds() / t1.Sub(t0).Seconds()
		fig.RSSMB = rssMB()
		fig.Frames = frames - f0
		mu.Unlock()
		cancel()
	}()
	err := Run(ctx, s, RunOptions{Windowed: true, Title: windowTitle(), OnFrame: func(time.Time) {
		mu.Lock()
		defer mu.Unlock()
		frames++
		if frames == 1 {
			if d, err := sinceProcessStart(); err == nil {
				fig.FirstFrameMS = float64(d) / float64(time.Millisecond)
			}
			close(first)
		}
	}})
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return writeJSON(filepath.Join(dir, "idle.json"), fig)
}

func benchmarkIdle(b *testing.B, screen string) {
	dir := b.TempDir()
	b.ResetTimer()
	// One 30-second measurement whatever b.N is.
	displaytest.Run(b, "bench-idle", dir, 2*time.Minute, "screen="+screen, "secs=30")
	var fig idleFigures
	readJSON(b, filepath.Join(dir, "idle.json"), &fig)
	b.ReportMetric(fig.CPUPercent, "cpu-%")
	b.ReportMetric(fig.RSSMB, "rss-MB")
	b.ReportMetric(fig.FirstFrameMS, "first-frame-ms")
	b.ReportMetric(float64(fig.Frames), "idle-frames")
}

// BenchmarkHallIdle: CPU of one core used by a hall display over 30 s
// with nothing happening, its resident memory and its start to first frame.
func BenchmarkHallIdle(b *testing.B) { benchmarkIdle(b, "hall") }

// BenchmarkKioskIdle: the same for the kiosk's start screen.
func BenchmarkKioskIdle(b *testing.B) { benchmarkIdle(b, "kiosk") }

// benchCall measures from SetView with a new call to the hall frame that
// shows it, drawn and finished by the GPU.
func benchCall(dir string) error {
	n, _ := strconv.Atoi(displaytest.Param("calls"))
	o := busyOffice()
	now := at("10:12")
	h := NewHall(HallConfig{Panel: LandscapeHD, Location: warsaw, BlinkFor: time.Millisecond})
	h.SetView(o.view(now), nil)
	seen := o.st.Seq
	var (
		mu      sync.Mutex
		pending time.Time
		lat     []float64
		drawn   = make(chan struct{}, 1)
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var scriptErr error
	go func() {
		defer cancel()
		<-drawn
		time.Sleep(500 * time.Millisecond)
		for i := range n {
			now = now.Add(time.Minute)
			if _, _, err := o.st.Execute(now, "bench", queue.Finish{Counter: 1}); err != nil {
				scriptErr = err
				return
			}
			o.issue(now, "family", 1)
			o.do(now, queue.CallNext{Counter: 1})
			v, fresh := o.view(now), o.st.CallsSince(seen)
			seen = o.st.Seq
			if len(fresh) != 1 {
				scriptErr = fmt.Errorf("call %d: %d fresh calls", i, len(fresh))
				return
			}
			for len(drawn) > 0 {
				<-drawn
			}
			mu.Lock()
			pending = time.Now()
			mu.Unlock()
			h.SetView(v, fresh)
			select {
			case <-drawn:
			case <-time.After(5 * time.Second):
				scriptErr = fmt.Errorf("call %d: no frame after 5 s", i)
				return
			}
			time.Sleep(30 * time.Millisecond)
		}
	}()
	err := Run(ctx, h, RunOptions{Windowed: true, WindowScale: 0.5, Title: windowTitle(), OnFrame: func(at time.Time) {
		mu.Lock()
		if !pending.IsZero() {
			lat = append(lat, float64(at.Sub(pending))/float64(time.Millisecond))
			pending = time.Time{}
		}
		mu.Unlock()
		select {
		case drawn <- struct{}{}:
		default:
		}
	}})
	if err != nil || scriptErr != nil {
		return fmt.Errorf("%v %v", err, scriptErr)
	}
	mu.Lock()
	defer mu.Unlock()
	return writeJSON(filepath.Join(dir, "call.json"), lat)
}

// BenchmarkHallCallToFrame: from a new call given to SetView to the hall
// frame showing it finished, over 60 calls.
func BenchmarkHallCallToFrame(b *testing.B) {
	dir := b.TempDir()
	b.ResetTimer()
	displaytest.Run(b, "bench-call", dir, 2*time.Minute, "calls=60")
	var lat []float64
	readJSON(b, filepath.Join(dir, "call.json"), &lat)
	if len(lat) == 0 {
		b.Fatal("no call was drawn")
	}
	sort.Float64s(lat)
	b.ReportMetric(lat[len(lat)/2], "p50-ms")
	b.ReportMetric(lat[len(lat)*99/100], "p99-ms")
}
