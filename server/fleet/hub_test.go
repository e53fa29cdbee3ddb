package fleet

import (
	"testing"
	"time"
)

func TestHubKnowsWhoIsConnectedAndReachesThem(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	h := NewHub(func() time.Time { return now })

	if p := h.Presence("kiosk"); p.Connected || !p.Since.IsZero() {
		t.Fatalf("a device never seen: %+v, want not connected and no time", p)
	}
	plain := h.Attach("kiosk", false)
	withControl := h.Attach("kiosk", true)
	if p := h.Presence("kiosk"); !p.Connected || p.Streams != 2 || !p.Since.Equal(now) {
		t.Fatalf("two streams open: %+v", p)
	}
	if n := h.Send("kiosk", Control{Event: "device-action", Data: 1}); n != 1 {
		t.Fatalf("Send reached %d streams, want only the one that asked for control events", n)
	}
	select {
	case c := <-withControl.C():
		if c.Event != "device-action" {
			t.Fatalf("got %q", c.Event)
		}
	default:
		t.Fatal("the control event did not reach the stream that asked for it")
	}
	if n := h.Send("hall", Control{Event: "device-action"}); n != 0 {
		t.Fatalf("Send to a device with no stream reached %d", n)
	}
	for range controlBuffer + 3 {
		h.Send("kiosk", Control{Event: "device-action"})
	}
	if n := h.Send("kiosk", Control{Event: "device-action"}); n != 0 {
		t.Fatalf("a full stream took another event (%d): Send must never block the admin's page", n)
	}

	h.Revoke("kiosk")
	for _, c := range []*Conn{plain, withControl} {
		select {
		case <-c.Revoked():
		default:
			t.Fatal("revoking did not end a stream")
		}
	}
	h.Revoke("kiosk") // twice is harmless

	now = now.Add(time.Minute)
	h.Detach(plain)
	if p := h.Presence("kiosk"); !p.Connected || p.Streams != 1 {
		t.Fatalf("one of two streams closed: %+v", p)
	}
	h.Detach(withControl)
	h.Detach(withControl)
	if p := h.Presence("kiosk"); p.Connected || !p.Since.Equal(now) || h.Connected() != 0 {
		t.Fatalf("all streams closed: %+v, connected %d", p, h.Connected())
	}
}
