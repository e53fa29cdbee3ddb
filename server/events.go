package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/fleet"
)

// EventSource is what the event stream needs from an office's owner (an
// *actor.Actor).
type EventSource interface {
	Hub() *actor.Hub
	// Snapshot returns the office's state encoded and its seq,
	// consistently with what the hub has published.
	Snapshot(ctx context.Context) (seq uint64, state json.RawMessage, err error)
	// EventsAfter reads durable events after seq, for resumes older than
	// the hub keeps.
	EventsAfter(after uint64, limit int) ([]queue.Event, error)
}

// maxReplay is the most events a resume replays from disk; further behind,
// a snapshot is cheaper.
const maxReplay = 5000

// writeWait bounds one write of a stream: a client that has not taken a
// heartbeat's worth of data by then has gone (the connection is dropped,
// and the subscription with it). It also overrides the server's write
// timeout, which is for requests, not for streams that live for hours.
func writeWait(heartbeat time.Duration) time.Duration {
	return max(10*time.Second, 4*heartbeat)
}

// ServeEvents streams an office's events to a device as Server-Sent Events
// from cursor (0: a snapshot first) until the client goes or the request
// ends. Ids are event seqs, so a client resumes with Last-Event-ID; one
// too far behind gets a snapshot instead of a replay.
//
// ctl, when not nil, is the device's stream as the fleet knows it: its
// control events are written between the office's (without ids), and a
// revocation ends the stream with protocol.RevokedEvent.
func ServeEvents(w http.ResponseWriter, r *http.Request, src EventSource, cursor uint64, heartbeat time.Duration, ctl *fleet.Conn) {
	st, ok := openEvents(w, r, src, cursor, heartbeat, ctl)
	if ok {
		st.follow(r.Context().Done())
	}
}

// StreamEvents is ServeEvents for the many: once the stream has started,
// an HTTP/1.1 stream is detached from the HTTP server (sse.Writer.Detach)
// and followed by a goroutine of its own, so StreamEvents returns at once
// and an idle stream holds none of what the server holds for a request.
// done is called when the stream has ended, whichever way it went.
func StreamEvents(w http.ResponseWriter, r *http.Request, src EventSource, cursor uint64, heartbeat time.Duration, ctl *fleet.Conn, done func()) {
	st, ok := openEvents(w, r, src, cursor, heartbeat, ctl)
	if !ok {
		done()
		return
	}
	gone, err := st.sw.Detach(r)
	if err != nil {
		st.follow(r.Context().Done())
		done()
		return
	}
	// The hub's goroutines send the office's events to a detached
	// stream themselves (push), most often: its goroutine wakes for its
	// heartbeats, its control events, and what they could not send at once.
	st.tail.Push(st.push)
	go func() {
		defer done()
		st.follow(gone)
		_ = st.sw.Close()
	}()
}

// eventStream is one device's stream once started.
type eventStream struct {
	// mu keeps the stream's goroutine and the hub's pushes apart once it
	// follows: it guards everything below.
	mu        sync.Mutex
	sw        *sse.Writer
	tail      *actor.Tail
	sent      uint64 // the seq of the last event written
	kept      []*actor.Kept
	ended     bool // follow has returned: nothing more is written
	heartbeat time.Duration
	ctl       *fleet.Conn
}

// openEvents starts a stream: the hub followed, the answer's headers, and
// the snapshot or the events the client missed, flushed. ok=false when
// the stream ended there.
func openEvents(w http.ResponseWriter, r *http.Request, src EventSource, cursor uint64, heartbeat time.Duration, ctl *fleet.Conn) (*eventStream, bool) {
	hub := src.Hub()
	tail, last := hub.Tail()
	sw, err := sse.Open(w, sse.Options{Retry: 2 * time.Second, WriteWait: writeWait(heartbeat)})
	if err != nil {
		tail.Stop()
		return nil, false
	}
	st := &eventStream{sw: sw, tail: tail, sent: cursor, heartbeat: heartbeat, ctl: ctl}
	if err := st.catchUp(r, src, cursor, last); err != nil || sw.Flush() != nil {
		tail.Stop()
		return nil, false
	}
	return st, true
}

