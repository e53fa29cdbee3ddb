// Package actor runs the one goroutine that owns an office's queues.
// Commands queue up to it and are applied in order, so two clerks pressing
// "next" at once never get the same ticket. It commits in groups: it takes
// every command waiting, decides and applies them, writes all their events
// in one bbolt transaction synced to disk, and only then answers the callers
// and publishes the events to the stream. Nothing is acknowledged before it
// is durable, and throughput is not bound by the disk's sync rate.
//
// Several nodes may share one office (Options.Cluster): then one of them,
// the one holding the office's lease, writes its log as above; the others
// follow the log, answer queries from their replica and forward commands
// to the writer (follow.go).
package actor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/numerek/numerek/queue"
)

// Clock tells the actor the time.
type Clock func() time.Time

// Log is where an office's events and snapshots are kept: a bbolt file
// (*store.OfficeLog) or the shared database (pgstore's Office, whose
// Append refuses a node not holding the office's lease).
type Log interface {
	// Append makes events durable; their seqs continue the log.
	Append(events []queue.Event) error
	// Events reads up to limit events with seq > after, in order.
	Events(after uint64, limit int) ([]queue.Event, error)
	SaveSnapshot(s *queue.State) error
	// Load rebuilds the state from the newest snapshot and the events
	// after it.
	Load(o *queue.Office) (*queue.State, error)
}

// Cluster lets several nodes share an office. Without one (nil) the actor
// is the office's only writer, as with a bbolt log.
type Cluster interface {
	// Lead blocks until this node holds the office's lease (or ctx ends)
	// and returns a context that ends the moment it may no longer write.
	Lead(ctx context.Context) (context.Context, error)
	// Changed is signalled when the log may have new events.
	Changed() <-chan struct{}
	// Forward has the office's writer run a command and returns its
	// answer, with the Seq the writer was at when it answered.
	Forward(ctx context.Context, actor string, cmd queue.Command) Result
}

// Options tune an actor; zero values take defaults.
type Options struct {
	// MaxBatch is the most commands committed in one transaction.
	MaxBatch int
	// SnapshotEvery is how many events pass between snapshots.
	SnapshotEvery int
	// HubKeep is how many recent events the stream keeps for resumes.
	HubKeep int
	// ViewEvery is how long a computed view is reused while nothing
	// changes, and how often time alone is checked for a new day.
	ViewEvery time.Duration
	// Observer, when set, hears what each batch came to (for metrics);
	// nil hears nothing.
	Observer Observer
	// Cluster, when set, shares the office with other nodes: the actor
	// follows the log until it holds the office's lease.
	Cluster Cluster
	// PollEvery is how often a follower reads the log even without a
	// signal from Cluster.Changed, which can be lost.
	PollEvery time.Duration
}

// Observer hears what the actor did, on the actor's goroutine, after the
// callers were answered: it must only count (no I/O, no locks others
// hold long, no allocation per command), or it slows every office's
// commands.
type Observer interface {
	// Committed is told how long one group commit of events took to be
	// written and synced; a batch that wrote nothing is not told.
	Committed(events int, took time.Duration)
	// Command is told each command's outcome: err is nil, a *queue.Error
	// (the office refused it), or what failed in storing it.
	Command(cmd queue.Command, err error)
}

func (o *Options) defaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 512
	}
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = 2000
	}
	if o.HubKeep <= 0 {
		o.HubKeep = 10000
	}
	if o.ViewEvery <= 0 {
		o.ViewEvery = 20 * time.Second
	}
	if o.PollEvery <= 0 {
		o.PollEvery = time.Second
	}
}

// Actor owns one office.
type Actor struct {
	office *queue.Office
	log    Log
	clock  Clock
	logger *slog.Logger
	opts   Options

	in   chan job
	hub  *Hub
	seq  atomic.Uint64
	done chan struct{}

	// These belong to the Run goroutine.
	state         *queue.State
	sinceSnapshot int
	// view caches the last view computed, for its seq and time.
	view   queue.View
	viewOK bool

	// sharing is the actor's part in a cluster; nil without one.
	sharing *sharing
}

// job is a command, or a query of the state, waiting for the actor.
type job struct {
	actor string
	cmd   queue.Command
	query func(*queue.State)
	reply chan Result
	// ctx is the caller's, for forwarding the command to another node.
	ctx context.Context
	// here refuses the command unless this node writes the office's log:
	// a command another node forwarded is never forwarded again.
	here bool
}

