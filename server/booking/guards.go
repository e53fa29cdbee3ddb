package booking

import (
	"time"

	"golang.org/x/time/rate"

	"github.com/numerek/numerek/internal/keyedlimit"
)

// Guards throttle guessing of booking codes: failed tries per address,
// and all tries per code, so that neither many codes from one address nor
// one code from many addresses can be tried at speed.
type Guards struct {
	addrs *keyedlimit.Limiter
	codes *keyedlimit.Limiter
}

// Limits of the guards: an address may get 10 codes wrong, then one a
// minute more; a code may be tried 5 times, then once a minute.
const (
	addrBurst = 10
	codeBurst = 5
)

// maxTracked bounds the guards' memory: the addresses and the codes each
// remembered at most.
const maxTracked = 20000

// NewGuards returns the default guards.
func NewGuards() *Guards {
	return &Guards{
		addrs: keyedlimit.New(rate.Every(time.Minute), addrBurst, maxTracked),
		codes: keyedlimit.New(rate.Every(time.Minute), codeBurst, maxTracked),
	}
}

// Try reports whether a try of code from addr may go ahead, and counts it
// against the code.
func (g *Guards) Try(addr, code string) bool {
	now := time.Now()
	if g.addrs.Tokens(addr, now) < 1 {
		return false
	}
	if code == "" {
		return true
	}
	ok, _ := g.codes.Allow(code, now)
	return ok
}

// Failed counts a wrong code against the address.
func (g *Guards) Failed(addr string) {
	g.addrs.Allow(addr, time.Now())
}
