package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/bundles"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/store"
)

// System updates' pages (docs/updates.md): the bundles admins upload, the
// rollouts they start with the devices' progress, each device's system on
// its fleet page.

type bundleRow struct {
	store.BundleRecord
	SizeText, At string
}

type rolloutRow struct {
	fleet.Rollout
	At     string
	Target string
	// Counts in the page's order, with their names.
	Counts []stateCount
}

type stateCount struct {
	State, Name string
	N           int
}

type deviceChoice struct {
	ID, Name, Office string
}

type updatesData struct {
	Enabled  bool
	MaxMB    int64
	Bundles  []bundleRow
	Rollouts []rolloutRow
	Devices  []deviceChoice
	Offices  []deviceChoice
}

type confirmData struct {
	Bundle  bundleRow
	Target  string
	Device  string
	Office  string
	All     bool
	Devices []deviceChoice
}

type rolloutData struct {
	Row    rolloutRow
	Orders []orderRow
	Open   bool
}

type orderRow struct {
	store.OrderRecord
	Name, OfficeName, State, StateName, Updated, Running string
}

func (w *Web) mountUpdates(h func(string, http.HandlerFunc)) {
	h("GET /staff/fleet/updates", w.admin(w.updatesPage))
	// The upload checks its session and CSRF token itself, reading the
	// form as a stream: the bundle is never parsed into memory.
	h("POST /staff/fleet/updates/bundles", w.Server.Transfer(w.uploadBundle))
	h("POST /staff/fleet/updates/rollouts", w.admin(w.startRollout))
	h("GET /staff/fleet/updates/{rollout}", w.admin(w.rolloutPage))
	h("POST /staff/fleet/updates/{rollout}/cancel", w.admin(w.cancelRollout))
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

func (w *Web) bundleRow(office string, b store.BundleRecord) bundleRow {
	return bundleRow{BundleRecord: b, SizeText: megabytes(b.Size), At: w.when(office, b.At)}
}

// targetText says a rollout's target in the reader's words.
func (w *Web) targetText(p *page, target string) string {
	kind, id, _ := strings.Cut(target, ":")
	switch kind {
	case "device":
		if dh, _, ok := w.Server.Health().Device(id); ok {
			return p.T("web.updates.target.device", "device", dh.Name)
		}
		if dh, ok := w.deviceNeverHeard(id); ok {
			return p.T("web.updates.target.device", "device", dh.Name)
		}
		return p.T("web.updates.target.device", "device", id)
	case "office":
		_, name := w.officeLocation(id)
		return p.T("web.updates.target.office", "office", name)
	}
	return p.T("web.updates.target.all")
}

func (w *Web) rolloutRow(p *page, ro fleet.Rollout) rolloutRow {
	office := ""
	if len(ro.Orders) > 0 {
		office = ro.Orders[0].Office
	}
	row := rolloutRow{Rollout: ro, At: w.when(office, ro.At), Target: w.targetText(p, ro.Target)}
	for _, s := range fleet.OrderStates {
		row.Counts = append(row.Counts, stateCount{State: s, Name: p.T("web.updates.state." + s), N: ro.Counts[s]})
	}
	return row
}

// updateDevices lists the devices an admin may update, by name.
func (w *Web) updateDevices(st *staffInfo) (devices, offices []deviceChoice) {
	targets, _, err := w.Server.UpdateTargets(st.sees, "", "", true)
	if err != nil {
		return nil, nil
	}
	seen := map[string]bool{}
	for _, t := range targets {
		name := t.ID
		if dh, _, ok := w.Server.Health().Device(t.ID); ok {
			name = dh.Name
		} else if dh, ok := w.deviceNeverHeard(t.ID); ok {
			name = dh.Name
		}
		_, officeName := w.officeLocation(t.Office)
		devices = append(devices, deviceChoice{ID: t.ID, Name: name, Office: officeName})
		if !seen[t.Office] {
			seen[t.Office] = true
			offices = append(offices, deviceChoice{ID: t.Office, Name: officeName})
		}
	}
	slices.SortFunc(devices, func(a, b deviceChoice) int { return strings.Compare(a.Office+a.Name, b.Office+b.Name) })
	return devices, offices
}

func (w *Web) updatesPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	p := w.staffPage(rw, r, st, "web.updates.title")
	d := updatesData{Enabled: w.Server.Bundles() != nil}
	if d.Enabled {
		d.MaxMB = w.Server.Bundles().MaxSize() >> 20
		for _, b := range w.Server.Bundles().List() {
			d.Bundles = append(d.Bundles, w.bundleRow(st.Office, b))
		}
		for _, ro := range w.Server.Updates().Rollouts(st.sees) {
			d.Rollouts = append(d.Rollouts, w.rolloutRow(p, ro))
		}
		d.Devices, d.Offices = w.updateDevices(st)
	}
	p.Data = d
	w.render(rw, 0, "updates", p)
}

