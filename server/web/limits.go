package web

import (
	"crypto/subtle"
	gosync "sync"
	"time"

	"golang.org/x/time/rate"
)

// limits keep one address from flooding the public forms: phone tickets
// (each is a place in a real queue), bookings and login attempts.
type limits struct {
	mu    gosync.Mutex
	kinds map[string]map[string]*rate.Limiter
}

// The public limits: a burst, then one more per period.
var limitRules = map[string]struct {
	every time.Duration
	burst int
}{
	"ticket":  {2 * time.Minute, 6},
	"booking": {5 * time.Minute, 6},
	"login":   {12 * time.Second, 8},
}

func newLimits() *limits { return &limits{kinds: map[string]map[string]*rate.Limiter{}} }

// allow counts one action of kind from addr.
func (l *limits) allow(kind, addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.kinds[kind]
	if m == nil || len(m) > 20000 {
		m = map[string]*rate.Limiter{}
		l.kinds[kind] = m
	}
	lim := m[addr]
	if lim == nil {
		rule := limitRules[kind]
		lim = rate.NewLimiter(rate.Every(rule.every), rule.burst)
		m[addr] = lim
	}
	return lim.Allow()
}

func equalTokens(a, b string) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
