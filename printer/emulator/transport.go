package emulator

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/profiles"
)

// Scheme is the printer URI scheme of an emulator in the same process:
// emulator:///DIR prints into an emulator of the printer's profile that
// writes a PNG per ticket to DIR. Its query sets the emulator's paper and
// faults (see URIState), as in
// emulator:///tmp/tickets?paper_tickets=20&near_end_tickets=5 or
// emulator:///tmp/tickets?state=near-end,cover-open. Production printers have no such
// scheme; a program that wants it (kioskd, kioskctl, the demo, tests)
// adds Transport to the transports it opens printers with.
const Scheme = "emulator"

// Transport opens emulator:///DIR printers. Bytes reach the emulator as
// fast as they are written, so they go unpaced.
func Transport() printer.Transport {
	return printer.Transport{Dial: dial, Unpaced: true, Check: func(t printer.Target) error {
		_, err := ParseURIState(t.Query)
		return err
	}}
}

// Register adds the emulator's scheme to ts and returns ts, as in
// emulator.Register(printer.Builtin()).
func Register(ts printer.Transports) printer.Transports {
	ts[Scheme] = Transport()
	return ts
}

func dial(_ context.Context, t printer.Target, p profiles.Profile) (printer.Conn, error) {
	st, err := ParseURIState(t.Query)
	if err != nil {
		return nil, err
	}
	emu, err := New(Config{Profile: p, OutDir: filepath.Clean(t.Path), PaperTickets: st.PaperTickets, NearEndTickets: st.NearEndTickets})
	if err != nil {
		return nil, err
	}
	st.Apply(emu)
	return newConn(emu), nil
}

// URIState is what an emulator:// URI's query sets up:
//
//	paper_tickets=N      the roll runs out after N tickets (0: endless)
//	near_end_tickets=M   the near-end sensor trips M tickets before that
//	state=S,...          faults from the start: near-end, paper-out,
//	                     cover-open, cutter-error
type URIState struct {
	PaperTickets, NearEndTickets              int
	NearEnd, PaperOut, CoverOpen, CutterError bool
}

// ParseURIState reads an emulator:// URI's query; it refuses keys and
// states it does not know, naming them.
func ParseURIState(query string) (URIState, error) {
	var st URIState
	q, err := url.ParseQuery(query)
	if err != nil {
		return st, fmt.Errorf("emulator settings %q: %w", query, err)
	}
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "buffer", "speed", "pace":
			// the printer package's pacing keys
		case "paper_tickets", "near_end_tickets":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return st, fmt.Errorf("emulator setting %s=%q is not a whole number of tickets", key, v)
			}
			if key == "paper_tickets" {
				st.PaperTickets = n
			} else {
				st.NearEndTickets = n
			}
		case "state":
			for s := range strings.SplitSeq(v, ",") {
				switch strings.TrimSpace(s) {
				case "near-end":
					st.NearEnd = true
				case "paper-out":
					st.PaperOut = true
				case "cover-open":
					st.CoverOpen = true
				case "cutter-error":
					st.CutterError = true
				case "":
				default:
					return st, fmt.Errorf("emulator state %q is unknown (near-end, paper-out, cover-open or cutter-error)", s)
				}
			}
		default:
			return st, fmt.Errorf("emulator setting %q is unknown (paper_tickets, near_end_tickets or state)", key)
		}
	}
	return st, nil
}

// Apply puts emu into the state's faults.
func (st URIState) Apply(emu *Printer) {
	if st.NearEnd {
		emu.SetPaperNearEnd(true)
	}
	if st.PaperOut {
		emu.SetPaperOut(true)
	}
	if st.CoverOpen {
		emu.SetCoverOpen(true)
	}
	if st.CutterError {
		emu.SetCutterError(true)
	}
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
