package emulator

import (
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
)

// Config describes the printer to emulate. The zero value of every timing
// and size field means "ideal": an endless roll, no buffer limit, printing
// in no time.
type Config struct {
	Profile profiles.Profile

	// BufferBytes is the input buffer. A command is carried out only when
	// all of it is in the buffer (as cheap printers do); bytes that arrive
	// when the buffer is full are lost, as on a serial line without flow
	// control. 0: unlimited.
	BufferBytes int

	// BaudRate models the serial line of a pty: bytes are taken from it no
	// faster than BaudRate/10 per second. 0: as fast as they come.
	BaudRate int

	// PrintSpeedMM is how fast paper moves while printing, in mm/s, and
	// CutTime how long a cut takes; they set how fast the buffer drains.
	PrintSpeedMM float64
	CutTime      time.Duration

	// PaperTickets is how many tickets the roll holds before the paper end
	// sensor trips; NearEndTickets how many tickets before that the
	// near-end sensor does. 0: an endless roll.
	PaperTickets   int
	NearEndTickets int
	// PaperDots, if set, is how many dot lines of paper the roll holds:
	// the paper runs out when printing has moved it that far, in the
	// middle of a ticket as like as not, and the printer stops there.
	PaperDots int

	// TearOffAfter ends a ticket that was not cut once the printer has
	// been idle this long, as a person tears paper off a printer without
	// a cutter. 0: only ESC @, a cut or Flush end a ticket.
	TearOffAfter time.Duration

	// OutDir, if set, receives ticket-NNNN.png for every ticket printed.
	OutDir string

	Logger *slog.Logger
}

// Printer is an emulated ESC/POS printer. Bytes go in with Receive; it
// answers status requests through the writer given to Attach, draws what
// it prints, and can be put into fault states. It is safe for concurrent
// use.
type Printer struct {
	cfg Config
	log *slog.Logger

	mu        sync.Mutex
	paper     *paper
	parser    escpos.Parser
	queue     []queued     // whole commands waiting to be carried out
	feeds     escpos.Feeds // the line spacing the queued commands set, for their timing
	buffered  int          // bytes in the input buffer (queued and partial)
	busyTill  time.Time
	lastIn    time.Time // when bytes last arrived
	last      time.Time
	state     escpos.State
	asbMask   byte
	lastASB   [4]byte
	asbTo     io.Writer // where Automatic Status Back goes: who enabled it
	silent    bool
	cutterJam bool
	// nearEnd holds the near-end sensor on whatever the roll's count says
	// (SetPaperNearEnd).
	nearEnd bool

	received, dropped int
	dropWarned        bool
	printed           int // tickets finished
	written           int // tickets already handed out / written
	ticketSeq         int
	statusRequests    int
	rollDots          int // paper printed off the roll
}

type queued struct {
	cmd      escpos.Command
	dots     int // paper it moves
	duration time.Duration
	from     io.Writer // where an answer to this command goes
}

