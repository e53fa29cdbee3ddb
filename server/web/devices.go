package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/numerek/numerek/internal/keyedlimit"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/devices"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/store"
)

// The admins' pages of paired devices: the list, the approve page a
// pairing device's QR code leads to, each device's page (its settings,
// revocation) and the enrolment batches.

// newPairCodeLimit allows an admin 10 wrong user codes, then one each
// 30 s: the codes have about 39 bits, and a stolen session must not try
// them at speed.
func newPairCodeLimit() *keyedlimit.Limiter {
	return keyedlimit.New(rate.Every(30*time.Second), 10, 10000)
}

// mountDevices adds the devices' pages.
func (w *Web) mountDevices(h func(string, http.HandlerFunc)) {
	h("GET /staff/devices", w.admin(w.devicesPage))
	h("GET /staff/devices/pair", w.admin(w.pairPage))
	h("POST /staff/devices/pair", w.admin(w.pairDecide))
	h("POST /staff/devices/batches", w.admin(w.batchCreate))
	h("POST /staff/devices/batches/end", w.admin(w.batchEnd))
	h("GET /staff/devices/{id}", w.admin(w.devicePage))
	h("POST /staff/devices/{id}/settings", w.admin(w.deviceSettings))
	h("POST /staff/devices/{id}/revoke", w.admin(w.deviceRevoke))
}

// registry is the server's register of devices, or nil (the pages answer
// 404 on a server that pairs none).
func (w *Web) registry(rw http.ResponseWriter, r *http.Request) *devices.Registry {
	reg := w.Server.Devices()
	if reg == nil {
		w.problem(rw, r, http.StatusNotFound, "web.devices.none_here")
	}
	return reg
}

// deviceRow is a device in the list.
type deviceRow struct {
	store.DeviceRecord
	Presence fleet.Presence
}

type devicesData struct {
	Devices []deviceRow
	Batches []store.EnrolmentBatch
	Offices []*queue.Office
	// Secret is a batch's enrolment secret just made, shown this once.
	Secret  string
	Created store.EnrolmentBatch
	Now     time.Time
}

func (w *Web) devicesPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	w.renderDevices(rw, r, st, 0, devicesData{})
}

func (w *Web) renderDevices(rw http.ResponseWriter, r *http.Request, st *staffInfo, status int, d devicesData) {
	reg := w.registry(rw, r)
	if reg == nil {
		return
	}
	p := w.staffPage(rw, r, st, "web.devices.title")
	all, err := reg.Store().Devices()
	if err != nil {
		w.Logger.Error("listing devices", "err", err)
		p.Error = err.Error()
	}
	for _, dev := range all {
		if st.sees(dev.Office) {
			d.Devices = append(d.Devices, deviceRow{DeviceRecord: dev, Presence: w.Server.Fleet().Presence(dev.ID)})
		}
	}
	batches, err := reg.Store().Batches()
	if err != nil {
		w.Logger.Error("listing enrolment batches", "err", err)
	}
	for _, b := range batches {
		if st.sees(b.Office) {
			d.Batches = append(d.Batches, b)
		}
	}
	for _, a := range w.visibleOffices(st) {
		d.Offices = append(d.Offices, a.Office())
	}
	d.Now = w.Clock()
	p.Data = d
	if d.Secret != "" {
		rw.Header().Set("Cache-Control", "no-store")
	}
	w.render(rw, status, "devices", p)
}

type pairData struct {
	// Code is the user code as the admin typed it (or the QR carried it).
	Code    string
	Pending *devices.Pending
	Offices []*queue.Office
	Roles   []string
	// The form's fields, kept when it is shown again.
	Office, Role, Name string
	Counter            int
}

// pairCode looks a typed user code up, counting a wrong one against the
// admin; status is non-zero with the page's error when it is refused.
func (w *Web) pairCode(reg *devices.Registry, st *staffInfo, lang, code string) (p devices.Pending, status int, msg string) {
	now := w.Clock()
	if w.pairCodes.Tokens(st.Name, now) < 1 {
		return p, http.StatusTooManyRequests, w.Catalog.T(lang, "web.devices.too_many_codes")
	}
	p, ok := reg.Lookup(code)
	if !ok {
		w.pairCodes.Allow(st.Name, now)
		return p, http.StatusNotFound, w.Catalog.T(lang, "web.devices.no_such_code")
	}
	return p, 0, ""
}

func (w *Web) pairPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	reg := w.registry(rw, r)
	if reg == nil {
		return
	}
	code := strings.TrimSpace(r.URL.Query().Get("code"))
	d := pairData{Code: code}
	status := 0
	var errMsg string
	if code != "" {
		var pend devices.Pending
		if pend, status, errMsg = w.pairCode(reg, st, w.language(rw, r), code); status == 0 {
			d.Pending = &pend
			d.Code = devices.FormatUserCode(pend.UserCode)
		}
	}
	w.renderPair(rw, r, st, status, errMsg, d)
}

