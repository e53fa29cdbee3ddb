package web

import (
	"net/http"
	"time"

	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/store"
)

// The remote actions' page of a device (docs/devices-remote.md): buttons
// that ask the device for an action over its event stream, its latest
// actions with their results, and its latest screenshot.

// actionRow is an action as the table shows it.
type actionRow struct {
	fleet.Action
	AtClock, FinishedClock string
}

type devActionsData struct {
	Device    store.Token
	Name      string
	Presence  fleet.Presence
	Kinds     []string
	Actions   []actionRow
	Kept      int
	Pending   bool
	Shot      fleet.Screenshot
	HasShot   bool
	ShotQuery string
	ShotAt    string
	Since     string
}

// adminDevice finds the device of the path for an admin of its office, or
// answers 404 (another office's device is as unknown as none).
func (w *Web) adminDevice(rw http.ResponseWriter, r *http.Request, st *staffInfo) (store.Token, bool) {
	tok, ok, err := w.Server.DeviceToken(r.PathValue("id"))
	if err != nil {
		w.Logger.Error("reading the device tokens", "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return store.Token{}, false
	}
	if !ok || !st.sees(tok.Office) {
		w.problem(rw, r, http.StatusNotFound, "web.error.no_page")
		return store.Token{}, false
	}
	return tok, true
}

func deviceName(t store.Token) string {
	if t.Label != "" {
		return t.Label
	}
	return t.ID
}

func (w *Web) devActionsPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	tok, ok := w.adminDevice(rw, r, st)
	if !ok {
		return
	}
	p := w.staffPage(rw, r, st, "web.devremote.title")
	if a := w.Server.Office(tok.Office); a != nil {
		p.Office = a.Office()
	}
	loc := p.loc()
	d := devActionsData{
		Device: tok, Name: deviceName(tok), Presence: w.Server.Fleet().Presence(tok.ID),
		Kinds: fleet.Kinds(), Kept: fleet.KeptActions,
	}
	for _, a := range w.Server.Actions().Recent(tok.ID) {
		d.Actions = append(d.Actions, actionRow{Action: a, AtClock: clockOf(a.At, loc), FinishedClock: clockOf(a.Finished, loc)})
		d.Pending = d.Pending || a.State == fleet.ActionSent
	}
	d.Shot, d.HasShot = w.Server.Actions().LatestScreenshot(tok.ID)
	d.ShotAt = clockOf(d.Shot.At, loc)
	d.Since = clockOf(d.Presence.Since, loc)
	// A new screenshot gets a new address, so no cache shows the old one.
	d.ShotQuery = d.Shot.Action
	if d.Pending {
		// The page looks again until the device has answered (a script
		// does it where scripts run: devactions.js).
		p.Refresh = 2
		p.Scripts = []string{"devactions.js"}
	}
	p.Data = d
	w.render(rw, 0, "devactions", p)
}

func (w *Web) devActionAsk(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	tok, ok := w.adminDevice(rw, r, st)
	if !ok {
		return
	}
	lang := w.language(rw, r)
	back := "/staff/devices/" + tok.ID + "/remote"
	kind := r.PostFormValue("kind")
	if !fleet.ValidKind(kind) {
		flash(rw, w.Catalog.T(lang, "web.devremote.bad_kind"), true)
		redirect(rw, r, back)
		return
	}
	act, err := w.Server.Actions().Ask(tok.ID, kind, st.Name)
	if err != nil {
		flash(rw, err.Error(), true)
		redirect(rw, r, back)
		return
	}
	w.Logger.Info("remote action asked on the staff page", "device", tok.ID, "kind", kind, "action", act.ID, "state", act.State, "by", st.Name)
	what := w.Catalog.T(lang, "web.devremote.kind."+kind)
	if act.State == fleet.ActionNotConnected {
		flash(rw, w.Catalog.T(lang, "web.devremote.not_sent", "action", what), true)
	} else {
		flash(rw, w.Catalog.T(lang, "web.devremote.sent", "action", what), false)
	}
	redirect(rw, r, back)
}

func (w *Web) devScreenshot(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	tok, ok := w.adminDevice(rw, r, st)
	if !ok {
		return
	}
	shot, ok := w.Server.Actions().LatestScreenshot(tok.ID)
	if !ok {
		w.problem(rw, r, http.StatusNotFound, "web.devremote.no_screenshot")
		return
	}
	server.ServeScreenshot(rw, shot)
}

// clockOf is a time of the actions' table: seconds matter there.
func clockOf(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("15:04:05")
}
