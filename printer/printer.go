package printer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
)

// Options tune a Printer; the zero value is sensible.
type Options struct {
	Mode Mode // TextMode unless set
	// StatusTimeout is how long a status request may go unanswered before
	// the printer counts as not answering; 0 means 2 s.
	StatusTimeout time.Duration
	// AutoStatusBack asks the printer (GS a) to send its status by itself
	// whenever it changes; AutoStatus returns the latest.
	AutoStatusBack bool
	Logger         *slog.Logger
	// Transports are the URI schemes the printer may be reached by; nil
	// means Builtin().
	Transports Transports
}

// Printer is one ESC/POS printer, reached through the transport its URI
// names. The connection opens on Open, and again on the next call after
// it failed, so a printer plugged back in prints the next ticket. A
// Printer is safe for concurrent use; jobs are printed one at a time.
type Printer struct {
	target    Target
	transport Transport
	profile   profiles.Profile
	opts      Options
	log       *slog.Logger

	mu   sync.Mutex
	c    Conn
	ans  *answers
	pace *pacer
	enc  *Encoder
	// resync is set when a job broke off: the printer may still wait for
	// the rest of a raster band.
	resync bool
}

// Open returns the printer at uri (see Transports.Parse) of the given
// profile and tries to connect to it. It fails only for a URI it cannot use: a printer
// that cannot be reached yet (switched off, unplugged) is reported by
// Status and Print as Disconnected, and every call tries again, so a kiosk
// can start before its printer.
func Open(ctx context.Context, uri string, profile profiles.Profile, opts Options) (*Printer, error) {
	if opts.Transports == nil {
		opts.Transports = Builtin()
	}
	t, err := opts.Transports.Parse(uri)
	if err != nil {
		return nil, err
	}
	tr := opts.Transports[t.Scheme]
	if profile.WidthDots <= 0 {
		return nil, fmt.Errorf("printer profile %q has no paper width", profile.Name)
	}
	if opts.StatusTimeout <= 0 {
		opts.StatusTimeout = 2 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Printer{
		target: t, transport: tr, profile: profile, opts: opts, log: log.With("printer", t.String()),
		pace: newPacer(t, profile, tr.Unpaced), enc: NewEncoder(profile, opts.Mode),
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.connect(ctx); err != nil {
		p.log.Warn("printer not reachable yet", "err", err)
	}
	return p, nil
}

// Target is the parsed URI of the printer.
func (p *Printer) Target() Target { return p.target }

// Profile is the printer's profile.
func (p *Printer) Profile() profiles.Profile { return p.profile }

// Close closes the connection.
func (p *Printer) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.c == nil {
		return nil
	}
	err := p.c.Close()
	p.c, p.ans = nil, nil
	return err
}

func (p *Printer) connect(ctx context.Context) error {
	if p.c != nil && p.ans != nil {
		select {
		case <-p.ans.done:
			p.log.Warn("printer line closed; reconnecting")
			p.disconnect()
		default:
		}
	}
	if p.c != nil {
		return nil
	}
	c, err := p.transport.Dial(ctx, p.target, p.profile)
	if err != nil {
		return err
	}
	p.c = c
	if r := c.Replies(); r != nil {
		p.ans = newAnswers(r)
	}
	p.pace.reset()
	if p.opts.AutoStatusBack && p.ans != nil {
		if _, err := c.Write([]byte{escpos.GS, 'a', escpos.ASBAllButDrwr}); err != nil {
			p.disconnect()
			return fmt.Errorf("turning on automatic status on %s: %w", p.target, err)
		}
	}
	p.log.Debug("printer connected")
	return nil
}

func (p *Printer) disconnect() {
	if p.c != nil {
		p.c.Close()
	}
	p.c, p.ans = nil, nil
}

// AutoStatus returns the status the printer last sent by itself, with
// Options.AutoStatusBack; false if none has come on this connection.
func (p *Printer) AutoStatus() (Status, bool) {
	p.mu.Lock()
	ans := p.ans
	p.mu.Unlock()
	if ans == nil {
		return Status{}, false
	}
	ans.mu.Lock()
	defer ans.mu.Unlock()
	if ans.asb == nil {
		return Status{}, false
	}
	return statusFromState(*ans.asb), true
}

// Status is the printer's full status: one request for each of DLE EOT 1
// (online), 2 (cover open, paper fed by the button, an error), 3 (cutter,
// mechanical and unrecoverable errors) and 4 (paper near end, paper out);
// Status.Health says it in any printer's terms. The kiosk reads it while
// idle; a ticket reads less (see Print). A printer that does not
// answer within the status timeout is reported as NotAnswering, and a
// failed line as Disconnected; the error then says what happened.
func (p *Printer) Status(ctx context.Context) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status(ctx)
}

