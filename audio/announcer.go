package audio

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/numerek/numerek/audio/volume"
)

// AnnouncerOptions configure an Announcer; the zero value is usable.
type AnnouncerOptions struct {
	// Volume sets the loudness by time of day; empty means full volume.
	Volume volume.Schedule
	// Now is the clock the volume schedule is read with (nil: time.Now).
	Now func() time.Time
	// Log receives device trouble and unusable calls (nil: slog.Default()).
	Log *slog.Logger
	// OnSpeaking, if set, is called when the first sound of a call (its
	// chime, or its first word when it follows another call) is handed to
	// the sink: the moment the hall display can highlight the ticket. It
	// runs on the sink's goroutine and must return quickly.
	OnSpeaking func(Call)
	// OnSaid, if set, is called once a call has been heard to its end:
	// its last sample handed to the sink and the sink's Latency passed,
	// so a device killed before then says the call again rather than
	// never. Calls come in the order said, one at a time, on a goroutine
	// of the announcer's (on the sink's when the sink has no latency). A
	// call stopped halfway (Stop, Close) is not reported. Close waits for
	// the reports of calls already heard.
	OnSaid func(Call)
	// MaxWaiting bounds the calls waiting to be said (0: 100, some seven
	// minutes of speech). A call beyond it is refused, so a stalled device
	// cannot grow the queue without end.
	MaxWaiting int
}

// Announcer says calls one after another through a Sink. Calls arriving
// while one is being said wait their turn; none overlap and none are lost.
// Calls that wait together are said back to back after a single chime. It is
// safe for concurrent use.
type Announcer struct {
	voices *Voices
	sink   Sink
	opts   AnnouncerOptions
	log    *slog.Logger

	// wake tells a Read waiting for work that a call has arrived.
	wake chan struct{}

	mu      sync.Mutex
	waiting []Announcement // composed, not yet started
	// segs is what remains of the call being said; empty when idle.
	segs []segment
	// speakingAt counts samples until the current call's first sound;
	// negative once it has been reported.
	speakingAt int
	speaking   Call
	// idle is true once a whole call has ended with nothing waiting, so the
	// next call opens with a chime.
	idle bool
	// drained is closed and replaced whenever the announcer falls idle.
	drained chan struct{}
	closed  bool
	started bool
	lastErr string // the device error last logged, to log each once

	// latency is how long after a sample is handed to the sink it has
	// been heard (Sink.Latency).
	latency time.Duration
	// ended are the calls handed out to their end whose OnSaid is due;
	// reportWake wakes the goroutine reporting them, which closes
	// reported when the announcer is closed and they are all reported.
	ended      []endedCall
	reportWake chan struct{}
	reported   chan struct{}
}

// endedCall is a call handed to the sink to its end, heard at due.
type endedCall struct {
	call Call
	due  time.Time
}

// NewAnnouncer returns an Announcer saying calls with voices through sink.
// A nil sink means there is no sound device: each call is logged and
// refused with ErrNoSound, and the caller carries on.
func NewAnnouncer(voices *Voices, sink Sink, opts AnnouncerOptions) (*Announcer, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxWaiting <= 0 {
		opts.MaxWaiting = 100
	}
	if sink != nil && sink.Rate() != voices.Rate() {
		return nil, fmt.Errorf("sound device plays at %d Hz but the voices are loaded at %d Hz", sink.Rate(), voices.Rate())
	}
	a := &Announcer{
		voices:     voices,
		sink:       sink,
		opts:       opts,
		log:        opts.Log,
		wake:       make(chan struct{}, 1),
		idle:       true,
		speakingAt: -1,
		drained:    make(chan struct{}),
		reportWake: make(chan struct{}, 1),
		reported:   make(chan struct{}),
	}
	if l, ok := sink.(interface{ Latency() time.Duration }); ok {
		a.latency = l.Latency()
	}
	if opts.OnSaid != nil && a.latency > 0 {
		go a.report()
	} else {
		close(a.reported)
	}
	return a, nil
}

