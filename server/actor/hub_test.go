package actor

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
)

// A follower gets the events in order, in batches; one that falls too
// far behind is told it was dropped and goes on with the events after.
func TestFollow(t *testing.T) {
	h := NewHub(0, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Unbuffered: the follower hands each batch over before it can tell of
	// the drop, so the order the test sees is the order it acted in.
	batches := make(chan []queue.Event)
	holding, hold := make(chan struct{}), make(chan struct{})
	dropped := make(chan struct{}, 1)
	go func() {
		first := true
		h.Follow(ctx, func(events []queue.Event) {
			if first {
				first = false
				close(holding)
				<-hold
			}
			batches <- events
		}, func() { dropped <- struct{}{} })
	}()
	waitfor.Until(t, "the follower subscribed", 5*time.Second, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.subs) == 1
	})
	publish := func(from, to uint64) {
		for seq := from; seq <= to; seq++ {
			h.Publish([]queue.Event{{Seq: seq}})
		}
	}
	// Held in its first batch, the follower falls behind by more than a
	// subscriber may.
	publish(1, 1)
	<-holding
	publish(2, subscriberBuffer+10)
	close(hold)
	// What it had before the drop comes in order, then the drop is told.
	last := uint64(0)
	timeout := time.After(10 * time.Second)
	for told := false; !told; {
		select {
		case b := <-batches:
			for _, e := range b {
				if e.Seq != last+1 {
					t.Fatalf("event %d after %d", e.Seq, last)
				}
				last = e.Seq
			}
		case <-dropped:
			told = true
		case <-timeout:
			t.Fatal("the follower was never told it was dropped")
		}
	}
	if last == 0 || last >= subscriberBuffer+10 {
		t.Errorf("before the drop the follower got events up to %d", last)
	}
	publish(subscriberBuffer+100, subscriberBuffer+100)
	for {
		select {
		case b := <-batches:
			if b[len(b)-1].Seq == subscriberBuffer+100 {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatal("nothing came after the drop")
		}
	}
}

// A tail reads what was published after it started, in order, each
// event's encoding made once for all tails; one that falls further
// behind than the hub keeps, or whose hub closes, is dropped.
// A page's tail learns that something happened and the last seq, however
// far behind it is, and that the hub closed.
func TestTailSkip(t *testing.T) {
	h := NewHub(0, 10)
	tail, _ := h.Tail()
	for seq := uint64(1); seq <= 100; seq++ {
		h.Publish([]queue.Event{{Seq: seq}})
	}
	select {
	case <-tail.Ready():
	default:
		t.Fatal("the tail was not told of the events")
	}
	if last, ok := tail.Skip(); !ok || last != 100 {
		t.Fatalf("skipped to %d (ok %v), want 100: a page 100 events behind keeps streaming", last, ok)
	}
	if got, ok := tail.Read(nil); !ok || len(got) != 0 {
		t.Errorf("after a skip, a read found %d events", len(got))
	}
	h.Close()
	<-tail.Ready()
	if _, ok := tail.Skip(); ok {
		t.Error("a tail of a closed hub skips on")
	}
}

func TestTail(t *testing.T) {
	h := NewHub(0, 10)
	a, last := h.Tail()
	b, _ := h.Tail()
	if last != 0 {
		t.Fatalf("a tail of an empty hub starts after %d", last)
	}
	publish := func(from, to uint64) {
		for seq := from; seq <= to; seq++ {
			h.Publish([]queue.Event{{Seq: seq}})
		}
	}
	publish(1, 3)
	select {
	case <-a.Ready():
	default:
		t.Fatal("a tail was not told of the events")
	}
	got, ok := a.Read(nil)
	if !ok || len(got) != 3 || got[0].Seq != 1 || got[2].Seq != 3 {
		t.Fatalf("read %d events (ok %v), want 1..3", len(got), ok)
	}
	encodings := 0
	encode := func(e queue.Event) ([]byte, error) { encodings++; return []byte{byte(e.Seq)}, nil }
	fromB, _ := b.Read(nil)
	for i := range got {
		x, _ := got[i].Encoded(encode)
		y, _ := fromB[i].Encoded(encode)
		if &x[0] != &y[0] {
			t.Errorf("event %d encoded twice", got[i].Seq)
		}
	}
	if encodings != 3 {
		t.Errorf("%d encodings for 3 events read by two tails", encodings)
	}
	if again, ok := a.Read(nil); !ok || len(again) != 0 {
		t.Errorf("a second read found %d events", len(again))
	}
	b.Stop()
	publish(4, 4+uint64(subscriberBuffer))
	if _, ok := b.Read(nil); ok {
		t.Error("a stopped tail still reads")
	}
	if _, ok := a.Read(nil); ok {
		t.Errorf("a tail %d events behind is not dropped", subscriberBuffer+1)
	}
	c, _ := h.Tail()
	h.Close()
	if _, ok := c.Read(nil); ok {
		t.Error("a tail of a closed hub still reads")
	}
}

// A tail that pushes is offered each publish's events from a goroutine
// of the hub's, and its Ready is told only when the push leaves them to
// it; a tail among many is offered them as one alone is.
func TestTailPush(t *testing.T) {
	h := NewHub(0, 10)
	const others = 3 * pushPart // enough for several of the hub's goroutines
	for range others {
		o, _ := h.Tail()
		var reading sync.Mutex // a tail has one reader at a time
		o.Push(func() bool {
			if !reading.TryLock() {
				return false
			}
			defer reading.Unlock()
			_, _ = o.Read(nil)
			return true
		})
	}
	tail, _ := h.Tail()
	defer tail.Stop()
	offered := make(chan []uint64, 4)
	take := make(chan bool, 4)
	tail.Push(func() bool {
		kept, _ := tail.Read(nil)
		var seqs []uint64
		for _, k := range kept {
			seqs = append(seqs, k.Seq)
		}
		offered <- seqs
		return <-take
	})
	offer := func(seq uint64, taken bool) {
		t.Helper()
		take <- taken
		h.Publish([]queue.Event{{Seq: seq}})
		select {
		case got := <-offered:
			if len(got) != 1 || got[0] != seq {
				t.Fatalf("offered %v, want [%d]", got, seq)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d was not offered to the pushing tail", seq)
		}
	}
	offer(1, true)
	offer(2, false)
	select {
	case <-tail.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("a push that left the event to the tail's reader did not tell its Ready")
	}
	offer(3, true)
	// The hub's goroutines for seq 3 end with the push's answer: a Ready
	// told after it was taken would show by the time a later push declines.
	offer(4, false)
	<-tail.Ready()
	select {
	case <-tail.Ready():
		t.Error("Ready was told of events a push had taken")
	default:
	}
}
