package audio

import (
	"math"
	"time"
)

// A chime is two gong strikes a major third apart, high then low (E5, C5),
// the "ding-dong" people know from halls and stations.
const (
	chimeHighHz     = 659.26
	chimeLowHz      = 523.25
	chimeSecondAt   = 450 * time.Millisecond
	chimeLength     = 1500 * time.Millisecond
	chimeAttack     = 4 * time.Millisecond
	chimeFadeOut    = 150 * time.Millisecond
	chimePeakFactor = 0.6 // about -4.4 dBFS, level with speech normalised to -3 dBFS
)

// A struck bar or bell has partials that are not whole multiples of the
// fundamental; these ratios and levels give a soft, gong-like tone rather
// than a beep. Higher partials die away faster.
var chimePartials = []struct {
	ratio, level float64
	decay        time.Duration // time to fall by 1/e
}{
	{1, 1, 600 * time.Millisecond},
	{2.0, 0.35, 300 * time.Millisecond},
	{2.76, 0.2, 180 * time.Millisecond},
	{5.40, 0.08, 90 * time.Millisecond},
}

// Chime synthesises the two-tone gong said before a call, at rate.
func Chime(rate int) PCM {
	n := samplesFor(rate, chimeLength)
	mix := make([]float64, n)
	strike(mix, rate, 0, chimeHighHz)
	strike(mix, rate, samplesFor(rate, chimeSecondAt), chimeLowHz)

	// Fade the tail so the chime ends in silence, not mid-ring.
	fade := samplesFor(rate, chimeFadeOut)
	for i := 0; i < fade && i < n; i++ {
		mix[n-1-i] *= float64(i) / float64(fade)
	}
	var top float64
	for _, v := range mix {
		top = math.Max(top, math.Abs(v))
	}
	out := make([]int16, n)
	for i, v := range mix {
		out[i] = toInt16(v / top * chimePeakFactor)
	}
	return PCM{Rate: rate, Samples: out}
}

// strike adds one gong strike of fundamental hz to mix from sample start.
func strike(mix []float64, rate, start int, hz float64) {
	attack := float64(samplesFor(rate, chimeAttack))
	nyquist := float64(rate) / 2
	for i := start; i < len(mix); i++ {
		t := float64(i-start) / float64(rate)
		env := 1.0
		if k := float64(i - start); k < attack {
			env = k / attack
		}
		for _, p := range chimePartials {
			f := hz * p.ratio
			if f >= nyquist {
				continue
			}
			mix[i] += env * p.level * math.Exp(-t/p.decay.Seconds()) * math.Sin(2*math.Pi*f*t)
		}
	}
}
