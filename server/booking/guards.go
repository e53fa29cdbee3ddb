package booking

import (
	gosync "sync"
	"time"

	"golang.org/x/time/rate"
)

// Guards throttle guessing of booking codes: failed tries per address,
// and all tries per code, so that neither many codes from one address nor
// one code from many addresses can be tried at speed.
type Guards struct {
	mu      gosync.Mutex
	addrs   map[string]*rate.Limiter
	codes   map[string]*rate.Limiter
	perAddr rate.Limit
	addrN   int
	perCode rate.Limit
	codeN   int
}

// Limits of the guards: an address may get 10 codes wrong, then one a
// minute more; a code may be tried 5 times, then once a minute.
const (
	addrBurst = 10
	codeBurst = 5
)

// maxTracked bounds the guards' memory; past it they start afresh.
const maxTracked = 20000

// NewGuards returns the default guards.
func NewGuards() *Guards {
	return &Guards{
		addrs: map[string]*rate.Limiter{}, codes: map[string]*rate.Limiter{},
		perAddr: rate.Every(time.Minute), addrN: addrBurst,
		perCode: rate.Every(time.Minute), codeN: codeBurst,
	}
}

func (g *Guards) limiter(m map[string]*rate.Limiter, key string, r rate.Limit, n int) *rate.Limiter {
	l := m[key]
	if l == nil {
		if len(m) > maxTracked {
			clear(m)
		}
		l = rate.NewLimiter(r, n)
		m[key] = l
	}
	return l
}

// Try reports whether a try of code from addr may go ahead, and counts it
// against the code.
func (g *Guards) Try(addr, code string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limiter(g.addrs, addr, g.perAddr, g.addrN).Tokens() < 1 {
		return false
	}
	if code == "" {
		return true
	}
	return g.limiter(g.codes, code, g.perCode, g.codeN).Allow()
}

// Failed counts a wrong code against the address.
func (g *Guards) Failed(addr string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limiter(g.addrs, addr, g.perAddr, g.addrN).Allow()
}
