package audio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/audiotest"
	"github.com/numerek/numerek/audio/voicepacks"
)

// childEnv makes the test binary, re-executed, play into a capture device
// instead of running tests: ALSA takes its configuration from HOME when the
// process opens a PCM, and Oto allows one context per process.
const childEnv = "NUMEREK_AUDIO_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var (
	playCalls = [][]audio.Call{
		// Said back to back after one chime.
		{{Lang: "pl", Ticket: "A123", Counter: 5}, {Lang: "en", Ticket: "B7", Counter: 12, CounterWord: "window"}},
		// After silence, with its own chime.
		{{Lang: "uk", Ticket: "C215", Counter: 3}},
	}
	latencyCall = audio.Call{Lang: "pl", Ticket: "A123", Counter: 5}
)

const latencyRounds = 100

func runChild(mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	voices, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		return err
	}
	sink, err := audio.NewOtoSink(audio.OtoOptions{Rate: voices.Rate()})
	if err != nil {
		return err
	}
	spoken := make(chan time.Time, 16)
	a, err := audio.NewAnnouncer(voices, sink, audio.AnnouncerOptions{
		OnSpeaking: func(audio.Call) { spoken <- time.Now() },
	})
	if err != nil {
		return err
	}
	switch mode {
	case "play":
		for _, group := range playCalls {
			for _, c := range group {
				if err := a.Announce(c); err != nil {
					return err
				}
			}
			if err := a.Wait(ctx); err != nil {
				return err
			}
			if err := sink.Drain(ctx); err != nil {
				return err
			}
		}
		return nil
	case "latency":
		// Time from Announce to the call's first sound handed to Oto, with
		// the device idle as a hall usually is between calls.
		var lat []time.Duration
		for range latencyRounds {
			// Let what the last round left in the buffers play out, then
			// call at a random point of the device's period.
			if err := sink.Drain(ctx); err != nil {
				return err
			}
			time.Sleep(rand.N(20 * time.Millisecond))
			t0 := time.Now()
			if err := a.Announce(latencyCall); err != nil {
				return err
			}
			select {
			case t1 := <-spoken:
				lat = append(lat, t1.Sub(t0))
			case <-ctx.Done():
				return ctx.Err()
			}
			a.Stop()
		}
		return json.NewEncoder(os.Stdout).Encode(lat)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// playInCapture runs the test binary in mode against a capture device read
// at speed times real time, and returns what the device received.
func playInCapture(t testing.TB, mode string, speed float64) ([]float32, []byte) {
	t.Helper()
	capture, err := audiotest.New(t.TempDir(), audio.DefaultRate, speed)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(capture.Env(), childEnv+"="+mode)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	samples, err := capture.Stop()
	if runErr != nil {
		t.Fatalf("playing child: %v\n%s", runErr, stderr.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	return samples, stdout.Bytes()
}

// TestPlaybackThroughALSA plays calls through Oto into ALSA's file output
// and checks the device received exactly the announcements: the chime and
// both calls back to back, silence, then the third call with its own chime,
// then nothing more.
func TestPlaybackThroughALSA(t *testing.T) {
	if testing.Short() {
		t.Skip("plays several seconds of sound")
	}
	voices, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := playInCapture(t, "play", 2)
	if len(got) == 0 {
		t.Fatal("the capture device received nothing: did Oto open ALSA's default PCM?")
	}

	pos := 0
	for i, group := range playCalls {
		var anns []audio.Announcement
		for _, c := range group {
			a, err := voices.Compose(c)
			if err != nil {
				t.Fatal(err)
			}
			anns = append(anns, a)
		}
		want := voices.Render(anns...).Samples
		end, inserted, err := audiotest.Find(got, pos, want)
		if err != nil {
			t.Fatalf("part %d (%v) not in the capture: %v", i+1, group, err)
		}
		// Under a loaded test machine the device may have run dry for a
		// moment; the sound is then late, never lost or altered.
		t.Logf("part %d: %.2f s of sound, sample-exact, ending at %.2f s of the capture (%d dropout samples)",
			i+1, float64(len(want))/audio.DefaultRate, float64(end)/audio.DefaultRate, inserted)
		if inserted > len(want)/4 {
			t.Errorf("part %d: %d samples of dropouts in %d", i+1, inserted, len(want))
		}
		pos = end
	}
	if extra := slices.IndexFunc(got[pos:], func(v float32) bool { return v != 0 }); extra >= 0 {
		t.Errorf("sound after the last call, at %.3f s of the capture", float64(pos+extra)/audio.DefaultRate)
	}
}

// BenchmarkCallToFirstSample measures, through real Oto and ALSA (a capture
// device read in real time), the time from Announce to the call's first
// sound handed to the sound device. It runs its rounds once, whatever b.N.
func BenchmarkCallToFirstSample(b *testing.B) {
	_, out := playInCapture(b, "latency", 1)
	var lat []time.Duration
	if err := json.Unmarshal(out, &lat); err != nil || len(lat) != latencyRounds {
		b.Fatalf("child reported %q: %v", out, err)
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[int(math.Ceil(p*float64(len(lat))))-1]) / float64(time.Millisecond)
	}
	for range b.N {
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(audio.DefaultBufferSize)/float64(time.Millisecond), "device-buffer-ms")
}

// BenchmarkVoicePacksMemory measures the heap held by the five built-in
// packs once loaded.
func BenchmarkVoicePacksMemory(b *testing.B) {
	var before, after runtime.MemStats
	var held, clips float64
	for range b.N {
		runtime.GC()
		runtime.ReadMemStats(&before)
		v, err := voicepacks.Load(audio.DefaultRate, nil)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
		clips = float64(v.Bytes()) / (1 << 20)
		runtime.KeepAlive(v)
	}
	b.ReportMetric(held, "MB")
	b.ReportMetric(clips, "clip-MB")
}
