package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica/replicatest"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/servertest"
)

// device is a connected device: a real follower of the office.
type device struct {
	*replicatest.Device
	id string
}

func startDevice(t *testing.T, srv *servertest.Server, token string) *device {
	t.Helper()
	d := &device{Device: replicatest.Follow(t, srv.URL, srv.Office.ID, token), id: srv.TokenID(token)}
	waitfor.Until(t, "the device's stream", 5*time.Second, func() bool { return srv.Fleet().Presence(d.id).Connected })
	return d
}

// next waits for the next action the device hears after seen.
func (d *device) next(t *testing.T, seen int) protocol.DeviceAction {
	t.Helper()
	var a protocol.DeviceAction
	waitfor.Until(t, "the action on the device's stream", 5*time.Second, func() bool {
		if h := d.Heard(); len(h) > seen {
			a = h[seen]
			return true
		}
		return false
	})
	return a
}

// call sends a request to the server and returns the status and body.
func call(t *testing.T, srv *servertest.Server, token, method, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func ask(t *testing.T, srv *servertest.Server, device, kind string) server.ActionStatus {
	t.Helper()
	status, body := call(t, srv, srv.Tokens["admin"], "POST", "/api/v1/devices/"+device+"/actions", "application/json", []byte(`{"kind":"`+kind+`"}`))
	var a server.ActionStatus
	if status != http.StatusCreated || json.Unmarshal(body, &a) != nil {
		t.Fatalf("asking %s for %s: %d %s", device, kind, status, body)
	}
	return a
}

func actions(t *testing.T, srv *servertest.Server, device string) []server.ActionStatus {
	t.Helper()
	status, body := call(t, srv, srv.Tokens["admin"], "GET", "/api/v1/devices/"+device+"/actions", "", nil)
	var l server.ActionList
	if status != http.StatusOK || json.Unmarshal(body, &l) != nil {
		t.Fatalf("listing %s's actions: %d %s", device, status, body)
	}
	return l.Actions
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 36))
	for i := range 36 {
		img.Set(i, i, color.RGBA{0x0b, 0x24, 0x47, 0xff})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// An admin asks a connected hall for a screenshot: the hall hears it on
// its stream, sends the PNG and its result, and the admin gets exactly
// that PNG back and the action done. A device that is not connected is
// sent nothing, and says so.
func TestRemoteActionReachesTheDeviceAndComesBack(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	hall := startDevice(t, srv, srv.Tokens["hall"])

	asked := ask(t, srv, hall.id, protocol.ActionScreenshot)
	if asked.State != "sent" || asked.Device != hall.id {
		t.Fatalf("asked: %+v, want sent to %s", asked, hall.id)
	}
	heard := hall.next(t, 0)
	if heard.ID != asked.ID || heard.Kind != protocol.ActionScreenshot {
		t.Fatalf("the hall heard %+v, want action %s", heard, asked.ID)
	}
	shot := testPNG(t)
	ctx := context.Background()
	if err := hall.Client.PutScreenshot(ctx, heard.ID, shot); err != nil {
		t.Fatal(err)
	}
	if err := hall.Client.ReportAction(ctx, heard.ID, protocol.ActionResult{OK: true, Detail: "64x36"}); err != nil {
		t.Fatal(err)
	}
	if got := actions(t, srv, hall.id); len(got) != 1 || got[0].State != "done" || got[0].Detail != "64x36" {
		t.Fatalf("the hall's actions: %+v, want the screenshot done", got)
	}
	status, body := call(t, srv, srv.Tokens["admin"], "GET", "/api/v1/devices/"+hall.id+"/screenshot", "", nil)
	if status != http.StatusOK || !bytes.Equal(body, shot) {
		t.Fatalf("the screenshot the admin gets: %d, %d bytes, want the %d the hall sent", status, len(body), len(shot))
	}

	counter := srv.TokenID(srv.Tokens["counter1"])
	if a := ask(t, srv, counter, protocol.ActionIdentify); a.State != "not-connected" {
		t.Fatalf("an action for a device with no stream: %+v, want not-connected", a)
	}
}

// Who may do what with actions, and what a device's answers must be.
func TestRemoteActionRefusals(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	hall := startDevice(t, srv, srv.Tokens["hall"])
	shot := ask(t, srv, hall.id, protocol.ActionScreenshot)
	identify := ask(t, srv, hall.id, protocol.ActionIdentify)
	self := protocol.DeviceActionsPath + "/"
	png := testPNG(t)
	big := append(append([]byte{}, png...), make([]byte, 9<<20)...)
	tests := []struct {
		name                    string
		token, method, path, ct string
		body                    []byte
		want                    int
		says                    string
	}{
		{"a clerk asks", "clerk", "POST", "/api/v1/devices/" + hall.id + "/actions", "application/json", []byte(`{"kind":"reboot"}`), 403, "admins"},
		{"an unknown kind", "admin", "POST", "/api/v1/devices/" + hall.id + "/actions", "application/json", []byte(`{"kind":"format"}`), 400, "format"},
		{"no such device", "admin", "POST", "/api/v1/devices/nosuch/actions", "application/json", []byte(`{"kind":"identify"}`), 404, "nosuch"},
		{"an admin is no device", "admin", "GET", "/api/v1/devices/" + srv.TokenID(srv.Tokens["admin"]) + "/actions", "", nil, 404, "device"},
		{"another device answers", "ticket", "POST", self + shot.ID, "application/json", []byte(`{"ok":true}`), 404, "id"},
		{"an admin answers for a device", "admin", "POST", self + shot.ID, "application/json", []byte(`{"ok":true}`), 403, "device"},
		{"an unknown field", "hall", "POST", self + shot.ID, "application/json", []byte(`{"ok":true,"extra":1}`), 400, "extra"},
		{"another device's screenshot", "ticket", "PUT", self + shot.ID + "/screenshot", "image/png", png, 404, "id"},
		{"a screenshot nobody asked for", "hall", "PUT", self + identify.ID + "/screenshot", "image/png", png, 404, "id"},
		{"not labelled a PNG", "hall", "PUT", self + shot.ID + "/screenshot", "image/jpeg", png, 415, "image/png"},
		{"not a PNG", "hall", "PUT", self + shot.ID + "/screenshot", "image/png", []byte("GIF89a......"), 400, "not a PNG"},
		{"too big", "hall", "PUT", self + shot.ID + "/screenshot", "image/png", big, 413, "bytes"},
		{"no screenshot yet", "admin", "GET", "/api/v1/devices/" + hall.id + "/screenshot", "", nil, 404, "screenshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, srv.Tokens[tt.token], tt.method, tt.path, tt.ct, tt.body)
			if status != tt.want || !strings.Contains(string(body), tt.says) {
				t.Fatalf("%d %s, want %d saying %q", status, body, tt.want, tt.says)
			}
		})
	}
	if got := actions(t, srv, hall.id); got[1].State != "sent" {
		t.Fatalf("the screenshot action after the refused answers: %+v, want still sent", got[1])
	}
}
