package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/numerek/numerek/queue"
)

// StreamSource is what the event stream needs from an office's owner.
type StreamSource interface {
	Hub() *Hub
	// Snapshot returns the office's state and its seq, consistently with
	// what the hub has published.
	Snapshot(ctx context.Context) (Snapshot, error)
	// EventsAfter reads durable events after seq, for resumes older than
	// the hub keeps.
	EventsAfter(after uint64, limit int) ([]queue.Event, error)
}

// Heartbeat is how often an idle stream sends a comment, so proxies and
// clients know the connection lives. A device takes a stream silent for
// StallAfter (2.5 heartbeats) for dead and says it is offline: a cut that
// sends nothing (a pulled cable, a router that drops the connection) must
// show on the screens within 10 s. A comment every 3 s costs a device some
// 5 bytes a second.
const Heartbeat = 3 * time.Second

// StallAfter is how long a device waits for any byte of a stream before it
// takes the stream for dead: long enough for one lost heartbeat and a slow
// link, short enough to say "offline" within 10 s of a silent cut.
const StallAfter = Heartbeat * 5 / 2

// writeWait bounds one write of a stream: a client that has not taken a
// heartbeat's worth of data by then has gone (the connection is dropped,
// and the subscription with it). It also overrides the server's write
// timeout, which is for requests, not for streams that live for hours.
func writeWait(heartbeat time.Duration) time.Duration {
	return max(10*time.Second, 4*heartbeat)
}

// maxReplay is the most events a resume replays from disk; further behind,
// a snapshot is cheaper.
const maxReplay = 5000

// Cursor reads where a client resumes from: the Last-Event-ID header (set
// by EventSource on reconnect) or the "after" query parameter; 0 is "from
// a snapshot".
func Cursor(r *http.Request) (uint64, error) {
	v := r.Header.Get("Last-Event-ID")
	name := "Last-Event-ID"
	if v == "" {
		v, name = r.URL.Query().Get("after"), "after"
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not an event id", name, v)
	}
	return n, nil
}

// ServeEvents streams an office's events as Server-Sent Events from cursor
// until the client goes or ctx ends. Each write has its own deadline (see
// writeWait), so the stream outlives the server's write timeout while a
// client that stopped reading is dropped.
func ServeEvents(w http.ResponseWriter, r *http.Request, src StreamSource, cursor uint64, heartbeat time.Duration) {
	if _, ok := w.(http.Flusher); !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	rc := http.NewResponseController(w)
	wait := writeWait(heartbeat)
	// extend gives the next writes their deadline; a writer without
	// deadlines (a test's recorder) streams without them.
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(wait)) }
	flush := func() error {
		extend()
		return rc.Flush()
	}
	hub := src.Hub()
	sub, last := hub.Subscribe()
	defer hub.Unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	extend()
	w.WriteHeader(http.StatusOK)

	sw := &sseWriter{w: w, extend: extend}
	sent := cursor
	switch {
	case cursor == 0 || cursor > last || last-cursor > maxReplay:
		snap, err := src.Snapshot(r.Context())
		if err != nil {
			return
		}
		sw.snapshot(snap)
		sent = snap.Seq
	case cursor < last:
		events, ok := hub.Since(cursor)
		if !ok {
			var err error
			if events, err = src.EventsAfter(cursor, int(last-cursor)); err != nil {
				return
			}
		}
		for _, e := range events {
			if e.Seq > sent && e.Seq <= last {
				sw.event(e)
				sent = e.Seq
			}
		}
	}
	sw.raw("retry: 2000\n\n")
	if err := flush(); err != nil || sw.err != nil {
		return
	}

	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			sw.raw(": heartbeat\n\n")
		case e, open := <-sub.C:
			if !open {
				return
			}
			for {
				if e.Seq > sent {
					sw.event(e)
					sent = e.Seq
				}
				// Write what else is waiting before one flush.
				select {
				case e, open = <-sub.C:
					if !open {
						flush()
						return
					}
					continue
				default:
				}
				break
			}
		}
		if err := flush(); err != nil || sw.err != nil {
			return
		}
	}
}

// sseWriter writes events and keeps the first write error.
type sseWriter struct {
	w      http.ResponseWriter
	extend func() // moves the write deadline on before each write
	err    error
}

// raw writes a line the stream needs that is not an event.
func (s *sseWriter) raw(text string) {
	if s.err != nil {
		return
	}
	s.extend()
	_, s.err = io.WriteString(s.w, text)
}

func (s *sseWriter) write(id uint64, name string, v any) {
	if s.err != nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		s.err = err
		return
	}
	s.extend()
	_, s.err = fmt.Fprintf(s.w, "id: %d\nevent: %s\ndata: %s\n\n", id, name, data)
}

func (s *sseWriter) event(e queue.Event) { s.write(e.Seq, e.Body.Kind(), e) }

func (s *sseWriter) snapshot(snap Snapshot) { s.write(snap.Seq, SnapshotEvent, snap) }
