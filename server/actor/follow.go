package actor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numerek/numerek/queue"
)

// ErrNotLeading refuses a forwarded command at a node that does not (or no
// longer) write the office's log; the forwarding node asks again where
// the lease now is.
var ErrNotLeading = errors.New("this node does not write the office's log")

// readYourWrites is how long a follower waits for its replica to reach a
// forwarded command's answer before it answers anyway: a client reading on
// this node right after may then not see its own change, which is better
// than no answer when the log cannot be read.
const readYourWrites = 2 * time.Second

// catchUpBatch is how many events a follower reads from the log at once.
const catchUpBatch = 1000

// sharing is an actor's part in a cluster.
type sharing struct {
	leading atomic.Bool

	mu sync.Mutex
	// progress is closed, and replaced, each time the replica's seq moves,
	// for forwarded commands waiting for it.
	progress chan struct{}
	// wake asks the actor to read the log now.
	wake chan struct{}

	// These belong to the Run goroutine.
	lease   context.Context // held and in use; nil while following
	pending context.Context // won, but the replica has not reached the log's end yet
	// stale says the state may hold what the log does not (a reload
	// failed): it is loaded again before anything else.
	stale bool
}

func newSharing() *sharing {
	return &sharing{progress: make(chan struct{}), wake: make(chan struct{}, 1)}
}

func (s *sharing) advanced() {
	s.mu.Lock()
	close(s.progress)
	s.progress = make(chan struct{})
	s.mu.Unlock()
}

func (s *sharing) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress
}

func (s *sharing) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Leading reports whether this node writes the office's log now; always
// true without a Cluster.
func (a *Actor) Leading() bool {
	return a.sharing == nil || a.sharing.leading.Load()
}

// share is Run with a Cluster: follow the log until the lease is won,
// then lead until it is lost or an append fails, and follow again.
func (a *Actor) share(ctx context.Context, refresh <-chan time.Time) {
	sh := a.sharing
	won := make(chan context.Context)
	var seeking sync.WaitGroup
	seeking.Go(func() { a.seekLease(ctx, won) })
	defer seeking.Wait()
	poll := time.NewTicker(a.opts.PollEvery)
	defer poll.Stop()
	a.catchUpLogged()
	for {
		var leaseEnded <-chan struct{}
		if sh.lease != nil {
			leaseEnded = sh.lease.Done()
		}
		select {
		case <-ctx.Done():
			if sh.lease != nil && sh.lease.Err() == nil {
				if err := a.log.SaveSnapshot(a.state); err != nil {
					a.logger.Error("saving the last snapshot", "err", err)
				}
			}
			return
		case j := <-a.in:
			jobs := a.drain(j)
			if !a.stillLeading() {
				a.answerFollowing(ctx, jobs)
				continue
			}
			a.leadBatch(jobs)
		case <-refresh:
			// Time alone may start a new day: only the writer says so.
			if a.stillLeading() {
				a.leadBatch(nil)
			}
		case <-a.opts.Cluster.Changed():
			a.followerCatchUp()
		case <-sh.wake:
			a.followerCatchUp()
		case <-poll.C:
			a.followerCatchUp()
		case l := <-won:
			sh.pending = l
			a.promote()
		case <-leaseEnded:
			a.follow("the lease ended")
		}
	}
}

// stillLeading says whether the actor leads, and makes it a follower if
// its lease has ended since it last looked: the select that would have
// told it may have picked a job first.
func (a *Actor) stillLeading() bool {
	sh := a.sharing
	if sh.lease != nil && sh.lease.Err() != nil {
		a.follow("the lease ended")
	}
	return sh.lease != nil
}

// leadBatch runs a batch as the writer; a failed append makes the actor a
// follower, which leads again at once if the lease still holds (the log
// refuses the batch of a node that lost it, so a refusal with the lease
// still ours was the database's trouble, not a new writer).
func (a *Actor) leadBatch(jobs []job) {
	err := a.batch(jobs)
	if err == nil {
		return
	}
	sh := a.sharing
	lease := sh.lease
	a.follow("writing the log failed")
	a.followerCatchUp()
	if lease.Err() == nil {
		sh.pending = lease
		a.promote()
	}
}

