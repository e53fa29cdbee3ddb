package locker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/numerek/numerek/device/config"
)

// ErrNoGPIO means the machine has no GPIO pins periph.io can drive (a
// desktop, a container): no compartment can be opened.
var ErrNoGPIO = errors.New("this machine has no GPIO pins")

// Wiring is one compartment's pins by periph.io name, as the device's
// configuration gives them.
type Wiring struct {
	ID, LockPin, DoorPin string
	DoorClosedLow        bool
	Pulse                time.Duration
}

// Open finds the pins of each compartment. It returns the compartments
// whose two pins it found, and an error naming each pin it did not (or
// ErrNoGPIO on a machine without GPIO).
func Open(wiring []Wiring) ([]Compartment, error) {
	if _, err := host.Init(); err != nil {
		return nil, fmt.Errorf("starting periph.io: %w", err)
	}
	if len(gpioreg.All()) == 0 {
		return nil, ErrNoGPIO
	}
	var out []Compartment
	var missing []string
	for _, w := range wiring {
		lock, door := gpioreg.ByName(w.LockPin), gpioreg.ByName(w.DoorPin)
		for _, p := range []struct {
			pin  gpio.PinIO
			name string
			what string
		}{{lock, w.LockPin, "lock"}, {door, w.DoorPin, "door sensor"}} {
			if p.pin == nil {
				missing = append(missing, fmt.Sprintf("%s (the %s of compartment %s)", p.name, p.what, w.ID))
			}
		}
		if lock != nil && door != nil {
			out = append(out, Compartment{ID: w.ID, Lock: lock, Door: door, DoorClosedLow: w.DoorClosedLow, Pulse: w.Pulse})
		}
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("no GPIO pin %s on this machine", strings.Join(missing, ", "))
	}
	return out, nil
}

// Setup shuts the compartment's lock and makes its door sensor an input
// with the pull its wiring needs (device and kioskctl locker alike), and
// fills in the default pulse.
func (c *Compartment) Setup() error {
	if c.Pulse <= 0 {
		c.Pulse = 500 * time.Millisecond
	}
	if err := c.Lock.Out(gpio.Low); err != nil {
		return fmt.Errorf("shutting the lock of compartment %s (%s): %w", c.ID, c.Lock, err)
	}
	pull := gpio.PullDown
	if c.DoorClosedLow {
		pull = gpio.PullUp
	}
	if err := c.Door.In(pull, gpio.BothEdges); err != nil {
		return fmt.Errorf("reading the door sensor of compartment %s (%s): %w", c.ID, c.Door, err)
	}
	return nil
}

// DoorOpen reads the door's sensor: whether the door is open now.
func (c *Compartment) DoorOpen() bool {
	return (c.Door.Read() == gpio.Low) != c.DoorClosedLow
}

// PulseLock holds the lock's relay for the compartment's pulse (shorter
// if ctx ends: the relay is never left on).
func (c *Compartment) PulseLock(ctx context.Context) error {
	if err := c.Lock.Out(gpio.High); err != nil {
		return fmt.Errorf("pulsing the lock of compartment %s (%s): %w", c.ID, c.Lock, err)
	}
	t := time.NewTimer(c.Pulse)
	select {
	case <-t.C:
	case <-ctx.Done():
		t.Stop()
	}
	if err := c.Lock.Out(gpio.Low); err != nil {
		return fmt.Errorf("shutting the lock of compartment %s (%s): %w", c.ID, c.Lock, err)
	}
	return nil
}

// WatchDoor follows the door's sensor until ctx ends, calling moved with
// what it reads after each edge, once the contact has settled (a reed
// switch bounces for about settle), and after each quiet poll in case an
// edge was missed; moved may hear the same state again.
func (c *Compartment) WatchDoor(ctx context.Context, poll, settle time.Duration, moved func(open bool)) {
	for ctx.Err() == nil {
		if c.Door.WaitForEdge(poll) {
			for c.Door.WaitForEdge(settle) {
			}
		}
		if ctx.Err() != nil {
			return
		}
		moved(c.DoorOpen())
	}
}

// WiringOf is the wiring a device's configuration gives its compartments.
func WiringOf(comps []config.LockerCompartment) []Wiring {
	out := make([]Wiring, len(comps))
	for i, c := range comps {
		out[i] = Wiring{ID: c.ID, LockPin: c.LockPin, DoorPin: c.DoorPin, DoorClosedLow: c.DoorClosedLow, Pulse: c.Pulse}
	}
	return out
}
