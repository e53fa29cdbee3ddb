package actor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
)

// farCluster never gives this node the lease, and its writer answers with
// a seq the log never reaches: a writer whose events this node cannot read.
type farCluster struct{ forwarded chan queue.Command }

func (farCluster) Lead(ctx context.Context) (context.Context, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (farCluster) Changed() <-chan struct{} { return nil }

func (c farCluster) Forward(ctx context.Context, actor string, cmd queue.Command) Result {
	c.forwarded <- cmd
	return Result{Decision: queue.Decision{Ticket: "far"}, Seq: 1 << 40}
}

func TestWithoutAClusterTheActorLeadsAndSaysItsSeq(t *testing.T) {
	o := benchOffice()
	h := start(t, o, t.TempDir(), fixedClock(time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)), Options{})
	defer h.stop()
	if !h.a.Leading() {
		t.Error("an actor without a cluster does not lead")
	}
	r := h.a.DoIfLeading(context.Background(), "t", queue.Issue{Service: "s00", Lang: "pl", Channel: queue.ChannelKiosk})
	if r.Err != nil || r.Seq == 0 || r.Seq != h.a.Seq() {
		t.Errorf("issuing came to seq %d (%v); the actor is at %d", r.Seq, r.Err, h.a.Seq())
	}
}

func TestFollowerAnswersWhenItsReplicaCannotCatchUp(t *testing.T) {
	o := benchOffice()
	c := farCluster{forwarded: make(chan queue.Command, 1)}
	h := start(t, o, t.TempDir(), fixedClock(time.Date(2026, 11, 23, 9, 0, 0, 0, o.Location)), Options{Cluster: c})
	defer h.stop()
	if h.a.Leading() {
		t.Fatal("the actor leads without the lease")
	}
	ctx := context.Background()
	if r := h.a.DoIfLeading(ctx, "t", queue.CallNext{Counter: 1}); !errors.Is(r.Err, ErrNotLeading) {
		t.Errorf("a forwarded command at a follower came to %v, want ErrNotLeading", r.Err)
	}
	began := time.Now()
	r := h.a.Do(ctx, "t", queue.CallNext{Counter: 1})
	if r.Decision.Ticket != "far" || r.Err != nil {
		t.Errorf("the follower answered %+v, not the writer's answer", r)
	}
	if took := time.Since(began); took < readYourWrites {
		t.Errorf("answered after %v, before its replica caught up or %v passed", took, readYourWrites)
	}
	if cmd := <-c.forwarded; cmd != (queue.CallNext{Counter: 1}) {
		t.Errorf("forwarded %#v", cmd)
	}
	if _, err := h.a.View(ctx); err != nil {
		t.Errorf("the follower cannot show its replica: %v", err)
	}
}
