package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/raucbundle"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/store"
)

// A hall running on the image (a release file) writes its healthy file
// once its screen draws and the server has answered, reports its system,
// and takes an update order over its stream: one for the version it runs
// already is committed at once, which the rollout shows. (rauc itself
// cannot install here: `rauc status` fails without its service, and the
// report says no slot; the qemu image test installs for real.)
func TestHallTakesAnUpdateOrder(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOffice(t)
	admin := o.admin()
	dir := t.TempDir()
	release, healthy := filepath.Join(dir, "numerek-release"), filepath.Join(dir, "run", "healthy")
	if err := os.WriteFile(release, []byte("2026.11.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startDeviceWith(t, o, "hall", "hall", "hall", "", []string{"--release-file", release, "--healthy-file", healthy})
	id := o.deviceID("hall")
	waitUntil(t, "the healthy file", 20*time.Second, func() bool {
		_, err := os.Stat(healthy)
		return err == nil
	})

	bundle, err := os.ReadFile(raucbundle.Make(t, "2026.11.1", "numerek-rpi4", 64<<10))
	if err != nil {
		t.Fatal(err)
	}
	status, body := admin.call("POST", "/api/v1/bundles", string(bundle))
	var rec store.BundleRecord
	if status != http.StatusCreated || json.Unmarshal(body, &rec) != nil {
		t.Fatalf("uploading: %d %s", status, body)
	}
	status, body = admin.call("POST", "/api/v1/rollouts", `{"bundle":"`+rec.SHA256+`","device":"`+id+`"}`)
	var ro server.RolloutStatus
	if status != http.StatusCreated || json.Unmarshal(body, &ro) != nil {
		t.Fatalf("rolling out: %d %s", status, body)
	}
	waitUntil(t, "the hall's update committed", 20*time.Second, func() bool {
		_, body := admin.call("GET", "/api/v1/rollouts/"+ro.ID, "")
		var now server.RolloutStatus
		return json.Unmarshal(body, &now) == nil && len(now.Devices) == 1 && now.Devices[0].State == protocol.UpdateCommitted
	})
	_, body = admin.call("GET", "/api/v1/fleet", "")
	if !strings.Contains(string(body), `"system":{"version":"2026.11.1"`) {
		t.Errorf("the fleet does not show the hall's system:\n%s", body)
	}
}