// Announce composes call and queues it to be said. It returns at once. The
// error is for a call that cannot be said (unknown language, bad ticket) or
// when the sound device is missing or broken, which is also logged; a clip
// missing from the pack is logged and the call is said without that word.
func (a *Announcer) Announce(call Call) error {
	ann, err := a.voices.Compose(call)
	if err != nil {
		a.log.Error("call not announced", "call", call.String(), "err", err)
		return err
	}
	if len(ann.Missing) > 0 {
		a.log.Warn("voice pack lacks clips; saying the call without them", "call", call.String(), "missing", ann.Missing)
	}
	if err := a.deviceErr(); err != nil {
		a.log.Warn("call not spoken", "call", call.String(), "err", err)
		return fmt.Errorf("announcing %s: %w", call, err)
	}

	a.mu.Lock()
	switch {
	case a.closed:
		a.mu.Unlock()
		return fmt.Errorf("announcing %s: announcer is closed", call)
	case len(a.waiting) >= a.opts.MaxWaiting:
		a.mu.Unlock()
		a.log.Error("call not announced: too many calls waiting", "call", call.String(), "waiting", a.opts.MaxWaiting)
		return fmt.Errorf("announcing %s: %d calls already waiting", call, a.opts.MaxWaiting)
	}
	a.waiting = append(a.waiting, ann)
	start := !a.started
	a.started = true
	a.mu.Unlock()

	if start {
		// The stream lives as long as the announcer: one Oto player, fed
		// silence-free, so a call starts without waiting for one to be set up.
		if err := a.sink.Start(a.stream()); err != nil {
			a.mu.Lock()
			a.started = false
			a.waiting = nil
			a.mu.Unlock()
			a.log.Error("sound device would not start; call not spoken", "call", call.String(), "err", err)
			return fmt.Errorf("announcing %s: %w: %w", call, ErrNoSound, err)
		}
	}
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return nil
}

// deviceErr reports a missing or failed sound device, logging each distinct
// failure once.
func (a *Announcer) deviceErr() error {
	if a.sink == nil {
		return ErrNoSound
	}
	err := a.sink.Err()
	if err == nil {
		return nil
	}
	a.mu.Lock()
	first := a.lastErr != err.Error()
	a.lastErr = err.Error()
	a.mu.Unlock()
	if first {
		a.log.Error("sound device failed", "err", err)
	}
	return fmt.Errorf("%w: %w", ErrNoSound, err)
}

// Waiting is the number of calls queued and not yet started.
func (a *Announcer) Waiting() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.waiting)
}

