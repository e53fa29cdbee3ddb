package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/outbox"
)

// The whole server with [devices] alone (no [messages]): a kiosk that
// reports its paper out is told to the office's webhook within a sweep,
// and the office's page of devices knows it.
func TestDeviceAlertFromTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a server process")
	}
	t.Parallel()
	var mu sync.Mutex
	var got []outbox.AlertMessage
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m outbox.AlertMessage
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &m) != nil {
			http.Error(w, "not an alert", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer hook.Close()
	bin := buildServer(t)
	setting := "[devices]\nalert_webhook = \"" + hook.URL + "/numerek\"\n\n"
	cfg := exampleOfficeWith(t, setting)
	data := t.TempDir()
	tok := token(t, bin, data, "--role", "ticket", "--label", "kiosk-door")
	srv := startServerWith(t, bin, "--config", cfg, "--data", data)
	site := strings.TrimSuffix(srv.base, "/api/v1/offices/"+officeID)

	report, _ := json.Marshal(protocol.HealthReport{Version: "1.4.0", Role: "ticket", Name: "Kiosk przy drzwiach",
		Screen: protocol.ScreenHealth{Drawing: true}, Printer: &protocol.PrinterHealth{URI: "usb:", Online: true, PaperOut: true}})
	req, _ := http.NewRequest(http.MethodPost, site+protocol.DeviceHealthPath, strings.NewReader(string(report)))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d", resp.StatusCode)
	}
	waitfor.Until(t, "the paper-out alert at the webhook", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	mu.Lock()
	m := got[0]
	mu.Unlock()
	if m.Event != "device-alert" || m.Fault != "paper-out" || m.Device != "Kiosk przy drzwiach" || m.Office != officeID || m.Lang != "pl" ||
		!strings.Contains(m.Text, "brak papieru") {
		t.Errorf("the webhook got %+v", m)
	}
}
