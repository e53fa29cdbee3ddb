package periodic

import (
	"context"
	"testing"
	"time"
)

// The chore runs at once, again each period, and not after its context
// ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan int, 10)
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, time.Millisecond, func() {
			n++
			runs <- n
			if n == 3 {
				cancel()
			}
		})
	}()
	for want := 1; want <= 3; want++ {
		select {
		case got := <-runs:
			if got != want {
				t.Fatalf("run %d, want %d", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("run %d never came", want)
		}
	}
	<-done
	select {
	case got := <-runs:
		t.Errorf("run %d after the context ended", got)
	default:
	}
}
