package audio

import (
	"errors"
	"io"
)

// Sink is where an Announcer's sound goes: a sound device, or in tests a
// buffer.
type Sink interface {
	// Rate is the sample rate the sink plays at.
	Rate() int
	// Start begins pulling mono 16-bit little-endian PCM from src and
	// playing it, without blocking. src.Read returns (0, nil) while it has
	// nothing to say and io.EOF when it is finished.
	Start(src io.Reader) error
	// Err reports a device failure after Start; nil while it works.
	Err() error
}

// A Sink may also say how long after a sample is handed to it the sample
// has been heard at the latest (its buffers), with a method
//
//	Latency() time.Duration
//
// The Announcer reports a call as said (OnSaid) only that long after its
// last sample; a sink without it is taken to play at once.

// ErrNoSound is returned (wrapped) by Announce when there is no working sound
// device: the call is logged and not spoken.
var ErrNoSound = errors.New("no working sound device")
