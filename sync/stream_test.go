package sync_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/numerek/numerek/queue"
	devsync "github.com/numerek/numerek/sync"
)

// hubSource is a StreamSource of a hub alone: enough for streams that
// resume from the hub's last event.
type hubSource struct{ hub *devsync.Hub }

func (s hubSource) Hub() *devsync.Hub { return s.hub }
func (s hubSource) Snapshot(context.Context) (devsync.Snapshot, error) {
	return devsync.Snapshot{Seq: s.hub.Last(), State: []byte("{}")}, nil
}
func (s hubSource) EventsAfter(uint64, int) ([]queue.Event, error) { return nil, nil }

// A stream lives for hours behind a server whose write timeout is meant
// for requests: it sets its own deadline for each write, so heartbeats
// and events still flow long after the server's write timeout.
func TestStreamOutlivesTheServersWriteTimeout(t *testing.T) {
	hub := devsync.NewHub(5, 10)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		devsync.ServeEvents(w, r, hubSource{hub}, 5, 50*time.Millisecond)
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
	got := make(chan devsync.Message, 1)
	ended := make(chan error, 1)
	go func() {
		ended <- devsync.ReadMessages(resp.Body, func(m devsync.Message) error { got <- m; return nil })
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
