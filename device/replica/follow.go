package replica

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// Follower keeps a device's copy of an office's state in step with the
// server: it reads the office's event stream and folds each event with
// queue.Apply, as the server does, so both agree on who was called.
//
// After any break it resumes from the last event it applied (with growing,
// jittered waits between tries); an event that does not fit (a gap, a
// server restored from a backup) makes it start again from a snapshot. It
// keeps the state on disk, so a restarted device shows the last known
// state at once and resumes from there.
type Follower struct {
	client *protocol.Client
	db     *store.DeviceDB
	clock  *Clock
	log    *slog.Logger
	opts   FollowOptions

	mu         sync.Mutex
	watchers   []*Watcher
	office     *queue.Office
	officeJSON json.RawMessage
	state      *queue.State
	resync     bool // the state no longer fits the stream: take a snapshot
	dirty      bool // changed since last saved
	connected  bool
	online     bool
	// heard is when the last byte of the stream arrived (UnixNano).
	heard   atomic.Int64
	offline *time.Timer
	status  FollowStatus
}

// FollowOptions tune a Follower; the zero value is sensible.
type FollowOptions struct {
	// SaveEvery bounds how often the state is written to disk (an SD card
	// wears): default 5 s. It is also written when Run returns.
	SaveEvery time.Duration
	// OfflineAfter is how long the server may go unheard before the
	// device counts as offline (a server restart should not flash a
	// warning on every screen): default 5 s. It counts from the last byte
	// of a stream that went silent, and from the end of one that was
	// closed.
	OfflineAfter time.Duration
	// StallAfter is how long a stream, or the wait for one to open, may
	// stay silent before it is taken for dead (the server sends a
	// heartbeat every Heartbeat): default StallAfter, 7.5 s. A silent cut
	// thus shows as offline within StallAfter.
	StallAfter time.Duration
	// Backoff spaces out reconnections: default 0.5 s doubling to 5 s.
	// Its top is how long a screen may still say "offline" after the
	// server is back (and a kiosk hold its offline tickets): 5 s keeps
	// that short after a server's restart, and the jitter spreads the
	// devices' returns over 2.5-5 s; a thousand devices at that pace are
	// 300 refused connections a second, nothing to a server or a proxy.
	Backoff protocol.Backoff
	// OnControl, when set, asks the server for the device's control
	// events (protocol.ActionEvent, SettingsEvent, RevokedEvent) on the
	// stream and receives each, on the stream's goroutine: it must not
	// block.
	OnControl func(sse.Message)
}

// FollowStatus says how the following goes.
type FollowStatus struct {
	// Online: the stream is up, or was lost less than OfflineAfter ago.
	Online bool `json:"online"`
	// Seq is the last event folded in.
	Seq uint64 `json:"seq"`
	// LastEvent is when the last event was received (device clock).
	LastEvent time.Time `json:"last_event,omitzero"`
	// LagMS is how long after the server committed the last event it was
	// folded in here, both on the server's clock (the device's Clock); 0
	// while the Clock does not know the server's time.
	LagMS int64 `json:"lag_ms"`
	// Connects counts streams opened, Snapshots the snapshots received,
	// Resyncs those taken because the state no longer fitted, and Rewinds
	// those that took the state back to an earlier seq (a server restored
	// from a backup): seqs seen before may come again for other events.
	Connects  int `json:"connects"`
	Snapshots int `json:"snapshots"`
	Resyncs   int `json:"resyncs"`
	Rewinds   int `json:"rewinds"`
	// LastError is what broke the stream last.
	LastError string `json:"last_error,omitempty"`
}

// NewFollower returns a follower of client's office that keeps its state
// in db and teaches clock the server's time.
func NewFollower(client *protocol.Client, db *store.DeviceDB, clock *Clock, log *slog.Logger, opts FollowOptions) *Follower {
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = 5 * time.Second
	}
	if opts.OfflineAfter <= 0 {
		opts.OfflineAfter = 5 * time.Second
	}
	if opts.StallAfter <= 0 {
		opts.StallAfter = protocol.StallAfter
	}
	if opts.Backoff.Max <= 0 {
		opts.Backoff.Max = 5 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Follower{client: client, db: db, clock: clock, log: log, opts: opts}
}

// Restore loads the state saved by the last run, if any, and reports
// whether there was one. A saved state of another office, or one that
// cannot be read, is left aside.
func (f *Follower) Restore() (bool, error) {
	saved, ok, err := f.db.LoadFollowed()
	if err != nil || !ok {
		return false, err
	}
	var o queue.Office
	if err := json.Unmarshal(saved.Office, &o); err != nil {
		f.log.Warn("the saved office cannot be read; waiting for the server", "err", err)
		return false, nil
	}
	if o.ID != f.client.Office() {
		f.log.Warn("the saved state is of another office; waiting for the server", "saved", o.ID, "office", f.client.Office())
		return false, nil
	}
	s := queue.NewState(&o)
	if err := json.Unmarshal(saved.State, s); err != nil {
		f.log.Warn("the saved state cannot be read; waiting for the server", "err", err)
		return false, nil
	}
	s.Restore(&o)
	f.mu.Lock()
	f.office, f.officeJSON, f.state = &o, saved.Office, s
	f.status.Seq = s.Seq
	f.replaced(false)
	f.mu.Unlock()
	f.log.Info("showing the state saved at the last run", "seq", s.Seq, "saved", saved.SavedAt)
	return true, nil
}

