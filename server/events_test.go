package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
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

// A stream detached from the HTTP server sends the same bytes as one
// served by its handler to the end: headers, chunks, the last chunk when
// the hub closes; and the handler has returned while it streams.
func TestDetachedStreamSendsTheSameBytes(t *testing.T) {
	hub := actor.NewHub(5, 10)
	returned := make(chan string, 2)
	mux := http.NewServeMux()
	mux.HandleFunc("/served", func(w http.ResponseWriter, r *http.Request) {
		server.ServeEvents(w, r, hubSource{hub}, 5, time.Hour, nil)
		returned <- "served"
	})
	ended := make(chan struct{})
	mux.HandleFunc("/detached", func(w http.ResponseWriter, r *http.Request) {
		server.StreamEvents(w, r, hubSource{hub}, 5, time.Hour, nil, func() { close(ended) })
		returned <- "detached"
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	type stream struct {
		conn net.Conn
		got  bytes.Buffer
	}
	open := func(path string) *stream {
		c, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: numerek.test\r\nLast-Event-ID: 5\r\n\r\n", path)
		return &stream{conn: c}
	}
	// readUntil reads the raw response until it holds want.
	readUntil := func(s *stream, want string) {
		t.Helper()
		_ = s.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		for !strings.Contains(s.got.String(), want) {
			n, err := s.conn.Read(buf)
			s.got.Write(buf[:n])
			if err != nil {
				t.Fatalf("reading until %q: %v; got %q", want, err, s.got.String())
			}
		}
	}
	served, detached := open("/served"), open("/detached")
	for _, s := range []*stream{served, detached} {
		readUntil(s, "retry: 2000\n\n\r\n")
	}
	select {
	case who := <-returned:
		if who != "detached" {
			t.Fatalf("the %s handler returned while streaming", who)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the detached stream's handler did not return")
	}
	event := func(seq uint64) queue.Event {
		return queue.Event{Seq: seq, At: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), Actor: "counter:1", Body: queue.CounterOpened{Counter: int(seq)}}
	}
	hub.Publish([]queue.Event{event(6)})
	for _, s := range []*stream{served, detached} {
		readUntil(s, "id: 6\n")
	}
	hub.Publish([]queue.Event{event(7), event(8)})
	for _, s := range []*stream{served, detached} {
		readUntil(s, "id: 8\n")
	}
	hub.Close()
	for _, s := range []*stream{served, detached} {
		readUntil(s, "\r\n0\r\n\r\n")
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the detached stream did not tell it ended")
	}
	date := regexp.MustCompile(`(?m)^Date: .*\r\n`)
	want, got := date.ReplaceAllString(served.got.String(), ""), date.ReplaceAllString(detached.got.String(), "")
	if got != want {
		t.Errorf("the detached stream sent\n%q\nthe served one\n%q", got, want)
	}
	if !strings.Contains(want, "Transfer-Encoding: chunked") || !strings.Contains(want, "event: CounterOpened") {
		t.Errorf("the streams are not chunked event streams: %q", want)
	}
}

// A detached stream ends, and says so, when its client goes.
func TestDetachedStreamEndsWhenTheClientGoes(t *testing.T) {
	hub := actor.NewHub(5, 10)
	ended := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server.StreamEvents(w, r, hubSource{hub}, 5, time.Hour, nil, func() { close(ended) })
	}))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the stream went on after its client closed the connection")
	}
}

// Detached streams sent a quick run of publishes, each event pushed by
// the hub's goroutines (whose pushes overlap, and meet the streams'
// heartbeats), have every event once, in order.
func TestDetachedStreamsHaveEveryEventOfABurst(t *testing.T) {
	const streams, events = 300, 40
	hub := actor.NewHub(5, 100)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server.StreamEvents(w, r, hubSource{hub}, 5, 50*time.Millisecond, nil, func() {})
	}))
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams}}
	results := make(chan error, streams)
	ready := make(chan struct{}, streams)
	for i := range streams {
		req, _ := http.NewRequest("GET", ts.URL, nil)
		req.Header.Set("Last-Event-ID", "5")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		go func() {
			ready <- struct{}{}
			next := uint64(6)
			done := fmt.Errorf("done")
			err := sse.Read(resp.Body, func(m sse.Message) error {
				seq, err := m.Seq()
				if err != nil {
					return err
				}
				if seq != next {
					return fmt.Errorf("stream %d: event %d after %d", i, seq, next-1)
				}
				if next++; next == 6+events {
					return done
				}
				return nil
			})
			if err == done {
				err = nil
			}
			results <- err
		}()
	}
	for range streams {
		<-ready
	}
	for seq := uint64(6); seq < 6+events; seq++ {
		hub.Publish([]queue.Event{{Seq: seq, At: time.Now(), Actor: "counter:1", Body: queue.CounterOpened{Counter: 1}}})
	}
	for range streams {
		select {
		case err := <-results:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a stream did not have every event within 30 s")
		}
	}
}

// A detached stream whose client stops reading while big events come
// has them all once it reads again: what the hub's pushes could not send
// at once its own goroutine sends, woken for it (its heartbeat is an
// hour away).
func TestDetachedStreamCatchesUpWithASlowClient(t *testing.T) {
	const events = 200 // of 64 KiB: more than the connection's buffers take
	hub := actor.NewHub(5, events)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		server.StreamEvents(w, r, hubSource{hub}, 5, time.Hour, nil, func() {})
	}))
	defer ts.Close()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: numerek.test\r\nLast-Event-ID: 5\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	reason := strings.Repeat("x", 64<<10)
	for seq := uint64(6); seq < 6+events; seq++ {
		hub.Publish([]queue.Event{{Seq: seq, At: time.Now(), Actor: "clerk:anna", Body: queue.TicketCancelled{Ticket: "A001", Reason: reason}}})
	}
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	next, done := uint64(6), fmt.Errorf("done")
	err = sse.Read(resp.Body, func(m sse.Message) error {
		seq, err := m.Seq()
		if err != nil {
			return err
		}
		if seq != next || !strings.Contains(string(m.Data), reason) {
			return fmt.Errorf("event %d (%d bytes) after %d", seq, len(m.Data), next-1)
		}
		if next++; next == 6+events {
			return done
		}
		return nil
	})
	if err != done {
		t.Fatalf("after %d of %d events: %v", next-6, events, err)
	}
}
