package printer

import (
	"context"
	"io"
	"slices"
	"time"

	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/profiles"
)

// pacer sends bytes no faster than the printer can take them. It keeps a
// model of the printer's input buffer: each span of the job (a command,
// or a short run of commands that move no paper, as the Builder that
// wrote them recorded) arrives when the line has carried
// it, stays in the buffer until the mechanism has printed it (the paper
// the span moves, at the assumed print speed, behind the spans before
// it), and a span is sent only when the model says it fits. Raster bands
// and column-image strips are already cut small by the encoder, so every
// span fits an empty buffer. The pacer reads no bytes: what they do is
// what the encoder said they do.
// On a serial line without flow control this is what keeps a 4 KB printer
// from losing bytes; on TCP and USB it keeps the kernel's queue short, so
// a cancelled job or a pulled cable shows at once.
type pacer struct {
	lineBytesPerSec float64 // 0: the line is not the limit
	budget          int     // bytes the buffer may hold
	dotsPerSec      float64 // assumed print speed
	cutTime         time.Duration
	off             bool

	lineFree    time.Time // when the line will have carried what was sent
	machineFree time.Time // when the mechanism will have printed it
	inFlight    []flight
}

type flight struct {
	bytes int
	done  time.Time
}

// assumedCutTime is what a cut is assumed to take.
const assumedCutTime = 600 * time.Millisecond

// unknownSpan is the size of the pieces bytes no span covers are sent in:
// small enough for the line to be paced, though their printing time is
// not known.
const unknownSpan = 64

func newPacer(t Target, p profiles.Profile, unpaced bool) *pacer {
	buffer := p.BufferBytes
	if t.BufferBytes > 0 {
		buffer = t.BufferBytes
	}
	speed := float64(p.PrintSpeedMM)
	if t.PrintSpeedMM > 0 {
		speed = float64(t.PrintSpeedMM)
	}
	pc := &pacer{
		budget:     buffer * 3 / 4,
		dotsPerSec: speed * float64(p.DPI) / 25.4,
		cutTime:    assumedCutTime,
		off:        t.NoPacing || unpaced,
	}
	if t.Baud > 0 {
		pc.lineBytesPerSec = float64(t.Baud) / 10 // 8N1: ten bits a byte
	}
	return pc
}

// drainedBy is when the printer is expected to have printed everything.
func (pc *pacer) drainedBy() time.Time { return pc.machineFree }

// write sends the job through w, waiting as the model says. It returns
// how many bytes were written.
func (pc *pacer) write(ctx context.Context, w io.Writer, job escpos.Job) (int, error) {
	data := job.Bytes
	if pc.off {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return w.Write(data)
	}
	written := 0
	sent := 0 // data[:sent] is written or in the batch, data[written:sent] the batch
	flush := func() error {
		if sent == written {
			return nil
		}
		n, err := w.Write(data[written:sent])
		written += n
		if err == nil && written != sent {
			err = io.ErrShortWrite
		}
		return err
	}
	for _, sp := range spans(job) {
		size := sp.End - sent
		pc.retire(time.Now())
		for pc.held()+size > pc.budget && len(pc.inFlight) > 0 {
			if err := flush(); err != nil {
				return written, err
			}
			if err := sleepUntil(ctx, pc.inFlight[0].done); err != nil {
				return written, err
			}
			pc.retire(time.Now())
		}
		now := time.Now()
		arrive := later(now, pc.lineFree)
		if pc.lineBytesPerSec > 0 {
			arrive = arrive.Add(time.Duration(float64(size) / pc.lineBytesPerSec * float64(time.Second)))
		}
		pc.lineFree = arrive
		done := later(pc.machineFree, arrive).Add(pc.printTime(sp))
		pc.machineFree = done
		pc.inFlight = append(pc.inFlight, flight{bytes: size, done: done})
		sent = sp.End
		// Keep no more than a quarter second queued on the line.
		if ahead := time.Until(pc.lineFree); ahead > 250*time.Millisecond || sent-written >= 1024 {
			if err := flush(); err != nil {
				return written, err
			}
			if ahead > 250*time.Millisecond {
				if err := sleepUntil(ctx, pc.lineFree.Add(-100*time.Millisecond)); err != nil {
					return written, err
				}
			}
		}
	}
	return written, flush()
}

// spans are the pieces the job is sent in: its own spans, as far as they
// go in order, and the bytes after them (from no Builder) in pieces of
// unknownSpan that move no paper.
func spans(job escpos.Job) []escpos.Span {
	out := slices.Clip(job.Spans)
	end := 0
	for i, sp := range out {
		if sp.End <= end || sp.End > len(job.Bytes) {
			out = out[:i:i]
			break
		}
		end = sp.End
	}
	for end < len(job.Bytes) {
		end = min(end+unknownSpan, len(job.Bytes))
		out = append(out, escpos.Span{End: end})
	}
	return out
}

func (pc *pacer) printTime(sp escpos.Span) time.Duration {
	if sp.Cut {
		return pc.cutTime
	}
	if pc.dotsPerSec <= 0 {
		return 0
	}
	return time.Duration(float64(sp.Dots) / pc.dotsPerSec * float64(time.Second))
}

// retire forgets commands printed by now.
func (pc *pacer) retire(now time.Time) {
	i := 0
	for i < len(pc.inFlight) && !pc.inFlight[i].done.After(now) {
		i++
	}
	pc.inFlight = pc.inFlight[i:]
}

func (pc *pacer) held() int {
	n := 0
	for _, f := range pc.inFlight {
		n += f.bytes
	}
	return n
}

// reset forgets the model, for a new connection.
func (pc *pacer) reset() {
	pc.inFlight, pc.lineFree, pc.machineFree = nil, time.Time{}, time.Time{}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
