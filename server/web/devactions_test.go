package web

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica/replicatest"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/store"
)

// followingDevice is a connected device of the env's office: a real
// follower.
type followingDevice struct {
	*replicatest.Device
	id string
}

func (e *env) follow(token string) *followingDevice {
	e.t.Helper()
	tok, ok, err := e.web.Tokens.(*store.TokenStore).Lookup(e.tokens[token])
	if err != nil || !ok {
		e.t.Fatalf("no token %s: %v", token, err)
	}
	d := &followingDevice{Device: replicatest.Follow(e.t, e.url, e.office.ID, e.tokens[token]), id: tok.ID}
	waitfor.Until(e.t, "the device's stream", 5*time.Second, func() bool { return e.web.Server.Fleet().Presence(tok.ID).Connected })
	return d
}

func (d *followingDevice) lastHeard() protocol.DeviceAction {
	h := d.Heard()
	if len(h) == 0 {
		return protocol.DeviceAction{}
	}
	return h[len(h)-1]
}

// An admin presses "Identify" on a connected hall's page: the hall hears
// it on its stream, and its answer shows on the page; "Screenshot now"
// shows the picture the hall sent. A kiosk that is not connected is sent
// nothing, and the page says so. A clerk may not see the page.
func TestDeviceRemotePage(t *testing.T) {
	e := newEnv(t)
	hall := e.follow("hall")
	kiosk, _, _ := e.web.Tokens.(*store.TokenStore).Lookup(e.tokens["kiosk"])
	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	page := "/staff/devices/" + hall.id + "/remote"

	if body := admin.get(page + "?lang=en"); admin.status != http.StatusOK || !strings.Contains(body, "connected since") || !strings.Contains(body, "No actions yet.") {
		t.Fatalf("the hall's page before any action: %d\n%s", admin.status, body)
	} else {
		// A slip of the mouse must not restart or reboot the hall: those
		// two ask first, saying what the office will see.
		for kind, says := range map[string]string{"restart": "its screen goes dark for a few seconds", "reboot": "its screen is dark for about a minute"} {
			if !strings.Contains(body, `<details class="row-form confirm-`+kind+`">`) || !strings.Contains(body, says) {
				t.Errorf("%s does not ask first, saying %q:\n%s", kind, says, body)
			}
		}
	}
	status, body := admin.post("/staff/devices/"+hall.id+"/actions", url.Values{"kind": {protocol.ActionIdentify}})
	if status != http.StatusOK || !strings.Contains(body, "Identify (show its name and a QR code): sent to the device.") || !strings.Contains(body, "sent, waiting for the device") {
		t.Fatalf("after asking to identify: %d\n%s", status, body)
	}
	waitfor.Until(t, "the hall to hear the action", 5*time.Second, func() bool { return hall.lastHeard().Kind == protocol.ActionIdentify })
	identify := hall.lastHeard()
	if err := hall.Client.ReportAction(context.Background(), identify.ID, protocol.ActionResult{OK: true, Detail: "shown for 30s"}); err != nil {
		t.Fatal(err)
	}
	body = admin.get(page)
	if !strings.Contains(body, `data-action="`+identify.ID+`" data-state="done"`) || !strings.Contains(body, "shown for 30s") {
		t.Fatalf("the page after the hall's answer does not show it done:\n%s", body)
	}

	admin.post("/staff/devices/"+hall.id+"/actions", url.Values{"kind": {protocol.ActionScreenshot}})
	waitfor.Until(t, "the hall to hear the screenshot", 5*time.Second, func() bool { return hall.lastHeard().Kind == protocol.ActionScreenshot })
	shot := hall.lastHeard()
	img := image.NewRGBA(image.Rect(0, 0, 32, 18))
	var buf bytes.Buffer
	png.Encode(&buf, img)
	if err := hall.Client.PutScreenshot(context.Background(), shot.ID, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	hall.Client.ReportAction(context.Background(), shot.ID, protocol.ActionResult{OK: true})
	body = admin.get(page)
	src := "/staff/devices/" + hall.id + "/screenshot.png?v=" + shot.ID
	if !strings.Contains(body, `src="`+src+`"`) {
		t.Fatalf("the page does not show the screenshot %s:\n%s", src, body)
	}
	resp, err := admin.c.Get(e.url + src)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got.Bytes(), buf.Bytes()) {
		t.Fatalf("the screenshot served: %d %s, %d bytes, want the hall's %d", resp.StatusCode, resp.Header.Get("Content-Type"), got.Len(), buf.Len())
	}

	admin.get("/staff/devices/" + kiosk.ID + "/remote")
	status, body = admin.post("/staff/devices/"+kiosk.ID+"/actions", url.Values{"kind": {protocol.ActionTestPrint}})
	if status != http.StatusOK || !strings.Contains(body, "Test print: the device is not connected; nothing was sent.") ||
		!strings.Contains(body, `data-state="not-connected"`) || !strings.Contains(body, "<strong id=\"presence\">not connected") {
		t.Fatalf("asking a kiosk that is not connected: %d\n%s", status, body)
	}

	clerk := e.browser()
	clerk.login("anna", "correct horse battery")
	for _, path := range []string{page, "/staff/devices/" + hall.id + "/screenshot.png"} {
		if clerk.get(path); clerk.status != http.StatusForbidden {
			t.Errorf("a clerk opened %s: %d", path, clerk.status)
		}
	}
	if admin.get("/staff/devices/nosuch/remote"); admin.status != http.StatusNotFound {
		t.Errorf("a page of no device: %d", admin.status)
	}
}
