// Package audiotest gives tests a real sound device that records: ALSA's
// default PCM becomes a `file` PCM (with a `null` slave) writing into a FIFO
// that the test reads at the device's pace. A process started with Env()
// plays through its ordinary ALSA path (Oto included) into the capture.
//
// ALSA reads $HOME/.asoundrc when a process first opens a PCM, and Oto
// allows one context per process, so the playing side runs in a child
// process (typically the test binary re-executed) with Env() set.
//
// The `null` PCM alone consumes sound as fast as it is written, which would
// make a player spin and write gigabytes of silence; reading the FIFO at the
// sample rate paces the writer like a sound card does.
package audiotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Capture is a recording ALSA device for child processes.
type Capture struct {
	home string
	fifo string
	rate int
	pace float64

	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	samples []float32
	err     error
}

// New sets up a capture device in dir for mono float playback at rate, read
// at speed times real time (1 is a real device; more makes tests quicker but
// still paced). Call Stop once the child has exited.
func New(dir string, rate int, speed float64) (*Capture, error) {
	c := &Capture{
		home: dir,
		fifo: filepath.Join(dir, "capture.raw"),
		rate: rate,
		pace: speed,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if err := unix.Mkfifo(c.fifo, 0o600); err != nil {
		return nil, fmt.Errorf("creating capture FIFO: %w", err)
	}
	conf := fmt.Sprintf(`# Written by audiotest: the default PCM records into a FIFO.
pcm.!default {
	type file
	slave.pcm "null"
	file %q
	format "raw"
}
`, c.fifo)
	if err := os.WriteFile(filepath.Join(dir, ".asoundrc"), []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("writing .asoundrc: %w", err)
	}
	// O_RDWR: opening does not wait for a writer, and reads never see EOF
	// between two writers; Stop ends the capture instead. O_NONBLOCK puts
	// the FIFO under Go's poller, so read deadlines work.
	f, err := os.OpenFile(c.fifo, os.O_RDWR|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("opening capture FIFO: %w", err)
	}
	// A small pipe keeps the writer close to what has been "played", like a
	// device buffer; the default 64 KiB would hold a second of sound.
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETPIPE_SZ, 4096); err != nil {
		f.Close()
		return nil, fmt.Errorf("sizing capture FIFO: %w", err)
	}
	go c.read(f)
	return c, nil
}

// Env returns the environment for a child process that should play into the
// capture: HOME pointing at the .asoundrc, and PulseAudio made unreachable so
// Oto falls back to ALSA.
func (c *Capture) Env() []string {
	env := []string{"HOME=" + c.home, "PULSE_SERVER=unix:" + filepath.Join(c.home, "no-pulse")}
	for _, kv := range os.Environ() {
		if !hasKey(kv, "HOME") && !hasKey(kv, "PULSE_SERVER") && !hasKey(kv, "ALSA_CONFIG_PATH") {
			env = append(env, kv)
		}
	}
	return env
}

func hasKey(kv, key string) bool {
	return len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '='
}

// read drains the FIFO at the capture's pace until Stop.
func (c *Capture) read(f *os.File) {
	defer close(c.done)
	defer f.Close()
	chunk := make([]byte, 4*max(1, c.rate/100)) // 10 ms of mono float32
	start := time.Now()
	frames := 0
	var pending []byte
	stopping := false
	for {
		if !stopping {
			// Keep to the pace: frames read so far may not run ahead of
			// the time elapsed.
			due := start.Add(time.Duration(float64(frames) / (float64(c.rate) * c.pace) * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-time.After(d):
				case <-c.stop:
					stopping = true
				}
			}
		}
		select {
		case <-c.stop:
			stopping = true
		default:
		}
		deadline := 100 * time.Millisecond
		if stopping {
			deadline = 20 * time.Millisecond // drain what the child left
		}
		_ = f.SetReadDeadline(time.Now().Add(deadline))
		n, err := f.Read(chunk)
		if frames == 0 && len(pending) == 0 && n > 0 {
			start = time.Now() // pace from the first sound, not from New
		}
		pending = append(pending, chunk[:n]...)
		whole := len(pending) / 4 * 4
		c.mu.Lock()
		for i := 0; i < whole; i += 4 {
			c.samples = append(c.samples, math.Float32frombits(binary.LittleEndian.Uint32(pending[i:])))
		}
		c.mu.Unlock()
		frames += whole / 4
		pending = pending[whole:]
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if stopping {
				return
			}
		case errors.Is(err, io.EOF), errors.Is(err, syscall.EBADF):
			return
		default:
			c.mu.Lock()
			c.err = fmt.Errorf("reading capture FIFO: %w", err)
			c.mu.Unlock()
			return
		}
	}
}

// Stop ends the capture once the playing process has exited and returns
// everything recorded, as float samples.
func (c *Capture) Stop() ([]float32, error) {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.samples, c.err
}

// Samples returns what has been recorded so far.
func (c *Capture) Samples() []float32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]float32(nil), c.samples...)
}

// Find looks for want (16-bit samples as handed to the sound device) in got
// (the float samples the device received) from index from. want's first
// sound is aligned with the first sound in got[from:]; from there every
// sample of want must follow in order, exactly. Silence the device inserted
// when its feed ran late (a dropout under load delays sound and loses none)
// is skipped and counted. It returns the index in got just past want.
func Find(got []float32, from int, want []int16) (end, inserted int, err error) {
	i := 0
	for i < len(want) && want[i] == 0 {
		i++
	}
	j := from
	for j < len(got) && got[j] == 0 {
		j++
	}
	if i == len(want) {
		return from, 0, errors.New("want is silent")
	}
	if j == len(got) {
		return 0, 0, fmt.Errorf("no sound in the capture after sample %d", from)
	}
	for ; i < len(want); j++ {
		switch {
		case j >= len(got):
			return 0, inserted, fmt.Errorf("the capture ends at sample %d of %d wanted", i, len(want))
		case got[j] == float32(want[i])/32768:
			i++
		case got[j] == 0:
			inserted++
		default:
			return 0, inserted, fmt.Errorf("wanted sample %d = %v, captured sample %d = %v", i, float32(want[i])/32768, j, got[j])
		}
	}
	return j, inserted, nil
}
