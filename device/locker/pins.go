package locker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"
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
