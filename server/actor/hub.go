package actor

import (
	"context"
	"sync"

	"github.com/numerek/numerek/queue"
)

// Hub fans an office's events out to its stream subscribers and keeps the
// most recent ones so a client that reconnects can resume without a
// snapshot. Publish never blocks: a subscriber that falls too far behind is
// dropped and resumes by reconnecting.
type Hub struct {
	mu   sync.Mutex
	ring []queue.Event
	keep int
	last uint64
	subs map[*Subscription]struct{}
}

// Subscription receives events published after it was made.
type Subscription struct {
	// C delivers events in seq order; it is closed when the subscriber is
	// dropped for falling behind or the hub closes.
	C chan queue.Event
}

// subscriberBuffer is how many events a subscriber may lag behind.
const subscriberBuffer = 4096

// NewHub returns a hub that keeps the last keep events, starting after seq.
func NewHub(seq uint64, keep int) *Hub {
	return &Hub{keep: keep, last: seq, subs: map[*Subscription]struct{}{}}
}

// Subscribe starts a subscription and returns the seq of the last event
// published before it: everything after that arrives on C.
func (h *Hub) Subscribe() (*Subscription, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &Subscription{C: make(chan queue.Event, subscriberBuffer)}
	h.subs[s] = struct{}{}
	return s, h.last
}

// Unsubscribe ends a subscription.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.C)
	}
}

// Publish hands events, already durable, to every subscriber.
func (h *Hub) Publish(events []queue.Event) {
	if len(events) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ring = append(h.ring, events...)
	if over := len(h.ring) - h.keep; over > 0 {
		h.ring = append(h.ring[:0:0], h.ring[over:]...)
	}
	h.last = events[len(events)-1].Seq
	for s := range h.subs {
		if !s.deliver(events) {
			delete(h.subs, s)
			close(s.C)
		}
	}
}

// deliver queues events without blocking; false if the buffer is full.
func (s *Subscription) deliver(events []queue.Event) bool {
	for _, e := range events {
		select {
		case s.C <- e:
		default:
			return false
		}
	}
	return true
}

// Since returns the kept events after seq, and ok=false when the hub no
// longer keeps all of them.
func (h *Hub) Since(after uint64) ([]queue.Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if after >= h.last {
		return nil, true
	}
	if len(h.ring) == 0 || h.ring[0].Seq > after+1 {
		return nil, false
	}
	i := int(after + 1 - h.ring[0].Seq)
	return append([]queue.Event(nil), h.ring[i:]...), true
}

// Last is the seq of the last event published.
func (h *Hub) Last() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// Close drops every subscriber.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		delete(h.subs, s)
		close(s.C)
	}
}

// Follow calls react with each batch of events published (what arrived
// together), until ctx ends, from the goroutine that called it. When the
// hub drops it for falling behind, dropped is told and following goes on
// with the events published after that: what was missed is missed.
func (h *Hub) Follow(ctx context.Context, react func([]queue.Event), dropped func()) {
	sub, _ := h.Subscribe()
	defer func() { h.Unsubscribe(sub) }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, open := <-sub.C:
			if !open {
				dropped()
				sub, _ = h.Subscribe()
				continue
			}
			events := []queue.Event{e}
		more:
			for {
				select {
				case e, ok := <-sub.C:
					if !ok {
						break more
					}
					events = append(events, e)
				default:
					break more
				}
			}
			react(events)
		}
	}
}
