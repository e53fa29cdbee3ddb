package booking

import (
	"errors"
	"time"

	"golang.org/x/time/rate"

	"github.com/numerek/numerek/internal/keyedlimit"
)

// Guards throttle the guessing of booking codes without locking out the
// residents who have one. Wrong codes are counted per device (a kiosk's
// token, a phone's browser) and, as a generous last line, per address
// (many kiosks or a town's phones share one); every try is counted per
// code. A device or address past its budget of wrong codes is paced: one
// try each few seconds, whatever the code. The pace is decided before the
// code is looked up, so a refusal says nothing about whether a code
// exists; and it is shorter than anyone takes to type a code, so the next
// resident at a kiosk where others mistyped gets their valid code through
// at once. A refusal for the code itself (tried too often) affects only
// that code.
type Guards struct {
	clock   func() time.Time
	devices wrongCodes
	addrs   wrongCodes
	codes   *keyedlimit.Limiter
}

// wrongCodes is the budget of wrong codes of one kind of source: a burst
// and then one more each period; past it, tries are paced.
type wrongCodes struct {
	budget *keyedlimit.Limiter
	pace   *keyedlimit.Limiter
}

// The guards' numbers (docs/web.md, docs/api.md say them).
const (
	// A device may get 10 codes wrong, then one more a minute; past that
	// it may try once each 5 s.
	deviceBurst  = 10
	deviceRefill = time.Minute
	devicePace   = 5 * time.Second
	// An address may get 50 codes wrong, then one more each 30 s; past
	// that it may try once each 2 s.
	addrBurst  = 50
	addrRefill = 30 * time.Second
	addrPace   = 2 * time.Second
	// A code may be tried 5 times, then once a minute.
	codeBurst  = 5
	codeRefill = time.Minute
)

// maxTracked bounds the guards' memory: the devices, addresses and codes
// each remembered at most.
const maxTracked = 20000

// Source is where a code is typed: the device (a kiosk's token, a phone's
// browser id) and the network address it comes from. Either may be empty.
type Source struct {
	Device string
	Addr   string
}

// ErrThrottled: too many tries from this device or address, or of this
// code. The error returned is a *ThrottledError saying how long to wait.
var ErrThrottled = errors.New("too many tries; wait and try again")

// ThrottledError is a refused try and how long until the next is allowed.
type ThrottledError struct{ Retry time.Duration }

func (e *ThrottledError) Error() string { return ErrThrottled.Error() }

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// RetryAfter is how long a throttled caller should wait; a minute when
// err does not say.
func RetryAfter(err error) time.Duration {
	var te *ThrottledError
	if errors.As(err, &te) && te.Retry > 0 {
		return te.Retry
	}
	return time.Minute
}

// NewGuards returns the default guards, reading the time from clock.
func NewGuards(clock func() time.Time) *Guards {
	return &Guards{
		clock: clock,
		devices: wrongCodes{
			budget: keyedlimit.New(rate.Every(deviceRefill), deviceBurst, maxTracked),
			pace:   keyedlimit.New(rate.Every(devicePace), 1, maxTracked),
		},
		addrs: wrongCodes{
			budget: keyedlimit.New(rate.Every(addrRefill), addrBurst, maxTracked),
			pace:   keyedlimit.New(rate.Every(addrPace), 1, maxTracked),
		},
		codes: keyedlimit.New(rate.Every(codeRefill), codeBurst, maxTracked),
	}
}

// Try reports whether a try of code from src may go ahead, and counts it
// against the code; code is "" when what was typed is no code at all.
// It is decided before the code is looked up.
func (g *Guards) Try(src Source, code string) error {
	now := g.clock()
	if err := g.devices.try(src.Device, now); err != nil {
		return err
	}
	if err := g.addrs.try(src.Addr, now); err != nil {
		return err
	}
	if code == "" {
		return nil
	}
	if ok, retry := g.codes.Allow(code, now); !ok {
		return &ThrottledError{Retry: retry}
	}
	return nil
}

func (w wrongCodes) try(key string, now time.Time) error {
	if key == "" || w.budget.Tokens(key, now) >= 1 {
		return nil
	}
	if ok, retry := w.pace.Allow(key, now); !ok {
		return &ThrottledError{Retry: retry}
	}
	return nil
}

// Wrong counts a code that matched no booking against its source.
func (g *Guards) Wrong(src Source) {
	now := g.clock()
	if src.Device != "" {
		g.devices.budget.Allow(src.Device, now)
	}
	if src.Addr != "" {
		g.addrs.budget.Allow(src.Addr, now)
	}
}