// catchUp writes what a client starting at cursor needs before the
// events published after last: a snapshot, or the events it missed.
func (st *eventStream) catchUp(r *http.Request, src EventSource, cursor, last uint64) error {
	switch {
	case cursor == 0 || cursor > last || last-cursor > maxReplay:
		seq, state, err := src.Snapshot(r.Context())
		if err != nil {
			return err
		}
		sendEvent(st.sw, seq, protocol.SnapshotEvent, protocol.Snapshot{Seq: seq, State: state})
		st.sent = seq
	case cursor < last:
		events, ok := src.Hub().Since(cursor)
		if !ok {
			var err error
			if events, err = src.EventsAfter(cursor, int(last-cursor)); err != nil {
				return err
			}
		}
		for _, e := range events {
			if e.Seq <= last && e.Seq > st.sent {
				sendEvent(st.sw, e.Seq, e.Body.Kind(), e)
				st.sent = e.Seq
			}
		}
	}
	return nil
}

// follow writes the office's events, the device's control events and
// heartbeats until gone is closed, the client stops taking them, or the
// hub drops the stream; then it stops following the hub.
func (st *eventStream) follow(gone <-chan struct{}) {
	sw := st.sw
	defer st.tail.Stop()
	tick := time.NewTicker(st.heartbeat)
	defer tick.Stop()
	var control <-chan fleet.Control
	var revoked <-chan struct{}
	if st.ctl != nil {
		control, revoked = st.ctl.C(), st.ctl.Revoked()
	}
	for {
		select {
		case <-gone:
			st.end()
			return
		case <-revoked:
			st.mu.Lock()
			sendControl(sw, fleet.Control{Event: protocol.RevokedEvent, Data: struct{}{}})
			sw.Flush()
			st.ended = true
			st.mu.Unlock()
			return
		case c := <-control:
			st.mu.Lock()
			sendControl(sw, c)
		case <-tick.C:
			st.mu.Lock()
			sw.Comment("heartbeat")
		case <-st.tail.Ready():
			st.mu.Lock()
			if !st.readTail() {
				sw.Flush()
				st.ended = true
				st.mu.Unlock()
				return
			}
		}
		err := sw.Flush()
		st.ended = err != nil
		st.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// end marks the stream ended for the pushes still to come.
func (st *eventStream) end() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.ended = true
}

// readTail writes everything published since the last read, each event
// encoded once for every stream; false when the hub has dropped the
// stream.
func (st *eventStream) readTail() bool {
	kept, open := st.tail.Read(st.kept[:0])
	if !open {
		return false
	}
	for _, k := range kept {
		if k.Seq <= st.sent {
			continue
		}
		frame, err := k.Encoded(encodeEvent)
		if err != nil {
			st.sw.Fail(err)
			break
		}
		st.sw.Frame(frame)
		st.sent = k.Seq
	}
	clear(kept)
	st.kept = kept[:0]
	if cap(kept) > 16 {
		st.kept = nil // an idle stream keeps no burst's array
	}
	return true
}

// push is the hub's offer of news (actor.Tail.Push): from a goroutine
// of the hub's, the events are written and sent if the connection takes
// them at once; the stream's goroutine is woken (false) when it is busy
// with the stream, the connection's buffer is full, the write failed or
// the hub dropped the stream, to wait, or end the stream, itself.
func (st *eventStream) push() bool {
	if !st.mu.TryLock() {
		return false // it reads the hub once it has done
	}
	defer st.mu.Unlock()
	if st.ended {
		return true
	}
	return st.readTail() && st.sw.TryFlush()
}

// sendControl writes a control event without an id, so the device's
// Last-Event-ID stays the office's seq.
func sendControl(sw *sse.Writer, c fleet.Control) {
	data, err := json.Marshal(c.Data)
	if err != nil {
		sw.Fail(err)
		return
	}
	sw.Event("", c.Event, data)
}

// encodeEvent frames an office's event as the stream sends it: its seq
// as id, its kind as the event's name.
func encodeEvent(e queue.Event) ([]byte, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return sse.AppendFrame(nil, strconv.FormatUint(e.Seq, 10), e.Body.Kind(), data), nil
}

// sendEvent writes one event with its seq as id.
func sendEvent(sw *sse.Writer, seq uint64, name string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		sw.Fail(err)
		return
	}
	sw.Event(strconv.FormatUint(seq, 10), name, data)
}
