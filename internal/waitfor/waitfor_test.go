package waitfor

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	var looks atomic.Int32
	Until(t, "the third look", time.Second, func() bool { return looks.Add(1) >= 3 })
	if n := looks.Load(); n != 3 {
		t.Errorf("looked %d times, want 3", n)
	}
}

// fatalRecorder notes a failure instead of ending the test.
type fatalRecorder struct {
	testing.TB
	failed string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = format
	panic(f)
}

func TestUntilFailsNamingWhatItWaitedFor(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	func() {
		defer func() {
			if r := recover(); r != rec {
				panic(r)
			}
		}()
		Until(rec, "a thing that never happens", 30*time.Millisecond, func() bool { return false })
	}()
	if rec.failed == "" {
		t.Error("Until returned without failing although the condition never held")
	}
}
