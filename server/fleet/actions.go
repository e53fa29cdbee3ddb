package fleet

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"slices"
	"sync"
	"time"

	"github.com/numerek/numerek/protocol"
)

// ActionState is where a remote action stands, as the admin's page shows
// it.
type ActionState string

// The states of a remote action.
const (
	// ActionSent: on the device's stream, no result yet.
	ActionSent ActionState = "sent"
	// ActionNotConnected: the device held no stream that takes control
	// events; nothing was sent (actions are not queued for later: a
	// reboot asked yesterday must not happen today).
	ActionNotConnected ActionState = "not-connected"
	ActionDone         ActionState = "done"
	ActionFailed       ActionState = "failed"
	// ActionTimedOut: sent, and no result came within ActionTimeout.
	ActionTimedOut ActionState = "timed-out"
)

// ActionTimeout is how long a sent action may go without its result
// before it shows as timed out. A result that comes later still counts.
const ActionTimeout = 30 * time.Second

// KeptActions is how many of a device's latest actions are kept (in
// memory only: they are a remote control's feedback, not a record).
const KeptActions = 10

// MaxScreenshot is the largest screenshot a device may send, and
// MaxScreenshotPixels the most pixels it may have (a 4K panel has 8.3 M);
// both keep a device from making the server hold or decode a huge image.
const (
	MaxScreenshot       = 8 << 20
	MaxScreenshotPixels = 16 << 20
)

// Action is one remote action and how it went.
type Action struct {
	protocol.DeviceAction
	Device string
	// By is who asked (the admin's name, or "admin:<label>" for a token).
	By    string
	State ActionState
	// Detail is the device's word on the result (or why it failed).
	Detail string
	// Finished is when the result came (zero until then).
	Finished time.Time
}

// Screenshot is the latest picture a device sent of its screen.
type Screenshot struct {
	PNG    []byte
	Action string // the action it answered
	At     time.Time
	Width  int
	Height int
}

// ErrNoAction is a result or screenshot for an action the device was not
// sent (another device's, one long forgotten, or a made-up id).
var ErrNoAction = errors.New("no such action was sent to this device")

// Sender queues a control event on every stream of a device and says how
// many took it; the Hub is one.
type Sender interface {
	Send(device string, ctl Control) int
}

// Actions sends remote actions through the hub and keeps each device's
// latest ones with their results, and its latest screenshot.
type Actions struct {
	hub   Sender
	clock func() time.Time

	mu      sync.Mutex
	devices map[string]*deviceActions
}

type deviceActions struct {
	recent []*Action // oldest first, at most KeptActions
	shot   *Screenshot
}

// NewActions keeps the actions sent through hub; clock is the server's.
func NewActions(hub Sender, clock func() time.Time) *Actions {
	if clock == nil {
		clock = time.Now
	}
	return &Actions{hub: hub, clock: clock, devices: map[string]*deviceActions{}}
}

// ValidKind reports whether kind is one of the remote actions.
func ValidKind(kind string) bool {
	switch kind {
	case protocol.ActionRestart, protocol.ActionReboot, protocol.ActionIdentify,
		protocol.ActionScreenshot, protocol.ActionTestPrint, protocol.ActionTestSound:
		return true
	}
	return false
}

// Kinds lists the remote actions, in the order a page offers them.
func Kinds() []string {
	return []string{protocol.ActionIdentify, protocol.ActionScreenshot, protocol.ActionTestPrint,
		protocol.ActionTestSound, protocol.ActionRestart, protocol.ActionReboot}
}

