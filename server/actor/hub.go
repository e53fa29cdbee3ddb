package actor

import (
	"context"
	"runtime"
	"slices"
	"sync"

	"github.com/numerek/numerek/queue"
)

// Hub fans an office's events out to its stream subscribers and keeps the
// most recent ones so a client that reconnects can resume without a
// snapshot. Publish never blocks: a subscriber that falls too far behind is
// dropped and resumes by reconnecting.
//
// It serves two kinds of follower. A Subscription has a queue of its own
// (C), for the few that want one. A Tail has none: it reads the events
// the hub keeps anyway, and each event's encoding is made once for all
// of them (Kept.Encoded), so the thousands of idle streams of a big
// office cost a few words each and a call is encoded once, not once a
// stream. A Tail that pushes (Tail.Push) is sent the news by the hub's
// own goroutines, which write it to the stream's connection when it takes
// it at once: ten thousand streams are not ten thousand goroutines woken
// for each call.
type Hub struct {
	mu   sync.RWMutex
	ring []*Kept
	keep int
	last uint64
	subs map[*Subscription]struct{}
	// tails are the Tails following, each at its index.
	tails  []*Tail
	closed bool
}

// Kept is a published event as the hub keeps it.
type Kept struct {
	queue.Event
	once    sync.Once
	encoded []byte
	err     error
}

// Encoded is the event encoded by encode, made by the first caller and
// shared with every later one: all callers of one hub must encode alike
// (the office's event stream is the one caller).
func (k *Kept) Encoded(encode func(queue.Event) ([]byte, error)) ([]byte, error) {
	k.once.Do(func() { k.encoded, k.err = encode(k.Event) })
	return k.encoded, k.err
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

// retained is how many events the ring holds: the keep asked for, and at
// least what a Subscription may lag, so a Tail may lag as far.
func (h *Hub) retained() int { return max(h.keep, subscriberBuffer) }

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

// Publish hands events, already durable, to every subscriber. The tails
// that push (Tail.Push) are pushed by goroutines of the hub's own, one a
// core, after Publish returns: their pushes write to the network, which
// the caller (an office's actor, which has yet to answer the command) is
// not kept waiting for.
func (h *Hub) Publish(events []queue.Event) {
	if len(events) == 0 {
		return
	}
	h.mu.Lock()
	h.publish(events)
	// The tails that do not push are told here, at once, each taking
	// what was published once the lock is let go; a tail's Push comes
	// either before this (it is pushed) or after (it is told).
	var pushed []*Tail
	for _, t := range h.tails {
		if t.push != nil {
			if pushed == nil {
				pushed = make([]*Tail, 0, len(h.tails))
			}
			pushed = append(pushed, t)
		} else {
			t.wake()
		}
	}
	h.mu.Unlock()
	if len(pushed) == 0 {
		return
	}
	// Contiguous parts, at least pushPart tails each: a few tails are
	// not worth a second goroutine.
	workers := min(runtime.GOMAXPROCS(0), (len(pushed)+pushPart-1)/pushPart)
	size := (len(pushed) + workers - 1) / workers
	for part := range slices.Chunk(pushed, size) {
		go func() {
			for _, t := range part {
				if !t.push() {
					t.wake()
				}
			}
		}()
	}
}

// pushPart is the fewest tails a goroutine of Publish pushes.
const pushPart = 256

// publish keeps the events and hands them to the subscriptions.
func (h *Hub) publish(events []queue.Event) {
	for _, e := range events {
		h.ring = append(h.ring, &Kept{Event: e})
	}
	if over := len(h.ring) - h.retained(); over > 0 {
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
	h.mu.RLock()
	defer h.mu.RUnlock()
	if after >= h.last {
		return nil, true
	}
	kept := h.ring[max(0, len(h.ring)-h.keep):]
	if len(kept) == 0 || kept[0].Seq > after+1 {
		return nil, false
	}
	i := int(after + 1 - kept[0].Seq)
	events := make([]queue.Event, 0, len(kept)-i)
	for _, k := range kept[i:] {
		events = append(events, k.Event)
	}
	return events, true
}

// Last is the seq of the last event published.
func (h *Hub) Last() uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
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
	h.closed = true
	for _, t := range h.tails {
		t.wake()
	}
}

// Tail follows the hub's events from a seq on without a queue of its
// own: Ready says there may be more, Read takes them from what the hub
// keeps. One that falls further behind than the hub keeps is dropped,
// as a Subscription is.
type Tail struct {
	hub   *Hub
	after uint64
	index int // in hub.tails; -1 once stopped
	ready chan struct{}
	push  func() bool // set under hub.mu; nil: Ready alone is told
}

// Tail starts following and returns the seq of the last event published
// before it: Read returns what comes after.
func (h *Hub) Tail() (*Tail, uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := &Tail{hub: h, after: h.last, index: len(h.tails), ready: make(chan struct{}, 1)}
	h.tails = append(h.tails, t)
	return t, h.last
}

// wake tells the tail's reader there is news, once however much comes
// before it reads.
func (t *Tail) wake() {
	select {
	case t.ready <- struct{}{}:
	default:
	}
}

// Push has the hub offer news to push, from a goroutine of the hub's,
// before Ready is told: push reads and sends what it can without waiting
// and returns true, or returns false and Ready is signalled, for the
// tail's reader to do it. Pushes of successive publishes may overlap
// (push keeps its Reads apart from each other's and from the reader's: a
// tail has one reader at a time), and one may come after Stop. It saves an idle follower the wake-up of its
// goroutine for every event (see eventStream.push).
func (t *Tail) Push(push func() bool) {
	t.hub.mu.Lock()
	defer t.hub.mu.Unlock()
	t.push = push
}

// Ready receives when events may have been published since the last Read.
func (t *Tail) Ready() <-chan struct{} { return t.ready }

// Read appends the events published after the last read to into, in seq
// order, and returns it. ok=false when the tail is dropped: it fell
// further behind than the hub keeps, or the hub closed.
func (t *Tail) Read(into []*Kept) ([]*Kept, bool) {
	h := t.hub
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed || t.index < 0 {
		return into, false
	}
	if t.after >= h.last {
		return into, true
	}
	if len(h.ring) == 0 || h.ring[0].Seq > t.after+1 {
		return into, false
	}
	into = append(into, h.ring[t.after+1-h.ring[0].Seq:]...)
	t.after = h.last
	return into, true
}

// Skip passes over whatever was published since the last Read or Skip
// and returns the seq of the last event published; ok=false when the hub
// closed. It is for a reader that only needs to know something happened
// (a page that draws itself again from the office's view), which a tail
// serves without keeping a queue of events for it.
func (t *Tail) Skip() (last uint64, ok bool) {
	h := t.hub
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed || t.index < 0 {
		return h.last, false
	}
	t.after = h.last
	return h.last, true
}

// Stop ends the tail.
func (t *Tail) Stop() {
	h := t.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if t.index < 0 {
		return
	}
	end := len(h.tails) - 1
	moved := h.tails[end]
	h.tails[t.index], moved.index = moved, t.index
	h.tails[end] = nil
	h.tails = h.tails[:end]
	t.index = -1
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