// uploadBundle takes the upload form as a stream: its first field must be
// the session's CSRF token, its second the bundle, copied to disk as it
// comes.
func (w *Web) uploadBundle(rw http.ResponseWriter, r *http.Request) {
	st := w.session(r)
	if st == nil {
		w.problem(rw, r, http.StatusUnauthorized, "web.staff.logged_out")
		return
	}
	if !st.IsAdmin {
		w.problem(rw, r, http.StatusForbidden, "web.staff.admins_only")
		return
	}
	lang := w.language(rw, r)
	back := "/staff/fleet/updates"
	if w.Server.Bundles() == nil {
		w.problem(rw, r, http.StatusNotFound, "web.error.no_page")
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		flash(rw, w.Catalog.T(lang, "web.updates.upload_no_file"), true)
		redirect(rw, r, back)
		return
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		w.problem(rw, r, http.StatusForbidden, "web.error.csrf")
		return
	}
	tok, _ := io.ReadAll(io.LimitReader(part, 256))
	if !equalTokens(st.sess.CSRF, string(tok)) {
		w.problem(rw, r, http.StatusForbidden, "web.error.csrf")
		return
	}
	var file *multipart.Part
	for {
		part, err := mr.NextPart()
		if err != nil {
			break
		}
		if part.FormName() == "bundle" && part.FileName() != "" {
			file = part
			break
		}
	}
	if file == nil {
		flash(rw, w.Catalog.T(lang, "web.updates.upload_no_file"), true)
		redirect(rw, r, back)
		return
	}
	body := http.MaxBytesReader(rw, file, w.Server.Bundles().MaxSize()+1)
	rec, err := w.Server.SaveBundle(body, st.Name)
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, bundles.ErrTooBig) || errors.As(err, &tooBig):
		flash(rw, w.Catalog.T(lang, "web.updates.too_big", "mb", w.Server.Bundles().MaxSize()>>20), true)
	case errors.Is(err, bundles.ErrNotBundle):
		flash(rw, w.Catalog.T(lang, "web.updates.not_bundle", "file", file.FileName(), "why", err.Error()), true)
	case err != nil:
		w.Logger.Error("keeping an uploaded bundle", "err", err)
		flash(rw, w.Catalog.T(lang, "web.error.unavailable"), true)
	default:
		flash(rw, w.Catalog.T(lang, "web.updates.uploaded", "version", rec.Version, "compatible", rec.Compatible), false)
	}
	redirect(rw, r, back)
}

// startRollout shows what a rollout would do and asks to confirm it;
// confirmed, it starts it.
func (w *Web) startRollout(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	lang := w.language(rw, r)
	back := "/staff/fleet/updates"
	if w.Server.Bundles() == nil {
		w.problem(rw, r, http.StatusNotFound, "web.error.no_page")
		return
	}
	b, ok := w.Server.Bundles().Get(r.PostFormValue("bundle"))
	if !ok {
		flash(rw, w.Catalog.T(lang, "web.updates.no_bundle"), true)
		redirect(rw, r, back)
		return
	}
	var device, office string
	all := false
	switch r.PostFormValue("target") {
	case "device":
		device = r.PostFormValue("device")
	case "office":
		office = r.PostFormValue("office")
	case "all":
		all = true
	}
	targets, target, err := w.Server.UpdateTargets(st.sees, device, office, all)
	if err != nil {
		flash(rw, w.Catalog.T(lang, "web.updates.no_devices"), true)
		redirect(rw, r, back)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		p := w.staffPage(rw, r, st, "web.updates.confirm_title")
		d := confirmData{Bundle: w.bundleRow(st.Office, b), Target: w.targetText(p, target), Device: device, Office: office, All: all}
		for _, t := range targets {
			name := t.ID
			if dh, _, ok := w.Server.Health().Device(t.ID); ok {
				name = dh.Name
			} else if dh, ok := w.deviceNeverHeard(t.ID); ok {
				name = dh.Name
			}
			_, officeName := w.officeLocation(t.Office)
			d.Devices = append(d.Devices, deviceChoice{ID: t.ID, Name: name, Office: officeName})
		}
		p.Data = d
		w.render(rw, 0, "update_confirm", p)
		return
	}
	ro, err := w.Server.Updates().Start(b, targets, target, st.Name)
	if err != nil {
		w.Logger.Error("starting a rollout", "err", err)
		flash(rw, w.Catalog.T(lang, "web.error.unavailable"), true)
		redirect(rw, r, back)
		return
	}
	flash(rw, w.Catalog.T(lang, "web.updates.started", "version", b.Version, "n", len(targets)), false)
	redirect(rw, r, "/staff/fleet/updates/"+ro.ID)
}