func (w *Web) renderPair(rw http.ResponseWriter, r *http.Request, st *staffInfo, status int, errMsg string, d pairData) {
	p := w.staffPage(rw, r, st, "web.devices.pair_title")
	if errMsg != "" {
		p.Error = errMsg
	}
	for _, a := range w.visibleOffices(st) {
		d.Offices = append(d.Offices, a.Office())
	}
	d.Roles = devices.Roles
	if d.Role == "" {
		d.Role = "ticket"
	}
	p.Data = d
	w.render(rw, status, "device_pair", p)
}

func (w *Web) pairDecide(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	reg := w.registry(rw, r)
	if reg == nil {
		return
	}
	lang := w.language(rw, r)
	counter, _ := strconv.Atoi(r.PostFormValue("counter"))
	d := pairData{Code: r.PostFormValue("code"), Office: r.PostFormValue("office"), Role: r.PostFormValue("role"),
		Name: strings.TrimSpace(r.PostFormValue("name")), Counter: counter}
	pend, status, errMsg := w.pairCode(reg, st, lang, d.Code)
	if status != 0 {
		w.renderPair(rw, r, st, status, errMsg, d)
		return
	}
	d.Pending = &pend
	if r.PostFormValue("decision") == "reject" {
		if err := reg.Deny(d.Code); err != nil {
			w.renderPair(rw, r, st, http.StatusConflict, err.Error(), d)
			return
		}
		w.Logger.Info("device pairing rejected", "fingerprint", pend.Fingerprint, "by", st.Name)
		flash(rw, w.Catalog.T(lang, "web.devices.rejected", "code", devices.FormatUserCode(pend.UserCode)), false)
		redirect(rw, r, "/staff/devices")
		return
	}
	a := w.Server.Office(d.Office)
	bad := func(id string) { w.renderPair(rw, r, st, http.StatusBadRequest, w.Catalog.T(lang, id), d) }
	switch {
	case a == nil || !st.sees(d.Office):
		w.renderPair(rw, r, st, http.StatusForbidden, w.Catalog.T(lang, "web.staff.not_your_office"), d)
		return
	case !devices.ValidRole(d.Role):
		bad("web.tokens.bad_role")
		return
	case d.Name == "" || utf8.RuneCountInString(d.Name) > 60 || strings.ContainsAny(d.Name, "\"\\\n\r"):
		bad("web.devices.bad_name")
		return
	case d.Role == "counter":
		if _, ok := a.Office().Counter(d.Counter); !ok {
			bad("web.tokens.bad_counter")
			return
		}
	}
	rec, err := reg.Approve(d.Code, devices.Approval{Office: d.Office, Role: d.Role, Counter: d.Counter, Name: d.Name,
		Languages: a.Office().Languages, By: st.Name})
	if err != nil {
		status := http.StatusServiceUnavailable
		if errors.Is(err, devices.ErrNotWaiting) {
			status = http.StatusConflict
		}
		w.renderPair(rw, r, st, status, err.Error(), d)
		return
	}
	w.Logger.Info("device paired", "id", rec.ID, "office", rec.Office, "role", rec.Role, "by", st.Name)
	flash(rw, w.Catalog.T(lang, "web.devices.approved", "name", rec.Name), false)
	redirect(rw, r, "/staff/devices/"+url.PathEscape(rec.ID))
}

type deviceData struct {
	Device   store.DeviceRecord
	Presence fleet.Presence
	// Settings is the text in the settings' field: what is stored, or
	// what the admin typed when it was refused.
	Settings string
	// SettingsErrors are device/config's messages, one a line.
	SettingsErrors []string
}

// deviceOf finds the device in the path among the admin's offices, or
// answers 404.
func (w *Web) deviceOf(rw http.ResponseWriter, r *http.Request, st *staffInfo) (*devices.Registry, store.DeviceRecord, bool) {
	reg := w.registry(rw, r)
	if reg == nil {
		return nil, store.DeviceRecord{}, false
	}
	d, found, err := reg.Store().Device(r.PathValue("id"))
	if err != nil {
		w.Logger.Error("reading a device", "err", err)
	}
	if !found || !st.sees(d.Office) {
		w.problem(rw, r, http.StatusNotFound, "web.error.not_found")
		return nil, store.DeviceRecord{}, false
	}
	return reg, d, true
}

func (w *Web) devicePage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	if _, d, ok := w.deviceOf(rw, r, st); ok {
		w.renderDevice(rw, r, st, 0, deviceData{Device: d, Settings: d.Settings.TOML})
	}
}

