package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/store"
)

type clerksData struct {
	Clerks  []store.Clerk
	Offices []*queue.Office
	AllOK   bool
	Name    string
}

func (w *Web) clerksPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	w.renderClerks(rw, r, st, 0, "")
}

func (w *Web) renderClerks(rw http.ResponseWriter, r *http.Request, st *staffInfo, status int, errMsg string) {
	p := w.staffPage(rw, r, st, "web.clerks.title")
	if errMsg != "" {
		p.Error = errMsg
	}
	all, err := w.Clerks.List()
	if err != nil {
		w.Logger.Error("listing clerks", "err", err)
	}
	d := clerksData{AllOK: st.sees("*"), Name: r.PostFormValue("name")}
	for _, c := range all {
		if w.adminOver(st, c) {
			d.Clerks = append(d.Clerks, c)
		}
	}
	for _, a := range w.visibleOffices(st) {
		d.Offices = append(d.Offices, a.Office())
	}
	p.Data = d
	w.render(rw, status, "clerks", p)
}

// adminOver reports whether the admin may manage the clerk: every office
// of the clerk must be one of the admin's.
func (w *Web) adminOver(st *staffInfo, c store.Clerk) bool {
	for _, o := range c.Offices {
		if !st.sees(o) {
			return false
		}
	}
	return true
}

func (w *Web) clerkAdd(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	lang := w.language(rw, r)
	_ = r.ParseForm()
	offices := r.PostForm["offices"]
	for _, o := range offices {
		if (o == "*" && !st.sees("*")) || (o != "*" && (w.Server.Office(o) == nil || !st.sees(o))) {
			w.renderClerks(rw, r, st, http.StatusForbidden, w.Catalog.T(lang, "web.staff.not_your_office"))
			return
		}
	}
	role := r.PostFormValue("role")
	if _, err := w.Clerks.Put(strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password"), role, offices); err != nil {
		w.renderClerks(rw, r, st, http.StatusBadRequest, err.Error())
		return
	}
	// A new password ends the clerk's old sessions.
	_ = w.DB.DeleteSessionsOf(strings.TrimSpace(r.PostFormValue("name")))
	flash(rw, w.Catalog.T(lang, "web.clerks.saved", "name", r.PostFormValue("name")), false)
	redirect(rw, r, "/staff/admin/clerks")
}

func (w *Web) clerkDelete(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	lang := w.language(rw, r)
	name := r.PostFormValue("name")
	c, ok, err := w.Clerks.Get(name)
	switch {
	case err != nil || !ok:
		flash(rw, w.Catalog.T(lang, "web.error.not_found"), true)
	case name == st.Name:
		flash(rw, w.Catalog.T(lang, "web.clerks.not_self"), true)
	case !w.adminOver(st, c):
		flash(rw, w.Catalog.T(lang, "web.staff.not_your_office"), true)
	default:
		if _, err := w.Clerks.Delete(name); err != nil {
			flash(rw, err.Error(), true)
			break
		}
		_ = w.DB.DeleteSessionsOf(name)
		flash(rw, w.Catalog.T(lang, "web.clerks.deleted", "name", name), false)
	}
	redirect(rw, r, "/staff/admin/clerks")
}

type tokensData struct {
	Tokens  []store.Token
	Offices []*queue.Office
	Roles   []server.Role
	// Secret is a token just made, shown this once.
	Secret  string
	Created store.Token
}

func (w *Web) tokensPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	w.renderTokens(rw, r, st, 0, tokensData{})
}

func (w *Web) renderTokens(rw http.ResponseWriter, r *http.Request, st *staffInfo, status int, d tokensData) {
	p := w.staffPage(rw, r, st, "web.tokens.title")
	all, err := w.Tokens.List()
	if err != nil {
		w.Logger.Error("listing device tokens", "err", err)
	}
	for _, t := range all {
		if st.sees(t.Office) || (t.Office == server.AllOffices && st.sees("*")) {
			d.Tokens = append(d.Tokens, t)
		}
	}
	for _, a := range w.visibleOffices(st) {
		d.Offices = append(d.Offices, a.Office())
	}
	d.Roles = server.OfficeRoles
	p.Data = d
	if d.Secret != "" {
		rw.Header().Set("Cache-Control", "no-store")
	}
	w.render(rw, status, "tokens", p)
}

func (w *Web) tokenAdd(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	lang := w.language(rw, r)
	office, role := r.PostFormValue("office"), r.PostFormValue("role")
	counter, _ := strconv.Atoi(r.PostFormValue("counter"))
	a := w.Server.Office(office)
	fail := func(msg string) {
		flash(rw, msg, true)
		redirect(rw, r, "/staff/admin/tokens")
	}
	switch {
	case a == nil || !st.sees(office):
		fail(w.Catalog.T(lang, "web.staff.not_your_office"))
		return
	case !server.ValidOfficeRole(role):
		fail(w.Catalog.T(lang, "web.tokens.bad_role"))
		return
	case role == string(server.RoleCounter):
		if _, ok := a.Office().Counter(counter); !ok {
			fail(w.Catalog.T(lang, "web.tokens.bad_counter"))
			return
		}
	default:
		counter = 0
	}
	label := strings.TrimSpace(r.PostFormValue("label"))
	if len(label) > 60 {
		label = label[:60]
	}
	secret, tok, err := w.Tokens.Create(store.Token{Office: office, Role: role, Counter: counter, Label: label})
	if err != nil {
		fail(err.Error())
		return
	}
	w.Logger.Info("device token created on the admin page", "id", tok.ID, "office", office, "role", role, "by", st.Name)
	w.renderTokens(rw, r, st, http.StatusCreated, tokensData{Secret: secret, Created: tok})
}

func (w *Web) tokenRevoke(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	lang := w.language(rw, r)
	id := r.PostFormValue("id")
	all, _ := w.Tokens.List()
	i := slices.IndexFunc(all, func(t store.Token) bool { return t.ID == id })
	if i < 0 || !(st.sees(all[i].Office) || st.sees("*")) {
		flash(rw, w.Catalog.T(lang, "web.error.not_found"), true)
		redirect(rw, r, "/staff/admin/tokens")
		return
	}
	if err := w.revokeToken(id); err != nil {
		flash(rw, err.Error(), true)
	} else {
		w.Logger.Info("device token revoked on the admin page", "id", id, "by", st.Name)
		flash(rw, w.Catalog.T(lang, "web.tokens.revoked", "id", id), false)
	}
	redirect(rw, r, "/staff/admin/tokens")
}

// revokeToken revokes a token; a paired device's goes through the
// register of devices, so its record says so and its streams end at once.
func (w *Web) revokeToken(id string) error {
	if reg := w.Server.Devices(); reg != nil {
		if d, found, err := reg.Store().Device(id); err == nil && found && d.Active() {
			_, err := reg.Revoke(id)
			return err
		}
	}
	if _, err := w.Tokens.Revoke(id); err != nil {
		return err
	}
	// The server refuses it from the next request on.
	w.Server.ForgetToken(id)
	return nil
}
