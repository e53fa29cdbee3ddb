package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/servertest"
)

func postJSON(t *testing.T, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func kioskReport() protocol.HealthReport {
	temp := 61.5
	return protocol.HealthReport{
		Version: "1.4.0", Role: "ticket", Name: "Kiosk at the door", Started: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC), UptimeS: 7200,
		TemperatureC: &temp, DiskFreeBytes: 10 << 30, DiskSizeBytes: 32 << 30,
		Stream:  protocol.StreamHealth{Connected: true, Seq: 3, LagMS: 25},
		Screen:  protocol.ScreenHealth{Drawing: true, LastFrame: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)},
		Printer: &protocol.PrinterHealth{URI: "usb:///dev/usb/lp0", Online: true, PaperNearEnd: true},
	}
}

// A device's report is acknowledged with the server's time and the
// interval, and the admin's fleet lists the device with what it said; a
// clerk may not read the fleet and an admin may not report.
func TestHealthReportReachesTheFleet(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	body, _ := json.Marshal(kioskReport())
	status, data := postJSON(t, srv.URL+protocol.DeviceHealthPath, srv.Tokens["ticket"], body)
	if status != http.StatusOK {
		t.Fatalf("report: %d %s", status, data)
	}
	var ack protocol.HealthAck
	if err := json.Unmarshal(data, &ack); err != nil || ack.EverySeconds != 30 || ack.ServerTime.Sub(srv.Clock.Now()).Abs() > time.Minute {
		t.Fatalf("ack %s (%v)", data, err)
	}
	if status, data := postJSON(t, srv.URL+protocol.DeviceHealthPath, srv.Tokens["admin"], body); status != http.StatusForbidden {
		t.Errorf("an admin's report: %d %s", status, data)
	}

	get := func(token string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/fleet", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	if status, data := get(srv.Tokens["clerk"]); status != http.StatusForbidden {
		t.Errorf("a clerk's fleet: %d %s", status, data)
	}
	status, data = get(srv.Tokens["admin"])
	var fl server.FleetResponse
	if err := json.Unmarshal(data, &fl); status != http.StatusOK || err != nil {
		t.Fatalf("fleet: %d %s", status, data)
	}
	if len(fl.Devices) != 1 {
		t.Fatalf("fleet lists %d devices, want the kiosk", len(fl.Devices))
	}
	d := fl.Devices[0]
	// Its stream is not open: it reports, but hears nothing.
	if d.ID != srv.TokenID(srv.Tokens["ticket"]) || d.Name != "Kiosk at the door" || d.Status != fleet.Disconnected ||
		len(d.Faults) != 1 || d.Faults[0].Code != fleet.FaultPaperNearEnd || d.Report == nil || *d.Report.TemperatureC != 61.5 {
		t.Errorf("fleet says %+v", d)
	}
}

// A report the server cannot take is refused with 400 naming the field.
func TestHealthReportRefusals(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	cases := []struct {
		name   string
		change func(r *protocol.HealthReport)
		raw    string
		field  string
	}{
		{name: "no version", change: func(r *protocol.HealthReport) { r.Version = "" }, field: "version"},
		{name: "another role", change: func(r *protocol.HealthReport) { r.Role = "hall" }, field: "role"},
		{name: "more free than the disk", change: func(r *protocol.HealthReport) { r.DiskFreeBytes = r.DiskSizeBytes + 1 }, field: "disk_free_bytes"},
		{name: "a long printer error", change: func(r *protocol.HealthReport) { r.Printer.Error = strings.Repeat("x", 201) }, field: "printer.error"},
		{name: "negative lag", change: func(r *protocol.HealthReport) { r.Stream.LagMS = -1 }, field: "stream.lag_ms"},
		{name: "impossible temperature", change: func(r *protocol.HealthReport) { t := 900.0; r.TemperatureC = &t }, field: "temperature_c"},
		{name: "a locker's endless doors", change: func(r *protocol.HealthReport) {
			r.Locker = &protocol.LockerHealth{DoorsOpen: make([]string, 201)}
		}, field: "locker.doors_open"},
		{name: "a forced door without a number", change: func(r *protocol.HealthReport) {
			r.Locker = &protocol.LockerHealth{DoorsForced: []string{"3", ""}}
		}, field: "locker.doors_forced[1]"},
		{name: "negative pending reports", change: func(r *protocol.HealthReport) { r.Locker = &protocol.LockerHealth{Pending: -1} }, field: "locker.pending_reports"},
		{name: "unknown field", raw: `{"version":"1","colour":"red"}`, field: "colour"},
		{name: "a number as text", raw: `{"version":"1","uptime_s":"long"}`, field: "uptime_s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(c.raw)
			if c.change != nil {
				r := kioskReport()
				c.change(&r)
				body, _ = json.Marshal(r)
			}
			status, data := postJSON(t, srv.URL+protocol.DeviceHealthPath, srv.Tokens["ticket"], body)
			var e protocol.ErrorResponse
			_ = json.Unmarshal(data, &e)
			if status != http.StatusBadRequest || e.Field != c.field || !strings.HasPrefix(e.Error, c.field) {
				t.Errorf("%d %s, want 400 naming %s", status, data, c.field)
			}
		})
	}
	big := bytes.Repeat([]byte(" "), server.MaxBody+1)
	if status, data := postJSON(t, srv.URL+protocol.DeviceHealthPath, srv.Tokens["ticket"], big); status != http.StatusBadRequest {
		t.Errorf("an oversize body: %d %s", status, data)
	}
}

// A device that reports with its stream open is online; silent for two
// intervals and the grace, it is offline, and the fault history says so.
func TestHealthStatusFollowsStreamAndReports(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	id := srv.TokenID(srv.Tokens["hall"])
	r := kioskReport()
	r.Role, r.Printer, r.Name = "hall", nil, "Hall screen"
	body, _ := json.Marshal(r)
	conn := srv.Fleet().Attach(id, true) // as the event stream does
	if status, data := postJSON(t, srv.URL+protocol.DeviceHealthPath, srv.Tokens["hall"], body); status != http.StatusOK {
		t.Fatalf("report: %d %s", status, data)
	}
	if d, _, _ := srv.Health().Device(id); d.Status != fleet.Online {
		t.Fatalf("with its stream open: %s", d.Status)
	}
	srv.Fleet().Detach(conn)
	if d, _, _ := srv.Health().Device(id); d.Status != fleet.Disconnected {
		t.Fatalf("with its stream closed: %s", d.Status)
	}
	srv.Clock.Set(srv.Clock.Now().Add(fleet.DefaultOfflineAfter + time.Second))
	if err := srv.Health().Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	d, _, _ := srv.Health().Device(id)
	if d.Status != fleet.Offline || len(d.Faults) != 1 || d.Faults[0].Code != fleet.FaultOffline {
		t.Fatalf("silent: %s %+v", d.Status, d.Faults)
	}
	// After a restart the server still knows it, and its fault.
	srv.Stop()
	srv.Restart()
	if status, data := postJSON(t, srv.URL+protocol.DeviceHealthPath, srv.Tokens["hall"], body); status != http.StatusOK {
		t.Fatalf("report: %d %s", status, data)
	}
	_, history, _ := srv.Health().Device(id)
	if len(history) != 1 || history[0].Code != fleet.FaultOffline || history[0].Open() {
		t.Errorf("history after the restart: %+v", history)
	}
}
