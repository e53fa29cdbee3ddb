package server

import (
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/fleet"
)

// Bounds of a health report's texts: a report is the device's word about
// itself, shown on the admins' pages, so nothing in it may grow without
// limit.
const (
	maxReportText   = 200
	maxThrottleFlag = 8
)

// postHealth takes a device's health report and answers when to send the
// next.
func (s *Server) postHealth(w http.ResponseWriter, r *http.Request) {
	p, ok := s.Authenticate(w, r)
	if !ok {
		return
	}
	if !p.IsDevice() {
		forbid(w, "only devices (ticket, counter, hall, locker) report their health")
		return
	}
	var rep protocol.HealthReport
	if err := decodeJSON(w, r, &rep); err != nil {
		writeBadRequest(w, err)
		return
	}
	if err := checkReport(rep, p); err != nil {
		writeBadRequest(w, err)
		return
	}
	from := fleet.Reporter{ID: p.Token.ID, Office: p.Token.Office, Role: p.Token.Role, Name: p.Token.Label}
	if err := s.health.Ingest(r.Context(), from, rep); err != nil {
		// The report is kept in memory; only the fault history missed a
		// write, and the next change of faults writes again.
		s.log.Error("recording a device's faults", "device", p.Token.ID, "err", err)
	}
	if err := s.updates.Observe(p.Token.ID, rep.System); err != nil {
		s.log.Error("recording a device's update progress", "device", p.Token.ID, "err", err)
	}
	writeJSON(w, http.StatusOK, protocol.HealthAck{ServerTime: s.clock(), EverySeconds: int(s.health.Every().Seconds())})
}

func writeBadRequest(w http.ResponseWriter, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		writeError(w, br.httpStatus(), protocol.ErrorResponse{Error: br.msg, Field: br.field})
		return
	}
	writeError(w, http.StatusBadRequest, protocol.ErrorResponse{Error: err.Error()})
}

// checkReport refuses a report whose figures cannot be true, naming the
// field.
func checkReport(r protocol.HealthReport, p Principal) error {
	bad := func(field, format string, args ...any) error {
		return &badRequest{field: field, msg: field + ": " + fmt.Sprintf(format, args...)}
	}
	texts := []struct{ field, v string }{
		{"version", r.Version}, {"name", r.Name}, {"address", r.Address},
		{"hardware.model", r.Hardware.Model}, {"hardware.serial", r.Hardware.Serial},
		{"hardware.hostname", r.Hardware.Hostname}, {"hardware.mac", r.Hardware.MAC}, {"hardware.screen", r.Hardware.Screen},
	}
	if pr := r.Printer; pr != nil {
		texts = append(texts, struct{ field, v string }{"printer.uri", pr.URI}, struct{ field, v string }{"printer.error", pr.Error},
			struct{ field, v string }{"printer.last_ticket", pr.LastTicket})
	}
	if sys := r.System; sys != nil {
		texts = append(texts, struct{ field, v string }{"system.version", sys.Version}, struct{ field, v string }{"system.slot", sys.Slot},
			struct{ field, v string }{"system.primary", sys.Primary})
		if u := sys.Update; u != nil {
			texts = append(texts, struct{ field, v string }{"system.update.rollout", u.Rollout}, struct{ field, v string }{"system.update.version", u.Version},
				struct{ field, v string }{"system.update.state", u.State}, struct{ field, v string }{"system.update.error", u.Error})
			if u.Percent < 0 || u.Percent > 100 {
				return bad("system.update.percent", "%d is not a percentage", u.Percent)
			}
			switch u.State {
			case protocol.UpdateDownloading, protocol.UpdateInstalling, protocol.UpdateRebooting, protocol.UpdateTrial,
				protocol.UpdateCommitted, protocol.UpdateRolledBack, protocol.UpdateFailed:
			default:
				return bad("system.update.state", "%q is not a state of an update", u.State)
			}
		}
	}
	if c := r.LastCall; c != nil {
		texts = append(texts, struct{ field, v string }{"last_call.ticket", c.Ticket})
	}
	for _, t := range texts {
		if len(t.v) > maxReportText {
			return bad(t.field, "%d bytes; at most %d", len(t.v), maxReportText)
		}
	}
	switch {
	case r.Version == "":
		return bad("version", "missing: kioskd's version")
	case r.Role != "" && r.Role != p.Token.Role:
		return bad("role", "%q, but this token is a %s device's", r.Role, p.Token.Role)
	case r.UptimeS < 0:
		return bad("uptime_s", "%d is negative", r.UptimeS)
	case r.TemperatureC != nil && (math.IsNaN(*r.TemperatureC) || *r.TemperatureC < -60 || *r.TemperatureC > 200):
		return bad("temperature_c", "%v is not a temperature a device runs at", *r.TemperatureC)
	case r.DiskFreeBytes > r.DiskSizeBytes:
		return bad("disk_free_bytes", "%d is more than disk_size_bytes (%d)", r.DiskFreeBytes, r.DiskSizeBytes)
	case r.Stream.LagMS < 0:
		return bad("stream.lag_ms", "%d is negative", r.Stream.LagMS)
	case len(r.Throttled) > maxThrottleFlag:
		return bad("throttled", "%d flags; at most %d", len(r.Throttled), maxThrottleFlag)
	case r.Screen.Width < 0 || r.Screen.Height < 0:
		return bad("screen", "a size of %dx%d", r.Screen.Width, r.Screen.Height)
	}
	for i, f := range r.Throttled {
		if f == "" || len(f) > 40 {
			return bad(fmt.Sprintf("throttled[%d]", i), "%q is not a throttling flag", f)
		}
	}
	return checkLockerHealth(r.Locker, bad)
}

// maxCompartmentsReported bounds each list of a locker's doors.
const maxCompartmentsReported = 200

// checkLockerHealth refuses lists of doors no locker has: too long, or
// with names no door has painted on it.
func checkLockerHealth(l *protocol.LockerHealth, bad func(field, format string, args ...any) error) error {
	if l == nil {
		return nil
	}
	if l.Pending < 0 {
		return bad("locker.pending_reports", "%d is negative", l.Pending)
	}
	for _, list := range []struct {
		field string
		doors []string
	}{{"locker.doors_open", l.DoorsOpen}, {"locker.doors_alarm", l.DoorsAlarm}, {"locker.locks_failed", l.LocksFailed}, {"locker.doors_forced", l.DoorsForced}} {
		if len(list.doors) > maxCompartmentsReported {
			return bad(list.field, "%d compartments; at most %d", len(list.doors), maxCompartmentsReported)
		}
		for i, d := range list.doors {
			if d == "" || len(d) > 16 {
				return bad(fmt.Sprintf("%s[%d]", list.field, i), "%q is not a compartment", d)
			}
		}
	}
	return nil
}

// FleetResponse is GET /api/v1/fleet: the devices an admin sees, problems
// first.
type FleetResponse struct {
	Devices []fleet.DeviceHealth `json:"devices"`
}

// getFleet lists the health of the devices of the admin's office (every
// office's for an admin of all).
func (s *Server) getFleet(w http.ResponseWriter, r *http.Request) {
	p, ok := s.Authenticate(w, r)
	if !ok {
		return
	}
	if p.Role() != RoleAdmin {
		forbid(w, "only admins see the fleet")
		return
	}
	writeJSON(w, http.StatusOK, FleetResponse{Devices: s.health.Devices(p.SeesOffice)})
}
