package buttons

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/host/v3"

	"github.com/numerek/numerek/device/config"
)

// recorder collects presses.
type recorder struct {
	mu      sync.Mutex
	presses []config.Button
}

func (r *recorder) press(b config.Button) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.presses = append(r.presses, b)
}

func (r *recorder) got() []config.Button {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]config.Button(nil), r.presses...)
}

func newPin(name string) *gpiotest.Pin {
	return &gpiotest.Pin{N: name, EdgesChan: make(chan gpio.Level, 16)}
}

// pullOf reads a test pin's pull under its lock (gpiotest's Pull does not
// lock).
func pullOf(p *gpiotest.Pin) gpio.Pull {
	p.Lock()
	defer p.Unlock()
	return p.P
}

// edges plays levels on a pin as a hand on a bouncing contact does.
func edges(p *gpiotest.Pin, gap time.Duration, levels ...gpio.Level) {
	for _, l := range levels {
		p.EdgesChan <- l
		time.Sleep(gap)
	}
}

func watch(t *testing.T, pins map[config.Button]gpio.PinIO, opts Options) (*recorder, func()) {
	t.Helper()
	r := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Watch(ctx, pins, opts, r.press) }()
	synctest.Wait() // every pin set up and waiting for an edge
	return r, func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(2 * time.Second):
			t.Error("Watch did not return after its context ended")
		}
	}
}

func waitPresses(t *testing.T, r *recorder, n int) []config.Button {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for len(r.got()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // and no more come
	return r.got()
}

// A press on a bouncing contact counts once; holding it does not repeat;
// the next press counts only after the button was let go.
func TestBouncingPressCountsOnce(t *testing.T) {
	// Debounce is real time on a device; in a bubble it is virtual, so
	// the test does not depend on how busy the machine is.
	synctest.Test(t, func(t *testing.T) {
		next := newPin("GPIO17")
		r, stop := watch(t, map[config.Button]gpio.PinIO{config.ButtonNext: next}, Options{ActiveLow: true, Debounce: 30 * time.Millisecond, Poll: 50 * time.Millisecond})
		defer stop()
		if pull := pullOf(next); pull != gpio.PullUp {
			t.Errorf("an active-low button's pin has %s, want its pull-up on", pull)
		}
		// Down with bounces, held, then up with bounces.
		edges(next, 2*time.Millisecond, gpio.Low, gpio.High, gpio.Low, gpio.High, gpio.Low)
		time.Sleep(80 * time.Millisecond)
		edges(next, 2*time.Millisecond, gpio.High, gpio.Low, gpio.High)
		time.Sleep(80 * time.Millisecond)
		if got := waitPresses(t, r, 1); len(got) != 1 || got[0] != config.ButtonNext {
			t.Fatalf("one bouncing press: %v", got)
		}
		// A second, clean press.
		edges(next, 60*time.Millisecond, gpio.Low, gpio.High)
		if got := waitPresses(t, r, 2); len(got) != 2 {
			t.Errorf("two presses: %v", got)
		}
	})
}

// A glitch shorter than the debounce time is not a press.
func TestGlitchIsNoPress(t *testing.T) {
	// Debounce is real time on a device; in a bubble it is virtual, so
	// the test does not depend on how busy the machine is.
	synctest.Test(t, func(t *testing.T) {
		good := newPin("GPIO5")
		r, stop := watch(t, map[config.Button]gpio.PinIO{config.ButtonGood: good}, Options{ActiveLow: true, Debounce: 40 * time.Millisecond, Poll: 50 * time.Millisecond})
		defer stop()
		edges(good, time.Millisecond, gpio.Low, gpio.High)
		time.Sleep(150 * time.Millisecond)
		if got := r.got(); len(got) != 0 {
			t.Errorf("a 1 ms glitch counted as %v", got)
		}
	})
}

// Buttons wired to 3.3 V press high; each button reports itself.
func TestActiveHighAndSeveralButtons(t *testing.T) {
	// Debounce is real time on a device; in a bubble it is virtual, so
	// the test does not depend on how busy the machine is.
	synctest.Test(t, func(t *testing.T) {
		pins := map[config.Button]*gpiotest.Pin{config.ButtonRecall: newPin("GPIO27"), config.ButtonBad: newPin("GPIO13")}
		io := map[config.Button]gpio.PinIO{}
		for b, p := range pins {
			io[b] = p
		}
		r, stop := watch(t, io, Options{ActiveLow: false, Debounce: 10 * time.Millisecond, Poll: 50 * time.Millisecond})
		defer stop()
		if pull := pullOf(pins[config.ButtonBad]); pull != gpio.PullDown {
			t.Errorf("an active-high button's pin has %s, want its pull-down", pull)
		}
		edges(pins[config.ButtonBad], 30*time.Millisecond, gpio.High, gpio.Low)
		edges(pins[config.ButtonRecall], 30*time.Millisecond, gpio.High, gpio.Low)
		got := waitPresses(t, r, 2)
		if len(got) != 2 || got[0] != config.ButtonBad || got[1] != config.ButtonRecall {
			t.Errorf("presses %v, want bad then recall", got)
		}
	})
}

// A counter's config names its pins; kioskd logs what Open says. On a
// machine without GPIO (CI, a desktop) that is ErrNoGPIO, so the counter
// runs without buttons; on one with GPIO, the pins it has are found and
// each one it lacks is named with its button, so the fitter knows which
// wire to move.
func TestOpenSaysWhatIsMissing(t *testing.T) {
	if _, err := host.Init(); err != nil {
		t.Fatalf("starting periph.io: %v", err)
	}
	if len(gpioreg.All()) == 0 {
		pins, err := Open(map[config.Button]string{config.ButtonNext: "GPIO17"})
		if !errors.Is(err, ErrNoGPIO) || pins != nil {
			t.Errorf("without GPIO: Open gives %v, %v; want no pins and ErrNoGPIO", pins, err)
		}
	}

	// A board with one pin, as periph.io would register it.
	const have = "NUMEREK_TEST_GPIO"
	if err := gpioreg.Register(newPin(have)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gpioreg.Unregister(have) })
	pins, err := Open(map[config.Button]string{config.ButtonNext: have, config.ButtonRecall: "GPIO9999", config.ButtonBad: "GPIO9998"})
	if err == nil || errors.Is(err, ErrNoGPIO) {
		t.Fatalf("Open with two missing pins: %v, want an error naming them", err)
	}
	if want := "no GPIO pin GPIO9998 (bad button), GPIO9999 (recall button) on this machine"; err.Error() != want {
		t.Errorf("Open says %q, want %q", err, want)
	}
	if p := pins[config.ButtonNext]; len(pins) != 1 || p == nil || p.Name() != have {
		t.Errorf("Open found %v, want only the next button on %s", pins, have)
	}
}
