package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/api/apitest"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/store"
)

// shortTimeouts make the limits quick enough for a test: about a second
// each (writing longer than reading, as by default, so that a request cut
// for its slow body still gets its answer).
var shortTimeouts = Timeouts{
	ReadHeader: time.Second, Read: time.Second, Write: 2 * time.Second, Idle: time.Second,
	MaxHeaderBytes: 4 << 10, StreamWrite: time.Second,
}

// serveLimited serves e's offices as cmd/queue-server does (through
// Server.HTTPServer) with the given limits on a real listener, and
// returns its address (host:port).
func serveLimited(t *testing.T, e *env, lim Timeouts, heartbeat time.Duration) string {
	t.Helper()
	var list []*actor.Actor
	for _, a := range e.actors {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Office().ID < list[j].Office().ID })
	srv := New(Config{Offices: list, Tokens: store.NewTokenStore(filepath.Join(e.dataDir, "tokens.db")), Clock: e.clock.Now,
		Logger: slog.New(slog.DiscardHandler), Heartbeat: heartbeat, Timeouts: lim})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mon := apitest.NewMonitor(t)
	hs := srv.HTTPServer()
	hs.Handler = mon.Wrap(hs.Handler)
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		_ = hs.Close()
		<-done
	})
	return ln.Addr().String()
}

// dial opens a raw connection, as a slow or hostile client would hold it.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedWithin reads from c until the server closes it, and reports
// whether that happened within d, with what the server sent meanwhile.
func closedWithin(c net.Conn, d time.Duration) (bool, string) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	var got strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got.Write(buf[:n])
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return false, got.String()
		case err != nil:
			return true, got.String()
		}
	}
}

func TestSlowClientsAreCut(t *testing.T) {
	e := newEnv(t, actor.Options{})
	addr := serveLimited(t, e, shortTimeouts, time.Hour)
	path := "/api/v1/offices/" + e.office.ID + "/tickets"

	t.Run("body trickled a byte a second", func(t *testing.T) {
		before := e.seq()
		c := dial(t, addr)
		body := `{"service":"documents","lang":"pl","request_id":"slow-1"}`
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", path, e.tokens["ticket"], len(body))
		// The client sends on at its own pace while the test waits for
		// the server to end the connection.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for i := 0; i < len(body); i++ {
				if _, err := c.Write([]byte{body[i]}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		// The whole body would take a minute; the read limit is a second.
		closed, got := closedWithin(c, 10*time.Second)
		if !closed {
			t.Fatalf("a body trickled a byte a second still holds the connection after 10 s (got %q)", got)
		}
		if !strings.HasPrefix(got, "HTTP/1.1 408") || !strings.Contains(got, "application/json") || !strings.Contains(got, `"error":"body: not received in time`) {
			t.Errorf("the cut request was answered %q, want a JSON 408", got)
		}
		if seq := e.seq(); seq > before {
			t.Errorf("the cut request changed the office (seq %d -> %d)", before, seq)
		}
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		c := dial(t, addr)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %v %v", resp, err)
		}
		resp.Body.Close()
		if resp.Close {
			t.Fatal("the server did not keep the connection alive at all")
		}
		if closed, _ := closedWithin(c, 10*time.Second); !closed {
			t.Error("an idle keep-alive connection is still open after 10 s; the idle limit is a second")
		}
	})

	t.Run("headers too large", func(t *testing.T) {
		c := dial(t, addr)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: %s\r\n\r\n", strings.Repeat("a", 64<<10))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("64 KiB of headers: %d, want 431", resp.StatusCode)
		}
	})

	t.Run("headers never finished", func(t *testing.T) {
		c := dial(t, addr)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		if closed, _ := closedWithin(c, 10*time.Second); !closed {
			t.Error("a request whose headers never end holds the connection after 10 s")
		}
	})
}

// An event stream lives on past the read, write and idle limits, as long
// as its client reads.
func TestStreamOutlivesTheTimeouts(t *testing.T) {
	e := newEnv(t, actor.Options{})
	addr := serveLimited(t, e, shortTimeouts, 100*time.Millisecond)
	c := dial(t, addr)
	fmt.Fprintf(c, "GET /api/v1/offices/%s/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", e.office.ID, e.tokens["hall"])
	rd := bufio.NewReader(c)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("opening the stream: %v %v", resp, err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// 40 heartbeats at 100 ms: four seconds, past every limit.
	heartbeats := 0
	deadline := time.After(20 * time.Second)
	for heartbeats < 40 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended after %d heartbeats", heartbeats)
			}
			if l == ": heartbeat" {
				heartbeats++
			}
		case <-deadline:
			t.Fatalf("only %d heartbeats in 20 s", heartbeats)
		}
	}
	// And events still arrive on it.
	e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), `{"service":"documents","lang":"pl","request_id":"late-1"}`)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended before the ticket's event")
			}
			if l == "event: TicketIssued" {
				return
			}
		case <-deadline:
			t.Fatal("the ticket's event did not arrive")
		}
	}
}
