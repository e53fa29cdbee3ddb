package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/booking"
	"github.com/numerek/numerek/store"
)

// The document locker's staff pages (/staff/lockers): each locker's
// compartments as a grid with their doors as the locker last reported
// them, the documents in it with the residents' names, expired documents
// and doors left open first; "Deposit a document", and per document:
// cancel a reservation, a new pickup code for the resident, a clerk code
// to take an expired one back. Every clerk, manager and admin of the
// office may do all of it (the front desk hands documents over); every
// handler checks st.sees(office). Residents' names and contacts are shown
// here and kept in web.db, never in the office's events and never logged.

// lockerReportStale: a locker's health report older than this may no
// longer say how its doors are (devices report every 30 s or so).
const lockerReportStale = 3 * time.Minute

// lockerReasonMax is the longest reason a cancellation takes.
const lockerReasonMax = 200

// lockersData is the lockers page of one office.
type lockersData struct {
	Offices []*queue.Office
	Lockers []lockerView
	// Expired and Doors are what needs someone now, over all lockers.
	Expired []lockerRow
	Doors   []lockerDoor
	Langs   []langLink
	// Form is the deposit form (its locker, what was typed, the field in
	// error); FormLocker the locker it is for.
	Form       lockerForm
	FormLocker *lockerView
	// Shown is the deposit whose clerk code the clerk was just given
	// (?deposit=), Cancelling the one whose reservation is being
	// cancelled (?cancel=).
	Shown      *lockerRow
	Cancelling *lockerRow
}

// lockerView is one locker as the page shows it.
type lockerView struct {
	ID, Name string
	Cells    []lockerCell
	Rows     []lockerRow
	Sizes    []lockerSize
	// Documents are the types it takes, named in the page's language.
	Documents []lockerDocument
	Report    lockerReport
}

type lockerDocument struct {
	ID, Name     string
	SecondFactor bool
}

// lockerSize is one size of the locker's compartments and how many are
// free.
type lockerSize struct {
	Size             string
	Free, Accessible int
}

// lockerCell is one compartment in the grid.
type lockerCell struct {
	queue.Compartment
	// State is "free" or the deposit's state; Door is "" (closed) or the
	// door's trouble: "open", "alarm", "forced", "lock-failed".
	State string
	Door  string
}

// lockerReport is what the locker last said of its doors.
type lockerReport struct {
	Heard bool
	At    time.Time
	Stale bool
	// Pending is how many events the locker has not yet handed over.
	Pending int
}

// lockerRow is one live deposit with its personal side.
type lockerRow struct {
	queue.Deposit
	LockerName, DocumentName string
	// Known: web.db has the resident's data.
	Known         bool
	Name, Contact string
	// ClerkCode is the clerk's code, formatted, while it may still be
	// used ("" otherwise).
	ClerkCode string
}

// lockerDoor is a door that needs someone.
type lockerDoor struct {
	LockerName, Compartment, Door string
}

// lockerForm is the deposit form as typed.
type lockerForm struct {
	Locker, Name, Contact, Phone, Lang, Document, Size string
	Accessible                                         bool
	// Field is the field in error, "" when none.
	Field string
}

// lockerFieldError says which field of a locker form is wrong, and how.
type lockerFieldError struct {
	Field string
	// Key is the problem's message id, KV its parameters.
	Key string
	KV  []any
}

func (e *lockerFieldError) Error() string { return e.Field + ": " + e.Key }

// lockerFieldLabels are the message ids of the forms' fields' labels, so
// an error names the field as the form does.
var lockerFieldLabels = map[string]string{
	"locker": "web.lockers.locker", "name": "web.lockers.name", "contact": "web.lockers.contact",
	"phone": "web.lockers.phone", "lang": "web.lockers.lang", "document": "web.lockers.document",
	"size": "web.lockers.size", "reason": "web.lockers.reason",
}

// say puts the error in lang: the field's label, then the problem.
func (e *lockerFieldError) say(c *i18n.Catalog, lang string) string {
	return c.T(lang, "web.lockers.error.field", "field", c.T(lang, lockerFieldLabels[e.Field]), "problem", c.T(lang, e.Key, e.KV...))
}

