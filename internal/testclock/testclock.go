// Package testclock is a clock that tests set and move by hand, safe to read
// from the goroutines of the code under test.
package testclock

import (
	"sync"
	"time"
)

// Clock is a settable clock; its Now method is the clock function the
// server and devices take.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock that reads t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