// New returns an emulated printer, powered on, paper in, cover closed.
func New(cfg Config) (*Printer, error) {
	if cfg.Profile.WidthDots <= 0 {
		return nil, fmt.Errorf("emulator: profile %q has no paper width", cfg.Profile.Name)
	}
	if cfg.OutDir != "" {
		if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("emulator: creating output folder: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Printer{cfg: cfg, log: log, paper: newPaper(cfg.Profile)}
	p.updatePaperSensors()
	return p, nil
}

// Config returns the configuration the printer was made with.
func (p *Printer) Config() Config { return p.cfg }

// Receive takes bytes that arrived on the line at time now. Real-time
// status requests are answered at once, to from (nil: answers are lost);
// everything else waits in the buffer until the print mechanism gets to
// it, and answers then.
func (p *Printer) Receive(from io.Writer, data []byte, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advance(now)
	p.lastIn = now
	for _, b := range data {
		off := p.received
		p.received++
		if p.cfg.BufferBytes > 0 && p.buffered >= p.cfg.BufferBytes {
			p.overflow(off)
			continue
		}
		p.buffered++
		cmd, ok := p.parser.Feed(b)
		if !ok {
			continue
		}
		if cmd.Name == "DLE EOT" || cmd.Name == "GS r" {
			p.statusRequests++
		}
		if cmd.Name == "DLE EOT" || cmd.Name == "DLE ENQ" {
			// Real-time commands act on arrival and leave the buffer.
			p.buffered -= len(cmd.Bytes)
			p.realTime(cmd, from)
			continue
		}
		dots, cut := p.feeds.Motion(cmd)
		p.queue = append(p.queue, queued{cmd: cmd, dots: dots, duration: p.duration(dots, cut), from: from})
		if len(p.queue) == 1 && p.busyTill.Before(now) {
			p.busyTill = now
		}
	}
	p.advance(now)
}

// overflow loses one byte. If the buffer is full of a single unfinished
// command, that command can never fit: the printer gives up on it, and the
// bytes after are read as new commands.
func (p *Printer) overflow(off int) {
	p.dropped++
	if !p.dropWarned {
		p.paper.warn(off, "input buffer of %d bytes full: bytes lost from here", p.cfg.BufferBytes)
		p.dropWarned = true
	}
	if len(p.queue) == 0 && p.parser.Pending() >= p.cfg.BufferBytes {
		start, n := p.parser.Discard()
		p.buffered -= n
		p.paper.warn(start, "command larger than the %d-byte input buffer: %d bytes discarded", p.cfg.BufferBytes, n)
	}
}

// duration is how long the mechanism takes to move the paper by dots, or
// to cut it.
func (p *Printer) duration(dots int, cut bool) time.Duration {
	if p.cfg.PrintSpeedMM <= 0 {
		return 0
	}
	if cut {
		return p.cfg.CutTime
	}
	dotsPerSec := p.cfg.PrintSpeedMM * float64(p.cfg.Profile.DPI) / 25.4
	return time.Duration(float64(dots) / dotsPerSec * float64(time.Second))
}

// advance carries out the queued commands the mechanism has finished by
// now. A printer that is offline (cover open, no paper, error) stops.
func (p *Printer) advance(now time.Time) {
	if now.After(p.last) {
		p.last = now
	}
	for len(p.queue) > 0 && !p.stopped() {
		q := p.queue[0]
		end := p.busyTill.Add(q.duration)
		if q.duration > 0 && end.After(now) {
			break
		}
		p.busyTill = end
		p.queue = p.queue[1:]
		p.buffered -= len(q.cmd.Bytes)
		p.execute(q)
	}
	if (len(p.queue) == 0 || p.stopped()) && p.busyTill.Before(now) {
		// An idle or stopped mechanism starts afresh when work comes.
		p.busyTill = now
	}
	if t := p.cfg.TearOffAfter; t > 0 && len(p.queue) == 0 && p.parser.Pending() == 0 && now.Sub(p.lastIn) >= t {
		p.finishUncut()
	}
	p.writeTickets()
}

// LineClosed tells the printer its connection ended. A network printer
// drops a command cut off by the end of its connection, rather than read
// the next connection's bytes as the rest of it.
func (p *Printer) LineClosed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.parser.Pending() == 0 {
		return
	}
	start, n := p.parser.Discard()
	p.buffered -= n
	p.paper.warn(start, "connection closed in the middle of a command: %d bytes dropped", n)
}

// Advance lets the print mechanism catch up to now; servers call it on a
// clock tick so printing goes on while no bytes arrive.
func (p *Printer) Advance(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advance(now)
}

func (p *Printer) stopped() bool {
	return p.state.CoverOpen || p.state.PaperOut || p.state.CutterError
}

func (p *Printer) execute(q queued) {
	c := q.cmd
	switch c.Name {
	case "GS a":
		p.asbMask, p.asbTo = c.Bytes[2], q.from
		p.lastASB = [4]byte{}
		p.sendASB()
		return
	case "GS r":
		if c.Bytes[2] == 1 || c.Bytes[2] == 49 {
			// Everything before GS r is printed, and on paper (in its
			// PNG) before the answer says so.
			p.writeTickets()
			p.send(q.from, p.state.PaperSensorByte())
		} else {
			p.paper.warn(c.Offset, "GS r %d is not emulated", c.Bytes[2])
		}
		return
	case "GS V", "ESC i", "ESC m":
		if p.cutterJam {
			p.state.CutterError, p.state.ErrorOccurred, p.state.Offline = true, true, true
			p.paper.warn(c.Offset, "cutter jammed")
			p.sendASB()
			return
		}
	}
	before := len(p.paper.tickets)
	p.paper.execute(c)
	if len(p.paper.tickets) > before {
		p.printed++
		p.updatePaperSensors()
	}
	if p.cfg.PaperDots > 0 && q.dots > 0 {
		p.rollDots += q.dots
		if p.rollDots >= p.cfg.PaperDots {
			p.state.PaperOut = true
			p.refreshOffline()
		}
	}
}

// updatePaperSensors sets the paper sensors from the tickets printed.
func (p *Printer) updatePaperSensors() {
	if p.cfg.PaperTickets <= 0 {
		p.state.PaperNearEnd = p.nearEnd
		return
	}
	left := p.cfg.PaperTickets - p.printed
	p.state.PaperNearEnd = p.nearEnd || left <= p.cfg.NearEndTickets
	if left <= 0 {
		p.state.PaperOut, p.state.PaperEndStop, p.state.Offline = true, true, true
	}
	p.sendASB()
}

// realTime answers DLE EOT n and carries out DLE ENQ.
func (p *Printer) realTime(c escpos.Command, from io.Writer) {
	n := c.Bytes[2]
	if c.Name == "DLE ENQ" {
		if n == 1 || n == 2 {
			// Recover from a recoverable error.
			p.state.CutterError, p.state.RecoverableError = false, false
			p.cutterJam = false
			p.refreshOffline()
		}
		return
	}
	if n < 1 || n > 4 {
		p.paper.warn(c.Offset, "DLE EOT %d is not emulated", n)
		return
	}
	p.send(from, p.state.RealTimeByte(n))
}

func (p *Printer) refreshOffline() {
	s := &p.state
	s.ErrorOccurred = s.CutterError || s.Unrecoverable || s.RecoverableError || s.AutoRecoverable
	s.PaperEndStop = s.PaperOut
	s.Offline = s.CoverOpen || s.PaperOut || s.ErrorOccurred
	p.sendASB()
}

func (p *Printer) send(to io.Writer, b ...byte) {
	if p.silent || to == nil {
		return
	}
	if _, err := to.Write(b); err != nil {
		p.log.Debug("emulator: status answer not delivered", "err", err)
	}
}

// sendASB sends Automatic Status Back when it is on and the status changed.
func (p *Printer) sendASB() {
	if p.asbMask == 0 {
		return
	}
	m := p.state.ASB()
	if m == p.lastASB {
		return
	}
	p.lastASB = m
	p.send(p.asbTo, m[:]...)
}

// keptTickets bounds the tickets held in memory by a long-running
// emulator; the PNG files stay.
const keptTickets = 16

// writeTickets writes the PNGs of newly finished tickets.
func (p *Printer) writeTickets() {
	defer func() {
		if n := len(p.paper.tickets) - keptTickets; n > 0 {
			p.paper.tickets = append(p.paper.tickets[:0:0], p.paper.tickets[n:]...)
			p.written -= n
		}
	}()
	for ; p.written < len(p.paper.tickets); p.written++ {
		t := &p.paper.tickets[p.written]
		p.ticketSeq++
		if p.cfg.OutDir == "" {
			continue
		}
		path := filepath.Join(p.cfg.OutDir, fmt.Sprintf("ticket-%04d.png", p.ticketSeq))
		if err := writePNG(path, t); err != nil {
			p.log.Error("emulator: writing ticket", "path", path, "err", err)
			continue
		}
		t.Path = path
		p.log.Info("emulator: ticket printed", "path", path, "lines", len(t.Lines), "warnings", len(t.Warnings))
	}
}

// writePNG writes the ticket's picture to path whole or not at all: a
// reader that finds the file finds all of it.
func writePNG(path string, t *Ticket) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = png.Encode(f, t.Image)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// Flush ends the ticket in progress without a cut, as tearing the paper
// off a printer without a cutter does, once everything buffered is printed.
func (p *Printer) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.advance(p.last.Add(time.Hour))
	if len(p.queue) > 0 {
		return
	}
	p.finishUncut()
	p.writeTickets()
}

