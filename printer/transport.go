package printer

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.bug.st/serial"

	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/profiles"
)

// conn is an open line to a printer.
type conn interface {
	io.Writer
	io.Closer
	// replies returns the printer's answers, or nil when the line has no
	// way back (a file, say).
	replies() io.Reader
}

// flusher is a conn that can be told a job has ended: the emulator ends a
// ticket there on printers without a cutter, as tearing the paper does.
type flusher interface{ flush() }

// Target is a parsed printer URI.
type Target struct {
	Scheme string // serial, usb, tcp, file, emulator
	Path   string // device, file or folder; host:port for tcp
	Baud   int    // serial only

	// Pacing assumptions; 0 takes the profile's.
	BufferBytes  int
	PrintSpeedMM int
	NoPacing     bool
}

func (t Target) String() string {
	if t.Scheme == "tcp" {
		return "tcp://" + t.Path
	}
	return t.Scheme + "://" + t.Path
}

// ParseURI reads a printer URI:
//
//	serial:///dev/ttyUSB0?baud=19200   a serial port (default 9600 baud)
//	usb:///dev/usb/lp0                 a USB printer-class device
//	tcp://10.0.0.5:9100                a network printer's raw port (default 9100)
//	file:///var/tmp/out.bin            append the bytes to a file
//	emulator:///var/tmp/tickets        an in-process emulator writing a PNG per ticket
//
// Any of them takes buffer=BYTES and speed=MM_PER_S to override the
// profile's pacing assumptions, and pace=off to send at full speed.
func ParseURI(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, fmt.Errorf("printer URI %q: %w", s, err)
	}
	t := Target{Scheme: u.Scheme, Path: u.Path}
	q := u.Query()
	num := func(key string) (int, error) {
		v := q.Get(key)
		if v == "" {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("printer URI %q: %s=%q is not a positive whole number", s, key, v)
		}
		return n, nil
	}
	if t.BufferBytes, err = num("buffer"); err != nil {
		return Target{}, err
	}
	if t.PrintSpeedMM, err = num("speed"); err != nil {
		return Target{}, err
	}
	switch q.Get("pace") {
	case "", "on":
	case "off":
		t.NoPacing = true
	default:
		return Target{}, fmt.Errorf("printer URI %q: pace must be on or off", s)
	}
	switch u.Scheme {
	case "serial":
		if t.Baud, err = num("baud"); err != nil {
			return Target{}, err
		}
		if t.Baud == 0 {
			t.Baud = 9600
		}
	case "tcp":
		if u.Host == "" {
			return Target{}, fmt.Errorf("printer URI %q: tcp needs a host, as in tcp://10.0.0.5:9100", s)
		}
		t.Path = u.Host
		if u.Port() == "" {
			t.Path = net.JoinHostPort(u.Hostname(), "9100")
		}
		return t, nil
	case "usb", "file", "emulator":
	case "":
		return Target{}, fmt.Errorf("printer URI %q has no scheme: use serial://, usb://, tcp://, file:// or emulator://", s)
	default:
		return Target{}, fmt.Errorf("printer URI %q: unknown scheme %q (serial, usb, tcp, file or emulator)", s, u.Scheme)
	}
	if u.Host != "" {
		return Target{}, fmt.Errorf("printer URI %q: a %s path must be absolute, with three slashes (%s:///dev/...)", s, u.Scheme, u.Scheme)
	}
	if t.Path == "" {
		return Target{}, fmt.Errorf("printer URI %q names no path", s)
	}
	return t, nil
}

// dial opens the line to the printer.
func dial(ctx context.Context, t Target, p profiles.Profile) (conn, error) {
	switch t.Scheme {
	case "serial":
		port, err := serial.Open(t.Path, &serial.Mode{BaudRate: t.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
		if err != nil {
			return nil, fmt.Errorf("opening serial port %s: %w", t.Path, err)
		}
		return &serialConn{port: port}, nil
	case "usb":
		f, err := os.OpenFile(t.Path, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("opening USB printer %s: %w", t.Path, err)
		}
		return &fileConn{f: f, twoWay: true}, nil
	case "tcp":
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", t.Path)
		if err != nil {
			return nil, fmt.Errorf("connecting to printer %s: %w", t.Path, err)
		}
		return &tcpConn{c: c}, nil
	case "file":
		f, err := os.OpenFile(t.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("opening output file %s: %w", t.Path, err)
		}
		return &fileConn{f: f}, nil
	case "emulator":
		emu, err := emulator.New(emulator.Config{Profile: p, OutDir: filepath.Clean(t.Path)})
		if err != nil {
			return nil, err
		}
		return newEmulatorConn(emu), nil
	}
	return nil, fmt.Errorf("printer URI scheme %q not supported", t.Scheme)
}

type serialConn struct{ port serial.Port }

func (c *serialConn) Write(p []byte) (int, error) { return c.port.Write(p) }
func (c *serialConn) Close() error                { return c.port.Close() }
func (c *serialConn) replies() io.Reader          { return serialReader{c.port} }

// serialReader turns the zero-byte reads of a port whose other end has
// gone into an error, so the reading goroutine ends.
type serialReader struct{ port serial.Port }

func (r serialReader) Read(p []byte) (int, error) {
	n, err := r.port.Read(p)
	if n == 0 && err == nil {
		return 0, io.EOF
	}
	return n, err
}

type tcpConn struct{ c net.Conn }

func (c *tcpConn) Write(p []byte) (int, error) {
	// A printer that stops reading must not hang the kiosk for good.
	c.c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	return c.c.Write(p)
}
func (c *tcpConn) Close() error       { return c.c.Close() }
func (c *tcpConn) replies() io.Reader { return c.c }

type fileConn struct {
	f      *os.File
	twoWay bool
}

func (c *fileConn) Write(p []byte) (int, error) { return c.f.Write(p) }
func (c *fileConn) Close() error                { return c.f.Close() }
func (c *fileConn) replies() io.Reader {
	if !c.twoWay {
		return nil
	}
	return c.f
}

// emulatorConn prints into an in-process emulator; its answers come back
// through a queue as they would down a cable.
type emulatorConn struct {
	emu     *emulator.Printer
	answers *answerQueue
	mu      sync.Mutex
	closed  bool
}

func newEmulatorConn(emu *emulator.Printer) *emulatorConn {
	return &emulatorConn{emu: emu, answers: newAnswerQueue()}
}

func (c *emulatorConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, os.ErrClosed
	}
	c.emu.Receive(c.answers, p, time.Now())
	return len(p), nil
}

func (c *emulatorConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.emu.Flush()
	return c.answers.Close()
}

func (c *emulatorConn) replies() io.Reader { return c.answers }
func (c *emulatorConn) flush()             { c.emu.Flush() }

// answerQueue is an unbounded in-memory line from the emulator back to
// the host: writing never blocks (the emulator writes holding its lock),
// reading waits for bytes.
type answerQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func newAnswerQueue() *answerQueue {
	q := &answerQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *answerQueue) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, os.ErrClosed
	}
	q.buf = append(q.buf, p...)
	q.cond.Broadcast()
	return len(p), nil
}

func (q *answerQueue) Read(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.buf) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, q.buf)
	q.buf = q.buf[n:]
	return n, nil
}

func (q *answerQueue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
	return nil
}