// readLockerForm reads the deposit form from a post.
func readLockerForm(r *http.Request) lockerForm {
	return lockerForm{
		Locker: r.PostFormValue("locker"), Name: r.PostFormValue("name"), Contact: r.PostFormValue("contact"),
		Phone: r.PostFormValue("phone"), Lang: r.PostFormValue("lang"), Document: r.PostFormValue("document"),
		Size: r.PostFormValue("size"), Accessible: r.PostFormValue("accessible") == "yes",
	}
}

// check validates the form against the office's lockers and languages
// and the compartments free now; it returns the form cleaned (the phone
// only where the document needs it), or the first field in error, in the
// form's order, naming what it names in lang.
func (f lockerForm) check(o *queue.Office, free []queue.Compartment, lang string) (lockerForm, *lockerFieldError) {
	l, ok := o.Locker(f.Locker)
	if !ok {
		return f, &lockerFieldError{Field: "locker", Key: "web.lockers.error.locker"}
	}
	f.Name = strings.Join(strings.Fields(f.Name), " ")
	if n := utf8.RuneCountInString(f.Name); n < 2 || n > 100 {
		return f, &lockerFieldError{Field: "name", Key: "web.lockers.error.name"}
	}
	contact, err := booking.CheckContact(f.Contact)
	if err != nil {
		return f, &lockerFieldError{Field: "contact", Key: contactProblem(err)}
	}
	f.Contact = contact
	doc, ok := l.Document(f.Document)
	if !ok {
		return f, &lockerFieldError{Field: "document", Key: "web.lockers.error.document"}
	}
	f.Phone = strings.TrimSpace(f.Phone)
	switch {
	case !doc.SecondFactor:
		// Only what is needed is kept.
		f.Phone = ""
	case f.Phone == "" && !strings.Contains(f.Contact, "@"):
		f.Phone = f.Contact
	case f.Phone == "":
		return f, &lockerFieldError{Field: "phone", Key: "web.lockers.error.phone_needed", KV: []any{"document", doc.Name(lang)}}
	default:
		if _, err := booking.CheckContact(f.Phone); err != nil || strings.Contains(f.Phone, "@") {
			return f, &lockerFieldError{Field: "phone", Key: "web.lockers.error.phone"}
		}
	}
	if !slices.Contains(o.Languages, f.Lang) || !i18n.Supported(f.Lang) {
		return f, &lockerFieldError{Field: "lang", Key: "web.lockers.error.lang"}
	}
	if !slices.ContainsFunc(l.Compartments, func(c queue.Compartment) bool { return c.Size == f.Size }) {
		return f, &lockerFieldError{Field: "size", Key: "web.lockers.error.size"}
	}
	if !slices.ContainsFunc(free, func(c queue.Compartment) bool { return c.Size == f.Size && (c.Accessible || !f.Accessible) }) {
		key := "web.lockers.error.full"
		if f.Accessible {
			key = "web.lockers.error.full_accessible"
		}
		return f, &lockerFieldError{Field: "size", Key: key}
	}
	return f, nil
}

// contactProblem is the locker form's words for booking's contact error.
func contactProblem(err error) string {
	var fe *booking.FieldError
	if errors.As(err, &fe) {
		switch fe.Key {
		case "web.book.error.email":
			return "web.lockers.error.email"
		case "web.book.error.phone":
			return "web.lockers.error.phone"
		}
	}
	return "web.lockers.error.contact"
}

// lockersBack is the lockers page's address for office, with more
// parameters (name, value, ...).
func lockersBack(office string, kv ...string) string {
	v := url.Values{"office": {office}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	return "/staff/lockers?" + v.Encode()
}

func (w *Web) lockersPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a := w.assistantOffice(r, st)
	if a == nil {
		w.problem(rw, r, http.StatusForbidden, "web.staff.not_your_office")
		return
	}
	q := r.URL.Query()
	w.renderLockers(rw, r, st, a, http.StatusOK, lockerForm{Locker: q.Get("locker")}, q.Get("deposit"), q.Get("cancel"), "")
}

