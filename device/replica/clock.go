package replica

import (
	"sync"
	"time"
)

// Clock is the office's time as the queue server keeps it, on a device.
//
// A device must read the server's clock, not its own: a Raspberry Pi has
// no battery clock and may boot without the network, and a server run
// with a test clock (demos, tests) may be days from the real date.
//
// Every time the server sends was on its clock before the answer arrived,
// so the server's time now is at least that time plus what has passed
// since, measured on the device's monotonic clock: a lower bound. A time
// the server took while answering a request (a new ticket's issue time, a
// lease's grant time) is also an upper bound: no later than that time
// plus what has passed since the request was sent. The Clock keeps its
// estimate above every lower bound and, when an upper bound shows it too
// far ahead (the server's clock was set back, or the offset saved at the
// last start was stale), drops to that observation. With events arriving
// as an office works it is within a few milliseconds; it does not move
// when the device's wall clock is set.
type Clock struct {
	mu sync.Mutex
	// serverAt was the server's time at localAt (a time.Now with its
	// monotonic reading).
	serverAt, localAt time.Time
	// offset stands in before the first observation: the offset saved
	// when the device last ran.
	offset time.Duration
}

// NewClock returns a clock that, until it observes the server, runs offset
// ahead of the device's clock (0 for a device that has never met it).
func NewClock(offset time.Duration) *Clock { return &Clock{offset: offset} }

// Now is the server's time now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now(time.Now())
}

func (c *Clock) now(local time.Time) time.Time {
	if c.localAt.IsZero() {
		return local.Round(0).Add(c.offset)
	}
	return c.serverAt.Add(local.Sub(c.localAt))
}

// Observe learns that the server's clock read at (or later) when the
// device's clock read recv: a lower bound.
func (c *Clock) Observe(at, recv time.Time) {
	c.ObserveWithin(at, recv, time.Time{}, 0)
}

// ObserveWithin learns that the server's clock read at some moment
// between sent and recv (device clock), with slack more for how stale at
// may be (a cached view): at + slack is an upper bound at sent. A zero
// sent means no upper bound.
func (c *Clock) ObserveWithin(at, recv, sent time.Time, slack time.Duration) {
	if at.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	lo := at.Round(0).Add(now.Sub(recv))
	current := c.now(now)
	bounded := !sent.IsZero()
	tooHigh := bounded && current.After(at.Round(0).Add(slack).Add(now.Sub(sent)))
	switch {
	case lo.After(current) || tooHigh:
		c.serverAt, c.localAt = lo, now
	case c.localAt.IsZero() && bounded:
		// The saved offset agrees with the server: keep it, now known.
		c.serverAt, c.localAt = current, now
	}
}

// Offset is how far the server's clock is ahead of the device's wall
// clock now, to be saved for the next start.
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	return c.now(now).Sub(now.Round(0))
}

// Known reports whether the clock has observed the server.
func (c *Clock) Known() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.localAt.IsZero()
}
