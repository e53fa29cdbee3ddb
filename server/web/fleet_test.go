package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/fleet"
)

func fleetReport(name string, change func(r *protocol.HealthReport)) string {
	temp := 63.2
	r := protocol.HealthReport{
		Version: "1.4.0", Role: "ticket", Name: name, UptimeS: 3*3600 + 7*60, TemperatureC: &temp,
		DiskFreeBytes: 8 << 30, DiskSizeBytes: 16 << 30, Stream: protocol.StreamHealth{Connected: true, LagMS: 42},
		ClockOffsetMS: -300, Screen: protocol.ScreenHealth{Drawing: true},
		Printer: &protocol.PrinterHealth{URI: "usb:///dev/usb/lp0", Online: true, LastTicket: "A017"},
	}
	change(&r)
	data, _ := json.Marshal(r)
	return string(data)
}

// An office's admin sees its devices, problems first, and not another
// office's; the device's page keeps its fault history with how each
// ended; a clerk is refused.
func TestFleetPages(t *testing.T) {
	e := newEnv(t)
	paperLow := fleetReport("Kiosk przy wejściu", func(r *protocol.HealthReport) { r.Printer.PaperNearEnd = true })
	if st, out := e.api("kiosk", "POST", protocol.DeviceHealthPath, paperLow); st != http.StatusOK {
		t.Fatalf("report: %d %v", st, out)
	}
	other := "czestochowa-device"
	for _, id := range e.web.Server.OfficeIDs() {
		if id != e.office.ID {
			err := e.web.Server.Health().Ingest(context.Background(), fleet.Reporter{ID: other, Office: id, Role: "hall"},
				protocol.HealthReport{Version: "1.4.0", Name: "Hala w Częstochowie", Screen: protocol.ScreenHealth{Drawing: true}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}

	admin := e.browser()
	admin.login("kierownik", "correct horse battery")
	page := admin.get("/staff/fleet")
	if admin.status != http.StatusOK {
		t.Fatalf("fleet page: %d\n%s", admin.status, page)
	}
	hall, kiosk := strings.Index(page, "hall-lcd"), strings.Index(page, "Kiosk przy wejściu")
	switch {
	case kiosk < 0 || hall < 0:
		t.Fatalf("the page lacks the kiosk or the hall (which never reported):\n%s", page)
	case hall > kiosk:
		t.Errorf("the hall that never reported is listed after the kiosk with its paper low")
	case strings.Contains(page, "Hala w Częstochowie") || strings.Contains(page, other):
		t.Errorf("an admin of one office sees another's device")
	}
	for _, want := range []string{"kończy się papier", "1.4.0", "63.2 °C", "3 h 07 min", "42 ms", "-0.3 s", "Rozłączone", "nigdy się nie zgłosiło", "A017"} {
		if !strings.Contains(page, want) {
			t.Errorf("the fleet page does not say %q", want)
		}
	}

	e.clock.Set(e.clock.Now().Add(2 * time.Minute))
	if st, out := e.api("kiosk", "POST", protocol.DeviceHealthPath, fleetReport("Kiosk przy wejściu", func(*protocol.HealthReport) {})); st != http.StatusOK {
		t.Fatalf("report: %d %v", st, out)
	}
	id := e.web.Server.Health().Devices(func(string) bool { return true })
	var kioskID string
	for _, d := range id {
		if d.Name == "Kiosk przy wejściu" {
			kioskID = d.ID
		}
	}
	device := admin.get("/staff/fleet/" + kioskID)
	for _, want := range []string{"Historia problemów", "kończy się papier", "rolkę wymieniono", "/staff/devices/" + kioskID} {
		if !strings.Contains(device, want) {
			t.Errorf("the device's page does not say %q:\n%s", want, device)
		}
	}
	if admin.get("/staff/fleet/" + other); admin.status != http.StatusNotFound {
		t.Errorf("another office's device page: %d, want 404", admin.status)
	}

	clerk := e.browser()
	clerk.login("anna", "correct horse battery")
	if clerk.get("/staff/fleet"); clerk.status != http.StatusForbidden {
		t.Errorf("a clerk's fleet page: %d, want 403", clerk.status)
	}
}
