package audio

import (
	"math"
	"time"
)

// PCM is mono 16-bit sound at Rate samples per second.
type PCM struct {
	Rate    int
	Samples []int16
}

// Duration is how long the sound lasts.
func (p PCM) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(len(p.Samples)) * time.Second / time.Duration(p.Rate)
}

// samplesFor returns how many samples at rate last d.
func samplesFor(rate int, d time.Duration) int {
	return int(int64(rate) * int64(d) / int64(time.Second))
}

// Scale returns s multiplied by gain (0-1), rounding to the nearest sample;
// at gain 1 or more it returns s itself.
func Scale(s []int16, gain float64) []int16 {
	if gain >= 1 {
		return s
	}
	out := make([]int16, len(s))
	for i, v := range s {
		out[i] = int16(math.Round(float64(v) * gain))
	}
	return out
}

// fadeEdges ramps the first and last n samples of s in place, so a clip cut
// out of a longer recording starts and ends without a click.
func fadeEdges(s []int16, n int) {
	if n > len(s)/2 {
		n = len(s) / 2
	}
	for i := 0; i < n; i++ {
		// (i+1)/(n+1) rather than i/n: no sample of a clip becomes exact
		// zero, so a clip's extent is the extent of its sound.
		g := float64(i+1) / float64(n+1)
		s[i] = int16(math.Round(float64(s[i]) * g))
		s[len(s)-1-i] = int16(math.Round(float64(s[len(s)-1-i]) * g))
	}
}

// peak returns the largest absolute sample value.
func peak(s []int16) int {
	m := 0
	for _, v := range s {
		a := int(v)
		if a < 0 {
			a = -a
		}
		if a > m {
			m = a
		}
	}
	return m
}

// toInt16 converts a float sample in [-1, 1] to 16 bits, clamping overs. It
// is the inverse of reading a 16-bit sample as v/32768, so 16-bit clips load
// unchanged.
func toInt16(v float64) int16 {
	v = math.Round(v * 32768)
	switch {
	case v > 32767:
		return 32767
	case v < -32768:
		return -32768
	}
	return int16(v)
}