// Ask sends the device an action of kind, asked by by, and returns it as
// sent: ActionSent, or ActionNotConnected when no stream of the device
// took it.
func (a *Actions) Ask(device, kind, by string) (Action, error) {
	if !ValidKind(kind) {
		return Action{}, fmt.Errorf("kind: %q is not a remote action (one of %v)", kind, Kinds())
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	act := &Action{DeviceAction: protocol.DeviceAction{ID: hex.EncodeToString(id), Kind: kind, At: a.clock()}, Device: device, By: by, State: ActionSent}
	// Kept before it is sent: a device answers within a millisecond (a
	// failure at once, a restart before it goes), and its answer must
	// find the action, or the admin's page says it timed out.
	a.mu.Lock()
	d := a.device(device)
	d.recent = append(d.recent, act)
	if len(d.recent) > KeptActions {
		d.recent = slices.Delete(d.recent, 0, len(d.recent)-KeptActions)
	}
	a.mu.Unlock()
	sent := a.hub.Send(device, Control{Event: protocol.ActionEvent, Data: act.DeviceAction})
	a.mu.Lock()
	defer a.mu.Unlock()
	if sent == 0 {
		act.State = ActionNotConnected
	}
	return *act, nil
}

// device is the device's record, made when missing; a.mu is held.
func (a *Actions) device(id string) *deviceActions {
	d := a.devices[id]
	if d == nil {
		d = &deviceActions{}
		a.devices[id] = d
	}
	return d
}

// Recent lists the device's kept actions, newest first.
func (a *Actions) Recent(device string) []Action {
	now := a.clock()
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.devices[device]
	if d == nil {
		return nil
	}
	out := make([]Action, 0, len(d.recent))
	for i := len(d.recent) - 1; i >= 0; i-- {
		out = append(out, a.view(d.recent[i], now))
	}
	return out
}

// Get returns one of the device's kept actions.
func (a *Actions) Get(device, id string) (Action, bool) {
	now := a.clock()
	a.mu.Lock()
	defer a.mu.Unlock()
	act := a.find(device, id)
	if act == nil {
		return Action{}, false
	}
	return a.view(act, now), true
}

// view is act as it stands at now; a.mu is held.
func (a *Actions) view(act *Action, now time.Time) Action {
	v := *act
	if v.State == ActionSent && now.Sub(v.At) > ActionTimeout {
		v.State = ActionTimedOut
	}
	return v
}

func (a *Actions) find(device, id string) *Action {
	d := a.devices[device]
	if d == nil {
		return nil
	}
	for _, act := range d.recent {
		if act.ID == id {
			return act
		}
	}
	return nil
}

// Report records the device's result of one of its actions.
func (a *Actions) Report(device, id string, res protocol.ActionResult) (Action, error) {
	now := a.clock()
	a.mu.Lock()
	defer a.mu.Unlock()
	act := a.find(device, id)
	if act == nil || act.State == ActionNotConnected {
		return Action{}, ErrNoAction
	}
	act.State, act.Detail, act.Finished = ActionFailed, res.Detail, now
	if res.OK {
		act.State = ActionDone
	}
	return *act, nil
}

// PutScreenshot keeps data, a PNG the device sent for its screenshot
// action id, as its latest screenshot, once CheckScreenshot passes it.
func (a *Actions) PutScreenshot(device, id string, data []byte) error {
	w, h, err := CheckScreenshot(data)
	if err != nil {
		return err
	}
	now := a.clock()
	a.mu.Lock()
	defer a.mu.Unlock()
	act := a.find(device, id)
	if act == nil || act.State == ActionNotConnected || act.Kind != protocol.ActionScreenshot {
		return ErrNoAction
	}
	a.devices[device].shot = &Screenshot{PNG: data, Action: id, At: now, Width: w, Height: h}
	return nil
}

// LatestScreenshot is the device's latest screenshot, if any.
func (a *Actions) LatestScreenshot(device string) (Screenshot, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.devices[device]
	if d == nil || d.shot == nil {
		return Screenshot{}, false
	}
	return *d.shot, true
}

// CheckScreenshot checks that data is one whole PNG of a sensible size
// and returns its size; the error says what is wrong with it.
func CheckScreenshot(data []byte) (width, height int, err error) {
	if len(data) > MaxScreenshot {
		return 0, 0, fmt.Errorf("screenshot: %d bytes, more than %d", len(data), MaxScreenshot)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, 0, fmt.Errorf("screenshot: not a PNG: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxScreenshotPixels {
		return 0, 0, fmt.Errorf("screenshot: %dx%d pixels; at most %d in all", cfg.Width, cfg.Height, MaxScreenshotPixels)
	}
	// Decoding the whole picture checks every chunk's checksum and that
	// none is missing: a cut upload is refused, not shown half grey.
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		return 0, 0, fmt.Errorf("screenshot: a broken PNG: %w", err)
	}
	return cfg.Width, cfg.Height, nil
}
