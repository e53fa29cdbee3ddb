// Package fleet is the server's side of an office's devices as devices:
// which of them hold an event stream open right now, and the control
// events (remote actions, edited settings, revocation) sent to a device
// over that stream, so nothing ever has to reach into a device from
// outside (no inbound port, no SSH); and their health (health.go): the
// reports they send, their status, their faults with their history, and
// the alerts to the office's admins.
package fleet

import (
	"sync"
	"time"
)

// Control is one control event for a device's stream: its SSE event name
// (protocol.ActionEvent, protocol.SettingsEvent) and what its data
// encodes as JSON.
type Control struct {
	Event string
	Data  any
}

// controlBuffer is how many control events may wait for a slow stream; an
// admin's clicks are few, and one that does not fit is reported as not
// delivered rather than blocking the page.
const controlBuffer = 8

// Conn is one open event stream of a device.
type Conn struct {
	device  string
	control bool
	c       chan Control
	revoked chan struct{}
	once    sync.Once
}

// Device is the device's id (its token's id).
func (c *Conn) Device() string { return c.device }

// C delivers the stream's control events (only to a stream that asked
// for them).
func (c *Conn) C() <-chan Control { return c.c }

// Revoked is closed when the device's credentials are revoked: the stream
// sends protocol.RevokedEvent and ends.
func (c *Conn) Revoked() <-chan struct{} { return c.revoked }

func (c *Conn) revoke() { c.once.Do(func() { close(c.revoked) }) }

// Presence is whether a device holds a stream open, and since when.
type Presence struct {
	Connected bool
	// Since is when the device's last stream opened (Connected) or
	// closed; zero if it has had none since the server started.
	Since time.Time
	// Streams is how many streams it holds (more than one: two processes
	// with one token, or a stream the device gave up that the server has
	// not yet noticed).
	Streams int
}

// Hub knows every device stream open on this server.
type Hub struct {
	clock func() time.Time

	mu       sync.Mutex
	conns    map[string]map[*Conn]struct{}
	presence map[string]Presence
}

// NewHub makes a hub; clock is the server's clock.
func NewHub(clock func() time.Time) *Hub {
	if clock == nil {
		clock = time.Now
	}
	return &Hub{clock: clock, conns: map[string]map[*Conn]struct{}{}, presence: map[string]Presence{}}
}

// Attach records a device's stream opening. control: the stream takes
// control events (the device sent protocol.ControlHeader).
func (h *Hub) Attach(device string, control bool) *Conn {
	c := &Conn{device: device, control: control, c: make(chan Control, controlBuffer), revoked: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.conns[device]
	if set == nil {
		set = map[*Conn]struct{}{}
		h.conns[device] = set
	}
	set[c] = struct{}{}
	p := h.presence[device]
	if !p.Connected {
		p.Since = h.clock()
	}
	p.Connected, p.Streams = true, len(set)
	h.presence[device] = p
	return c
}

// Detach records a stream closing.
func (h *Hub) Detach(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.conns[c.device]
	if _, ok := set[c]; !ok {
		return
	}
	delete(set, c)
	p := h.presence[c.device]
	p.Streams = len(set)
	if len(set) == 0 {
		delete(h.conns, c.device)
		p.Connected, p.Since = false, h.clock()
	}
	h.presence[c.device] = p
}

// Send queues a control event on every stream of the device that takes
// them, without waiting; it returns how many streams took it (0: the
// device is not connected, or its streams are full).
func (h *Hub) Send(device string, ctl Control) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.conns[device] {
		if !c.control {
			continue
		}
		select {
		case c.c <- ctl:
			n++
		default:
		}
	}
	return n
}

// Revoke ends every stream of the device at once.
func (h *Hub) Revoke(device string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns[device] {
		c.revoke()
	}
}

// Presence says whether the device holds a stream open.
func (h *Hub) Presence(device string) Presence {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.presence[device]
}

// Connected counts the devices holding a stream open.
func (h *Hub) Connected() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}
