package web

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
)

// In Chromium, an admin presses "Screenshot now" on a connected hall's
// page; the hall answers with its picture, and the page, which looks
// again while the action waits, shows the picture and the action done,
// with no accessibility violation.
func TestBrowserDeviceScreenshot(t *testing.T) {
	browser := newChrome(t)
	e := newEnv(t)
	hall := e.follow("hall")
	admin := newTab(t, browser)
	do(t, admin, "admin login", chromedp.EmulateViewport(desktop[0], desktop[1]),
		chromedp.Navigate(e.url+"/staff/login?lang=en"),
		chromedp.SendKeys(chromedp.CSS("#name"), "kierownik"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".counters")))
	do(t, admin, "the hall's remote page", chromedp.Navigate(e.url+"/staff/devices/"+hall.id+"/remote"), chromedp.WaitVisible(chromedp.CSS("#ask-h")))
	do(t, admin, "screenshot now", chromedp.Click(chromedp.CSS(`button[value="screenshot"]`)), chromedp.WaitVisible(chromedp.CSS(`#actions[data-pending]`)))

	waitfor.Until(t, "the hall to hear the action", 5*time.Second, func() bool { return hall.lastHeard().Kind == protocol.ActionScreenshot })
	img := image.NewRGBA(image.Rect(0, 0, 480, 270))
	for x := range 480 {
		img.Set(x, 135, color.RGBA{0xff, 0xc2, 0x1a, 0xff})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	shot := hall.lastHeard()
	if err := hall.Client.PutScreenshot(context.Background(), shot.ID, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := hall.Client.ReportAction(context.Background(), shot.ID, protocol.ActionResult{OK: true, Detail: "480x270"}); err != nil {
		t.Fatal(err)
	}
	// No reload by the test: the page's script looks again by itself.
	do(t, admin, "the screenshot on the page", chromedp.WaitVisible(chromedp.CSS(`img#screenshot`)))
	var width int
	loaded := waitfor.Within(5*time.Second, func() bool {
		var err error
		width, err = chromedp.Run(admin, chromedp.Evaluate[int](`(function () { var i = document.getElementById("screenshot"); return i.complete ? i.naturalWidth : 0; })()`))
		return err == nil && width > 0
	})
	if !loaded || width != 480 {
		t.Fatalf("the screenshot on the page is %d pixels wide, want the hall's 480", width)
	}
	if s := text(t, admin, `tr[data-action="`+shot.ID+`"]`); !strings.Contains(s, "done") || !strings.Contains(s, "480x270") {
		t.Fatalf("the action's row: %q, want it done with the hall's detail", s)
	}
	review(t, admin, "device-remote", desktop)
}
