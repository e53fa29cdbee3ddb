package web

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/store"
)

// testLocker is the locker the tests give the example office: four
// compartments, an identity card that needs the SMS code at the locker
// and a certificate that does not.
func testLocker() queue.Locker {
	return queue.Locker{
		ID:    "parter",
		Names: map[string]string{"pl": "Urzędomat, parter", "en": "Locker, ground floor"},
		Place: map[string]string{"pl": "przy wejściu B", "en": "by entrance B"},
		Compartments: []queue.Compartment{
			{ID: "1", Size: "S"}, {ID: "2", Size: "S", Accessible: true}, {ID: "3", Size: "M"}, {ID: "4", Size: "L", Accessible: true},
		},
		Deadline: 168 * time.Hour, RemindBefore: 24 * time.Hour, DoorAlarm: time.Minute,
		Documents: []queue.LockerDocument{
			{ID: "id-card", Names: map[string]string{"pl": "Dowód osobisty", "en": "Identity card"}, SecondFactor: true},
			{ID: "certificate", Names: map[string]string{"pl": "Zaświadczenie", "en": "Certificate"}},
		},
	}
}

// lockerEnv is the example office with testLocker, on Monday at 09:00.
func lockerEnv(t testing.TB) *env {
	t.Helper()
	e := newEnvIn(t, t.TempDir(), func(o *queue.Office) { o.Lockers = []queue.Locker{testLocker()} })
	e.clock.Set(monday(e.office, "09:00"))
	return e
}