func (p *Printer) status(ctx context.Context) (Status, error) {
	return p.read(ctx, false)
}

// read asks the printer for its status groups (DLE EOT n), one request
// each. With canPrint it asks only what a job needs to know, whether the
// printer can print (the offline bit of group 1), and the other groups
// only if it cannot, to say why.
func (p *Printer) read(ctx context.Context, canPrint bool) (Status, error) {
	if err := p.connect(ctx); err != nil {
		return Status{Conditions: Disconnected}, err
	}
	if p.ans == nil {
		return Status{Conditions: NoStatus}, nil
	}
	p.ans.drain()
	var st escpos.State
	for n := byte(escpos.StatusPrinter); n <= escpos.StatusPaper; n++ {
		if canPrint && n > escpos.StatusPrinter && !st.Offline {
			break
		}
		if _, err := p.c.Write(escpos.RealTimeStatus(n)); err != nil {
			p.disconnect()
			return Status{Conditions: Disconnected}, fmt.Errorf("asking %s for its status: %w", p.target, err)
		}
		b, err := p.await(ctx, p.ans.realTime, time.Now().Add(p.opts.StatusTimeout))
		if err != nil {
			return p.failed(err, fmt.Sprintf("waiting for %s to answer DLE EOT %d", p.target, n))
		}
		if err := st.ApplyRealTime(n, b); err != nil {
			return Status{Conditions: NotAnswering}, fmt.Errorf("reading the status of %s: %w", p.target, err)
		}
	}
	return statusFromState(st), nil
}

var (
	errTimeout  = errors.New("no answer in time")
	errLineGone = errors.New("the line closed")
)

