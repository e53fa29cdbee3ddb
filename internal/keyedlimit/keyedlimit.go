// Package keyedlimit holds one token-bucket rate limiter per key (an
// address, a booking code) in bounded memory.
//
// When the table is full, the key unused the longest is forgotten, one at
// a time. Wiping the whole table instead would let anyone reset every
// key's limit, a hot abuser's included, just by spraying fresh keys; a key
// still in use is never the one forgotten. A forgotten key comes back with
// a full burst, which is what it would have had after idling that long in
// all but the busiest of attacks.
package keyedlimit

import (
	"container/list"
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
	lim := l.get(key)
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

// Tokens reports how many events key may have at once at now, without
// counting one. An unknown key has a full burst and is not remembered.
func (l *Limiter) Tokens(key string, now time.Time) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok {
		return float64(l.burst)
	}
	l.order.MoveToFront(e)
	return e.Value.(*entry).lim.TokensAt(now)
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// get returns key's limiter, made fresh if the key is new, and marks the
// key as used last; a new key past maxKeys forgets the key unused longest.
func (l *Limiter) get(key string) *rate.Limiter {
	if e, ok := l.keys[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*entry).lim
	}
	for len(l.keys) >= l.maxKeys {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.keys, oldest.Value.(*entry).key)
	}
	lim := rate.NewLimiter(l.limit, l.burst)
	l.keys[key] = l.order.PushFront(&entry{key: key, lim: lim})
	return lim
}

func (l *Limiter) period() time.Duration {
	if l.limit <= 0 || l.limit == rate.Inf {
		return time.Minute
	}
	return time.Duration(float64(time.Second) / float64(l.limit))
}
