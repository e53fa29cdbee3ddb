package sync

import (
	"context"
	"encoding/json"
	"fmt"
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
// clients know the connection lives.
const Heartbeat = 15 * time.Second

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
// until the client goes or ctx ends.
func ServeEvents(w http.ResponseWriter, r *http.Request, src StreamSource, cursor uint64, heartbeat time.Duration) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	hub := src.Hub()
	sub, last := hub.Subscribe()
	defer hub.Unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	sw := &sseWriter{w: w}
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
	fmt.Fprint(w, "retry: 2000\n\n")
	flusher.Flush()
	if sw.err != nil {
		return
	}

	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": heartbeat\n\n")
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
						flusher.Flush()
						return
					}
					continue
				default:
				}
				break
			}
		}
		flusher.Flush()
		if sw.err != nil {
			return
		}
	}
}

// sseWriter writes events and keeps the first write error.
type sseWriter struct {
	w   http.ResponseWriter
	err error
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
	_, s.err = fmt.Fprintf(s.w, "id: %d\nevent: %s\ndata: %s\n\n", id, name, data)
}

func (s *sseWriter) event(e queue.Event) { s.write(e.Seq, e.Body.Kind(), e) }

func (s *sseWriter) snapshot(snap Snapshot) { s.write(snap.Seq, SnapshotEvent, snap) }
