package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/store"
)

// FuzzHealthReport: whatever a device sends as its report, the server
// either refuses it naming what is wrong or reads faults from it, never
// panicking; a report it takes has a version and figures that can be.
func FuzzHealthReport(f *testing.F) {
	f.Add(`{"version":"1.4.0","role":"ticket","name":"Kiosk","started":"2026-11-23T07:00:00Z","uptime_s":60,"hardware":{},"disk_free_bytes":1,"disk_size_bytes":2,"stream":{"connected":true,"seq":1,"lag_ms":5},"clock_offset_ms":-7000,"screen":{"drawing":false,"last_frame":"2026-11-23T07:00:00Z"},"printer":{"uri":"usb:","online":false,"cover_open":true,"paper_near_end":true,"paper_out":true,"cutter_error":true},"temperature_c":85.5,"throttled":["under-voltage"]}`)
	f.Add(`{"version":"1","temperature_c":1e400}`)
	f.Add(`{"version":"","disk_free_bytes":5}`)
	f.Add(`[]`)
	f.Add(`{"version":"1","role":"locker","locker":{"doors_open":["3"],"doors_alarm":["3"],"locks_failed":["7"],"doors_forced":[""],"pending_reports":2}}`)
	p := Principal{Token: store.Token{ID: "t", Office: "o", Role: "ticket"}}
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, protocol.DeviceHealthPath, strings.NewReader(body))
		var r protocol.HealthReport
		err := decodeJSON(httptest.NewRecorder(), req, &r)
		if err == nil {
			err = checkReport(r, p)
		}
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal that says nothing")
			}
			return
		}
		if r.Version == "" || r.DiskFreeBytes > r.DiskSizeBytes || r.UptimeS < 0 {
			t.Fatalf("took %+v", r)
		}
		fleet.ReportFaults(r, fleet.DefaultLimits)
	})
}
