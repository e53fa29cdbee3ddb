package queue

import (
	"crypto/rand"
	"testing"
)

// BenchmarkLockerCodeCheck is what checking one typed code costs the
// locker (argon2id, one pass over 8 MiB): the resident waits this long
// between Enter and the lock's pulse, besides the journal's write, and a
// guesser's tries cost it as much each.
func BenchmarkLockerCodeCheck(b *testing.B) {
	code, hash, err := NewLockerCode(nil, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !hash.Matches(code) {
			b.Fatal("the right code does not match")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/check")
}
