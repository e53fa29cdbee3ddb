package netfault

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// echo serves a TCP echo on loopback until the test ends.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(t *testing.T, c net.Conn, msg string, within time.Duration) error {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return err
	}
	if string(buf) != msg {
		t.Fatalf("got %q back, want %q", buf, msg)
	}
	return nil
}

// A black hole passes nothing on connections old or new and closes none;
// forwarding again delivers what was held, in order.
func TestBlackholeHoldsThenForwards(t *testing.T) {
	p, err := Start(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	old, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := roundTrip(t, old, "before", 5*time.Second); err != nil {
		t.Fatalf("forwarding: %v", err)
	}

	p.Blackhole()
	// Silence cannot be waited for as an event: a short wait shows it.
	if err := roundTrip(t, old, "during", 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an open connection through the black hole: %v, want silence", err)
	}
	fresh, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if err := roundTrip(t, fresh, "new", 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a new connection through the black hole: %v, want silence", err)
	}

	p.Forward()
	old.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len("during"))
	if _, err := io.ReadFull(old, buf); err != nil || string(buf) != "during" {
		t.Fatalf("after forwarding again the held bytes came back as %q, %v", buf, err)
	}
	fresh.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf = make([]byte, len("new"))
	if _, err := io.ReadFull(fresh, buf); err != nil || string(buf) != "new" {
		t.Fatalf("the new connection's held bytes came back as %q, %v", buf, err)
	}
}