// Result is what a command came to, after it was made durable.
type Result struct {
	Decision queue.Decision
	// Ticket is the decision's ticket as it stands after the batch.
	Ticket *queue.TicketView
	Err    error
	// Seq is the office's seq when the answer was given.
	Seq uint64
}

// ErrStopped means the actor is no longer running.
var ErrStopped = errors.New("the office is shutting down")

// New restores the office's state from its log; Run must then be started.
func New(o *queue.Office, log Log, clock Clock, logger *slog.Logger, opts Options) (*Actor, error) {
	opts.defaults()
	s, err := log.Load(o)
	if err != nil {
		return nil, fmt.Errorf("restoring office %s: %w", o.ID, err)
	}
	a := &Actor{
		office: o, log: log, clock: clock, logger: logger.With("office", o.ID), opts: opts,
		in: make(chan job, 4*opts.MaxBatch), hub: NewHub(s.Seq, opts.HubKeep),
		done: make(chan struct{}), state: s,
	}
	a.seq.Store(s.Seq)
	if opts.Cluster != nil {
		a.sharing = newSharing()
	}
	return a, nil
}

// Office is the office the actor owns.
func (a *Actor) Office() *queue.Office { return a.office }

// Hub is the office's event fan-out.
func (a *Actor) Hub() *Hub { return a.hub }

// Seq is the seq of the last durable event.
func (a *Actor) Seq() uint64 { return a.seq.Load() }

// View describes the office now. Views are computed on demand, not per
// batch, since a view forecasts every line and most batches are read by
// nobody; one is reused while nothing changes for ViewEvery.
func (a *Actor) View(ctx context.Context) (queue.View, error) {
	var v queue.View
	err := a.Query(ctx, func(s *queue.State) {
		now := a.clock()
		if !a.viewOK || a.view.Seq != s.Seq || now.Sub(a.view.At) >= a.opts.ViewEvery || now.Before(a.view.At) {
			a.view, a.viewOK = s.View(now), true
		}
		v = a.view
	})
	return v, err
}

// Do runs a command and returns once its events are durable. On a node
// that does not write the office's log it is forwarded to the one that
// does, and answered once this node's replica has caught up with it.
func (a *Actor) Do(ctx context.Context, actor string, cmd queue.Command) Result {
	return a.do(ctx, job{actor: actor, cmd: cmd, ctx: ctx})
}

// DoIfLeading runs a command another node forwarded: here, or not at all
// (ErrNotLeading) when this node does not write the office's log.
func (a *Actor) DoIfLeading(ctx context.Context, actor string, cmd queue.Command) Result {
	return a.do(ctx, job{actor: actor, cmd: cmd, ctx: ctx, here: true})
}

func (a *Actor) do(ctx context.Context, j job) Result {
	reply := make(chan Result, 1)
	j.reply = reply
	select {
	case a.in <- j:
	case <-a.done:
		return Result{Err: ErrStopped}
	case <-ctx.Done():
		return Result{Err: ctx.Err()}
	}
	select {
	case r := <-reply:
		return r
	case <-a.done:
		return Result{Err: ErrStopped}
	}
}

// Query runs fn on the state inside the actor, between batches, when
// everything applied is durable and published. fn must not keep the state.
func (a *Actor) Query(ctx context.Context, fn func(*queue.State)) error {
	reply := make(chan Result, 1)
	select {
	case a.in <- job{query: fn, reply: reply}:
	case <-a.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
		return nil
	case <-a.done:
		return ErrStopped
	}
}

// Snapshot encodes the state for a stream client to start from, with the
// seq it is at.
func (a *Actor) Snapshot(ctx context.Context) (seq uint64, state json.RawMessage, err error) {
	qerr := a.Query(ctx, func(s *queue.State) {
		seq = s.Seq
		state, err = json.Marshal(s)
	})
	if qerr != nil {
		return 0, nil, qerr
	}
	return seq, state, err
}

// EventsAfter reads durable events from the log.
func (a *Actor) EventsAfter(after uint64, limit int) ([]queue.Event, error) {
	return a.log.Events(after, limit)
}

