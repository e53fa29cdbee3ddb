package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/numerek/numerek/internal/raucbundle"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/servertest"
)

func send(t *testing.T, srv *servertest.Server, token, method, path, contentType string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// Bundles through the API: only admins upload, what is not a bundle or is
// too big is refused saying so, and only devices download, with Range.
func TestBundlesAPI(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{MaxBundle: 2 << 20})
	path := raucbundle.Make(t, "2026.12.1", "numerek-rpi4", 256<<10)
	bundle, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	octets := "application/octet-stream"
	for _, tc := range []struct {
		name, token string
		body        []byte
		status      int
		says        string
	}{
		{"a clerk", "clerk", bundle, http.StatusForbidden, "only admins"},
		{"a device", "hall", bundle, http.StatusForbidden, "only admins"},
		{"a text file", "admin", []byte("hello\n"), http.StatusUnprocessableEntity, "not a RAUC bundle"},
		{"half a bundle", "admin", bundle[:len(bundle)/2], http.StatusUnprocessableEntity, "not a RAUC bundle"},
		{"too big", "admin", bytes.Repeat([]byte{7}, 2<<20+1), http.StatusRequestEntityTooLarge, "more than 2 MB"},
	} {
		resp, data := send(t, srv, srv.Tokens[tc.token], "POST", "/api/v1/bundles", octets, bytes.NewReader(tc.body), nil)
		if resp.StatusCode != tc.status || !strings.Contains(string(data), tc.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tc.name, resp.StatusCode, data, tc.status, tc.says)
		}
	}
	rec := srv.UploadBundle(path)
	if rec.Version != "2026.12.1" || rec.Compatible != "numerek-rpi4" || rec.Size != int64(len(bundle)) {
		t.Fatalf("uploaded: %+v", rec)
	}
	var list server.BundleList
	_, data := send(t, srv, srv.Tokens["admin"], "GET", "/api/v1/bundles", "", nil, nil)
	if err := json.Unmarshal(data, &list); err != nil || len(list.Bundles) != 1 {
		t.Fatalf("the list: %s", data)
	}

	file := "/api/v1/devices/self/bundles/" + rec.SHA256
	if resp, _ := send(t, srv, srv.Tokens["admin"], "GET", file, "", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an admin downloading as a device: %d", resp.StatusCode)
	}
	resp, data := send(t, srv, srv.Tokens["hall"], "GET", file, "", nil, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(data, bundle) {
		t.Errorf("the whole bundle: %d, %d bytes", resp.StatusCode, len(data))
	}
	resp, data = send(t, srv, srv.Tokens["hall"], "GET", file, "", nil, http.Header{"Range": {"bytes=1000-"}})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(data, bundle[1000:]) {
		t.Errorf("from byte 1000: %d, %d bytes", resp.StatusCode, len(data))
	}
	if resp, _ := send(t, srv, srv.Tokens["hall"], "GET", "/api/v1/devices/self/bundles/"+strings.Repeat("0", 64), "", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown bundle: %d", resp.StatusCode)
	}
}

// Rollouts through the API: the choice of devices is checked, and a
// cancel reaches the devices still waiting.
func TestRolloutsAPI(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	rec := srv.UploadBundle(raucbundle.Make(t, "2026.12.1", "numerek-rpi4", 64<<10))
	for _, tc := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"no bundle", `{"bundle":"` + strings.Repeat("1", 64) + `","all":true}`, http.StatusNotFound, "no bundle"},
		{"no devices chosen", `{"bundle":"` + rec.SHA256 + `"}`, http.StatusBadRequest, "choose one device"},
		{"two choices", `{"bundle":"` + rec.SHA256 + `","all":true,"office":"x"}`, http.StatusBadRequest, "choose one device"},
		{"another office", `{"bundle":"` + rec.SHA256 + `","office":"elsewhere"}`, http.StatusBadRequest, "no devices in office"},
		{"an unknown device", `{"bundle":"` + rec.SHA256 + `","device":"nobody"}`, http.StatusBadRequest, "no device"},
	} {
		resp, data := send(t, srv, srv.Tokens["admin"], "POST", "/api/v1/rollouts", "application/json", strings.NewReader(tc.body), nil)
		if resp.StatusCode != tc.status || !strings.Contains(string(data), tc.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tc.name, resp.StatusCode, data, tc.status, tc.says)
		}
	}
	ro := srv.RollOut(server.RolloutRequest{Bundle: rec.SHA256, Office: srv.Office.ID})
	// The office's devices: the kiosk, the hall and six counters.
	if len(ro.Devices) != 8 || ro.Counts["waiting"] != 8 {
		t.Fatalf("the rollout: %+v", ro)
	}
	resp, data := send(t, srv, srv.Tokens["admin"], "POST", "/api/v1/rollouts/"+ro.ID+"/cancel", "", nil, nil)
	var after server.RolloutStatus
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &after) != nil || !after.Cancelled || after.Counts["cancelled"] != 8 {
		t.Errorf("cancelled: %d %s", resp.StatusCode, data)
	}
	if resp, _ := send(t, srv, srv.Tokens["clerk"], "GET", "/api/v1/rollouts/"+ro.ID, "", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a clerk reading a rollout: %d", resp.StatusCode)
	}
}
