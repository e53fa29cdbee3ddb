package audio

import (
	"testing"
	"time"
)

func floats(s []int16) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v) / 32768
	}
	return out
}

// TestChimeIsTwoTones checks what a listener hears: a high strike, then a
// lower one, ringing out to silence, at a level beside speech.
func TestChimeIsTwoTones(t *testing.T) {
	for _, rate := range []int{16000, 44100} {
		c := Chime(rate)
		if c.Rate != rate || c.Duration() != chimeLength {
			t.Fatalf("chime at %d Hz lasts %v, want %v", rate, c.Duration(), chimeLength)
		}
		s := floats(c.Samples)
		at := func(from, to time.Duration) []float64 { return s[samplesFor(rate, from):samplesFor(rate, to)] }
		first, second := at(50*time.Millisecond, 400*time.Millisecond), at(600*time.Millisecond, 1000*time.Millisecond)
		if hi, lo := goertzelLevel(first, rate, chimeHighHz), goertzelLevel(first, rate, chimeLowHz); hi < 4*lo {
			t.Errorf("%d Hz: first strike: %.0f Hz at %.3f, %.0f Hz at %.3f; want the high tone to dominate", rate, chimeHighHz, hi, chimeLowHz, lo)
		}
		if lo := goertzelLevel(second, rate, chimeLowHz); lo < 0.05 {
			t.Errorf("%d Hz: second strike: %.0f Hz only at %.3f", rate, chimeLowHz, lo)
		}
		if p := peak(c.Samples); p < 18000 || p > 21000 {
			t.Errorf("%d Hz: peak %d, want about 0.6 of full scale", rate, p)
		}
		if p := peak(c.Samples[len(c.Samples)-rate/100:]); p > 300 {
			t.Errorf("%d Hz: last 10 ms peak at %d, want the chime to end near silence", rate, p)
		}
	}
}
