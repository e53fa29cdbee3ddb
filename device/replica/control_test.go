package replica_test

import (
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/servertest"
)

// A device that asks for control events gets them on its event stream,
// between the office's events, and they leave its place in the office's
// log alone; a revocation is the stream's last event.
func TestFollowerHearsItsControlEvents(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	var mu sync.Mutex
	var heard []sse.Message
	db := openDB(t, filepath.Join(t.TempDir(), "kioskd.db"))
	f := follow(t, srv.URL, srv.Office.ID, srv.Tokens["hall"], db, replica.FollowOptions{
		OnControl: func(m sse.Message) {
			mu.Lock()
			defer mu.Unlock()
			heard = append(heard, m)
		},
	})
	hall := srv.TokenID(srv.Tokens["hall"])
	waitFor(t, "the hall's stream to open", 5*time.Second, func() bool { return srv.Fleet().Presence(hall).Connected && f.Status().Online })
	seq := seqOf(f)

	action := protocol.DeviceAction{ID: "a1", Kind: protocol.ActionIdentify, At: srv.Clock.Now()}
	if n := srv.Fleet().Send(hall, fleet.Control{Event: protocol.ActionEvent, Data: action}); n != 1 {
		t.Fatalf("the action reached %d streams, want 1", n)
	}
	busy(t, srv, srv.Tokens["clerk"], 2)
	want := serverSeq(t, srv)
	waitFor(t, "the office's events after the action", 5*time.Second, func() bool { return seqOf(f) == want })
	if want <= seq {
		t.Fatalf("the office's log did not move (%d to %d)", seq, want)
	}

	srv.Fleet().Revoke(hall)
	waitFor(t, "the revocation", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(heard) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	var got protocol.DeviceAction
	if heard[0].Event != protocol.ActionEvent || json.Unmarshal(heard[0].Data, &got) != nil || got.ID != "a1" || got.Kind != protocol.ActionIdentify {
		t.Fatalf("first control event: %q %s, want the identify action", heard[0].Event, heard[0].Data)
	}
	if heard[0].ID != "" {
		t.Fatalf("a control event carried id %q: it would move the device's Last-Event-ID", heard[0].ID)
	}
	if heard[1].Event != protocol.RevokedEvent {
		t.Fatalf("second control event: %q, want %q", heard[1].Event, protocol.RevokedEvent)
	}
	if got := seqOf(f); got != want {
		t.Fatalf("the device's place in the log moved to %d with the control events, want %d", got, want)
	}
}

// A device that does not ask (an older kioskd) gets no control events,
// and is still known to be connected.
func TestOlderDeviceGetsNoControlEvents(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	db := openDB(t, filepath.Join(t.TempDir(), "kioskd.db"))
	f := follow(t, srv.URL, srv.Office.ID, srv.Tokens["hall"], db, replica.FollowOptions{})
	hall := srv.TokenID(srv.Tokens["hall"])
	waitFor(t, "the hall's stream to open", 5*time.Second, func() bool { return srv.Fleet().Presence(hall).Connected && f.Status().Online })
	if n := srv.Fleet().Send(hall, fleet.Control{Event: protocol.ActionEvent, Data: protocol.DeviceAction{ID: "x"}}); n != 0 {
		t.Fatalf("an action reached %d streams of a device that did not ask for them", n)
	}
}