// Read calls fn with the state under the follower's lock and reports
// whether there is a state yet. fn must not keep the state; the state's
// View and CanIssue may be called in it.
func (f *Follower) Read(fn func(*queue.State)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == nil {
		return false
	}
	fn(f.state)
	return true
}

// Office is the office's configuration, or nil before it is known.
func (f *Follower) Office() *queue.Office {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.office
}

// Status says how the following goes.
func (f *Follower) Status() FollowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.status
	st.Online = f.online
	return st
}

// Heard says whether a stream is open now and when its last byte (an
// event or a heartbeat) arrived, on the device's clock; zero before any.
func (f *Follower) Heard() (connected bool, at time.Time) {
	f.mu.Lock()
	connected = f.connected
	f.mu.Unlock()
	if n := f.heard.Load(); n != 0 {
		at = time.Unix(0, n)
	}
	return connected, at
}

// Online reports whether the server can be reached (see FollowStatus).
func (f *Follower) Online() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.online
}

// Run follows the stream until ctx ends, then saves the state.
func (f *Follower) Run(ctx context.Context) error {
	saveDone := make(chan struct{})
	go func() {
		defer close(saveDone)
		f.saveLoop(ctx)
	}()
	defer func() {
		<-saveDone
		f.save()
	}()
	backoff := f.opts.Backoff
	for ctx.Err() == nil {
		started := time.Now()
		err := f.session(ctx)
		silentSince := time.Now()
		if errors.Is(err, errStalled) {
			silentSince = time.Unix(0, f.heard.Load())
		}
		f.setDisconnected(silentSince)
		if ctx.Err() != nil {
			break
		}
		f.mu.Lock()
		f.status.LastError = err.Error()
		resync := f.resync
		f.mu.Unlock()
		if resync {
			// A gap: a snapshot is one request away, no need to wait.
			f.log.Warn("the state no longer fits the server's events; taking a snapshot", "err", err)
			continue
		}
		if time.Since(started) > 10*time.Second {
			backoff.Reset()
		}
		wait := backoff.Next()
		f.log.Info("event stream down; retrying", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return nil
}

// errResync ends a session whose state no longer fits the stream.
var errResync = errors.New("event does not fit the state")

// errStalled ends a session whose stream went silent.
var errStalled = errors.New("no data on the event stream")

// session reads the office's configuration and its stream until the
// stream breaks.
func (f *Follower) session(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hello, helloDone := context.WithTimeout(ctx, 10*time.Second)
	o, raw, err := f.client.Config(hello)
	if err == nil {
		f.setOffice(o, raw)
		// The view is only for the clock; the stream brings the state.
		if _, verr := f.client.View(hello); verr != nil {
			f.log.Debug("reading the view for the clock", "err", verr)
		}
	}
	helloDone()
	if err != nil {
		return err
	}
	// The watchdog bounds the wait for the stream's answer as well as
	// each silence in it: a connection cut without a FIN leaves a read
	// waiting for ever, so only a deadline notices it.
	var stalled atomic.Bool
	watchdog := time.AfterFunc(f.opts.StallAfter, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()
	f.heard.Store(time.Now().UnixNano())
	resp, err := f.client.Events(ctx, f.cursor(), f.opts.OnControl != nil)
	if err != nil {
		if stalled.Load() {
			return fmt.Errorf("%w: the stream did not open within %v", errStalled, f.opts.StallAfter)
		}
		return err
	}
	defer resp.Body.Close()
	f.setConnected()
	body := &watchedReader{r: resp.Body, timer: watchdog, after: f.opts.StallAfter, heard: &f.heard}
	err = sse.Read(body, f.handle)
	switch {
	case stalled.Load():
		return fmt.Errorf("%w for %v", errStalled, f.opts.StallAfter)
	case err == nil:
		return errors.New("the server ended the event stream")
	}
	return err
}

// watchedReader restarts a watchdog timer whenever data arrives: a read
// deadline that every byte moves on, and notes when it came.
type watchedReader struct {
	r     io.Reader
	timer *time.Timer
	after time.Duration
	heard *atomic.Int64
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 {
		w.timer.Reset(w.after)
		w.heard.Store(time.Now().UnixNano())
	}
	return n, err
}

// cursor is the seq to resume after: 0 asks for a snapshot.
func (f *Follower) cursor() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == nil || f.resync {
		return 0
	}
	return f.state.Seq
}

// setOffice takes the office's configuration; a changed one needs a
// snapshot folded against it.
func (f *Follower) setOffice(o *queue.Office, raw json.RawMessage) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.office != nil && string(raw) == string(f.officeJSON) {
		return
	}
	if f.office != nil {
		f.log.Info("the office's configuration changed; taking a snapshot")
	}
	f.office, f.officeJSON = o, raw
	if f.state != nil {
		// Until the snapshot comes, keep showing the last state, now
		// against the new configuration.
		f.state.Restore(o)
		f.resync = true
		f.replaced(false)
	}
}

// setConnected records that a stream is open.
func (f *Follower) setConnected() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offline != nil {
		f.offline.Stop()
		f.offline = nil
	}
	if f.connected {
		return
	}
	f.connected = true
	f.status.Connects++
	if !f.online {
		f.online = true
		f.log.Info("following the office's events", "office", f.client.Office(), "after", f.status.Seq)
		f.onlineChanged()
	}
}

