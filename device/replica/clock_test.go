package replica_test

import (
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/protocol"
)

func near(a, b time.Time, tol time.Duration) bool {
	d := a.Sub(b)
	return d > -tol && d < tol
}

// The clock follows the server's time from what the server sends.
func TestClockFollowsTheServer(t *testing.T) {
	const tol = 20 * time.Millisecond
	day := 72 * time.Hour
	c := replica.NewClock(day) // saved at the last run: the server was three days ahead
	if c.Known() || !near(c.Now(), time.Now().Add(day), tol) {
		t.Fatalf("before observing: %v, want the saved offset", c.Now())
	}

	// A lower bound below the estimate says nothing new.
	c.Observe(time.Now().Add(time.Hour), time.Now())
	if !near(c.Now(), time.Now().Add(day), tol) {
		t.Errorf("a lower bound below the estimate moved it: %v", c.Now())
	}
	// An answer taken within a request bounds the server's time from above:
	// the saved offset was stale (the server's test clock was set anew).
	sent := time.Now()
	server := time.Now().Add(5 * time.Hour)
	c.ObserveWithin(server, time.Now(), sent, 0)
	if !c.Known() || !near(c.Now(), time.Now().Add(5*time.Hour), tol) {
		t.Errorf("after a bounded answer: %v, want 5 h ahead", time.Until(c.Now()))
	}
	// A later lower bound above the estimate raises it.
	c.Observe(time.Now().Add(5*time.Hour+2*time.Second), time.Now())
	if !near(c.Now(), time.Now().Add(5*time.Hour+2*time.Second), tol) {
		t.Errorf("after a higher lower bound: %v", time.Until(c.Now()))
	}
	// A stale view (up to a minute old) within its slack changes nothing.
	c.ObserveWithin(time.Now().Add(5*time.Hour-30*time.Second), time.Now(), time.Now(), time.Minute)
	if !near(c.Now(), time.Now().Add(5*time.Hour+2*time.Second), tol) {
		t.Errorf("a stale view moved the clock: %v", time.Until(c.Now()))
	}
	if off := c.Offset(); off < 5*time.Hour || off > 5*time.Hour+3*time.Second {
		t.Errorf("offset to save %v", off)
	}
	// It never runs backwards between observations.
	a := c.Now()
	if b := c.Now(); b.Before(a) {
		t.Errorf("clock ran backwards: %v then %v", a, b)
	}
}

func TestBackoffGrowsWithJitterAndResets(t *testing.T) {
	b := protocol.Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		w *= time.Millisecond
		if d := b.Next(); d < w/2 || d > w {
			t.Errorf("wait %d: %v, want within [%v, %v]", i, d, w/2, w)
		}
	}
	b.Reset()
	if d := b.Next(); d > 100*time.Millisecond {
		t.Errorf("after reset: %v", d)
	}
}
