package protocol

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces out retries: each wait doubles from Min up to Max, and is
// drawn at random from its upper half, so devices that lost the server
// together do not all come back in the same instant.
type Backoff struct {
	Min, Max time.Duration
	n        int
}

// Next is the wait before the next retry.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 500 * time.Millisecond
	}
	if hi < lo {
		hi = 30 * time.Second
	}
	d := lo
	for i := 0; i < b.n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	b.n++
	return d/2 + rand.N(d/2+1)
}

// Reset starts again from Min after a success.
func (b *Backoff) Reset() { b.n = 0 }