// rolloutOf finds the path's rollout among those with a device the admin
// sees, its orders narrowed to those.
func (w *Web) rolloutOf(rw http.ResponseWriter, r *http.Request, st *staffInfo) (fleet.Rollout, bool) {
	if w.Server.Bundles() != nil {
		for _, ro := range w.Server.Updates().Rollouts(st.sees) {
			if ro.ID == r.PathValue("rollout") {
				return ro, true
			}
		}
	}
	w.problem(rw, r, http.StatusNotFound, "web.error.no_page")
	return fleet.Rollout{}, false
}

func (w *Web) rolloutPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	ro, ok := w.rolloutOf(rw, r, st)
	if !ok {
		return
	}
	p := w.staffPage(rw, r, st, "web.updates.rollout_title")
	p.Refresh = fleetRefresh
	d := rolloutData{Row: w.rolloutRow(p, ro), Open: ro.Cancelled.IsZero() && ro.Counts[fleet.OrderWaiting] > 0}
	p.Title = p.T("web.updates.rollout_heading", "version", ro.Version)
	for _, o := range ro.Orders {
		row := orderRow{OrderRecord: o, Name: o.Device, State: fleet.OrderState(o), Updated: w.when(o.Office, o.Updated)}
		_, row.OfficeName = w.officeLocation(o.Office)
		row.StateName = p.T("web.updates.state." + row.State)
		if dh, _, found := w.Server.Health().Device(o.Device); found {
			row.Name = dh.Name
			if dh.Report != nil && dh.Report.System != nil {
				row.Running = dh.Report.System.Version
			}
		} else if dh, found := w.deviceNeverHeard(o.Device); found {
			row.Name = dh.Name
		}
		d.Orders = append(d.Orders, row)
	}
	p.Data = d
	w.render(rw, 0, "rollout", p)
}

func (w *Web) cancelRollout(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	ro, ok := w.rolloutOf(rw, r, st)
	if !ok {
		return
	}
	lang := w.language(rw, r)
	if _, err := w.Server.Updates().Cancel(ro.ID); err != nil {
		w.Logger.Error("cancelling a rollout", "rollout", ro.ID, "err", err)
		flash(rw, w.Catalog.T(lang, "web.error.unavailable"), true)
	} else {
		w.Logger.Info("rollout cancelled on the staff page", "rollout", ro.ID, "by", st.Name)
		flash(rw, w.Catalog.T(lang, "web.updates.cancelled"), false)
	}
	redirect(rw, r, "/staff/fleet/updates/"+ro.ID)
}

// systemText is a device's system on its fleet page: version, slots and
// the latest update.
type systemText struct {
	Version, Slot, Primary string
	OnTrial                bool
	Update                 *protocol.UpdateProgress
	UpdateState, UpdateAt  string
}

func (w *Web) systemOf(p *page, office string, sys *protocol.SystemHealth) *systemText {
	if sys == nil {
		return nil
	}
	s := &systemText{Version: sys.Version, Slot: sys.Slot, Primary: sys.Primary, OnTrial: sys.Slot != "" && sys.Primary != "" && sys.Slot != sys.Primary, Update: sys.Update}
	if u := sys.Update; u != nil {
		s.UpdateState = p.T("web.updates.state." + u.State)
		s.UpdateAt = w.when(office, u.At)
	}
	return s
}
