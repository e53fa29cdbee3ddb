package emulator

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/profiles"
)

// Scheme is the printer URI scheme of an emulator in the same process:
// emulator:///DIR prints into an emulator of the printer's profile that
// writes a PNG per ticket to DIR. Production printers have no such
// scheme; a program that wants it (kioskd, kioskctl, the demo, tests)
// adds Transport to the transports it opens printers with.
const Scheme = "emulator"

// Transport opens emulator:///DIR printers. Bytes reach the emulator as
// fast as they are written, so they go unpaced.
func Transport() printer.Transport {
	return printer.Transport{Dial: dial, Unpaced: true}
}

// Register adds the emulator's scheme to ts and returns ts, as in
// emulator.Register(printer.Builtin()).
func Register(ts printer.Transports) printer.Transports {
	ts[Scheme] = Transport()
	return ts
}

func dial(_ context.Context, t printer.Target, p profiles.Profile) (printer.Conn, error) {
	emu, err := New(Config{Profile: p, OutDir: filepath.Clean(t.Path)})
	if err != nil {
		return nil, err
	}
	return newConn(emu), nil
}

// conn is the line to an in-process emulator; its answers come back
// through a queue as they would down a cable.
type conn struct {
	emu     *Printer
	answers *answerQueue
	mu      sync.Mutex
	closed  bool
}

func newConn(emu *Printer) *conn {
	return &conn{emu: emu, answers: newAnswerQueue()}
}

func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, os.ErrClosed
	}
	c.emu.Receive(c.answers, p, time.Now())
	return len(p), nil
}

func (c *conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.emu.Flush()
	return c.answers.Close()
}

func (c *conn) Replies() io.Reader { return c.answers }

// EndJob tears off what the last job printed, if the printer did not cut.
func (c *conn) EndJob() { c.emu.Flush() }

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
