package printer

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.bug.st/serial"

	"github.com/numerek/numerek/printer/profiles"
)

// Conn is an open line to a printer.
type Conn interface {
	io.Writer
	io.Closer
	// Replies returns the printer's answers, or nil when the line has no
	// way back (a file, say).
	Replies() io.Reader
}

// JobEnder is a Conn that can be told a job has ended: an emulator ends a
// ticket there on printers without a cutter, as tearing the paper does.
type JobEnder interface{ EndJob() }

// Transport opens the lines of one printer URI scheme.
type Transport struct {
	// Dial opens the line to the printer t names, a printer of profile p.
	Dial func(ctx context.Context, t Target, p profiles.Profile) (Conn, error)
	// Unpaced says nothing behind the line can overflow (a file, a
	// printer emulated in-process): jobs go at full speed.
	Unpaced bool
	// Check, when set, checks the URI's query keys of the transport's own
	// (Target.Query), so a mistake is refused when the URI is read, not
	// when the line is first opened.
	Check func(t Target) error
}

// Transports are the ways to reach a printer, by URI scheme. Builtin has
// the real ones; a program that wants others (the emulator's, say) adds
// them to its own map before opening printers, and passes it in Options.
type Transports map[string]Transport

// Builtin returns the transports of real printers: serial, usb, tcp and
// file.
func Builtin() Transports {
	return Transports{
		"serial": {Dial: dialSerial},
		"usb":    {Dial: dialUSB},
		"tcp":    {Dial: dialTCP},
		"file":   {Dial: dialFile, Unpaced: true},
	}
}

// schemes lists the schemes of ts for messages: "file, serial, tcp or usb".
func (ts Transports) schemes() string {
	names := make([]string, 0, len(ts))
	for s := range ts {
		names = append(names, s)
	}
	slices.Sort(names)
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// Target is a parsed printer URI.
type Target struct {
	Scheme string // serial, usb, tcp, file, or one a program added
	Path   string // device, file or folder; host:port for tcp
	Baud   int    // serial only

	// Pacing assumptions; 0 takes the profile's.
	BufferBytes  int
	PrintSpeedMM int
	NoPacing     bool

	// Query is the URI's query as written, for the keys of a transport a
	// program added (the emulator's state).
	Query string
}

func (t Target) String() string {
	if t.Scheme == "tcp" {
		return "tcp://" + t.Path
	}
	return t.Scheme + "://" + t.Path
}

// Parse reads a printer URI of one of the schemes of ts:
//
//	serial:///dev/ttyUSB0?baud=19200   a serial port (default 9600 baud)
//	usb:///dev/usb/lp0                 a USB printer-class device
//	tcp://10.0.0.5:9100                a network printer's raw port (default 9100)
//	file:///var/tmp/out.bin            append the bytes to a file
//	emulator:///var/tmp/tickets        (with the emulator's transport) an in-process emulator writing a PNG per ticket
//
// Any of them takes buffer=BYTES and speed=MM_PER_S to override the
// profile's pacing assumptions, and pace=off to send at full speed.
// Schemes other than tcp name an absolute path.
func (ts Transports) Parse(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, fmt.Errorf("printer URI %q: %w", s, err)
	}
	switch _, ok := ts[u.Scheme]; {
	case u.Scheme == "":
		return Target{}, fmt.Errorf("printer URI %q has no scheme: use %s, as in usb:///dev/usb/lp0", s, ts.schemes())
	case !ok:
		return Target{}, fmt.Errorf("printer URI %q: unknown scheme %q (%s)", s, u.Scheme, ts.schemes())
	}
	t := Target{Scheme: u.Scheme, Path: u.Path, Query: u.RawQuery}
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
	}
	if u.Host != "" {
		return Target{}, fmt.Errorf("printer URI %q: a %s path must be absolute, with three slashes (%s:///dev/...)", s, u.Scheme, u.Scheme)
	}
	if t.Path == "" {
		return Target{}, fmt.Errorf("printer URI %q names no path", s)
	}
	if check := ts[u.Scheme].Check; check != nil {
		if err := check(t); err != nil {
			return Target{}, fmt.Errorf("printer URI %q: %w", s, err)
		}
	}
	return t, nil
}

func dialSerial(_ context.Context, t Target, _ profiles.Profile) (Conn, error) {
	port, err := serial.Open(t.Path, &serial.Mode{BaudRate: t.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("opening serial port %s: %w", t.Path, err)
	}
	return &serialConn{port: port}, nil
}

func dialUSB(_ context.Context, t Target, _ profiles.Profile) (Conn, error) {
	f, err := os.OpenFile(t.Path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("opening USB printer %s: %w", t.Path, err)
	}
	return &fileConn{f: f, twoWay: true}, nil
}

func dialTCP(ctx context.Context, t Target, _ profiles.Profile) (Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", t.Path)
	if err != nil {
		return nil, fmt.Errorf("connecting to printer %s: %w", t.Path, err)
	}
	return &tcpConn{c: c}, nil
}

func dialFile(_ context.Context, t Target, _ profiles.Profile) (Conn, error) {
	f, err := os.OpenFile(t.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening output file %s: %w", t.Path, err)
	}
	return &fileConn{f: f}, nil
}

type serialConn struct{ port serial.Port }

func (c *serialConn) Write(p []byte) (int, error) { return c.port.Write(p) }
func (c *serialConn) Close() error                { return c.port.Close() }
func (c *serialConn) Replies() io.Reader          { return serialReader{c.port} }

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
func (c *tcpConn) Replies() io.Reader { return c.c }

type fileConn struct {
	f      *os.File
	twoWay bool
}

func (c *fileConn) Write(p []byte) (int, error) { return c.f.Write(p) }
func (c *fileConn) Close() error                { return c.f.Close() }
func (c *fileConn) Replies() io.Reader {
	if !c.twoWay {
		return nil
	}
	return c.f
}
