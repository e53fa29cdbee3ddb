// Package lockertest is a locker's compartments as a test drives them:
// periph.io's test pins (gpiotest) for a lock's relay, which tells the test
// each level it is driven to, and for a door's reed switch, which the test
// opens and closes by sending edges.
package lockertest

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// LockPin is a lock's relay output that tells the test each level it is
// driven to.
type LockPin struct {
	*gpiotest.Pin
	outs chan gpio.Level
}

// Out drives the relay and tells the test when the level changes.
func (p *LockPin) Out(l gpio.Level) error {
	before := p.Read()
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	if l != before {
		p.outs <- l
	}
	return nil
}

// DoorPin is a door's reed switch wired to ground: it holds the pin low
// while the door is closed, whatever the pull (a closed switch overpowers
// the pull-up), and high while it is open.
type DoorPin struct{ *gpiotest.Pin }

// In sets the pull and keeps the level: the switch decides it.
func (p *DoorPin) In(pull gpio.Pull, _ gpio.Edge) error {
	p.Lock()
	defer p.Unlock()
	p.P = pull
	return nil
}

// Compartment is one compartment's two pins, its door closed.
type Compartment struct {
	Lock *LockPin
	Door *DoorPin
}

// New makes a compartment's pins named prefix+"LOCK"+id and
// prefix+"DOOR"+id.
func New(prefix, id string) Compartment {
	return Compartment{
		Lock: &LockPin{Pin: &gpiotest.Pin{N: prefix + "LOCK" + id}, outs: make(chan gpio.Level, 64)},
		Door: &DoorPin{&gpiotest.Pin{N: prefix + "DOOR" + id, L: gpio.Low, EdgesChan: make(chan gpio.Level, 16)}},
	}
}

// Register makes both pins known to periph.io by name, as a board's
// driver does, so that kioskd finds them as it would on a Raspberry Pi.
func (c Compartment) Register() error {
	for _, p := range []gpio.PinIO{c.Lock, c.Door} {
		if err := gpioreg.Register(p); err != nil {
			return err
		}
	}
	return nil
}

// Open opens the door, as a hand does.
func (c Compartment) Open() { c.Door.EdgesChan <- gpio.High }

// Close closes the door.
func (c Compartment) Close() { c.Door.EdgesChan <- gpio.Low }

// Pulsed waits up to within for the lock's relay to be pulsed: driven
// high, then low.
func (c Compartment) Pulsed(within time.Duration) error {
	deadline := time.After(within)
	for _, want := range []gpio.Level{gpio.High, gpio.Low} {
		select {
		case l := <-c.Lock.outs:
			if l != want {
				return fmt.Errorf("lock %s driven %s, want %s", c.Lock.N, l, want)
			}
		case <-deadline:
			return fmt.Errorf("lock %s was not pulsed within %v", c.Lock.N, within)
		}
	}
	return nil
}

// NotPulsed says whether the lock was left alone since it was last
// looked at.
func (c Compartment) NotPulsed() bool {
	select {
	case <-c.Lock.outs:
		return false
	default:
		return true
	}
}