func (w *Web) renderDevice(rw http.ResponseWriter, r *http.Request, st *staffInfo, status int, d deviceData) {
	p := w.staffPage(rw, r, st, "web.devices.device_title")
	p.Title = d.Device.Name + " · " + p.Title
	d.Presence = w.Server.Fleet().Presence(d.Device.ID)
	if len(d.SettingsErrors) > 0 {
		p.Error = p.T("web.devices.settings_refused")
	}
	p.Data = d
	w.render(rw, status, "device", p)
}

func (w *Web) deviceSettings(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	reg, d, ok := w.deviceOf(rw, r, st)
	if !ok {
		return
	}
	lang := w.language(rw, r)
	// Browsers send a textarea's lines with CRLF; the device reads LF.
	text := strings.ReplaceAll(r.PostFormValue("settings"), "\r\n", "\n")
	saved, sent, err := reg.SaveSettings(d.ID, text)
	var se *devices.SettingsError
	switch {
	case errors.As(err, &se):
		w.renderDevice(rw, r, st, http.StatusUnprocessableEntity, deviceData{Device: d, Settings: text,
			SettingsErrors: strings.Split(strings.TrimSpace(se.Error()), "\n")})
		return
	case err != nil:
		w.renderDevice(rw, r, st, http.StatusConflict, deviceData{Device: d, Settings: text, SettingsErrors: []string{err.Error()}})
		return
	}
	w.Logger.Info("device settings saved", "id", d.ID, "revision", saved.Settings.Revision, "by", st.Name)
	msg := "web.devices.settings_saved_later"
	if sent {
		msg = "web.devices.settings_saved_sent"
	}
	flash(rw, w.Catalog.T(lang, msg, "revision", saved.Settings.Revision), false)
	redirect(rw, r, "/staff/devices/"+url.PathEscape(d.ID))
}

func (w *Web) deviceRevoke(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	reg, d, ok := w.deviceOf(rw, r, st)
	if !ok {
		return
	}
	lang := w.language(rw, r)
	if _, err := reg.Revoke(d.ID); err != nil {
		flash(rw, err.Error(), true)
	} else {
		w.Logger.Info("device revoked", "id", d.ID, "office", d.Office, "by", st.Name)
		flash(rw, w.Catalog.T(lang, "web.devices.revoked", "name", d.Name), false)
	}
	redirect(rw, r, "/staff/devices/"+url.PathEscape(d.ID))
}

func (w *Web) batchCreate(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	reg := w.registry(rw, r)
	if reg == nil {
		return
	}
	lang := w.language(rw, r)
	office, role := r.PostFormValue("office"), r.PostFormValue("role")
	prefix := strings.TrimSpace(r.PostFormValue("prefix"))
	uses, _ := strconv.Atoi(r.PostFormValue("uses"))
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	fail := func(id string) {
		flash(rw, w.Catalog.T(lang, id), true)
		redirect(rw, r, "/staff/devices")
	}
	switch {
	case w.Server.Office(office) == nil || !st.sees(office):
		fail("web.staff.not_your_office")
		return
	case role != "ticket" && role != "hall" && role != "locker":
		// A counter's number is each device's own: an admin pairs those.
		fail("web.devices.batch_bad_role")
		return
	case uses < 1 || uses > 500 || days < 1 || days > 90:
		fail("web.devices.batch_bad_limits")
		return
	case utf8.RuneCountInString(prefix) > 40 || strings.ContainsAny(prefix, "\"\\\n\r"):
		fail("web.devices.bad_name")
		return
	}
	now := w.Clock()
	secret, b, err := reg.Store().CreateBatch(store.EnrolmentBatch{Office: office, Role: role, NamePrefix: prefix, UsesLeft: uses,
		Expires: now.Add(time.Duration(days) * 24 * time.Hour).UTC(), CreatedBy: st.Name, Created: now.UTC()})
	if err != nil {
		fail(err.Error())
		return
	}
	w.Logger.Info("enrolment batch created", "id", b.ID, "office", office, "role", role, "uses", uses, "by", st.Name)
	w.renderDevices(rw, r, st, http.StatusCreated, devicesData{Secret: secret, Created: b})
}

func (w *Web) batchEnd(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	reg := w.registry(rw, r)
	if reg == nil {
		return
	}
	lang := w.language(rw, r)
	id := r.PostFormValue("id")
	batches, _ := reg.Store().Batches()
	allowed := false
	for _, b := range batches {
		allowed = allowed || (b.ID == id && st.sees(b.Office))
	}
	if !allowed {
		flash(rw, w.Catalog.T(lang, "web.error.not_found"), true)
	} else if _, err := reg.Store().EndBatch(id); err != nil {
		flash(rw, err.Error(), true)
	} else {
		w.Logger.Info("enrolment batch ended", "id", id, "by", st.Name)
		flash(rw, w.Catalog.T(lang, "web.devices.batch_ended", "id", id), false)
	}
	redirect(rw, r, "/staff/devices")
}
