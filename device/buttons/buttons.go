// Package buttons reads a counter's push buttons (call next, recall,
// finish; good, neutral, bad) on GPIO pins through periph.io, and turns
// each press into one event: contacts bounce, so a press counts once the
// pin has held its new level for the debounce time, and the next press
// only after the button was let go.
package buttons

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
)

// ErrNoGPIO means the machine has no GPIO pins periph.io can drive (a
// desktop, a container): the counter runs without buttons.
var ErrNoGPIO = errors.New("this machine has no GPIO pins")

// Open finds the pins named in pins (periph.io names such as "GPIO17"),
// keyed by whatever names the caller gives its buttons (device/config's
// Button), so this driver needs no part of the configuration.
// It returns ErrNoGPIO on a machine without GPIO, and names every pin it
// cannot find; the pins it found are returned either way.
func Open[B ~string](pins map[B]string) (map[B]gpio.PinIO, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("starting periph.io: %w", err)
	}
	if len(gpioreg.All()) == 0 {
		return nil, ErrNoGPIO
	}
	out := map[B]gpio.PinIO{}
	var missing []string
	for btn, name := range pins {
		p := gpioreg.ByName(name)
		if p == nil {
			missing = append(missing, fmt.Sprintf("%s (%s button)", name, btn))
			continue
		}
		out[btn] = p
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return out, fmt.Errorf("no GPIO pin %s on this machine", strings.Join(missing, ", "))
	}
	return out, nil
}

// Options say how the buttons are wired.
type Options struct {
	// ActiveLow: a pressed button pulls its pin to ground, with the pin's
	// pull-up on (the usual wiring); false: to 3.3 V, with a pull-down.
	ActiveLow bool
	// Debounce is how long a pin must hold its new level to count.
	Debounce time.Duration
	// Poll bounds how long a wait for an edge lasts before the context is
	// checked again; default 500 ms.
	Poll time.Duration
}

// Watch reads pins until ctx ends and calls press, from one goroutine per
// pin, once for each press.
func Watch[B ~string](ctx context.Context, pins map[B]gpio.PinIO, opts Options, press func(B)) error {
	pull := gpio.PullDown
	if opts.ActiveLow {
		pull = gpio.PullUp
	}
	if opts.Poll <= 0 {
		opts.Poll = 500 * time.Millisecond
	}
	for btn, p := range pins {
		if err := p.In(pull, gpio.BothEdges); err != nil {
			return fmt.Errorf("setting up pin %s of the %s button: %w", p, btn, err)
		}
	}
	var wg sync.WaitGroup
	for btn, p := range pins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			watchPin(ctx, btn, p, opts, press)
		}()
	}
	wg.Wait()
	return nil
}

func watchPin[B ~string](ctx context.Context, btn B, p gpio.PinIO, opts Options, press func(B)) {
	active := func() bool { return (p.Read() == gpio.Low) == opts.ActiveLow }
	// A button held down at start is not a press.
	pressed := active()
	for ctx.Err() == nil {
		if !p.WaitForEdge(opts.Poll) {
			continue
		}
		// Let the contact settle, drop the edges of its bouncing, then see
		// where it settled.
		if opts.Debounce > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(opts.Debounce):
			}
		}
		for p.WaitForEdge(time.Millisecond) {
		}
		switch now := active(); {
		case now && !pressed:
			pressed = true
			press(btn)
		case !now:
			pressed = false
		}
	}
}
