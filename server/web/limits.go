package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	gosync "sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/numerek/numerek/server"
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

// allow counts one action of kind from addr; when it is refused, retry
// says how long until the next is allowed.
func (l *limits) allow(kind, addr string) (ok bool, retry time.Duration) {
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
	now := time.Now()
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// retryAfter tells a throttled browser when to try again.
func retryAfter(rw http.ResponseWriter, d time.Duration) {
	rw.Header().Set("Retry-After", strconv.Itoa(server.RetryAfterSeconds(d)))
}

func equalTokens(a, b string) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
