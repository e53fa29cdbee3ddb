package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
)

// hubSource is an EventSource of a hub alone: enough for streams that
// resume from the hub's last event.
type hubSource struct{ hub *actor.Hub }

func (s hubSource) Hub() *actor.Hub { return s.hub }
func (s hubSource) Snapshot(context.Context) (uint64, json.RawMessage, error) {
	return s.hub.Last(), json.RawMessage("{}"), nil
}
func (s hubSource) EventsAfter(uint64, int) ([]queue.Event, error) { return nil, nil }

// A stream lives for hours behind a server whose write timeout is meant
// for requests: it sets its own deadline for each write, so heartbeats
// and events still flow long after the server's write timeout.
func TestStreamOutlivesTheServersWriteTimeout(t *testing.T) {
	hub := actor.NewHub(5, 10)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server.ServeEvents(w, r, hubSource{hub}, 5, 50*time.Millisecond, nil)
	}))
	const writeTimeout = 300 * time.Millisecond
	ts.Config.WriteTimeout = writeTimeout
	ts.Start()
	defer ts.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	opened := time.Now()
	got := make(chan sse.Message, 1)
	ended := make(chan error, 1)
	go func() {
		ended <- sse.Read(resp.Body, func(m sse.Message) error { got <- m; return nil })
	}()
	// Publish once the server's write timeout has long passed.
	time.AfterFunc(3*writeTimeout, func() {
		hub.Publish([]queue.Event{{Seq: 6, At: time.Now(), Actor: "counter:1", Body: queue.CounterOpened{Counter: 1}}})
	})
	select {
	case m := <-got:
		if m.ID != "6" {
			t.Errorf("got event %q, want 6", m.ID)
		}
	case err := <-ended:
		t.Fatalf("the stream ended %v after it opened (server write timeout %v): %v", time.Since(opened).Round(time.Millisecond), writeTimeout, err)
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
}
