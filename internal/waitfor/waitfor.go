// Package waitfor is the tests' one way to wait for something another
// goroutine or process does: look at the thing itself (a state, a count,
// a file) often, until it holds or a deadline passes, instead of sleeping
// a guessed time. The first looks come quickly, so a fast event costs
// little; later ones every 20 ms, so a slow one costs little CPU.
package waitfor

import (
	"testing"
	"time"
)

// Until returns once cond holds, and fails tb naming what it waited for if
// within passes first.
func Until(tb testing.TB, what string, within time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for step := time.Millisecond; !cond(); step = min(2*step, 20*time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("waited %v for %s", within, what)
		}
		time.Sleep(step)
	}
}

// Within reports whether cond held within the given time, looking as
// Until does: for a test that acts again when the first try was not taken
// (a click or a button press a loaded machine missed), never for one that
// would act twice.
func Within(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for step := time.Millisecond; !cond(); step = min(2*step, 20*time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(step)
	}
	return true
}
