// Package replicatest runs a device's side of the event stream inside a
// test: a real follower of an office on a device file in a temporary
// folder, with the device's own client, recording the remote actions it
// hears (control events), so server tests can act as a connected device.
package replicatest

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/store"
)

// Device is a following device.
type Device struct {
	// Client is the device's client, to answer with.
	Client *protocol.Client

	mu    sync.Mutex
	heard []protocol.DeviceAction
}

// Follow starts a device with token following office on the server at
// url; it stops when the test ends.
func Follow(t testing.TB, url, office, token string) *Device {
	t.Helper()
	c, err := protocol.NewClient(url, office, token, protocol.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenDevice(filepath.Join(t.TempDir(), "kioskd.db"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Device{Client: c}
	f := replica.NewFollower(c, db, replica.NewClock(0), slog.New(slog.DiscardHandler), replica.FollowOptions{OnControl: d.control})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	return d
}

func (d *Device) control(m sse.Message) {
	var a protocol.DeviceAction
	if m.Event == protocol.ActionEvent && json.Unmarshal(m.Data, &a) == nil {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.heard = append(d.heard, a)
	}
}

// Heard lists the actions the device heard, oldest first.
func (d *Device) Heard() []protocol.DeviceAction {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]protocol.DeviceAction(nil), d.heard...)
}