// setDisconnected records that the stream is down, the server unheard
// since silentSince: the device goes offline OfflineAfter from then (at
// once, after a stream that stalled for longer).
func (f *Follower) setDisconnected(silentSince time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected = false
	if !f.online || f.offline != nil {
		return
	}
	wait := f.opts.OfflineAfter - time.Since(silentSince)
	if wait <= 0 {
		f.goOffline(silentSince)
		return
	}
	f.offline = time.AfterFunc(wait, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.offline = nil
		if !f.connected {
			f.goOffline(silentSince)
		}
	})
}

// goOffline says the server cannot be reached. f.mu must be held.
func (f *Follower) goOffline(silentSince time.Time) {
	if !f.online {
		return
	}
	f.online = false
	f.log.Warn("the server cannot be reached", "unheard_for", time.Since(silentSince).Round(time.Millisecond))
	f.onlineChanged()
}

// handle folds one message of the stream into the state.
func (f *Follower) handle(m sse.Message) error {
	recv := time.Now()
	switch m.Event {
	case protocol.ActionEvent, protocol.SettingsEvent, protocol.RevokedEvent:
		if f.opts.OnControl != nil {
			f.opts.OnControl(m)
		}
		return nil
	}
	if m.Event == protocol.SnapshotEvent {
		var snap protocol.Snapshot
		if err := json.Unmarshal(m.Data, &snap); err != nil {
			return fmt.Errorf("reading a snapshot: %w", err)
		}
		f.mu.Lock()
		o := f.office
		f.mu.Unlock()
		s := queue.NewState(o)
		if err := json.Unmarshal(snap.State, s); err != nil {
			return fmt.Errorf("reading the snapshot at %d: %w", snap.Seq, err)
		}
		s.Restore(o)
		f.mu.Lock()
		f.status.Snapshots++
		if f.resync {
			f.status.Resyncs++
		}
		rewound := f.state != nil && s.Seq < f.state.Seq
		if rewound {
			f.status.Rewinds++
			f.log.Warn("the server's log is behind this device's state (restored from a backup?); following the server", "server", s.Seq, "device", f.state.Seq)
		}
		f.state, f.resync, f.dirty = s, false, true
		f.status.Seq, f.status.LastEvent = s.Seq, recv
		f.replaced(rewound)
		f.mu.Unlock()
		return nil
	}
	var e queue.Event
	if err := json.Unmarshal(m.Data, &e); err != nil {
		if errors.Is(err, queue.ErrUnknownKind) {
			// A newer server's event: this build cannot fold it, but the
			// server's snapshot carries its effect. Retrying the stream
			// would only meet the same event again.
			f.mu.Lock()
			f.resync = true
			f.mu.Unlock()
			return fmt.Errorf("reading event %s: %v: %w", m.ID, err, errResync)
		}
		return fmt.Errorf("reading event %s: %w", m.ID, err)
	}
	if f.clock != nil {
		f.clock.Observe(e.At, recv)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state == nil {
		f.resync = true
		return fmt.Errorf("event %d came before any snapshot: %w", e.Seq, errResync)
	}
	if e.Seq <= f.state.Seq {
		return nil // already folded in (a resume that overlaps)
	}
	if err := f.state.Apply(e); err != nil {
		f.resync = true
		return fmt.Errorf("%v: %w", err, errResync)
	}
	f.dirty = true
	f.status.Seq, f.status.LastEvent = e.Seq, recv
	if f.clock != nil && f.clock.Known() && !e.At.IsZero() {
		f.status.LagMS = max(f.clock.Now().Sub(e.At), 0).Milliseconds()
	}
	f.folded(e)
	return nil
}

func (f *Follower) saveLoop(ctx context.Context) {
	t := time.NewTicker(f.opts.SaveEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.save()
		}
	}
}

// save writes the state if it changed since it was last written.
func (f *Follower) save() {
	f.mu.Lock()
	if !f.dirty || f.state == nil || f.resync {
		f.mu.Unlock()
		return
	}
	data, err := json.Marshal(f.state)
	seq, officeJSON := f.state.Seq, f.officeJSON
	f.dirty = false
	f.mu.Unlock()
	if err == nil {
		err = f.db.SaveFollowed(store.Followed{Office: officeJSON, State: data, Seq: seq, SavedAt: time.Now()})
	}
	if err != nil {
		f.log.Error("saving the office's state", "err", err)
		f.mu.Lock()
		f.dirty = true
		f.mu.Unlock()
	}
}