// seekLease asks for the lease, hands it to the actor, and asks again
// once it ends, until ctx ends.
func (a *Actor) seekLease(ctx context.Context, won chan<- context.Context) {
	for {
		lease, err := a.opts.Cluster.Lead(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			a.logger.Warn("asking for the office's lease", "err", err)
			select {
			case <-time.After(a.opts.PollEvery):
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case won <- lease:
		case <-ctx.Done():
			return
		}
		select {
		case <-lease.Done():
		case <-ctx.Done():
			return
		}
	}
}

// promote leads with the pending lease once the replica has read the log
// to its end; if it cannot yet, the next poll tries again.
func (a *Actor) promote() {
	sh := a.sharing
	if sh.pending == nil {
		return
	}
	if sh.pending.Err() != nil {
		sh.pending = nil
		return
	}
	if err := a.catchUp(); err != nil {
		a.logger.Error("reading the log before leading", "err", err)
		return
	}
	sh.lease, sh.pending = sh.pending, nil
	a.sinceSnapshot = 0
	sh.leading.Store(true)
	a.logger.Info("leading the office", "seq", a.state.Seq)
}

// follow stops writing. The state needs no reload: every batch was either
// appended or, when the append failed, reloaded from the log (fail).
func (a *Actor) follow(why string) {
	sh := a.sharing
	if sh.lease == nil {
		return
	}
	sh.lease = nil
	sh.leading.Store(false)
	a.logger.Warn("following the office: "+why, "seq", a.state.Seq)
}

// ErrNotForwarded is a Cluster's answer for a command it sends to no
// other node: the lease names this node's own address (its run before a
// restart, whose lease has not yet expired, or this run about to lead),
// or the node has no secret to forward with and so is the only one. The
// actor keeps the command and runs it once it leads.
var ErrNotForwarded = errors.New("not forwarded: this node is to write the office")

// notForwardedPause is how long a command not forwarded waits before the
// actor looks at it again.
const notForwardedPause = 100 * time.Millisecond

// answerFollowing answers queries from the replica and forwards commands,
// each in its own goroutine: the network never holds up the actor.
func (a *Actor) answerFollowing(ctx context.Context, jobs []job) {
	for _, j := range jobs {
		switch {
		case j.query != nil:
			j.query(a.state)
			j.reply <- Result{}
		case j.here:
			j.reply <- Result{Err: ErrNotLeading, Seq: a.state.Seq}
		default:
			go a.forward(ctx, j)
		}
	}
}

// forward has the writer run j's command and answers j once this node's
// replica has reached the answer's seq (or readYourWrites passed). It
// gives up when the caller does or the actor stops (run ends).
func (a *Actor) forward(run context.Context, j job) {
	ctx, cancel := context.WithCancel(j.ctx)
	defer cancel()
	defer context.AfterFunc(run, cancel)()
	r := a.opts.Cluster.Forward(ctx, j.actor, j.cmd)
	if errors.Is(r.Err, ErrNotForwarded) {
		// The writer to be is this node: the command goes back to the
		// actor a moment later, to be run here once it leads.
		pause := time.NewTimer(notForwardedPause)
		defer pause.Stop()
		select {
		case <-pause.C:
			select {
			case a.in <- j:
				return
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
		j.reply <- Result{Err: fmt.Errorf("waiting for this node to write office %s: %w", a.office.ID, ctx.Err())}
		return
	}
	if !a.reach(ctx, r.Seq) && ctx.Err() == nil {
		a.logger.Warn("answering a forwarded command before the replica caught up", "seq", a.seq.Load(), "want", r.Seq)
	}
	j.reply <- r
}

// CatchUp waits until this node's replica has reached seq, for at most
// readYourWrites: a stream resumed on a follower (Last-Event-ID from
// another node) then goes on from where its client was, instead of from
// a snapshot older than what the client has. It returns at once on a
// node without a cluster, and tells whether seq was reached.
func (a *Actor) CatchUp(ctx context.Context, seq uint64) bool {
	if a.sharing == nil {
		return a.seq.Load() >= seq
	}
	return a.reach(ctx, seq)
}

// reach waits for the replica to reach seq (see CatchUp).
func (a *Actor) reach(ctx context.Context, seq uint64) bool {
	if a.seq.Load() >= seq {
		return true
	}
	a.sharing.nudge()
	timeout := time.NewTimer(readYourWrites)
	defer timeout.Stop()
	for {
		progress := a.sharing.next()
		if a.seq.Load() >= seq {
			return true
		}
		select {
		case <-progress:
		case <-timeout.C:
			return false
		case <-ctx.Done():
			return false
		case <-a.done:
			return false
		}
	}
}

// followerCatchUp reads new events from the log while following, and tries
// a lease won meanwhile.
func (a *Actor) followerCatchUp() {
	sh := a.sharing
	if sh.lease != nil {
		return
	}
	a.catchUpLogged()
	a.promote()
}

func (a *Actor) catchUpLogged() {
	if err := a.catchUp(); err != nil {
		a.logger.Error("following the office's log", "err", err)
	}
}

// catchUp applies the log's events after the state's seq and publishes
// them to the hub, as the writer's own batches are.
func (a *Actor) catchUp() error {
	sh := a.sharing
	if sh.stale {
		s, err := a.log.Load(a.office)
		if err != nil {
			return fmt.Errorf("reloading the state: %w", err)
		}
		a.state, sh.stale = s, false
	}
	// What the state holds but the hub has not published (a reload after
	// an append that was written though it failed) goes out first.
	if last := a.hub.Last(); last < a.state.Seq {
		events, err := a.log.Events(last, int(a.state.Seq-last))
		if err != nil {
			return fmt.Errorf("reading events %d to %d to publish: %w", last+1, a.state.Seq, err)
		}
		a.published(events)
	}
	for {
		events, err := a.log.Events(a.state.Seq, catchUpBatch)
		if err != nil {
			return fmt.Errorf("reading events after %d: %w", a.state.Seq, err)
		}
		for i, e := range events {
			if err := a.state.Apply(e); err != nil {
				// The state may be half changed: publish what applied and
				// load it afresh next time.
				a.published(events[:i])
				sh.stale = true
				return err
			}
		}
		a.published(events)
		if len(events) < catchUpBatch {
			return nil
		}
	}
}

// published hands events the state has applied to the hub.
func (a *Actor) published(events []queue.Event) {
	if len(events) == 0 {
		return
	}
	a.hub.Publish(events)
	a.seq.Store(events[len(events)-1].Seq)
	a.sharing.advanced()
}
