package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/numerek/numerek/internal/keyedlimit"
	"github.com/numerek/numerek/server"
)

// limits keep one address from flooding the public forms: phone tickets
// (each is a place in a real queue), bookings and login attempts.
type limits struct {
	kinds map[string]*keyedlimit.Limiter
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

// maxAddrs bounds the addresses each kind remembers.
const maxAddrs = 20000

func newLimits() *limits {
	l := &limits{kinds: map[string]*keyedlimit.Limiter{}}
	for kind, rule := range limitRules {
		l.kinds[kind] = keyedlimit.New(rate.Every(rule.every), rule.burst, maxAddrs)
	}
	return l
}

// allow counts one action of kind from addr; when it is refused, retry
// says how long until the next is allowed.
func (l *limits) allow(kind, addr string) (ok bool, retry time.Duration) {
	return l.kinds[kind].Allow(addr, time.Now())
}

// retryAfter tells a throttled browser when to try again.
func retryAfter(rw http.ResponseWriter, d time.Duration) {
	rw.Header().Set("Retry-After", strconv.Itoa(server.RetryAfterSeconds(d)))
}

func equalTokens(a, b string) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
