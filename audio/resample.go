package audio

import "math"

// resampleHalfWidth is how many zero crossings of the sinc kernel each side
// of an output sample takes part: 16 keeps the passband flat to about 90% of
// the lower Nyquist frequency and the stopband below -60 dB, plenty for
// speech, at a cost that only matters once, when a pack loads.
const resampleHalfWidth = 16

// resample converts s from rate in to rate out with a Blackman-windowed sinc
// filter whose cutoff is the lower of the two Nyquist frequencies, so
// downsampling does not alias and upsampling does not image. The kernel is
// tabulated once per phase: out/gcd(in, out) phases, a few hundred for the
// usual rates.
func resample(s []float64, in, out int) []float64 {
	if in == out || len(s) == 0 {
		return s
	}
	g := gcd(in, out)
	up, down := out/g, in/g // output sample j sits at input position j*down/up
	ratio := float64(out) / float64(in)
	// cutoff is relative to the input rate's Nyquist frequency, a little
	// below it so the window's transition band stays under Nyquist.
	cutoff := math.Min(1, ratio) * 0.97
	// half is the kernel's reach in input samples: resampleHalfWidth zero
	// crossings of the filter.
	half := float64(resampleHalfWidth) / cutoff
	reach := int(math.Ceil(half))
	kernel := func(x float64) float64 { return cutoff * sinc(cutoff*x) * blackman(x/half) }

	var table [][]float64
	if up <= maxResamplePhases {
		table = make([][]float64, up)
		for p := range table {
			frac := float64(p) / float64(up)
			taps := make([]float64, 2*reach+1)
			for k := range taps {
				taps[k] = kernel(float64(k-reach) - frac)
			}
			table[p] = taps
		}
	}

	n := int(int64(len(s)) * int64(up) / int64(down))
	dst := make([]float64, n)
	for j := range dst {
		pos := int64(j) * int64(down)
		i0, p := int(pos/int64(up)), int(pos%int64(up))
		var acc, norm float64
		for k := -reach; k <= reach; k++ {
			i := i0 + k
			if i < 0 || i >= len(s) {
				continue
			}
			var w float64
			if table != nil {
				w = table[p][k+reach]
			} else {
				w = kernel(float64(k) - float64(p)/float64(up))
			}
			acc += s[i] * w
			norm += w
		}
		// Normalising by the taps used keeps the DC gain at one, also at the
		// clip's edges where part of the kernel falls outside it.
		if norm != 0 {
			dst[j] = acc / norm
		}
	}
	return dst
}

// maxResamplePhases bounds the kernel table; rates with a larger phase count
// (unusual pairs such as 44101 to 16000) compute each tap instead.
const maxResamplePhases = 4096

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// blackman is the Blackman window on [-1, 1], zero outside.
func blackman(x float64) float64 {
	if x <= -1 || x >= 1 {
		return 0
	}
	return 0.42 + 0.5*math.Cos(math.Pi*x) + 0.08*math.Cos(2*math.Pi*x)
}