// finishUncut ends the ticket in progress, if it has anything on it.
func (p *Printer) finishUncut() {
	before := len(p.paper.tickets)
	p.paper.finish(NoCut)
	if len(p.paper.tickets) > before {
		p.printed++
		p.updatePaperSensors()
	}
}

// Tickets returns the tickets printed so far.
func (p *Printer) Tickets() []Ticket {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Ticket(nil), p.paper.tickets...)
}

// Stats are counts over the printer's life.
type Stats struct {
	Received int // bytes that came in
	Dropped  int // bytes lost to a full buffer
	Buffered int // bytes waiting
	Printed  int // tickets finished
	// StatusRequests counts the status requests that came in: DLE EOT n
	// and GS r.
	StatusRequests int
}

// Stats returns the byte and ticket counts.
func (p *Printer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Received: p.received, Dropped: p.dropped, Buffered: p.buffered, Printed: p.printed, StatusRequests: p.statusRequests}
}

// State returns what the printer's status bytes would say now.
func (p *Printer) State() escpos.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// SetCoverOpen opens or closes the paper cover; printing stops while open.
func (p *Printer) SetCoverOpen(open bool) {
	p.fault(func() { p.state.CoverOpen = open })
}

// fault changes the printer's state with set, then stops or resumes
// printing as the new state says.
func (p *Printer) fault(set func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	set()
	p.refreshOffline()
	p.advance(p.last)
}

