package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
)

// echoServer sends back whatever it reads. It counts the connections it
// took and can close them from its side.
type echoServer struct {
	ln       net.Listener
	accepted atomic.Int64
	conns    chan net.Conn
}

// closeAll closes, from the server's side, every connection it took.
func (e *echoServer) closeAll() {
	for {
		select {
		case c := <-e.conns:
			c.Close()
		default:
			return
		}
	}
}

func newEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln, conns: make(chan net.Conn, 100)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.accepted.Add(1)
			e.conns <- c
			go func() {
				defer c.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return e
}

func startProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := Listen("127.0.0.1:0", target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// readWithin reads len(want) bytes within d; it says what came instead:
// the bytes, "timeout" when nothing more came, or the error.
func readWithin(c net.Conn, n int, d time.Duration) (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, n)
	got, err := io.ReadFull(c, buf)
	return string(buf[:got]), err
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// What each mode does to a conversation over a connection opened while
// the proxy passes, and whether the connection comes back to life in
// Pass.
func TestModes(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(p *Proxy)
		// arrives: the echo comes back while the fault lasts.
		arrives bool
		// resumes: switched back to Pass, the held echo arrives.
		resumes bool
	}{
		{"pass", func(p *Proxy) { p.Set(Pass) }, true, true},
		{"black hole", func(p *Proxy) { p.Set(BlackHole) }, false, true},
		{"slow", func(p *Proxy) { p.SetSlow(time.Hour, 0) }, false, true},
		{"cut", func(p *Proxy) { p.Set(Cut) }, false, false},
		{"cut now", func(p *Proxy) { p.CutNow() }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEcho(t)
			p := startProxy(t, e.ln.Addr().String())
			c := dial(t, p)
			if _, err := c.Write([]byte("hello\n")); err != nil {
				t.Fatal(err)
			}
			if got, err := readWithin(c, 6, 5*time.Second); got != "hello\n" {
				t.Fatalf("through a passing proxy: %q, %v", got, err)
			}
			tc.set(p)
			if _, err := c.Write([]byte("again\n")); err != nil {
				t.Fatal(err)
			}
			got, err := readWithin(c, 6, 300*time.Millisecond)
			switch {
			case tc.arrives && got != "again\n":
				t.Fatalf("during %s: %q, %v; want the echo", tc.name, got, err)
			case !tc.arrives && (got != "" || !isTimeout(err)):
				t.Fatalf("during %s: %q, %v; want nothing and no close", tc.name, got, err)
			}
			if tc.arrives {
				return
			}
			p.Set(Pass)
			got, err = readWithin(c, 6, 300*time.Millisecond)
			switch {
			case tc.resumes && got != "again\n":
				t.Errorf("after %s, back in pass: %q, %v; want the held echo", tc.name, got, err)
			case !tc.resumes && (got != "" || !isTimeout(err)):
				t.Errorf("after %s, back in pass: %q, %v; want the connection still dead and open", tc.name, got, err)
			}
			if !tc.resumes {
				// A cut is forever for its connections, not for new ones.
				fresh := dial(t, p)
				fresh.Write([]byte("fresh\n"))
				if got, err := readWithin(fresh, 6, 5*time.Second); got != "fresh\n" {
					t.Errorf("a connection opened after the cut, in pass: %q, %v", got, err)
				}
			}
		})
	}
}

// A server that closes its side: through a passing proxy the client sees
// the end of the stream; through a cut one it never does.
func TestCloseReachesTheClientOnlyWhenNotCut(t *testing.T) {
	for _, cut := range []bool{false, true} {
		e := newEcho(t)
		p := startProxy(t, e.ln.Addr().String())
		c := dial(t, p)
		c.Write([]byte("x\n"))
		if got, err := readWithin(c, 2, 5*time.Second); got != "x\n" {
			t.Fatalf("echo: %q, %v", got, err)
		}
		if cut {
			p.CutNow()
		}
		e.closeAll()
		_, err := readWithin(c, 1, 500*time.Millisecond)
		if !cut && err != io.EOF {
			t.Errorf("the server closed; through a passing proxy the client got %v, want EOF", err)
		}
		if cut && !isTimeout(err) {
			t.Errorf("through a cut proxy the client got %v, want nothing at all", err)
		}
	}
}

// A connection opened in a black hole reaches the server only when the
// hole closes; one opened in Cut never does.
func TestNewConnectionsHeldOrDropped(t *testing.T) {
	e := newEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	p.Set(BlackHole)
	held := dial(t, p)
	held.Write([]byte("held\n"))
	if got, err := readWithin(held, 5, 300*time.Millisecond); got != "" || !isTimeout(err) {
		t.Fatalf("a connection in a black hole answered: %q, %v", got, err)
	}
	if n := e.accepted.Load(); n != 0 {
		t.Fatalf("the server saw %d connections through a black hole", n)
	}
	p.Set(Cut)
	dead := dial(t, p)
	dead.Write([]byte("dead\n"))
	// The proxy takes the connection in Cut (dial returns when the kernel
	// has it, before the proxy does).
	waitfor.Until(t, "the proxy to hold both connections", 5*time.Second, func() bool { return p.Open() >= 2 })
	p.Set(Pass)
	if got, err := readWithin(dead, 5, 300*time.Millisecond); got != "" || !isTimeout(err) {
		t.Errorf("a connection opened in cut answered: %q, %v", got, err)
	}
	// held was cut too when the mode went to Cut.
	if got, err := readWithin(held, 5, 300*time.Millisecond); got != "" || !isTimeout(err) {
		t.Errorf("a held connection cut later answered: %q, %v", got, err)
	}
	if n := e.accepted.Load(); n != 0 {
		t.Errorf("the server saw %d connections, want none", n)
	}
}

// Slow delivers the server's answer no sooner than the delay, and at
// the rate given; what the client sends is not held back.
func TestSlowDelaysAndTrickles(t *testing.T) {
	e := newEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	p.SetSlow(400*time.Millisecond, 0)
	start := time.Now()
	c.Write([]byte("late\n"))
	if got, err := readWithin(c, 5, 5*time.Second); got != "late\n" {
		t.Fatalf("slow echo: %q, %v", got, err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("the answer came after %v, want at least 400ms", d)
	}
	if n := e.accepted.Load(); n != 1 {
		t.Errorf("the server took %d connections, want 1", n)
	}

	p.SetSlow(0, 2000)
	msg := bytes.Repeat([]byte("z"), 1000)
	start = time.Now()
	c.Write(msg)
	if got, err := readWithin(c, len(msg), 10*time.Second); got != string(msg) {
		t.Fatalf("trickled echo: %d bytes, %v", len(got), err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("1000 bytes at 2000 B/s came in %v, want at least 400ms", d)
	}
}
