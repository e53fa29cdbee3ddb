package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/device/identity"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
)

// pairedWatch is a paired hall's watch as kioskd runs it, on settings
// revision 1, with its data folder.
func pairedWatch(t *testing.T, serverURL string) (*watch, *bool) {
	t.Helper()
	dir := t.TempDir()
	localPath := filepath.Join(dir, "kioskd.toml")
	local := "data_dir = \"data\"\n[server]\nurl = \"" + serverURL + "\"\n[screen]\nwidth = 1280\nheight = 720\n"
	if err := os.WriteFile(localPath, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := config.ReadLocal(localPath)
	if err != nil {
		t.Fatal(err)
	}
	paired := &identity.Paired{ServerURL: serverURL, Credentials: protocol.Credentials{DeviceID: "tok_1", Token: "nmk_1", Office: "cus-x", Role: "hall",
		Settings: protocol.DeviceSettings{Revision: 1, TOML: "role = \"hall\"\nname = \"hall-a\"\n"}}}
	if err := identity.SavePaired(l.DataDir, *paired); err != nil {
		t.Fatal(err)
	}
	f := &fleet{local: l, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	cfg, err := f.layered(paired.Settings, paired, serverURL)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	return &watch{f: f, paired: paired, server: serverURL, running: cfg, revision: 1, stop: func() { stopped = true }, later: func(f func()) { f() }}, &stopped
}

func TestPairedDeviceHearsTheServer(t *testing.T) {
	settings := func(rev int, toml string) sse.Message {
		data, _ := json.Marshal(protocol.DeviceSettings{Revision: rev, TOML: toml})
		return sse.Message{Event: protocol.SettingsEvent, Data: data}
	}
	tests := []struct {
		name        string
		event       sse.Message
		wantRestart string // "" for none
		wantCached  int    // the settings' revision cached after (0: none new)
		wantPaired  bool
	}{
		{"new settings that change the device", settings(2, "role = \"hall\"\nname = \"hall-b\"\n"), "settings revision 2", 2, true},
		{"new settings that change nothing here", settings(2, "role = \"hall\"\nname = \"hall-a\"\n[screen]\nwidth = 1920\nheight = 1080\n"), "", 2, true},
		{"old settings come late", settings(1, "role = \"counter\"\n[counter]\nnumber = 3\n"), "", 1, true},
		{"settings that do not fit the device", settings(3, "role = \"hall\"\n[screen]\nrotation = 45\n"), "", 1, true},
		{"revoked", sse.Message{Event: protocol.RevokedEvent, Data: []byte("{}")}, "revoked", 0, false},
		{"an action is not for this part", sse.Message{Event: protocol.ActionEvent, Data: []byte(`{"id":"a1","kind":"identify"}`)}, "", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, stopped := pairedWatch(t, "http://10.0.0.2:8080")
			w.control(tt.event) // settings are taken at once here (pairedWatch's later)
			if got := w.reason(); got != tt.wantRestart || *stopped != (tt.wantRestart != "") {
				t.Errorf("restart %q (stopped %v), want %q", got, *stopped, tt.wantRestart)
			}
			dir := w.f.local.DataDir
			p, _ := identity.LoadPaired(dir)
			if (p != nil) != tt.wantPaired {
				t.Errorf("paired after: %v, want %v", p != nil, tt.wantPaired)
			}
			s, found, _ := identity.LoadSettings(dir)
			if tt.wantCached == 0 && found || tt.wantCached != 0 && s.Revision != tt.wantCached {
				t.Errorf("cached settings revision %d (found %v), want %d", s.Revision, found, tt.wantCached)
			}
		})
	}
}

// At its start a paired device asks for its settings: newer ones restart
// it into them; a token the server calls revoked unpairs it; each request
// proves the device's key.
func TestPairedDeviceChecksItsSettingsAtStart(t *testing.T) {
	for _, tc := range []struct {
		name        string
		answer      func(w http.ResponseWriter)
		wantRestart string
	}{
		{"newer", func(w http.ResponseWriter) {
			json.NewEncoder(w).Encode(protocol.DeviceSettings{Revision: 5, TOML: "role = \"hall\"\nname = \"renamed\"\n"})
		}, "settings revision 5"},
		{"the same", func(w http.ResponseWriter) {
			json.NewEncoder(w).Encode(protocol.DeviceSettings{Revision: 1, TOML: "role = \"hall\"\nname = \"hall-a\"\n"})
		}, ""},
		{"revoked", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(protocol.ErrorResponse{Error: "unknown or revoked token"})
		}, "revoked"},
		{"down", func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var proof string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != protocol.DeviceConfigPath {
					http.NotFound(w, r)
					return
				}
				proof = r.Header.Get(protocol.ProofHeader)
				tc.answer(w)
			}))
			defer srv.Close()
			w, _ := pairedWatch(t, srv.URL)
			key, _, err := identity.Key(w.f.local.DataDir)
			if err != nil {
				t.Fatal(err)
			}
			w.checkSettings(context.Background(), key)
			if got := w.reason(); got != tc.wantRestart {
				t.Errorf("restart %q, want %q", got, tc.wantRestart)
			}
			if proof == "" {
				t.Error("the request for the settings carries no proof of the key")
			}
		})
	}
}
