package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// tick is how often a served printer's mechanism catches up with the
// clock while no bytes arrive.
const tick = 5 * time.Millisecond

// free is the room left in the input buffer; -1 when it is unlimited.
func (p *Printer) free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg.BufferBytes <= 0 {
		return -1
	}
	return p.cfg.BufferBytes - p.buffered
}

// clock drives the mechanism until ctx ends.
func (p *Printer) clock(ctx context.Context) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			p.Advance(now)
		}
	}
}

// PTY is the emulated printer on a pseudo-terminal: programs open Path as
// they would a USB serial adapter (/dev/ttyUSB0).
type PTY struct {
	Path string

	master, slave *os.File
	cancel        context.CancelFunc
	done          chan struct{}
	once          sync.Once
}

// ServePTY opens a pseudo-terminal and feeds what is written to it into
// the printer, at Config.BaudRate if set, answering status requests back
// through it. It serves until ctx ends or Close.
func (p *Printer) ServePTY(ctx context.Context) (*PTY, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("emulator: opening a pseudo-terminal: %w", err)
	}
	if err := makeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return nil, fmt.Errorf("emulator: setting %s to raw mode: %w", slave.Name(), err)
	}
	if master, err = pollable(master); err != nil {
		slave.Close()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	t := &PTY{Path: slave.Name(), master: master, slave: slave, cancel: cancel, done: make(chan struct{})}
	go p.clock(ctx)
	go func() {
		defer close(t.done)
		p.serveLine(ctx, master)
	}()
	go func() {
		<-ctx.Done()
		t.closeFiles()
	}()
	return t, nil
}

// Close unplugs the printer: the pseudo-terminal goes away, and a program
// that has it open gets errors.
func (t *PTY) Close() error {
	t.cancel()
	t.closeFiles()
	<-t.done
	return nil
}

func (t *PTY) closeFiles() {
	t.once.Do(func() {
		t.master.Close()
		// The emulator keeps the slave open itself so the master does not
		// see a hang-up each time a client closes it.
		t.slave.Close()
	})
}

// serveLine reads a serial line into the printer. A serial line without
// flow control cannot refuse bytes: they are taken at the line's speed
// whether or not the buffer has room.
func (p *Printer) serveLine(ctx context.Context, line io.ReadWriter) {
	baud := p.cfg.BaudRate
	buf := make([]byte, 4096)
	chunk := len(buf)
	var perByte time.Duration
	if baud > 0 {
		perByte = time.Second * 10 / time.Duration(baud)
		chunk = 16
	}
	lineFree := time.Now()
	for ctx.Err() == nil {
		n, err := line.Read(buf[:chunk])
		if n > 0 {
			now := time.Now()
			if perByte == 0 {
				p.Receive(line, buf[:n], now)
			} else {
				if lineFree.Before(now) {
					lineFree = now
				}
				lineFree = lineFree.Add(time.Duration(n) * perByte)
				time.Sleep(time.Until(lineFree))
				p.Receive(line, buf[:n], lineFree)
			}
		}
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
				p.log.Warn("emulator: pty read", "err", err)
			}
			return
		}
	}
}

// pollable returns f as a file the Go runtime polls, so that closing it
// ends a Read in progress; pty.Open hands the master over in blocking mode.
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("duplicating the pty master: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("making the pty master non-blocking: %w", err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

func makeRaw(f *os.File) error {
	fd := int(f.Fd())
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// TCPServer is the emulated printer as a network printer on a raw TCP port
// (9100 on real ones).
type TCPServer struct {
	l      net.Listener
	p      *Printer
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// ListenTCP serves the printer on addr ("127.0.0.1:0" for a free port,
// ":9100" as a real printer) until ctx ends or Close.
func (p *Printer) ListenTCP(ctx context.Context, addr string) (*TCPServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listening on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &TCPServer{l: l, p: p, cancel: cancel, conns: map[net.Conn]bool{}}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); p.clock(ctx) }()
	go func() { defer s.wg.Done(); s.accept(ctx) }()
	go func() {
		<-ctx.Done()
		l.Close()
		s.DropConnections()
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *TCPServer) Addr() string { return s.l.Addr().String() }

// Close stops the server and closes its connections.
func (s *TCPServer) Close() error {
	s.cancel()
	s.l.Close()
	s.DropConnections()
	s.wg.Wait()
	return nil
}

// DropConnections closes the open connections, as pulling the network
// cable does; the server goes on accepting new ones.
func (s *TCPServer) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

func (s *TCPServer) accept(ctx context.Context) {
	for {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c)
			s.p.LineClosed()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// serveConn reads a connection into the printer. Unlike a serial line, a
// network printer reads only what its buffer has room for, and TCP holds
// the rest back, so nothing is lost.
func (s *TCPServer) serveConn(ctx context.Context, c net.Conn) {
	buf := make([]byte, 4096)
	for ctx.Err() == nil {
		n := len(buf)
		if free := s.p.free(); free >= 0 {
			if free == 0 {
				time.Sleep(tick)
				s.p.Advance(time.Now())
				continue
			}
			n = min(n, free)
		}
		got, err := c.Read(buf[:n])
		if got > 0 {
			s.p.Receive(c, buf[:got], time.Now())
		}
		if err != nil {
			return
		}
	}
}