// await waits for one answer on ch until deadline.
func (p *Printer) await(ctx context.Context, ch chan byte, deadline time.Time) (byte, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case b := <-ch:
		return b, nil
	case <-p.ans.done:
		return 0, errLineGone
	case <-timer.C:
		return 0, errTimeout
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// failed turns an await error into the status it means.
func (p *Printer) failed(err error, doing string) (Status, error) {
	switch {
	case errors.Is(err, errLineGone):
		p.disconnect()
		return Status{Conditions: Disconnected}, fmt.Errorf("%s: %w", doing, err)
	case errors.Is(err, errTimeout):
		return Status{Conditions: NotAnswering}, fmt.Errorf("%s: no answer within %v", doing, p.opts.StatusTimeout)
	}
	return Status{}, fmt.Errorf("%s: %w", doing, err)
}

// Print prints a ticket. It reads the printer's status twice: before,
// whether it can print (DLE EOT 1, and the rest only when it cannot, to
// say why), and after the cut, whether it did: GS r, which the printer
// answers only once it has printed everything before it, with what its
// paper sensors see. The ticket is sent paced for the printer between
// the two. The Status returned is the printer's after the ticket. The
// error is a *StatusError when the printer was not ready or stopped, and
// says so when the line failed; the kiosk then shows the number on screen
// instead.
func (p *Printer) Print(ctx context.Context, t Ticket) (Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	enc, err := p.enc.Ticket(t)
	if err != nil {
		return Status{}, fmt.Errorf("laying out ticket %s: %w", t.Number, err)
	}
	return p.job(ctx, enc.Job, "printing ticket "+t.Number)
}

// PrintTestPage prints the test page of kioskctl print-test and returns
// how each line was sent.
func (p *Printer) PrintTestPage(ctx context.Context, now time.Time) (Encoded, Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	enc, err := p.enc.TestPage(now)
	if err != nil {
		return enc, Status{}, err
	}
	st, err := p.job(ctx, enc.Job, "printing the test page")
	return enc, st, err
}

// resynchronise ends whatever command a broken-off job left unfinished:
// NUL bytes complete a raster band, column strip or graphics band (as
// white dots; the encoder keeps each under half the buffer) and are
// ignored otherwise, and ESC @ resets the printer, clearing a strip left
// in its line buffer.
func (p *Printer) resynchronise(ctx context.Context) error {
	var b escpos.Builder
	b.Raw(make([]byte, p.profile.BufferBytes/2+8)...)
	b.Init()
	if _, err := p.pace.write(ctx, p.c, b.Job()); err != nil {
		p.disconnect()
		return fmt.Errorf("resetting %s after a broken-off job: %w", p.target, err)
	}
	p.resync = false
	return nil
}

// Write sends ESC/POS bytes without checking status, paced by the spans
// the job's Builder recorded; bytes it has no spans for are paced for the
// line alone, as nothing says how long they take to print.
func (p *Printer) Write(ctx context.Context, job escpos.Job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.connect(ctx); err != nil {
		return err
	}
	if n, err := p.pace.write(ctx, p.c, job); err != nil {
		p.disconnect()
		return fmt.Errorf("writing to %s: line failed after %d of %d bytes: %w", p.target, n, len(job.Bytes), err)
	}
	return nil
}

func (p *Printer) job(ctx context.Context, job escpos.Job, op string) (Status, error) {
	before, err := p.read(ctx, true)
	if err != nil {
		return before, &StatusError{Op: op, Status: before, Err: err}
	}
	if !before.Ready() {
		return before, &StatusError{Op: op, Status: before}
	}
	if p.resync {
		if err := p.resynchronise(ctx); err != nil {
			return Status{Conditions: Disconnected}, fmt.Errorf("%s: %w", op, err)
		}
	}
	n, err := p.pace.write(ctx, p.c, job)
	if err != nil {
		p.disconnect()
		p.resync = true
		p.log.Error("printer failed mid-job", "op", op, "sent", n, "of", len(job.Bytes), "err", err)
		return Status{Conditions: Disconnected}, fmt.Errorf("%s on %s: line failed after %d of %d bytes: %w", op, p.target, n, len(job.Bytes), err)
	}
	if e, ok := p.c.(JobEnder); ok {
		e.EndJob()
	}
	if p.ans == nil {
		return Status{Conditions: NoStatus}, nil
	}
	// GS r is answered only when everything before it has been printed:
	// its answer says the job came out, and how the paper is.
	p.ans.drain()
	if _, err := p.c.Write(escpos.PaperSensorStatus()); err != nil {
		p.disconnect()
		return Status{Conditions: Disconnected}, fmt.Errorf("%s on %s: %w", op, p.target, err)
	}
	b, waitErr := p.await(ctx, p.ans.sensor, later(time.Now(), p.pace.drainedBy()).Add(p.opts.StatusTimeout))
	if waitErr == nil {
		var st escpos.State
		if err := st.ApplyPaperSensor(b); err == nil {
			return statusFromState(st), nil
		}
	}
	// No confirmation: the printer stopped before the end of the job, or
	// does not answer GS r. Its status says which.
	after, err := p.status(ctx)
	if err != nil {
		return after, fmt.Errorf("%s: %w", op, err)
	}
	if !after.Ready() {
		return after, &StatusError{Op: op, Status: after}
	}
	p.log.Warn("printer did not confirm the end of the job (GS r); its status is fine", "op", op, "err", waitErr)
	return after, nil
}