// lockerForm is the deposit form for the example office's locker, a
// certificate in a small compartment unless kv (name, value, ...) says
// otherwise.
func lockerFormValues(e *env, kv ...string) url.Values {
	v := url.Values{"office": {e.office.ID}, "locker": {"parter"}, "name": {"Olena Kovalenko"}, "contact": {"olena@example.ua"},
		"lang": {"uk"}, "document": {"certificate"}, "size": {"S"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// liveDeposits are the locker's live deposits as the office holds them.
func liveDeposits(t testing.TB, e *env) []queue.Deposit {
	t.Helper()
	var out []queue.Deposit
	if err := e.actor.Query(context.Background(), func(s *queue.State) {
		for _, d := range s.LiveDeposits("parter") {
			out = append(out, *d)
		}
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// depositOf is a deposit by id, live or ended today.
func depositOf(t testing.TB, e *env, id string) queue.Deposit {
	t.Helper()
	var d queue.Deposit
	if err := e.actor.Query(context.Background(), func(s *queue.State) {
		if x := s.Deposits[id]; x != nil {
			d = *x
		}
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

var shownCode = regexp.MustCompile(`id="clerk-code">([0-9A-Z]{4}-[0-9A-Z]{4})<`)

// clerkCodeOn is the clerk code the page shows in its box.
func clerkCodeOn(t testing.TB, page string) string {
	t.Helper()
	m := shownCode.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page shows no clerk code:\n%s", page)
	}
	return m[1]
}

func TestLockerWhoMayDoWhat(t *testing.T) {
	e := lockerEnv(t)
	if _, err := e.web.Clerks.Put("iza", "correct horse battery", store.ManagerRole, []string{"um-czestochowa"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, clerk string
		// form: the page shows this office's deposit form; deposit: the
		// status of a deposit posted for it.
		form    bool
		deposit int
	}{
		// The front desk hands documents over: every clerk of the office
		// may deposit, as may its managers and admins.
		{"a clerk of the office", "anna", true, http.StatusOK},
		{"an admin", "kierownik", true, http.StatusOK},
		// Asking for another office's lockers shows the manager's own
		// office; posting for it is refused.
		{"a manager of another office", "iza", false, http.StatusForbidden},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser()
			b.login(c.clerk, "correct horse battery")
			page := b.get("/staff/lockers?office=" + e.office.ID)
			if b.status != http.StatusOK {
				t.Fatalf("the lockers page: %d", b.status)
			}
			if shown := strings.Contains(page, `action="/staff/lockers/deposit"`); shown != c.form {
				t.Errorf("the deposit form shown: %v, want %v", shown, c.form)
			}
			before := len(liveDeposits(t, e))
			st, _ := b.post("/staff/lockers/deposit", lockerFormValues(e, "name", []string{"Olena Kovalenko", "Jan Nowak", "Iza Wróbel"}[i]))
			if st != c.deposit {
				t.Errorf("deposit: %d, want %d", st, c.deposit)
			}
			if grew := len(liveDeposits(t, e)) - before; grew != map[bool]int{true: 1, false: 0}[c.deposit == http.StatusOK] {
				t.Errorf("the deposit made %d reservations", grew)
			}
		})
	}

	t.Run("logged out", func(t *testing.T) {
		b := e.browser()
		b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		if b.get("/staff/lockers"); b.status != http.StatusSeeOther {
			t.Errorf("the page logged out: %d, want a redirect to the login", b.status)
		}
		st, _, err := b.send("/staff/lockers/deposit", lockerFormValues(e))
		if err != nil || st != http.StatusUnauthorized {
			t.Errorf("a deposit logged out: %d %v", st, err)
		}
	})
	t.Run("without the form's token", func(t *testing.T) {
		b := e.browser()
		b.login("anna", "correct horse battery")
		before := len(liveDeposits(t, e))
		if st, _ := b.post("/staff/lockers/deposit", lockerFormValues(e, "csrf", "forged")); st != http.StatusForbidden {
			t.Errorf("a forged form: %d", st)
		}
		if len(liveDeposits(t, e)) != before {
			t.Errorf("a forged form reserved a compartment")
		}
	})
	for _, cmd := range []string{"cancel", "pickup-code", "clerk-code"} {
		t.Run("another office's "+cmd, func(t *testing.T) {
			b := e.browser()
			b.login("iza", "correct horse battery")
			b.get("/staff/lockers")
			id := liveDeposits(t, e)[0].ID
			if st, _ := b.post("/staff/lockers/"+cmd, url.Values{"office": {e.office.ID}, "deposit": {id}, "reason": {"x"}}); st != http.StatusForbidden {
				t.Errorf("%s by a manager of another office: %d", cmd, st)
			}
			if d := depositOf(t, e, id); d.State != queue.DepositStateReserved {
				t.Errorf("after a refused %s the deposit is %s", cmd, d.State)
			}
		})
	}
}

// A form with a mistake comes back as typed, with the field in error
// named in an alert and marked invalid; nothing is reserved and nothing
// personal is kept.
func TestLockerDepositRefusesWithReasons(t *testing.T) {
	e := lockerEnv(t)
	// Fill the accessible small compartment and the medium one.
	b := e.browser()
	b.login("anna", "correct horse battery")
	b.get("/staff/lockers?office=" + e.office.ID + "&lang=en")
	b.post("/staff/lockers/deposit", lockerFormValues(e, "size", "M", "name", "Adam Mazur"))
	b.post("/staff/lockers/deposit", lockerFormValues(e, "size", "S", "accessible", "yes", "name", "Ewa Lis"))
	if n := len(liveDeposits(t, e)); n != 2 {
		t.Fatalf("%d deposits after two", n)
	}
	cases := []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"no name", lockerFormValues(e, "name", " "), "locker-name", "Resident's name: type the resident's name"},
		{"a name too long", lockerFormValues(e, "name", strings.Repeat("Ą", 101)), "locker-name", "Resident's name: type the resident's name (2 to 100 characters)."},
		{"no contact", lockerFormValues(e, "contact", ""), "locker-contact", "Contact: type the resident's e-mail address or phone number."},
		{"a bad e-mail", lockerFormValues(e, "contact", "olena@@example"), "locker-contact", "Contact: this e-mail address does not look right."},
		{"a bad phone", lockerFormValues(e, "contact", "600 12"), "locker-contact", "Contact: a phone number has 9 to 15 digits"},
		{"a document the locker does not take", lockerFormValues(e, "document", "passport"), "locker-document", "Document: choose one of the documents this locker takes."},
		{"an SMS document without a phone", lockerFormValues(e, "document", "id-card"), "locker-phone", "Phone for the code at the locker: Identity card needs a code sent by SMS"},
		{"an SMS document with a bad phone", lockerFormValues(e, "document", "id-card", "phone", "olena@example.ua"), "locker-phone", "Phone for the code at the locker: a phone number has 9 to 15 digits"},
		{"a language the office does not offer", lockerFormValues(e, "lang", "de"), "locker-lang", "Resident's language: choose a language from the list."},
		{"a size the locker has not", lockerFormValues(e, "size", "XL"), "locker-size", "Compartment size: choose one of the sizes listed."},
		{"a full size", lockerFormValues(e, "size", "M"), "locker-size", "Compartment size: no compartment of this size is free."},
		{"no accessible one free", lockerFormValues(e, "size", "S", "accessible", "yes"), "locker-size", "reachable from a wheelchair is free"},
		{"another locker", lockerFormValues(e, "locker", "piwnica"), "", "Locker: choose one of the office's lockers."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b.get("/staff/lockers?office=" + e.office.ID + "&lang=en")
			st, body := b.post("/staff/lockers/deposit", c.form)
			text := html.UnescapeString(body)
			if st != http.StatusUnprocessableEntity {
				t.Errorf("status %d, want 422", st)
			}
			if !strings.Contains(text, c.want) || !strings.Contains(body, `role="alert"`) {
				t.Errorf("the page does not say %q in an alert:\n%s", c.want, body)
			}
			if c.field != "" && !regexp.MustCompile(`id="`+c.field+`"[^>]*aria-invalid="true"`).MatchString(body) {
				t.Errorf("the field %s is not marked invalid", c.field)
			}
			// What was typed is still there, to be corrected.
			if name := c.form.Get("name"); c.field != "locker-name" && !strings.Contains(text, `value="`+name+`"`) {
				t.Errorf("the name %q typed is lost", name)
			}
			if contact := c.form.Get("contact"); c.field != "locker-contact" && !strings.Contains(text, `value="`+contact+`"`) {
				t.Errorf("the contact %q typed is lost", contact)
			}
		})
	}
	if n := len(liveDeposits(t, e)); n != 2 {
		t.Errorf("refused forms left %d deposits, want the 2 made before", n)
	}
	records, err := e.db.LockerDepositsOf(e.office.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if r.Name != "Adam Mazur" && r.Name != "Ewa Lis" && (r.Name != "" || r.Contact != "") {
			t.Errorf("a refused form kept personal data: %+v", r)
		}
	}
}

// A clerk deposits a document: the page says which code to type and which
// compartment opens; the codes in web.db are the ones the office holds
// the hashes of; the name never reaches the log. Then the other moves:
// a new clerk code, a cancellation with its reason, a new pickup code for
// a stored document, taking an expired one back; the doors the locker
// reports show in the grid and at the top.
func TestLockerDepositAndItsMoves(t *testing.T) {
	e := lockerEnv(t)
	b := e.browser()
	b.login("anna", "correct horse battery")
	b.get("/staff/lockers?office=" + e.office.ID + "&lang=en")
	st, page := b.post("/staff/lockers/deposit", lockerFormValues(e, "document", "id-card", "contact", "+48 600 100 200", "size", "S", "accessible", "yes"))
	if st != http.StatusOK {
		t.Fatalf("deposit: %d\n%s", st, page)
	}
	code := clerkCodeOn(t, page)
	if want := "Go to the locker and type " + code + ": compartment 2 opens."; !strings.Contains(html.UnescapeString(page), want) {
		t.Errorf("the page does not say %q:\n%s", want, page)
	}
	deps := liveDeposits(t, e)
	if len(deps) != 1 || deps[0].Compartment != "2" || deps[0].State != queue.DepositStateReserved || !deps[0].SecondFactor {
		t.Fatalf("the office holds %+v", deps)
	}
	dep := deps[0]
	if !dep.ClerkCode.Matches(code) || dep.PickupCode.Matches(code) {
		t.Errorf("the code shown %s is not the deposit's clerk code", code)
	}
	rec, found, err := e.db.LockerDeposit(e.office.ID, dep.ID)
	if err != nil || !found {
		t.Fatalf("web.db has no record of the deposit: %v", err)
	}
	if rec.Name != "Olena Kovalenko" || rec.Contact != "+48 600 100 200" || rec.Phone != "+48 600 100 200" || rec.Lang != "uk" || rec.By != "anna" {
		t.Errorf("web.db keeps %+v", rec)
	}
	if !dep.PickupCode.Matches(rec.PickupCode) || links.FormatCode(rec.ClerkCode) != code {
		t.Errorf("web.db's plain codes are not the deposit's")
	}
	if want := e.clock.Now().Add(30*time.Minute + 168*time.Hour + 30*24*time.Hour); !rec.PurgeAfter.Equal(want) {
		t.Errorf("purged after %v, want %v", rec.PurgeAfter, want)
	}
	cell := regexp.MustCompile(`(?s)id="cell-parter-2">.*?</li>`).FindString(page)
	if !strings.Contains(cell, "reserved, document not in yet") || !strings.Contains(cell, "reachable from a wheelchair") {
		t.Errorf("compartment 2 in the grid: %s", cell)
	}
	for _, secret := range []string{"Olena", "600 100 200", rec.PickupCode, rec.ClerkCode} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("the log holds %q", secret)
		}
	}

	// The clerk did not make it in 30 minutes: a new clerk code.
	e.clock.Set(e.clock.Now().Add(31 * time.Minute))
	if page = b.get("/staff/lockers?office=" + e.office.ID + "&deposit=" + dep.ID); !strings.Contains(page, "no longer shown") {
		t.Errorf("a clerk code past its time is still shown")
	}
	if rec, _, _ = e.db.LockerDeposit(e.office.ID, dep.ID); rec.ClerkCode != "" {
		t.Errorf("web.db keeps a clerk code past its time")
	}
	_, page = b.post("/staff/lockers/clerk-code", url.Values{"office": {e.office.ID}, "deposit": {dep.ID}})
	second := clerkCodeOn(t, page)
	if dep = depositOf(t, e, dep.ID); !dep.ClerkCode.Matches(second) || dep.ClerkCode.Matches(code) {
		t.Errorf("the new clerk code %s is not the deposit's, or the old one still is", second)
	}
	// Stored with the new code, its deadline is later: so is the purge.
	if rec, _, _ = e.db.LockerDeposit(e.office.ID, dep.ID); !rec.PurgeAfter.Equal(e.clock.Now().Add(30*time.Minute + 168*time.Hour + 30*24*time.Hour)) {
		t.Errorf("after a new clerk code the purge is at %v", rec.PurgeAfter)
	}

	// Cancelling asks a reason, then withdraws the reservation.
	page = b.get("/staff/lockers?office=" + e.office.ID + "&cancel=" + dep.ID)
	if !strings.Contains(page, `action="/staff/lockers/cancel"`) {
		t.Fatalf("no cancel form:\n%s", page)
	}
	_, page = b.post("/staff/lockers/cancel", url.Values{"office": {e.office.ID}, "deposit": {dep.ID}, "reason": {" "}})
	if !strings.Contains(html.UnescapeString(page), "Reason: say why") || depositOf(t, e, dep.ID).State != queue.DepositStateReserved {
		t.Errorf("a cancel without a reason is not refused with the field named:\n%s", page)
	}
	_, page = b.post("/staff/lockers/cancel", url.Values{"office": {e.office.ID}, "deposit": {dep.ID}, "reason": {"Dokument z błędem"}})
	if d := depositOf(t, e, dep.ID); d.State != queue.DepositStateCancelled || !strings.Contains(page, "compartment 2 is cancelled") {
		t.Errorf("after cancelling the deposit is %s and the page says:\n%s", d.State, page)
	}
	if rec, _, _ = e.db.LockerDeposit(e.office.ID, dep.ID); rec.ClerkCode != "" || rec.PickupCode != "" {
		t.Errorf("a cancelled deposit keeps its plain codes")
	}

	// A certificate stored by the locker gets a new pickup code.
	_, page = b.post("/staff/lockers/deposit", lockerFormValues(e, "name", "Jan Nowak", "contact", "jan@example.pl", "lang", "pl"))
	clerk := clerkCodeOn(t, page)
	dep = liveDeposits(t, e)[0]
	if _, page = b.post("/staff/lockers/pickup-code", url.Values{"office": {e.office.ID}, "deposit": {dep.ID}}); !strings.Contains(html.UnescapeString(page), "the document is reserved, document not in yet") {
		t.Errorf("a new pickup code for a document not yet in is not refused with its state")
	}
	e.do(queue.StoreDeposit{Deposit: dep.ID, At: e.clock.Now()})
	// The notices clear the plain pickup code once they sent it.
	if _, _, err := e.db.UpdateLockerDeposit(e.office.ID, dep.ID, func(x *store.LockerDeposit) { x.PickupCode = "" }); err != nil {
		t.Fatal(err)
	}
	page = b.get("/staff/lockers?office=" + e.office.ID)
	if strings.Contains(page, clerk) {
		t.Errorf("a used clerk code is still shown")
	}
	_, page = b.post("/staff/lockers/pickup-code", url.Values{"office": {e.office.ID}, "deposit": {dep.ID}})
	if !strings.Contains(page, "A new pickup code is on its way") {
		t.Errorf("after a new pickup code the page says:\n%s", page)
	}
	rec, _, _ = e.db.LockerDeposit(e.office.ID, dep.ID)
	if d := depositOf(t, e, dep.ID); rec.PickupCode == "" || !d.PickupCode.Matches(rec.PickupCode) || d.PickupCode.Matches(clerk) {
		t.Errorf("web.db's new pickup code %q is not the deposit's", rec.PickupCode)
	}

	// The locker reports doors: one left open too long, one forced.
	lockerHealth := protocol.HealthReport{Version: "1.5.0", Role: "locker", Name: "Urzędomat",
		Locker: &protocol.LockerHealth{DoorsOpen: []string{"3", "4"}, DoorsAlarm: []string{"3"}, DoorsForced: []string{"4"}, Pending: 2}}
	if err := e.web.Server.Health().Ingest(context.Background(), fleet.Reporter{ID: "locker-1", Office: e.office.ID, Role: "locker"}, lockerHealth); err != nil {
		t.Fatal(err)
	}

	// Past the deadline the document is expired: listed at the top, and
	// taken back with a clerk code.
	e.clock.Set(e.clock.Now().Add(169 * time.Hour))
	if err := e.web.Server.Health().Ingest(context.Background(), fleet.Reporter{ID: "locker-1", Office: e.office.ID, Role: "locker"}, lockerHealth); err != nil {
		t.Fatal(err)
	}
	e.do(queue.ExpireDeposits{})
	page = html.UnescapeString(b.get("/staff/lockers?office=" + e.office.ID))
	top := page[:max(strings.Index(page, `id="locker-parter-h"`), 0)]
	for _, want := range []string{"Expired: take these documents back", "Locker, ground floor, compartment 1: Certificate", "Jan Nowak",
		"Locker, ground floor, compartment 4: door forced open", "Locker, ground floor, compartment 3: door open too long"} {
		if !strings.Contains(top, want) {
			t.Errorf("the top of the page does not say %q:\n%s", want, top)
		}
	}
	if strings.Index(top, "compartment 4: door forced") > strings.Index(top, "compartment 3: door open too long") {
		t.Errorf("the forced door is not listed first")
	}
	if !strings.Contains(page, "2 events at the locker are not yet known to the server.") {
		t.Errorf("the page does not say the locker holds reports")
	}
	before, _, _ := e.db.LockerDeposit(e.office.ID, dep.ID)
	_, page = b.post("/staff/lockers/clerk-code", url.Values{"office": {e.office.ID}, "deposit": {dep.ID}})
	back := clerkCodeOn(t, page)
	if rec, _, _ = e.db.LockerDeposit(e.office.ID, dep.ID); !rec.PurgeAfter.Equal(before.PurgeAfter) {
		t.Errorf("taking an expired document back moved its purge from %v to %v", before.PurgeAfter, rec.PurgeAfter)
	}
	if want := "type " + back + ": compartment 1 opens for you to take the document out."; !strings.Contains(html.UnescapeString(page), want) {
		t.Errorf("the page does not say %q", want)
	}
	if d := depositOf(t, e, dep.ID); !d.ClerkCode.Matches(back) {
		t.Errorf("the take-back code is not the deposit's clerk code")
	}
}

// The doors of a report that is old are flagged as maybe out of date.
func TestLockerOldReport(t *testing.T) {
	e := lockerEnv(t)
	report := protocol.HealthReport{Version: "1.5.0", Role: "locker", Name: "Urzędomat", Locker: &protocol.LockerHealth{DoorsOpen: []string{"1"}}}
	if err := e.web.Server.Health().Ingest(context.Background(), fleet.Reporter{ID: "locker-1", Office: e.office.ID, Role: "locker"}, report); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("anna", "correct horse battery")
	page := html.UnescapeString(b.get("/staff/lockers?office=" + e.office.ID + "&lang=en"))
	if cell := regexp.MustCompile(`(?s)id="cell-parter-1">.*?</li>`).FindString(page); !strings.Contains(cell, "door open") || strings.Contains(page, "may be out of date") {
		t.Errorf("a fresh report's open door: %s", cell)
	}
	e.clock.Set(e.clock.Now().Add(10 * time.Minute))
	if page = html.UnescapeString(b.get("/staff/lockers?office=" + e.office.ID)); !strings.Contains(page, "The locker last reported at") {
		t.Errorf("an old report is not flagged")
	}
}

// FuzzLockerForm: whatever is posted, the form's check accepts only what
// the office can take: a name of 2 to 100 characters, a contact, a
// document and size of the locker, a phone only where the document needs
// one.
func FuzzLockerForm(f *testing.F) {
	f.Add("Olena Kovalenko", "olena@example.ua", "", "uk", "certificate", "S", false)
	f.Add("Jan", "+48 600 100 200", "", "pl", "id-card", "L", true)
	f.Add(" ", "x@", "12", "de", "passport", "XL", true)
	o := &queue.Office{ID: "o", Languages: []string{"pl", "en", "uk"}, Lockers: []queue.Locker{testLocker()}}
	free := testLocker().Compartments
	f.Fuzz(func(t *testing.T, name, contact, phone, lang, document, size string, accessible bool) {
		in := lockerForm{Locker: "parter", Name: name, Contact: contact, Phone: phone, Lang: lang, Document: document, Size: size, Accessible: accessible}
		out, fe := in.check(o, free, "en")
		if fe != nil {
			if lockerFieldLabels[fe.Field] == "" {
				t.Fatalf("an error for a field the form has not: %q", fe.Field)
			}
			return
		}
		doc, ok := testLocker().Document(out.Document)
		switch {
		case len([]rune(out.Name)) < 2 || len([]rune(out.Name)) > 100:
			t.Errorf("accepted the name %q", out.Name)
		case out.Contact == "":
			t.Errorf("accepted no contact")
		case !ok:
			t.Errorf("accepted the document %q", out.Document)
		case doc.SecondFactor != (out.Phone != ""):
			t.Errorf("phone %q for %s", out.Phone, doc.ID)
		case out.Size != "S" && out.Size != "M" && out.Size != "L":
			t.Errorf("accepted the size %q", out.Size)
		}
	})
}

// When the office refuses a reservation the form's check let through (the
// last compartment went to a colleague meanwhile), the personal data
// stored first is dropped again and the purge takes the record.
func TestLockerRefusedReservationKeepsNothing(t *testing.T) {
	e := lockerEnv(t)
	l, _ := e.office.Locker("parter")
	var st staffInfo
	st.Name = "anna"
	form := lockerForm{Locker: "parter", Name: "Olena Kovalenko", Contact: "olena@example.ua", Lang: "uk", Document: "certificate", Size: "M"}
	if _, err := e.web.reserveCompartment(context.Background(), e.actor, &st, l, form); err != nil {
		t.Fatalf("the medium compartment: %v", err)
	}
	form.Name = "Jan Nowak"
	_, err := e.web.reserveCompartment(context.Background(), e.actor, &st, l, form)
	var qe *queue.Error
	if !errors.As(err, &qe) || qe.Code != "no-free-compartment" {
		t.Fatalf("a second medium one: %v", err)
	}
	records, err := e.db.LockerDepositsOf(e.office.ID)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, r := range records {
		if r.Name == "Jan Nowak" || r.Contact == "" && r.PurgeAfter.After(e.clock.Now()) {
			t.Errorf("the refused deposit's record is kept: %+v", r)
		}
		if r.Name != "" {
			kept++
		}
	}
	if kept != 1 {
		t.Errorf("%d records with personal data, want the one reserved", kept)
	}
	if n, err := e.db.PurgeLockerDeposits(e.clock.Now()); err != nil || n != 1 {
		t.Errorf("the purge took %d records (%v), want the refused one", n, err)
	}
}

// An office with two lockers: a report names its locker, and its doors
// show on that one only; a report that names none cannot be placed and is
// left out; ?locker= picks the locker the deposit form is for.
func TestLockerSeveralLockers(t *testing.T) {
	basement := testLocker()
	basement.ID, basement.Names = "piwnica", map[string]string{"pl": "Urzędomat, piwnica", "en": "Locker, basement"}
	e := newEnvIn(t, t.TempDir(), func(o *queue.Office) { o.Lockers = []queue.Locker{testLocker(), basement} })
	for _, r := range []struct {
		device string
		health protocol.LockerHealth
	}{
		{"locker-basement", protocol.LockerHealth{Locker: "piwnica", DoorsOpen: []string{"1"}, DoorsAlarm: []string{"1"}}},
		{"locker-unnamed", protocol.LockerHealth{DoorsForced: []string{"2"}}},
	} {
		h := r.health
		if err := e.web.Server.Health().Ingest(context.Background(), fleet.Reporter{ID: r.device, Office: e.office.ID, Role: "locker"},
			protocol.HealthReport{Version: "1.5.0", Role: "locker", Name: r.device, Locker: &h}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	b.login("anna", "correct horse battery")
	page := html.UnescapeString(b.get("/staff/lockers?office=" + e.office.ID + "&locker=piwnica&lang=en"))
	if !strings.Contains(page, "Locker, basement, compartment 1: door open too long") || strings.Contains(page, "door forced open") {
		t.Errorf("the doors listed are not the basement's alone:\n%s", page)
	}
	if cell := regexp.MustCompile(`(?s)id="cell-parter-1">.*?</li>`).FindString(page); strings.Contains(cell, "door") {
		t.Errorf("the ground floor's compartment 1 shows the basement's door: %s", cell)
	}
	if !strings.Contains(page, `<h2 id="deposit-h">Deposit a document in Locker, basement</h2>`) || !strings.Contains(page, `name="locker" value="piwnica"`) ||
		!strings.Contains(page, `locker=parter#deposit-h">Deposit a document in Locker, ground floor</a>`) {
		t.Errorf("the form is not the basement's, with a link to the other's:\n%s", page)
	}
	b.post("/staff/lockers/deposit", lockerFormValues(e, "locker", "piwnica"))
	var where string
	_ = e.actor.Query(context.Background(), func(s *queue.State) {
		for _, d := range s.LiveDeposits("piwnica") {
			where = d.Locker + "/" + d.Compartment
		}
	})
	if where != "piwnica/1" {
		t.Errorf("the deposit went to %q, want the basement's compartment 1", where)
	}
}
