package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/store"
)

// fleetRefresh is how often the fleet page reloads itself (seconds).
const fleetRefresh = 15

// fleetRow is one device as the fleet page shows it, its figures written
// out.
type fleetRow struct {
	fleet.DeviceHealth
	OfficeName  string
	StatusSince string
	Version     string
	Uptime      string
	Temperature string
	Disk        string
	Printer     string
	Lag         string
	ClockOffset string
	Last        string
	LastSeen    string
	// Faults are the faults' texts in the reader's language, with their
	// start.
	Faults []fleetFault
}

type fleetFault struct {
	Code, Name, Detail, Start, End, Note string
}

type fleetData struct {
	Rows []fleetRow
}

type fleetDeviceData struct {
	Row fleetRow
	// System is the device's system image and its latest update; nil off
	// the image.
	System   *systemText
	Report   *protocol.HealthReport
	History  []fleetFault
	Settings string
}

// fleetPage lists every device of the admin's offices at a glance,
// problems first; it reloads itself.
func (w *Web) fleetPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	p := w.staffPage(rw, r, st, "fleet.title")
	p.Refresh = fleetRefresh
	p.Scripts = append(p.Scripts, "fleet.js")
	devices := w.Server.Health().Devices(st.sees)
	seen := map[string]bool{}
	for _, dh := range devices {
		seen[dh.ID] = true
	}
	// Devices that have a token but never reported are offline too.
	if w.Tokens != nil {
		toks, err := w.Tokens.List()
		if err != nil {
			w.Logger.Error("listing tokens for the fleet page", "err", err)
		}
		for _, t := range toks {
			if seen[t.ID] || !st.sees(t.Office) || !(server.Principal{Token: t}).IsDevice() {
				continue
			}
			devices = append(devices, neverHeard(t))
		}
	}
	fleet.SortProblemsFirst(devices)
	var d fleetData
	for _, dh := range devices {
		d.Rows = append(d.Rows, w.fleetRow(p, dh))
	}
	p.Data = d
	w.render(rw, 0, "fleet", p)
}

// deviceNeverHeard finds a device's token by its id.
func (w *Web) deviceNeverHeard(id string) (fleet.DeviceHealth, bool) {
	if w.Tokens == nil {
		return fleet.DeviceHealth{}, false
	}
	toks, err := w.Tokens.List()
	if err != nil {
		w.Logger.Error("listing tokens for a device's health page", "err", err)
		return fleet.DeviceHealth{}, false
	}
	for _, t := range toks {
		if t.ID == id && (server.Principal{Token: t}).IsDevice() {
			return neverHeard(t), true
		}
	}
	return fleet.DeviceHealth{}, false
}

func neverHeard(t store.Token) fleet.DeviceHealth {
	name := t.Label
	if name == "" {
		name = t.Role + "-" + t.ID
	}
	return fleet.DeviceHealth{ID: t.ID, Office: t.Office, Role: t.Role, Name: name, Status: fleet.Offline}
}

// fleetDevicePage is one device's health and its fault history.
func (w *Web) fleetDevicePage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	id := r.PathValue("id")
	dh, history, found := w.Server.Health().Device(id)
	if !found {
		// A device with a token that never reported: its page says so
		// (the fleet page lists it, and its other pages link here).
		dh, found = w.deviceNeverHeard(id)
	}
	if found && !st.sees(dh.Office) {
		// Another office's device is not found, not forbidden: its id
		// says nothing to an admin who cannot see it.
		found = false
	}
	if !found {
		w.problem(rw, r, http.StatusNotFound, "fleet.unknown")
		return
	}
	p := w.staffPage(rw, r, st, "fleet.title")
	p.Title = dh.Name
	p.Refresh = fleetRefresh
	p.Scripts = append(p.Scripts, "fleet.js")
	d := fleetDeviceData{Row: w.fleetRow(p, dh), Report: dh.Report, Settings: "/staff/devices/" + id}
	if dh.Report != nil {
		d.System = w.systemOf(p, dh.Office, dh.Report.System)
	}
	for _, f := range history {
		d.History = append(d.History, w.faultText(p, dh.Office, f))
	}
	p.Data = d
	w.render(rw, 0, "fleet_device", p)
}

func (w *Web) officeLocation(office string) (*time.Location, string) {
	if a := w.Server.Office(office); a != nil {
		return a.Office().Location, a.Office().Name
	}
	return time.Local, office
}

// when writes t in the office's time: the time of day if it is today,
// else the date too.
func (w *Web) when(office string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	loc, _ := w.officeLocation(office)
	t = t.In(loc)
	if now := w.Clock().In(loc); t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04")
}

func (w *Web) faultText(p *page, office string, f store.FaultRecord) fleetFault {
	ff := fleetFault{Code: f.Code, Name: p.T("fleet.fault." + f.Code), Detail: f.Detail, Start: w.when(office, f.Start)}
	if !f.Open() {
		ff.End, ff.Note = w.when(office, f.End), p.T("fleet.cleared."+f.Code)
	}
	return ff
}

func (w *Web) fleetRow(p *page, dh fleet.DeviceHealth) fleetRow {
	_, officeName := w.officeLocation(dh.Office)
	row := fleetRow{DeviceHealth: dh, OfficeName: officeName, LastSeen: w.when(dh.Office, dh.LastSeen)}
	switch {
	case !dh.Since.IsZero():
		row.StatusSince = p.T("fleet.since", "time", w.when(dh.Office, dh.Since))
	case dh.Status == fleet.Offline:
		row.StatusSince = p.T("fleet.never")
	}
	for _, f := range dh.Faults {
		row.Faults = append(row.Faults, w.faultText(p, dh.Office, f))
	}
	r := dh.Report
	if r == nil {
		return row
	}
	row.Version = r.Version
	row.Uptime = uptime(time.Duration(r.UptimeS) * time.Second)
	if r.TemperatureC != nil {
		row.Temperature = fmt.Sprintf("%.1f °C", *r.TemperatureC)
	}
	if r.DiskSizeBytes > 0 {
		row.Disk = fmt.Sprintf("%.1f GB (%.0f %%)", float64(r.DiskFreeBytes)/(1<<30), float64(r.DiskFreeBytes)*100/float64(r.DiskSizeBytes))
	}
	switch pr := r.Printer; {
	case pr == nil:
		row.Printer = p.T("fleet.no_printer")
	case pr.PaperOut:
		row.Printer = p.T("fleet.paper.out")
	case pr.PaperNearEnd:
		row.Printer = p.T("fleet.paper.near-end")
	default:
		row.Printer = p.T("fleet.paper.ok")
	}
	row.Lag = fmt.Sprintf("%d ms", r.Stream.LagMS)
	row.ClockOffset = fmt.Sprintf("%+.1f s", float64(r.ClockOffsetMS)/1000)
	var last []string
	if pr := r.Printer; pr != nil && pr.LastTicket != "" {
		last = append(last, pr.LastTicket+" "+w.when(dh.Office, pr.LastPrinted))
	}
	if c := r.LastCall; c != nil {
		last = append(last, fmt.Sprintf("%s → %d %s", c.Ticket, c.Counter, w.when(dh.Office, c.At)))
	}
	row.Last = strings.Join(last, "; ")
	return row
}

// uptime writes a running time shortly: "3 d 4 h", "5 h 07 min", "12 min".
func uptime(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%d d %d h", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%d h %02d min", d/time.Hour, d%time.Hour/time.Minute)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}
