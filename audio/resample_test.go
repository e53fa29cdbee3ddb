package audio

import (
	"math"
	"testing"
)

func sine(rate int, hz, seconds, amp float64) []float64 {
	s := make([]float64, int(float64(rate)*seconds))
	for i := range s {
		s[i] = amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))
	}
	return s
}

// goertzelLevel is the amplitude of the hz component of s.
func goertzelLevel(s []float64, rate int, hz float64) float64 {
	w := 2 * math.Pi * hz / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range s {
		s1, s2 = v+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(s))
}

func TestResample(t *testing.T) {
	tests := []struct {
		name     string
		in, out  int
		hz       float64
		wantGain float64 // amplitude of hz after, relative to before
	}{
		{"8k to 16k keeps a 1 kHz tone", 8000, 16000, 1000, 1},
		{"22.05k to 16k keeps a 3 kHz tone", 22050, 16000, 3000, 1},
		{"48k to 16k keeps a 440 Hz tone", 48000, 16000, 440, 1},
		{"44.1k to 16k removes a 10 kHz tone instead of aliasing it", 44100, 16000, 10000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sine(tt.in, tt.hz, 0.5, 0.5)
			got := resample(in, tt.in, tt.out)
			if want := len(in) * tt.out / tt.in; len(got) != want {
				t.Fatalf("got %d samples, want %d", len(got), want)
			}
			// Measure away from the edges, where the kernel is cut short.
			mid := got[len(got)/5 : len(got)*4/5]
			if tt.wantGain == 1 {
				level := goertzelLevel(mid, tt.out, tt.hz)
				if math.Abs(level-0.5) > 0.01 {
					t.Errorf("tone level %.4f after resampling, want 0.5", level)
				}
				return
			}
			// What is left of a tone above the new Nyquist frequency must be
			// at least 50 dB down wherever it lands.
			var energy float64
			for _, v := range mid {
				energy += v * v
			}
			if rms := math.Sqrt(energy / float64(len(mid))); rms > 0.5/math.Sqrt2*math.Pow(10, -50.0/20) {
				t.Errorf("rms %.6f left of a 10 kHz tone at 16 kHz, want < -50 dB", rms)
			}
		})
	}
}

func TestResampleKeepsDC(t *testing.T) {
	in := make([]float64, 100)
	for i := range in {
		in[i] = 0.3
	}
	for _, out := range []int{16000, 44100, 5000} {
		for i, v := range resample(in, 8000, out) {
			if math.Abs(v-0.3) > 1e-9 {
				t.Fatalf("8000->%d: sample %d = %v, want 0.3 (edges included)", out, i, v)
			}
		}
	}
}
