package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/numerek/numerek/internal/raucbundle"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
)

// upload posts a bundle through the page's form as a browser would (the
// CSRF field first, then the file) and returns the page it lands on.
func (b *browser) upload(name string, data []byte, csrf string) (int, string) {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("bundle", name)
	_, _ = fw.Write(data)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.url+"/staff/fleet/updates/bundles", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	b.last, b.status = string(out), resp.StatusCode
	return resp.StatusCode, b.last
}

// An admin uploads a bundle on the updates page and rolls it out to the
// hall after confirming; the hall hears the order on its stream, and its
// progress shows on the rollout's page and its fleet page. A file that is
// not a bundle is refused saying so; a forged CSRF token and a clerk are
// refused.
func TestUpdatesPages(t *testing.T) {
	e := newEnv(t)
	hall := e.follow("hall")
	bundle, err := os.ReadFile(raucbundle.Make(t, "2026.12.1", "numerek-rpi4", 64<<10))
	if err != nil {
		t.Fatal(err)
	}
	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	page := admin.get("/staff/fleet/updates?lang=en")
	if admin.status != http.StatusOK || !strings.Contains(page, "No bundle has been uploaded yet.") || !strings.Contains(page, "keyring") {
		t.Fatalf("the updates page: %d\n%s", admin.status, page)
	}
	csrf := admin.csrf()

	if status, _ := admin.upload("update.raucb", bundle, "forged-token-forged-token-forged-token"); status != http.StatusForbidden {
		t.Errorf("an upload with a forged CSRF token: %d, want 403", status)
	}
	if _, body := admin.upload("notes.txt", []byte("this is not a bundle\n"), csrf); !strings.Contains(body, "notes.txt is not a RAUC bundle") {
		t.Errorf("a text file uploaded: the page does not say it is no bundle:\n%s", body)
	}
	if _, body := admin.upload("update.raucb", bytes.Repeat([]byte{1}, 4<<20+1), csrf); !strings.Contains(body, "larger than 4 MB") {
		t.Errorf("a file over the limit: the page does not say so:\n%s", body)
	}
	_, body := admin.upload("update.raucb", bundle, csrf)
	if !strings.Contains(body, "Bundle 2026.12.1 (numerek-rpi4) uploaded.") || !strings.Contains(body, "kierownik") {
		t.Fatalf("after the upload:\n%s", body)
	}
	rec := e.web.Server.Bundles().List()[0]

	// Choosing shows what will happen first; only the confirmation starts.
	form := url.Values{"bundle": {rec.SHA256}, "target": {"device"}, "device": {hall.id}}
	if _, body := admin.post("/staff/fleet/updates/rollouts", form); !strings.Contains(body, "Update 1 devices") || !strings.Contains(body, "hall-lcd") {
		t.Fatalf("the confirmation page:\n%s", body)
	}
	if len(e.web.Server.Updates().Rollouts(func(string) bool { return true })) != 0 {
		t.Fatal("a rollout started before it was confirmed")
	}
	form.Set("confirm", "yes")
	if _, body := admin.post("/staff/fleet/updates/rollouts", form); !strings.Contains(body, "Rollout of version 2026.12.1") || !strings.Contains(body, `data-state="waiting"`) {
		t.Fatalf("the rollout's page:\n%s", body)
	}
	waitfor.Until(t, "the hall to hear the order", 5*time.Second, func() bool { return hall.lastHeard().Kind == protocol.ActionUpdate })
	order := hall.lastHeard()
	if order.Update == nil || order.Update.SHA256 != rec.SHA256 || order.Update.Version != "2026.12.1" || order.Update.Size != rec.Size {
		t.Fatalf("the order the hall heard: %+v", order.Update)
	}
	report := protocol.HealthReport{Version: "test", Role: "hall", Screen: protocol.ScreenHealth{Drawing: true},
		System: &protocol.SystemHealth{Version: "2026.11.1", Slot: "A", Primary: "A",
			Update: &protocol.UpdateProgress{Rollout: order.Update.Rollout, Version: "2026.12.1", State: protocol.UpdateInstalling, Percent: 40, At: time.Now()}}}
	if _, err := hall.Client.ReportHealth(context.Background(), report); err != nil {
		t.Fatal(err)
	}
	rollout := admin.get("/staff/fleet/updates/" + order.Update.Rollout + "?lang=en")
	if !strings.Contains(rollout, `data-state="installing"`) || !strings.Contains(rollout, "installing: 1") || !strings.Contains(rollout, "40%") {
		t.Errorf("the rollout's page does not show the hall installing:\n%s", rollout)
	}
	fleetPage := admin.get("/staff/fleet/" + hall.id)
	for _, want := range []string{"2026.11.1", "running A", "default A", "installing", "40%"} {
		if !strings.Contains(fleetPage, want) {
			t.Errorf("the hall's fleet page lacks %q", want)
		}
	}

	clerk := e.browser()
	clerk.login("anna", "correct horse battery")
	if clerk.get("/staff/fleet/updates"); clerk.status != http.StatusForbidden {
		t.Errorf("a clerk on the updates page: %d, want 403", clerk.status)
	}
}

// In Chromium, an admin uploads a bundle through the page's form, rolls it
// out to the hall and confirms; the updates page, the confirmation and the
// rollout's page have no accessibility violation.
func TestBrowserUpdates(t *testing.T) {
	bundle := raucbundle.Make(t, "2026.12.2", "numerek-rpi4", 64<<10)
	browser := newChrome(t)
	e := newEnv(t)
	hall := e.follow("hall")
	admin := newTab(t, browser)
	do(t, admin, "admin login", chromedp.EmulateViewport(desktop[0], desktop[1]),
		chromedp.Navigate(e.url+"/staff/login?lang=en"),
		chromedp.SendKeys(chromedp.CSS("#name"), "kierownik"), chromedp.SendKeys(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".counters")))
	do(t, admin, "the updates page", chromedp.Navigate(e.url+"/staff/fleet/updates"), chromedp.WaitVisible(chromedp.CSS("#upload-h")))
	review(t, admin, "updates-empty", desktop)
	do(t, admin, "upload", chromedp.SetUploadFiles(chromedp.CSS("#bundle-file"), []string{bundle}),
		chromedp.Click(chromedp.CSS(`form[action="/staff/fleet/updates/bundles"] button`)), chromedp.WaitVisible(chromedp.CSS("#bundles")))
	if s := text(t, admin, "#bundles"); !strings.Contains(s, "2026.12.2") || !strings.Contains(s, "numerek-rpi4") {
		t.Fatalf("the bundles' table: %q", s)
	}
	review(t, admin, "updates", desktop)
	do(t, admin, "choose the hall", chromedp.SetValue(chromedp.CSS("#rollout-device"), hall.id),
		chromedp.Click(chromedp.CSS(`form[action="/staff/fleet/updates/rollouts"] button`)), chromedp.WaitVisible(chromedp.CSS("#confirm-devices")))
	review(t, admin, "update-confirm", desktop)
	do(t, admin, "confirm", chromedp.Click(chromedp.CSS(`button.danger`)), chromedp.WaitVisible(chromedp.CSS("#orders")))
	waitfor.Until(t, "the hall to hear the order", 5*time.Second, func() bool { return hall.lastHeard().Kind == protocol.ActionUpdate })
	review(t, admin, "rollout", desktop)
}
