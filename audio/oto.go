package audio

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ebitengine/oto/v3"
)

// OtoOptions configure the sound device.
type OtoOptions struct {
	// Rate is the output sample rate (0: DefaultRate). Load the voices at the
	// same rate.
	Rate int
	// BufferSize is the device buffer (0: 20 ms). Sound handed to the device
	// is heard about this much later; raise it if a slow device crackles.
	BufferSize time.Duration
	// ReadyTimeout bounds waiting for the device to open (0: 5 s).
	ReadyTimeout time.Duration
}

// DefaultBufferSize is the device buffer used when OtoOptions leaves it 0.
const DefaultBufferSize = 20 * time.Millisecond

// OtoSink plays through Oto v3: PulseAudio when a server runs, else ALSA's
// default device. Oto allows one context per process; build one OtoSink per
// process and share it (Context gives its context to other sounds).
type OtoSink struct {
	ctx        *oto.Context
	rate       int
	bufferSize time.Duration

	mu      sync.Mutex
	players []*oto.Player
}

// NewOtoSink opens the sound device: mono, 16-bit, at opts.Rate. It fails
// with a clear error when there is no device, e.g. "oto: initialization
// failed: PulseAudio: ...; ALSA: ...".
func NewOtoSink(opts OtoOptions) (*OtoSink, error) {
	if opts.Rate <= 0 {
		opts.Rate = DefaultRate
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = DefaultBufferSize
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 5 * time.Second
	}
	ctx, ready, err := oto.NewContext(&oto.NewContextOptions{
		SampleRate:      opts.Rate,
		ChannelCount:    1,
		Format:          oto.FormatSignedInt16LE,
		BufferSize:      opts.BufferSize,
		ApplicationName: "numerek",
	})
	if err != nil {
		return nil, fmt.Errorf("opening sound device: %w", err)
	}
	select {
	case <-ready:
	case <-time.After(opts.ReadyTimeout):
		return nil, fmt.Errorf("opening sound device: not ready after %v", opts.ReadyTimeout)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("opening sound device: %w", err)
	}
	return &OtoSink{ctx: ctx, rate: opts.Rate, bufferSize: opts.BufferSize}, nil
}

// Context returns the Oto context, for other sounds of the process.
func (s *OtoSink) Context() *oto.Context { return s.ctx }

// Rate is the output sample rate.
func (s *OtoSink) Rate() int { return s.rate }

// Err reports a device failure (a USB speaker unplugged, ALSA gone).
func (s *OtoSink) Err() error { return s.ctx.Err() }

// playerBuffer is how far ahead Oto's player reads the announcer's stream.
// It does not delay a call: while idle the stream returns no data, so the
// buffer is empty and a new call's first samples are mixed at once. It only
// has to cover hiccups of the goroutine that refills it (on a busy machine
// 100 ms was not always enough).
const playerBuffer = 250 * time.Millisecond

// Latency is how long after the announcer hands a sample to the sink it
// has been heard at the latest: the player's read-ahead and the device
// buffer (twice, as Drain allows).
func (s *OtoSink) Latency() time.Duration { return playerBuffer + 2*s.bufferSize }

// Start plays src from now on. Oto's player pulls from src as the device
// needs; a call that src starts returning is mixed into the next device
// period.
func (s *OtoSink) Start(src io.Reader) error {
	if err := s.ctx.Err(); err != nil {
		return fmt.Errorf("starting playback: %w", err)
	}
	p := s.ctx.NewPlayer(src)
	// The player's buffer is bytes of source: 16-bit mono.
	p.SetBufferSize(2 * samplesFor(s.rate, playerBuffer))
	p.Play()
	s.mu.Lock()
	// Keep the player referenced: Oto closes a player that is collected.
	s.players = append(s.players, p)
	s.mu.Unlock()
	return nil
}

// drainSlack is how much longer than the device buffer Drain waits.
const drainSlack = 200 * time.Millisecond

// Drain waits until the players have handed all they buffered to the device
// and the device buffer has had time to play it, or ctx ends. Call it after
// Announcer.Wait before a short-lived process (kioskctl) exits.
func (s *OtoSink) Drain(ctx context.Context) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		buffered := 0
		for _, p := range s.players {
			buffered += p.BufferedSize()
		}
		s.mu.Unlock()
		if buffered == 0 {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// The device buffer plays out in 2 x bufferSize; the slack is for the
	// mixer thread, which hands the last period to the device on its own
	// schedule, and a busy machine runs it late: without it a loaded test
	// machine's capture lost the announcement's last 5 ms.
	select {
	case <-time.After(2*s.bufferSize + drainSlack):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the players started on the sink and lets them go (since Oto
// v3.4 a player needs no closing of its own). The Oto context itself stays
// open until the process ends, as Oto has no way to close it.
func (s *OtoSink) Close() error {
	s.mu.Lock()
	players := s.players
	s.players = nil
	s.mu.Unlock()
	for _, p := range players {
		p.Pause()
	}
	return nil
}