// Wait blocks until every queued call has been handed to the sink, or ctx
// ends. The sink may still be playing the last fraction of a second.
func (a *Announcer) Wait(ctx context.Context) error {
	for {
		a.mu.Lock()
		done := a.idle && len(a.waiting) == 0 || a.closed || !a.started
		ch := a.drained
		a.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Stop silences the call being said and drops the calls waiting, logging
// how many. For shutting down and for a technician's "quiet". The sink still
// plays what it had already buffered (Oto: up to a fifth of a second).
func (a *Announcer) Stop() {
	a.mu.Lock()
	dropped := len(a.waiting)
	a.waiting = nil
	a.segs = nil
	a.speakingAt = -1
	a.goIdle()
	a.mu.Unlock()
	if dropped > 0 {
		a.log.Warn("announcer stopped; waiting calls dropped", "dropped", dropped)
	}
}

// Close stops the announcer and ends its stream; later calls are refused.
// It returns once the calls heard to their end have been reported
// (OnSaid), at most the sink's latency later.
func (a *Announcer) Close() error {
	a.Stop()
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	for _, ch := range []chan struct{}{a.wake, a.reportWake} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	<-a.reported
	return nil
}

// report calls OnSaid for each ended call once it is due, in order,
// until the announcer is closed and none is left.
func (a *Announcer) report() {
	defer close(a.reported)
	for {
		a.mu.Lock()
		if len(a.ended) == 0 {
			closed := a.closed
			a.mu.Unlock()
			if closed {
				return
			}
			<-a.reportWake
			continue
		}
		next := a.ended[0]
		a.mu.Unlock()
		if d := time.Until(next.due); d > 0 {
			time.Sleep(d) // at most the sink's latency; nothing else waits here
		}
		a.mu.Lock()
		a.ended = a.ended[1:]
		a.mu.Unlock()
		a.opts.OnSaid(next.call)
	}
}

// reportEnded hands calls just ended to OnSaid: at once when the sink plays
// without latency, else to the reporting goroutine, due once heard.
func (a *Announcer) reportEnded(ended []Call) {
	if len(ended) == 0 || a.opts.OnSaid == nil {
		return
	}
	if a.latency <= 0 {
		for _, c := range ended {
			a.opts.OnSaid(c)
		}
		return
	}
	due := time.Now().Add(a.latency)
	a.mu.Lock()
	for _, c := range ended {
		a.ended = append(a.ended, endedCall{call: c, due: due})
	}
	a.mu.Unlock()
	select {
	case a.reportWake <- struct{}{}:
	default:
	}
}

// goIdle marks the announcer idle and wakes Wait. a.mu must be held.
func (a *Announcer) goIdle() {
	a.idle = true
	close(a.drained)
	a.drained = make(chan struct{})
}

// stream returns the reader the sink pulls the announcer's sound from.
func (a *Announcer) stream() io.Reader { return announcerStream{a} }

type announcerStream struct{ a *Announcer }

// idleWait is how long a Read with nothing to say waits for a call before
// returning no data. A call wakes it at once, so it costs no latency; Oto
// polls again after an empty read, so a short wait would spin (5 ms cost a
// Xeon core 2.3% while idle, 50 ms costs nothing measurable). The wait holds
// Oto's mixing goroutine, delaying the start of another player on the same
// context by as much; the process's other sounds (clicks, beeps) can bear it.
const idleWait = 50 * time.Millisecond

func (s announcerStream) Read(p []byte) (int, error) {
	a := s.a
	n, started, ended, err := a.fill(p)
	if n == 0 && err == nil {
		t := time.NewTimer(idleWait)
		select {
		case <-a.wake:
		case <-t.C:
		}
		t.Stop()
		n, started, ended, err = a.fill(p)
	}
	if started != nil && a.opts.OnSpeaking != nil {
		a.opts.OnSpeaking(*started)
	}
	a.reportEnded(ended)
	return n, err
}

// fill copies the next samples into p as little-endian int16, taking the next
// waiting call when the current one ends. It reports the call whose first
// sound it handed out, if any, and the calls whose last sample it handed
// out.
func (a *Announcer) fill(p []byte) (int, *Call, []Call, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return 0, nil, nil, io.EOF
	}
	var started *Call
	var ended []Call
	n := 0
	for n+2 <= len(p) {
		if len(a.segs) == 0 {
			if !a.nextCall() {
				break
			}
		}
		seg := &a.segs[0]
		k := min(seg.len(), (len(p)-n)/2)
		if seg.silence > 0 {
			k = min(k, seg.silence)
			clear(p[n : n+2*k])
			seg.silence -= k
		} else {
			for i, v := range seg.samples[:k] {
				if seg.gain < 1 {
					v = int16(math.Round(float64(v) * seg.gain))
				}
				binary.LittleEndian.PutUint16(p[n+2*i:], uint16(v))
			}
			seg.samples = seg.samples[k:]
		}
		if a.speakingAt >= 0 {
			if a.speakingAt < k {
				c := a.speaking
				started = &c
				a.speakingAt = -1
			} else {
				a.speakingAt -= k
			}
		}
		n += 2 * k
		if seg.len() == 0 {
			a.segs = a.segs[1:]
			if len(a.segs) == 0 {
				ended = append(ended, a.speaking)
				if len(a.waiting) == 0 {
					a.goIdle()
				}
			}
		}
	}
	return n, started, ended, nil
}

// nextCall moves the first waiting call into segs; false if none waits.
// a.mu must be held.
func (a *Announcer) nextCall() bool {
	if len(a.waiting) == 0 {
		return false
	}
	ann := a.waiting[0]
	a.waiting = a.waiting[1:]
	gain := a.opts.Volume.At(a.opts.Now())
	a.segs = a.voices.callSegments(ann, a.idle, gain)
	a.idle = false
	a.speaking = ann.Call
	a.speakingAt = firstSound(a.segs, gain)
	return true
}

// firstSound returns the offset of the first sample of segs that is not
// silent at gain; 0 when the call is muted, so it is still reported as said.
func firstSound(segs []segment, gain float64) int {
	off := 0
	for _, s := range segs {
		for i, v := range s.samples {
			if math.Round(float64(v)*math.Min(gain, 1)) != 0 {
				return off + i
			}
		}
		off += s.len()
	}
	return 0
}
