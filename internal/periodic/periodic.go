// Package periodic runs a chore at once and then every period, until its
// context ends: the sweeps that purge personal data past its time.
package periodic

import (
	"context"
	"time"
)

// Run calls fn now and then every period (an hour when period is not
// positive) until ctx ends.
func Run(ctx context.Context, period time.Duration, fn func()) {
	if period <= 0 {
		period = time.Hour
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