// Run serves commands until ctx ends, then writes a last snapshot. With a
// Cluster it follows the log, or leads while it holds the lease; ctx
// ending gives up nothing itself (whoever runs it releases the lease).
func (a *Actor) Run(ctx context.Context) {
	defer close(a.done)
	defer a.hub.Close()
	refresh := time.NewTicker(a.opts.ViewEvery)
	defer refresh.Stop()
	if a.sharing != nil {
		a.share(ctx, refresh.C)
		return
	}
	for {
		select {
		case <-ctx.Done():
			if err := a.log.SaveSnapshot(a.state); err != nil {
				a.logger.Error("saving the last snapshot", "err", err)
			}
			return
		case j := <-a.in:
			a.batch(a.drain(j))
		case <-refresh.C:
			// Time alone may start a new day.
			a.batch(nil)
		}
	}
}

// drain collects the jobs already waiting behind first, up to MaxBatch.
func (a *Actor) drain(first job) []job {
	jobs := []job{first}
	for len(jobs) < a.opts.MaxBatch {
		select {
		case j := <-a.in:
			jobs = append(jobs, j)
		default:
			return jobs
		}
	}
	return jobs
}

// batch decides jobs, makes their events durable and answers them; it
// returns what failed in storing them (the jobs are answered with it).
func (a *Actor) batch(jobs []job) error {
	now := a.clock()
	var pending []queue.Event
	results := make([]Result, len(jobs))
	// Time alone (a new day) comes first, even with no command.
	if len(jobs) == 0 {
		events, err := a.state.Advance(now, "system")
		if err != nil {
			a.logger.Error("advancing the clock", "err", err)
		}
		pending = append(pending, events...)
	}
	for i, j := range jobs {
		if j.query != nil {
			continue
		}
		events, d, err := a.state.Execute(now, j.actor, j.cmd)
		pending = append(pending, events...)
		results[i] = Result{Decision: d, Err: err}
	}
	if len(pending) > 0 {
		began := time.Now()
		if err := a.log.Append(pending); err != nil {
			a.fail(jobs, err)
			return err
		}
		if a.opts.Observer != nil {
			a.opts.Observer.Committed(len(pending), time.Since(began))
		}
		a.hub.Publish(pending)
		a.seq.Store(a.state.Seq)
		a.sinceSnapshot += len(pending)
		if a.sharing != nil {
			a.sharing.advanced()
		}
	}
	// One forecast serves every ticket the batch answers with.
	var ids []string
	for _, r := range results {
		if r.Err == nil && r.Decision.Ticket != "" {
			ids = append(ids, r.Decision.Ticket)
		}
	}
	views := a.state.TicketViews(now, ids)
	for i, j := range jobs {
		if j.query != nil {
			j.query(a.state)
			j.reply <- Result{}
			continue
		}
		r := results[i]
		if tv, ok := views[r.Decision.Ticket]; ok && r.Err == nil {
			r.Ticket = &tv
		}
		r.Seq = a.state.Seq
		j.reply <- r
	}
	if a.opts.Observer != nil {
		a.observe(jobs, results)
	}
	if a.sinceSnapshot >= a.opts.SnapshotEvery {
		if err := a.log.SaveSnapshot(a.state); err != nil {
			a.logger.Error("saving a snapshot", "err", err)
		} else {
			a.sinceSnapshot = 0
		}
	}
	return nil
}

// observe tells the observer each command's outcome, once the callers
// have their answers.
func (a *Actor) observe(jobs []job, results []Result) {
	for i, j := range jobs {
		if j.query == nil {
			a.opts.Observer.Command(j.cmd, results[i].Err)
		}
	}
}

// fail answers a batch whose events could not be made durable and puts the
// state back to what the log holds, so nothing unacknowledged lingers.
// What the log holds may be more than the hub published (a database that
// committed but could not say so): a follower publishes it (follow.go).
func (a *Actor) fail(jobs []job, err error) {
	a.logger.Error("writing events failed; the batch is refused", "err", err, "commands", len(jobs))
	werr := fmt.Errorf("storing the change: %w", err)
	for _, j := range jobs {
		j.reply <- Result{Err: werr}
	}
	if a.opts.Observer != nil {
		for _, j := range jobs {
			if j.query == nil {
				a.opts.Observer.Command(j.cmd, werr)
			}
		}
	}
	s, lerr := a.log.Load(a.office)
	if lerr != nil {
		a.logger.Error("reloading the state after a failed write", "err", lerr)
		if a.sharing != nil {
			a.sharing.stale = true
		}
		return
	}
	a.state = s
}
