package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/audio"
	"github.com/numerek/numerek/audio/audiotest"
	"github.com/numerek/numerek/audio/voicepacks"
	"github.com/numerek/numerek/device"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server"
)

// An admin's view of a running office's devices: an admin token, and the
// admin API of remote actions.
type adminOf struct {
	o     *office
	token string
}

// admin makes an admin token on the running server's data (the server
// reads new tokens within a second).
func (o *office) admin() *adminOf {
	o.t.Helper()
	out, err := exec.Command(o.bin, "token", "--data", o.data, "--office", officeID, "--role", "admin", "--label", "it").Output()
	if err != nil {
		o.t.Fatalf("admin token: %v", err)
	}
	a := &adminOf{o: o, token: strings.TrimSpace(string(out))}
	waitUntil(o.t, "the server to know the admin token", 5*time.Second, func() bool {
		status, _ := a.call("GET", "/api/v1/whoami", "")
		return status == http.StatusOK
	})
	return a
}

func (a *adminOf) call(method, path, body string) (int, []byte) {
	a.o.t.Helper()
	req, _ := http.NewRequest(method, a.o.url()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.o.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// deviceID is the id the server knows a device by: its token's.
func (o *office) deviceID(token string) string {
	o.t.Helper()
	req, _ := http.NewRequest("GET", o.url()+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+o.tokens[token])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	var w protocol.WhoAmI
	if err := json.NewDecoder(resp.Body).Decode(&w); err != nil {
		o.t.Fatal(err)
	}
	return w.TokenID
}

// act asks the device for an action and waits for its answer.
func (a *adminOf) act(device, kind string, timeout time.Duration) server.ActionStatus {
	a.o.t.Helper()
	var asked server.ActionStatus
	waitUntil(a.o.t, "the device's stream taking "+kind, 10*time.Second, func() bool {
		status, body := a.call("POST", "/api/v1/devices/"+device+"/actions", `{"kind":"`+kind+`"}`)
		if status != http.StatusCreated || json.Unmarshal(body, &asked) != nil {
			a.o.t.Fatalf("asking for %s: %d %s", kind, status, body)
		}
		// Right after its start a device may not hold its stream yet.
		return asked.State == "sent"
	})
	var got server.ActionStatus
	waitUntil(a.o.t, "the device's answer to "+kind, timeout, func() bool {
		_, body := a.call("GET", "/api/v1/devices/"+device+"/actions", "")
		var l server.ActionList
		json.Unmarshal(body, &l)
		for _, x := range l.Actions {
			if x.ID == asked.ID {
				got = x
			}
		}
		return got.State != "" && got.State != "sent"
	})
	return got
}

var white = [3]uint8{0xff, 0xff, 0xff}

// The admin asks a running hall for a screenshot: the PNG the server
// receives is the hall's own frame, pixel for pixel (both are the same
// picture read back from the GPU and stored losslessly, so no tolerance
// is needed). Then the hall identifies itself: a white card comes over
// its navy screen with a QR code to its page on the server, and goes
// after its time. A test sound reaches the hall's sound device as the
// sample call composed; asked to restart, kioskd exits with the status
// systemd restarts it on.
func TestHallRemoteActions(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	admin := o.admin()
	capture, err := audiotest.New(t.TempDir(), audio.DefaultRate, captureSpeed)
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Stop()
	hall := startDevice(t, o, "hall", "hall", "hall", "[sound]\nenabled = true\n", capture.Env()...)
	id := o.deviceID("hall")
	hall.waitFrame("with the office", 10*time.Second, func(image.Image) bool { return true })

	shot := admin.act(id, protocol.ActionScreenshot, 10*time.Second)
	if shot.State != "done" {
		t.Fatalf("the screenshot: %+v", shot)
	}
	status, data := admin.call("GET", "/api/v1/devices/"+id+"/screenshot", "")
	if status != http.StatusOK {
		t.Fatalf("the screenshot: %d %s", status, data)
	}
	remote, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the screenshot the server keeps: %v", err)
	}
	if b := remote.Bounds(); b.Dx() != 1920 || b.Dy() != 1080 {
		t.Fatalf("the screenshot is %v, want the hall's 1920x1080 picture", b)
	}
	// The frame kioskd wrote (--frames) last is what it shows; it is
	// written off the drawing thread, so it may come a moment later.
	hall.waitFrame("equal to the remote screenshot", 5*time.Second, func(img image.Image) bool { return sameImage(img, remote) })

	middle := image.Rect(1920/2-300, 1080/2-150, 1920/2+300, 1080/2+150)
	if s := share(remote, middle, white, 4); s > 0.3 {
		t.Fatalf("the hall's middle is %.2f white before it identifies itself", s)
	}
	if got := admin.act(id, protocol.ActionIdentify, 10*time.Second); got.State != "done" {
		t.Fatalf("identify: %+v", got)
	}
	page := device.DevicePage(o.url(), id)
	// Within the 30 s the card is shown; a loaded machine writes frames late.
	hall.waitFrame("with the device's card and the QR code to its page", 25*time.Second, func(img image.Image) bool {
		url, err := decodeQR(img)
		return err == nil && url == page && share(img, middle, white, 4) > 0.3
	})

	if got := admin.act(id, protocol.ActionTestSound, 15*time.Second); got.State != "done" {
		t.Fatalf("the test sound: %+v", got)
	}
	voices, err := voicepacks.Load(audio.DefaultRate, nil)
	if err != nil {
		t.Fatal(err)
	}
	sample, err := voices.Compose(audio.Call{Lang: "pl", Ticket: "A123", Counter: 5})
	if err != nil {
		t.Fatal(err)
	}
	want := voices.Render(sample).Samples
	waitUntil(t, "the test sound on the hall's sound device", 10*time.Second, func() bool {
		_, _, err := audiotest.Find(capture.Samples(), 0, want)
		return err == nil
	})

	if got := admin.act(id, protocol.ActionRestart, 10*time.Second); got.State != "done" {
		t.Fatalf("the restart: %+v", got)
	}
	if st, ok := hall.exited(10 * time.Second); !ok || st.ExitCode() != restartExit {
		t.Fatalf("kioskd asked to restart: exited %v (%v), want status %d", ok, st, restartExit)
	}
}

// The admin asks a kiosk for a test print: the emulated printer prints a
// ticket (a PNG in its folder), and the action is done.
func TestKioskRemoteTestPrint(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	admin := o.admin()
	paper := t.TempDir()
	startDeviceWith(t, o, "kiosk", "ticket", "kiosk", smallPanel+fmt.Sprintf("[printer]\nuri = \"emulator://%s?pace=off\"\n", paper), noFrames)
	if n := len(ticketPNGs(paper)); n != 0 {
		t.Fatalf("%d tickets before the test print", n)
	}
	got := admin.act(o.deviceID("kiosk"), protocol.ActionTestPrint, 15*time.Second)
	if got.State != "done" {
		t.Fatalf("the test print: %+v", got)
	}
	waitUntil(t, "the test ticket on paper", 5*time.Second, func() bool { return len(ticketPNGs(paper)) == 1 })
	if img := readPNG(t, ticketPNGs(paper)[0]); img.Bounds().Dy() < 200 {
		t.Fatalf("the test ticket is %v: no ticket", img.Bounds())
	}
}