// renderLockers draws the page with the deposit form as given; shown and
// cancelling are the deposits to show a clerk code for and to ask a
// cancellation's reason for ("" for none); problem, if any, says what is
// wrong with the form.
func (w *Web) renderLockers(rw http.ResponseWriter, r *http.Request, st *staffInfo, a *actor.Actor, status int, form lockerForm, shown, cancelling, problem string) {
	o := a.Office()
	p := w.staffPage(rw, r, st, "web.lockers.title")
	p.Office = o
	p.Scripts = []string{"lockers.js"}
	if problem != "" {
		p.Error, p.Notice = problem, ""
	}
	d, err := w.lockersData(r, p, a, form)
	if err != nil {
		w.Logger.Error("reading the office's lockers", "office", o.ID, "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	for _, x := range w.visibleOffices(st) {
		d.Offices = append(d.Offices, x.Office())
	}
	for _, lv := range d.Lockers {
		for _, row := range lv.Rows {
			switch row.ID {
			case shown:
				d.Shown = &row
			case cancelling:
				if row.State == queue.DepositStateReserved {
					d.Cancelling = &row
				}
			}
		}
	}
	// A shown deposit that ended meanwhile (the page reloads itself) is
	// simply no longer shown: the list says where things are.
	sortedLockerDoors(d.Doors)
	p.Data = d
	w.render(rw, status, "lockers", p)
}

// lockersData gathers the page: the office's state, the personal side
// from web.db, the doors from the lockers' latest health reports.
func (w *Web) lockersData(r *http.Request, p *page, a *actor.Actor, form lockerForm) (lockersData, error) {
	o := a.Office()
	now := w.Clock()
	d := lockersData{Form: form}
	for _, l := range o.Languages {
		d.Langs = append(d.Langs, langLink{Code: l, Name: i18n.NativeName(l)})
	}
	if d.Form.Lang == "" {
		d.Form.Lang = o.DefaultLanguage()
	}
	live := map[string][]queue.Deposit{}
	free := map[string][]queue.Compartment{}
	if err := a.Query(r.Context(), func(s *queue.State) {
		for _, l := range o.Lockers {
			for _, dep := range s.LiveDeposits(l.ID) {
				live[l.ID] = append(live[l.ID], *dep)
			}
			free[l.ID] = s.FreeCompartments(l.ID)
		}
	}); err != nil {
		return d, err
	}
	personal := map[string]store.LockerDeposit{}
	records, err := w.DB.LockerDepositsOf(o.ID)
	if err != nil {
		return d, err
	}
	for _, rec := range records {
		personal[rec.ID] = rec
	}
	health := w.lockerHealth(o, now)
	for _, l := range o.Lockers {
		lv := lockerView{ID: l.ID, Name: l.Name(p.Lang)}
		for _, doc := range l.Documents {
			lv.Documents = append(lv.Documents, lockerDocument{ID: doc.ID, Name: doc.Name(p.Lang), SecondFactor: doc.SecondFactor})
		}
		h := health[l.ID]
		lv.Report = h.report
		doors := h.doors()
		byCompartment := map[string]queue.Deposit{}
		for _, dep := range live[l.ID] {
			byCompartment[dep.Compartment] = dep
			row := w.lockerRow(o, &l, lv, dep, personal, now)
			lv.Rows = append(lv.Rows, row)
			if dep.State == queue.DepositStateExpired {
				d.Expired = append(d.Expired, row)
			}
		}
		for _, c := range l.Compartments {
			cell := lockerCell{Compartment: c, State: "free", Door: doors[c.ID]}
			if dep, ok := byCompartment[c.ID]; ok {
				cell.State = string(dep.State)
			}
			lv.Cells = append(lv.Cells, cell)
			if cell.Door != "" && cell.Door != "open" {
				d.Doors = append(d.Doors, lockerDoor{LockerName: lv.Name, Compartment: c.ID, Door: cell.Door})
			}
		}
		for _, size := range queue.CompartmentSizes {
			if !slices.ContainsFunc(l.Compartments, func(c queue.Compartment) bool { return c.Size == size }) {
				continue
			}
			ls := lockerSize{Size: size}
			for _, c := range free[l.ID] {
				if c.Size == size {
					ls.Free++
					if c.Accessible {
						ls.Accessible++
					}
				}
			}
			lv.Sizes = append(lv.Sizes, ls)
		}
		d.Lockers = append(d.Lockers, lv)
	}
	for i := range d.Lockers {
		if d.Lockers[i].ID == d.Form.Locker {
			d.FormLocker = &d.Lockers[i]
		}
	}
	if d.FormLocker == nil && len(d.Lockers) > 0 {
		d.FormLocker = &d.Lockers[0]
		d.Form.Locker = d.FormLocker.ID
	}
	return d, nil
}

// lockerRow is a deposit with its personal side. A clerk code is shown
// only while it can open the compartment; a plain one that no longer can
// is dropped from web.db.
func (w *Web) lockerRow(o *queue.Office, l *queue.Locker, lv lockerView, dep queue.Deposit, personal map[string]store.LockerDeposit, now time.Time) lockerRow {
	row := lockerRow{Deposit: dep, LockerName: lv.Name, DocumentName: dep.Document}
	for _, doc := range lv.Documents {
		if doc.ID == dep.Document {
			row.DocumentName = doc.Name
		}
	}
	rec, ok := personal[dep.ID]
	if !ok {
		return row
	}
	row.Known, row.Name, row.Contact = true, rec.Name, rec.Contact
	usable := now.Before(dep.ClerkCodeUntil) && (dep.State == queue.DepositStateReserved || dep.State == queue.DepositStateExpired)
	switch {
	case rec.ClerkCode == "":
	case usable:
		row.ClerkCode = queue.FormatLockerCode(rec.ClerkCode)
	default:
		if _, _, err := w.DB.UpdateLockerDeposit(o.ID, dep.ID, func(x *store.LockerDeposit) { x.ClerkCode = "" }); err != nil {
			w.Logger.Error("dropping a used clerk code", "office", o.ID, "locker", l.ID, "deposit", dep.ID, "err", err)
		}
	}
	return row
}

// lockerHealthOf is one locker's doors as its device last reported them.
type lockerHealthOf struct {
	report lockerReport
	health protocol.LockerHealth
}

// doors is each troubled door's worst trouble, by compartment.
func (h lockerHealthOf) doors() map[string]string {
	out := map[string]string{}
	// Later lists win: a forced door is worse than one left open.
	for _, x := range []struct {
		door string
		ids  []string
	}{{"open", h.health.DoorsOpen}, {"alarm", h.health.DoorsAlarm}, {"lock-failed", h.health.LocksFailed}, {"forced", h.health.DoorsForced}} {
		for _, id := range x.ids {
			out[id] = x.door
		}
	}
	return out
}

// lockerHealth finds each locker's latest health report among the
// office's locker devices, by locker id.
func (w *Web) lockerHealth(o *queue.Office, now time.Time) map[string]lockerHealthOf {
	out := map[string]lockerHealthOf{}
	if w.Server.Health() == nil {
		return out
	}
	for _, dh := range w.Server.Health().Devices(func(office string) bool { return office == o.ID }) {
		if dh.Report == nil || dh.Report.Locker == nil {
			continue
		}
		id := lockerOfDevice(o, dh.Report.Locker)
		if id == "" {
			continue
		}
		if prev, ok := out[id]; ok && prev.report.At.After(dh.LastSeen) {
			continue
		}
		out[id] = lockerHealthOf{
			report: lockerReport{Heard: true, At: dh.LastSeen, Stale: now.Sub(dh.LastSeen) > lockerReportStale, Pending: dh.Report.Locker.Pending},
			health: *dh.Report.Locker,
		}
	}
	return out
}

// lockerOfDevice is the locker a device's report is about: the one it
// names, or the office's only locker.
func lockerOfDevice(o *queue.Office, h *protocol.LockerHealth) string {
	if _, ok := o.Locker(h.Locker); ok {
		return h.Locker
	}
	if len(o.Lockers) == 1 && h.Locker == "" {
		return o.Lockers[0].ID
	}
	return ""
}

// lockerOffice is the office a locker form posts for; nil (answered 403)
// when the clerk does not work there.
func (w *Web) lockerOffice(rw http.ResponseWriter, r *http.Request, st *staffInfo) *actor.Actor {
	id := r.PostFormValue("office")
	a := w.Server.Office(id)
	if a == nil || !st.sees(id) {
		w.problem(rw, r, http.StatusForbidden, "web.staff.not_your_office")
		return nil
	}
	return a
}

// newLockerCodes makes n codes whose lookups no live code of the locker
// has, nor each other.
func newLockerCodes(s lookupSet, n int) (plain []string, hashes []queue.CodeHash, err error) {
	for range n {
		code, h, err := queue.NewLockerCode(func(lookup string) bool { return s[lookup] }, rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		s[h.Lookup] = true
		plain, hashes = append(plain, code), append(hashes, h)
	}
	return plain, hashes, nil
}

// lookupSet holds the lookups of a locker's live codes.
type lookupSet map[string]bool

// lockerLookups are the lookups of the locker's live codes, both kinds.
func lockerLookups(ctx context.Context, a *actor.Actor, locker string) (lookupSet, error) {
	taken := lookupSet{}
	err := a.Query(ctx, func(s *queue.State) {
		for _, d := range s.LiveDeposits(locker) {
			taken[d.ClerkCode.Lookup], taken[d.PickupCode.Lookup] = true, true
		}
	})
	return taken, err
}

// lockerDeposit reserves a compartment for a document: the codes are
// made, the personal side is stored in web.db first, then the office
// decides; if it refuses, the personal side is dropped again. The clerk
// is shown the clerk code and the compartment; a refused form comes back
// as typed, with the field in error named.
func (w *Web) lockerDeposit(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a := w.lockerOffice(rw, r, st)
	if a == nil {
		return
	}
	o := a.Office()
	lang := w.language(rw, r)
	form := readLockerForm(r)
	var free []queue.Compartment
	if err := a.Query(r.Context(), func(s *queue.State) { free = s.FreeCompartments(form.Locker) }); err != nil {
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	clean, fe := form.check(o, free, lang)
	if fe != nil {
		form.Field = fe.Field
		w.lockerFormError(rw, r, st, a, http.StatusUnprocessableEntity, form, fe.say(w.Catalog, lang))
		return
	}
	l, _ := o.Locker(clean.Locker)
	id, err := w.reserveCompartment(r.Context(), a, st, l, clean)
	var qe *queue.Error
	switch {
	case errors.Is(err, errLockerSave):
		w.Logger.Error("storing a locker deposit's personal side", "office", o.ID, "locker", l.ID, "err", err)
		w.lockerFormError(rw, r, st, a, http.StatusServiceUnavailable, form, w.Catalog.T(lang, "web.lockers.error.saved"))
		return
	case errors.As(err, &qe):
		w.lockerFormError(rw, r, st, a, http.StatusConflict, form, w.Catalog.T(lang, "web.lockers.error.refused", "why", w.explain(lang, a, err)))
		return
	case err != nil:
		w.Logger.Error("reserving a locker compartment", "office", o.ID, "locker", l.ID, "err", err)
		w.lockerFormError(rw, r, st, a, http.StatusServiceUnavailable, form, w.Catalog.T(lang, "web.error.unavailable"))
		return
	}
	w.Logger.Info("locker compartment reserved", "office", o.ID, "locker", l.ID, "deposit", id, "clerk", st.Name)
	redirect(rw, r, lockersBack(o.ID, "locker", l.ID, "deposit", id)+"#shown")
}

// errLockerSave: the personal side of a deposit could not be stored, so
// nothing was reserved.
var errLockerSave = errors.New("storing a deposit's personal side")

// reserveCompartment makes a deposit's two codes, keeps them plain with
// the personal side in web.db, then has the office reserve a compartment;
// the personal side of a refused reservation is dropped again. Two
// clerks' new codes may meet on a lookup between their making and the
// office's decision: then the codes are made again, a few times.
func (w *Web) reserveCompartment(ctx context.Context, a *actor.Actor, st *staffInfo, l queue.Locker, f lockerForm) (string, error) {
	o := a.Office()
	id, err := newDepositID()
	if err != nil {
		return "", fmt.Errorf("making a deposit id: %w", err)
	}
	for try := 1; ; try++ {
		taken, err := lockerLookups(ctx, a, l.ID)
		var plain []string
		var hashes []queue.CodeHash
		if err == nil {
			plain, hashes, err = newLockerCodes(taken, 2)
		}
		if err != nil {
			return "", fmt.Errorf("making a deposit's codes: %w", err)
		}
		now := w.Clock()
		rec := store.LockerDeposit{Office: o.ID, ID: id, Name: f.Name, Contact: f.Contact, Lang: f.Lang, Phone: f.Phone,
			ClerkCode: plain[0], PickupCode: plain[1], By: st.Name, CreatedAt: now,
			PurgeAfter: lockerPurgeAfter(o, l, now.Add(queue.ClerkCodeValid))}
		if err := w.DB.PutLockerDeposit(rec); err != nil {
			return "", fmt.Errorf("%w: %w", errLockerSave, err)
		}
		res := a.Do(ctx, "clerk:"+st.Name, queue.ReserveCompartment{Deposit: id, Locker: l.ID, Document: f.Document, Size: f.Size,
			Accessible: f.Accessible, ClerkCode: hashes[0], PickupCode: hashes[1]})
		if res.Err == nil {
			return id, nil
		}
		w.forgetLockerDeposit(o.ID, id)
		var qe *queue.Error
		if try < 3 && errors.As(res.Err, &qe) && qe.Code == "locker-code-taken" {
			continue
		}
		return "", res.Err
	}
}

// lockerFormError draws the page again with the form as typed and msg
// saying what is wrong.
func (w *Web) lockerFormError(rw http.ResponseWriter, r *http.Request, st *staffInfo, a *actor.Actor, status int, form lockerForm, msg string) {
	w.renderLockers(rw, r, st, a, status, form, "", "", msg)
}

// forgetLockerDeposit drops the personal side of a deposit the office
// refused: it holds nothing the office needs, and the purge takes it now.
func (w *Web) forgetLockerDeposit(office, id string) {
	if _, _, err := w.DB.UpdateLockerDeposit(office, id, func(x *store.LockerDeposit) {
		*x = store.LockerDeposit{Office: x.Office, ID: x.ID, By: x.By, CreatedAt: x.CreatedAt, PurgeAfter: x.CreatedAt}
	}); err != nil {
		w.Logger.Error("dropping a refused deposit's personal side", "office", office, "deposit", id, "err", err)
	}
}

// lockerPurgeAfter is when a deposit's personal side may go: the latest
// deadline it can have (stored at storedBy at the latest) plus the
// office's retention.
func lockerPurgeAfter(o *queue.Office, l queue.Locker, storedBy time.Time) time.Time {
	return storedBy.Add(l.Deadline).Add(o.Booking.Retention)
}

var depositIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newDepositID is a new deposit's id: 16 random letters and digits.
func newDepositID() (string, error) {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return strings.ToLower(depositIDEncoding.EncodeToString(b)), nil
}

// lockerDepositAt is the deposit a form posts for, of an office the
// clerk works in, when it is in one of states; otherwise the clerk is
// answered (403 for another office, else back to the page saying why)
// and ok is false.
func (w *Web) lockerDepositAt(rw http.ResponseWriter, r *http.Request, st *staffInfo, states ...queue.DepositState) (a *actor.Actor, dep queue.Deposit, l queue.Locker, ok bool) {
	if a = w.lockerOffice(rw, r, st); a == nil {
		return nil, dep, l, false
	}
	id := r.PostFormValue("deposit")
	found := false
	if err := a.Query(r.Context(), func(s *queue.State) {
		if d := s.Deposits[id]; d != nil {
			dep, found = *d, true
		}
	}); err != nil {
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return nil, dep, l, false
	}
	lang := w.language(rw, r)
	l, known := a.Office().Locker(dep.Locker)
	switch {
	case !found || !known:
		flash(rw, w.Catalog.T(lang, "web.lockers.error.no_deposit"), true)
	case !slices.Contains(states, dep.State):
		flash(rw, w.Catalog.T(lang, "web.lockers.error.state", "state", w.Catalog.T(lang, "web.lockers.state."+string(dep.State))), true)
	default:
		return a, dep, l, true
	}
	redirect(rw, r, lockersBack(a.Office().ID, "locker", dep.Locker))
	return nil, dep, l, false
}

// lockerCancel withdraws a reservation before the document went in.
func (w *Web) lockerCancel(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, dep, _, ok := w.lockerDepositAt(rw, r, st, queue.DepositStateReserved)
	if !ok {
		return
	}
	lang := w.language(rw, r)
	reason := strings.Join(strings.Fields(r.PostFormValue("reason")), " ")
	if reason == "" || utf8.RuneCountInString(reason) > lockerReasonMax {
		fe := &lockerFieldError{Field: "reason", Key: "web.lockers.error.reason"}
		flash(rw, fe.say(w.Catalog, lang), true)
		redirect(rw, r, lockersBack(a.Office().ID, "locker", dep.Locker, "cancel", dep.ID)+"#cancel-h")
		return
	}
	if res := a.Do(r.Context(), "clerk:"+st.Name, queue.CancelDeposit{Deposit: dep.ID, Reason: reason}); res.Err != nil {
		flash(rw, w.Catalog.T(lang, "web.lockers.error.refused", "why", w.explain(lang, a, res.Err)), true)
		redirect(rw, r, lockersBack(a.Office().ID, "locker", dep.Locker))
		return
	}
	// The codes can open nothing now.
	if _, _, err := w.DB.UpdateLockerDeposit(a.Office().ID, dep.ID, func(x *store.LockerDeposit) { x.ClerkCode, x.PickupCode = "", "" }); err != nil {
		w.Logger.Error("dropping a cancelled deposit's codes", "office", a.Office().ID, "deposit", dep.ID, "err", err)
	}
	flash(rw, w.Catalog.T(lang, "web.lockers.cancelled", "compartment", dep.Compartment), false)
	redirect(rw, r, lockersBack(a.Office().ID, "locker", dep.Locker))
}

// lockerPickupCode gives the resident a new pickup code (theirs is
// blocked at the locker, or lost): the plain code goes to web.db first,
// where the notices find it to send it again, then the office replaces
// the hash; the old code opens nothing from then on.
func (w *Web) lockerPickupCode(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, dep, l, ok := w.lockerDepositAt(rw, r, st, queue.DepositStateStored)
	if !ok {
		return
	}
	w.replaceLockerCode(rw, r, st, a, l, dep, queue.PickupCodeKind, dep.Deadline)
}

// lockerClerkCode gives the clerk a new clerk code: for a reservation
// whose code ran out before the document went in, or to take an expired
// document back out.
func (w *Web) lockerClerkCode(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, dep, l, ok := w.lockerDepositAt(rw, r, st, queue.DepositStateReserved, queue.DepositStateExpired)
	if !ok {
		return
	}
	w.replaceLockerCode(rw, r, st, a, l, dep, queue.ClerkCodeKind, w.Clock().Add(queue.ClerkCodeValid))
}

// replaceLockerCode makes a new code of which kind ("clerk", "pickup")
// for a deposit, keeps it plain in web.db, then has the office replace
// the old one's hash.
func (w *Web) replaceLockerCode(rw http.ResponseWriter, r *http.Request, st *staffInfo, a *actor.Actor, l queue.Locker, dep queue.Deposit, which string, until time.Time) {
	o := a.Office()
	lang := w.language(rw, r)
	back := lockersBack(o.ID, "locker", l.ID)
	taken, err := lockerLookups(r.Context(), a, l.ID)
	var plain []string
	var hashes []queue.CodeHash
	if err == nil {
		plain, hashes, err = newLockerCodes(taken, 1)
	}
	var found bool
	if err == nil {
		_, found, err = w.DB.UpdateLockerDeposit(o.ID, dep.ID, func(x *store.LockerDeposit) {
			if which == queue.ClerkCodeKind {
				x.ClerkCode = plain[0]
				if dep.State == queue.DepositStateReserved {
					// A reservation stored later has its deadline later.
					x.PurgeAfter = later(x.PurgeAfter, lockerPurgeAfter(o, l, until))
				}
			} else {
				x.PickupCode = plain[0]
			}
		})
	}
	if err != nil {
		w.Logger.Error("issuing a locker code", "office", o.ID, "deposit", dep.ID, "which", which, "err", err)
		flash(rw, w.Catalog.T(lang, "web.error.unavailable"), true)
		redirect(rw, r, back)
		return
	}
	if !found && which == queue.PickupCodeKind {
		// Without the resident's contact, nobody could send the code.
		flash(rw, w.Catalog.T(lang, "web.lockers.no_personal"), true)
		redirect(rw, r, back)
		return
	}
	res := a.Do(r.Context(), "clerk:"+st.Name, queue.ReplaceLockerCode{Deposit: dep.ID, Which: which, Code: hashes[0], Until: until})
	if res.Err != nil {
		flash(rw, w.Catalog.T(lang, "web.lockers.error.refused", "why", w.explain(lang, a, res.Err)), true)
		redirect(rw, r, back)
		return
	}
	w.Logger.Info("locker code replaced", "office", o.ID, "deposit", dep.ID, "which", which, "clerk", st.Name)
	if which == queue.PickupCodeKind {
		flash(rw, w.Catalog.T(lang, "web.lockers.new_pickup_done", "compartment", dep.Compartment), false)
		redirect(rw, r, back)
		return
	}
	redirect(rw, r, lockersBack(o.ID, "locker", l.ID, "deposit", dep.ID)+"#shown")
}

// later is the later of two times.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// LockerSizeName names a compartment size in the page's language.
func (p *page) LockerSizeName(size string) string { return p.T("web.lockers.size." + size) }

// sortedLockerDoors orders the doors list: forced first, then lock
// failures, then doors left open.
func sortedLockerDoors(doors []lockerDoor) {
	rank := map[string]int{"forced": 0, "lock-failed": 1, "alarm": 2}
	slices.SortStableFunc(doors, func(a, b lockerDoor) int { return cmp.Compare(rank[a.Door], rank[b.Door]) })
}

// lockerAction is one button of a deposit's row.
type lockerAction struct {
	P             *page
	Row           lockerRow
	Action, Label string
}

// LockerAction is the button posting to action for row, labelled label.
func (p *page) LockerAction(row lockerRow, action, label string) lockerAction {
	return lockerAction{P: p, Row: row, Action: action, Label: label}
}

// LockerFreeSizes says how many compartments of each size are free
// ("small: 2 free, medium: 0 free").
func (p *page) LockerFreeSizes(sizes []lockerSize) string {
	parts := make([]string, 0, len(sizes))
	for _, s := range sizes {
		parts = append(parts, p.T("web.lockers.size_choice", "size", p.LockerSizeName(s.Size), "free", p.N("web.lockers.free", s.Free)))
	}
	return strings.Join(parts, ", ")
}

// mountLockers adds the lockers pages' routes.
func (w *Web) mountLockers(h func(pattern string, fn http.HandlerFunc)) {
	h("GET /staff/lockers", w.staff(w.lockersPage))
	h("POST /staff/lockers/deposit", w.staff(w.lockerDeposit))
	h("POST /staff/lockers/cancel", w.staff(w.lockerCancel))
	h("POST /staff/lockers/pickup-code", w.staff(w.lockerPickupCode))
	h("POST /staff/lockers/clerk-code", w.staff(w.lockerClerkCode))
}