// LoadPaper puts in a new roll holding tickets tickets (0: endless),
// whatever length Config.PaperDots gave the first.
func (p *Printer) LoadPaper(tickets int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfg.PaperTickets, p.printed = tickets, 0
	p.cfg.PaperDots, p.rollDots = 0, 0
	p.state.PaperOut, p.state.PaperNearEnd, p.nearEnd = false, false, false
	p.updatePaperSensors()
	p.refreshOffline()
	p.advance(p.last)
}

// JamCutter makes the next cut fail with a cutter error, until DLE ENQ 1
// or 2 clears it.
func (p *Printer) JamCutter() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutterJam = true
}

// SetSilent stops (or resumes) every answer, as a printer that has hung
// or lost power does.
func (p *Printer) SetSilent(silent bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.silent = silent
}

// SetPaperNearEnd trips (or clears) the paper near-end sensor now, as a
// roll running low does; the printer goes on printing.
func (p *Printer) SetPaperNearEnd(low bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nearEnd = low
	p.updatePaperSensors()
	p.sendASB()
}

// SetPaperOut runs the paper out now (printing stops), or, with false,
// puts the same roll back: LoadPaper puts in a new one.
func (p *Printer) SetPaperOut(out bool) {
	p.fault(func() { p.state.PaperOut = out })
}

// SetCutterError puts the printer into a cutter error now (printing
// stops), or clears it, as DLE ENQ 1 or 2 does.
func (p *Printer) SetCutterError(failed bool) {
	p.fault(func() {
		p.state.CutterError = failed
		p.cutterJam = p.cutterJam && failed
	})
}
