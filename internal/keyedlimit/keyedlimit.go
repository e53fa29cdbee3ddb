// Package keyedlimit holds one token-bucket rate limiter per key (an
// address, a booking code) in bounded memory.
//
// When the table is full, the key unused the longest is forgotten, one at
// a time. Wiping the whole table instead would let anyone reset every
// key's limit, a hot abuser's included, just by spraying fresh keys; a key
// still in use is never the one forgotten. A forgotten key comes back with
// a full burst, which is what it would have had after idling that long in
// all but the busiest of attacks.
//
// An action whose outcome is not known when it starts (a form the desk
// may still refuse) holds room with Hold and is counted with Commit only
// if it is accepted, or gives the room back with Release: what was
// refused costs nothing, and actions running at once cannot all slip
// through before any of them is counted.
package keyedlimit

import (
	"container/list"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits events per key: burst at once, then one per 1/limit.
// It is safe for concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int

	mu    sync.Mutex
	keys  map[string]*list.Element
	order *list.List // of *entry, most recently used first
}

type entry struct {
	key string
	lim *rate.Limiter
	// held counts events that have room kept for them but are not yet
	// counted (Hold, then Commit or Release).
	held int
}

// New returns a limiter allowing burst events per key at once and then
// limit events a second, remembering at most maxKeys keys (at least one).
func New(limit rate.Limit, burst, maxKeys int) *Limiter {
	return &Limiter{
		limit: limit, burst: burst, maxKeys: max(maxKeys, 1),
		keys: map[string]*list.Element{}, order: list.New(),
	}
}

// Allow counts one event of key at now if the key has room for it. When it
// has not, nothing is counted and retry says how long until the next event
// of key would be allowed (what a Retry-After header tells).
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(key)
	if e.held > 0 {
		if free := e.lim.TokensAt(now) - float64(e.held); free < 1 {
			return false, l.wait(free, e.held)
		}
	}
	lim := e.lim
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		// Only a burst of zero refuses for good; say "a period" rather
		// than forever.
		return false, l.period()
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Tokens reports how many events key may have at once at now (less the
// room held for events not yet committed), without counting one. An unknown key has a full burst and is not remembered.
func (l *Limiter) Tokens(key string, now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.keys[key]
	if !ok {
		return float64(l.burst)
	}
	l.order.MoveToFront(el)
	e := el.Value.(*entry)
	return e.lim.TokensAt(now) - float64(e.held)
}

// Hold keeps room for one event of key at now without counting it yet:
// the caller counts it with Commit once the action it limits has been
// accepted, or gives the room back with Release when the action failed.
// Room held counts against the key like an event until then, so that
// concurrent actions cannot all pass before any of them is counted. When
// there is no room, nothing is held and retry says how long until there is.
func (l *Limiter) Hold(key string, now time.Time) (ok bool, retry time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(key)
	free := e.lim.TokensAt(now) - float64(e.held)
	if free >= 1 {
		e.held++
		return true, 0
	}
	return false, l.wait(free, e.held)
}

// wait is how long until a key with free room (tokens less those held)
// has room for one more event.
func (l *Limiter) wait(free float64, held int) time.Duration {
	if l.burst-held < 1 || l.limit <= 0 || l.limit == rate.Inf {
		// Only what is held (or a burst of zero) stands in the way:
		// say "a period" rather than forever.
		return l.period()
	}
	return time.Duration(math.Ceil((1 - free) / float64(l.limit) * float64(time.Second)))
}

// Commit counts an event whose room Hold kept. A key forgotten meanwhile
// is counted afresh.
func (l *Limiter) Commit(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(key)
	if e.held > 0 {
		e.held--
	}
	// Room was kept, so the event is counted even if the clock went back.
	e.lim.ReserveN(now, 1)
}

// Release gives back the room Hold kept, counting nothing.
func (l *Limiter) Release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if el, ok := l.keys[key]; ok {
		if e := el.Value.(*entry); e.held > 0 {
			e.held--
		}
	}
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// get returns key's limiter, made fresh if the key is new, and marks the
// key as used last; a new key past maxKeys forgets the key unused longest.
func (l *Limiter) entry(key string) *entry {
	if e, ok := l.keys[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*entry)
	}
	for len(l.keys) >= l.maxKeys {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.keys, oldest.Value.(*entry).key)
	}
	e := &entry{key: key, lim: rate.NewLimiter(l.limit, l.burst)}
	l.keys[key] = l.order.PushFront(e)
	return e
}

func (l *Limiter) period() time.Duration {
	if l.limit <= 0 || l.limit == rate.Inf {
		return time.Minute
	}
	return time.Duration(float64(time.Second) / float64(l.limit))
}
