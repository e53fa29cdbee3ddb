package lockers

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/mailread"
	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/outbox"
	"github.com/numerek/numerek/store"
)

// smsStandIn is an SMS gateway as the outbox's webhook driver speaks to
// it: a JSON POST {to, text, lang, kind} with the shared secret as a
// bearer token and the body's HMAC-SHA256 in X-Numerek-Signature.
type smsStandIn struct {
	secret string
	mu     sync.Mutex
	got    []outbox.WebhookMessage
}

func (s *smsStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Header.Get("Authorization") != "Bearer "+s.secret ||
		!hmac.Equal([]byte(r.Header.Get(outbox.SignatureHeader)), []byte(outbox.Sign(s.secret, body))) {
		http.Error(w, "not signed", http.StatusUnauthorized)
		return
	}
	var m outbox.WebhookMessage
	if err := json.Unmarshal(body, &m); err != nil || m.To == "" || m.Text == "" {
		http.Error(w, "not a message", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.got = append(s.got, m)
	s.mu.Unlock()
}

func (s *smsStandIn) messages() []outbox.WebhookMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]outbox.WebhookMessage(nil), s.got...)
}

// The resident of every test.
const (
	residentName  = "Jan Kowalski"
	residentMail  = "jan.kowalski@example.pl"
	residentPhone = "+48 500 600 789"
	adminMail     = "admin@example.pl"
)

// env is an office with a locker on a real event log and actor, web.db,
// the outbox delivering to a real SMTP server and the SMS stand-in, and
// the lockers' service on a test clock.
type env struct {
	clock  *testclock.Clock
	office *queue.Office
	actor  *actor.Actor
	db     *store.WebDB
	ob     *outbox.Outbox
	sink   *smtpsink.Sink
	sms    *smsStandIn
	svc    *Service
	logs   *lockedbuf.Buffer
	logger *slog.Logger
}

func testOffice() *queue.Office {
	loc, _ := time.LoadLocation("Europe/Warsaw")
	return &queue.Office{
		ID: "ums", Name: "Urząd Miasta Starachowice", Location: loc,
		Services: []queue.Service{{ID: "a", Prefix: "A", Names: map[string]string{"pl": "Sprawy"}}},
		Counters: []queue.Counter{{Number: 1, Weights: map[string]float64{"a": 1}}},
		Booking:  queue.BookingRules{Retention: 30 * 24 * time.Hour},
		Lockers: []queue.Locker{{
			ID: "hall", Names: map[string]string{"pl": "Urzędomat w holu", "en": "Hall locker"},
			Place:        map[string]string{"pl": "parter, przy wejściu B", "en": "ground floor, by entrance B"},
			Compartments: []queue.Compartment{{ID: "1", Size: "M"}, {ID: "2", Size: "M"}, {ID: "3", Size: "M"}},
			Deadline:     48 * time.Hour, RemindBefore: 12 * time.Hour,
			Documents: []queue.LockerDocument{
				{ID: "passport", Names: map[string]string{"pl": "paszport", "en": "passport"}},
				{ID: "id-card", Names: map[string]string{"pl": "dowód osobisty", "en": "identity card"}, SecondFactor: true},
			},
		}},
	}
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{clock: testclock.New(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)), office: testOffice(), logs: &lockedbuf.Buffer{}}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.logger = logger
	l, err := store.OpenOfficeLog(filepath.Join(dir, "ums.db"), "ums")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if e.actor, err = actor.New(e.office, l, e.clock.Now, logger, actor.Options{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.actor.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if e.db, err = store.OpenWebDB(filepath.Join(dir, "web.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.db.Close() })
	e.sink = smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	e.sms = &smsStandIn{secret: "gateway-secret"}
	gw := httptest.NewServer(e.sms)
	t.Cleanup(gw.Close)
	c := &outbox.Composer{Catalog: i18n.Messages(), Offices: map[string]*queue.Office{"ums": e.office},
		PublicURL: "https://kolejka.example.pl", Clock: e.clock.Now}
	texter, err := outbox.NewTexter(officeconfig.SMS{Driver: officeconfig.SMSDriverWebhook, URL: gw.URL + "/sms", Token: "gateway-secret", CountryCode: "48"}, c, gw.Client())
	if err != nil {
		t.Fatal(err)
	}
	e.ob, err = outbox.Open(outbox.Options{
		Path:  filepath.Join(dir, "outbox.db"),
		Email: outbox.NewMailer(officeconfig.Email{Host: "127.0.0.1", Port: e.sink.Port(), From: "kolejka@example.pl", TLS: officeconfig.TLSNone}, c),
		SMS:   texter, Log: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.ob.Close() })
	e.svc = New(Config{DB: e.db, Notices: e.ob, Alerts: e.ob, Clock: e.clock.Now, Logger: logger,
		Staff: func(string) Staff { return Staff{To: []string{adminMail}, Lang: "pl"} }}, []*actor.Actor{e.actor})
	return e
}

// run starts the service until the test ends.
func (e *env) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx, time.Hour) }()
	t.Cleanup(func() { cancel(); <-done })
}

// deposit does what the staff page and the locker do: both codes made,
// the compartment reserved, the personal side kept in web.db, and the
// document stored by the locker. It returns the plain pickup code.
func (e *env) deposit(t *testing.T, id, document, lang string) string {
	t.Helper()
	ctx := context.Background()
	clerk, clerkHash, err := queue.NewLockerCode(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pickup, pickupHash, err := queue.NewLockerCode(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if r := e.actor.Do(ctx, "clerk:anna", queue.ReserveCompartment{Deposit: id, Locker: "hall", Document: document, Size: "M",
		ClerkCode: clerkHash, PickupCode: pickupHash}); r.Err != nil {
		t.Fatalf("reserving: %v", r.Err)
	}
	err = e.db.PutLockerDeposit(store.LockerDeposit{Office: "ums", ID: id, Name: residentName, Contact: residentMail, Lang: lang,
		Phone: residentPhone, PickupCode: pickup, ClerkCode: clerk, By: "anna", CreatedAt: now, PurgeAfter: now.Add(80 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if r := e.actor.Do(ctx, "locker:hall", queue.StoreDeposit{Deposit: id, At: now}); r.Err != nil {
		t.Fatalf("storing: %v", r.Err)
	}
	return pickup
}

// mailsTo are the e-mails the SMTP server took for to, parsed.
func (e *env) mailsTo(t *testing.T, to string) []parsedMail {
	var out []parsedMail
	for _, m := range e.sink.Messages() {
		if len(m.To) == 1 && m.To[0] == to {
			out = append(out, parseMail(t, m.Data))
		}
	}
	return out
}

// outboxCount is how many messages the outbox holds: Send is synchronous,
// so once a sweep returned this is all it handed on.
func (e *env) outboxCount(t *testing.T) int {
	list, err := e.ob.Recent(1000, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func (e *env) depositState(t *testing.T, id string) queue.DepositState {
	var st queue.DepositState
	if err := e.actor.Query(context.Background(), func(s *queue.State) {
		if d := s.Deposits[id]; d != nil {
			st = d.State
		}
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

// checkNoPersonalData fails if the log holds the resident's name, contact,
// phone or any of codes.
func (e *env) checkNoPersonalData(t *testing.T, codes ...string) {
	t.Helper()
	log := e.logs.String()
	for _, s := range append([]string{"Kowalski", residentMail, "500 600 789", "500600789", adminMail}, codes...) {
		if s != "" && strings.Contains(log, s) {
			t.Errorf("the log holds %q:\n%s", s, log)
		}
	}
}

// A document's life as its resident and the staff hear of it: stored →
// the ready e-mail with the code and its QR (and the plain code is gone
// from web.db); 12 hours before the deadline one reminder, however often
// the timer looks; past the deadline the deposit expires and the admin is
// alerted, without the resident's name.
func TestReadyReminderAndExpiry(t *testing.T) {
	e := newEnv(t)
	e.run(t)
	code := e.deposit(t, "d1", "passport", "en")
	waitfor.Until(t, "the ready e-mail at the SMTP server", 10*time.Second, func() bool { return len(e.mailsTo(t, residentMail)) == 1 })
	ready := e.mailsTo(t, residentMail)[0]
	if want := "Your document is ready to collect: passport"; ready.Subject != want {
		t.Errorf("subject %q, want %q", ready.Subject, want)
	}
	formatted := code[:4] + "-" + code[4:]
	// Deadline: 48 h after 10:00 Warsaw time on Monday.
	for _, want := range []string{"Hello Jan Kowalski", formatted, "Hall locker", "ground floor, by entrance B", "Wednesday 2 Dec 2026, 10:00"} {
		if !strings.Contains(ready.Text, want) {
			t.Errorf("the ready e-mail lacks %q:\n%s", want, ready.Text)
		}
	}
	if got := decodeQR(t, ready.Parts["image/png"]); got != code {
		t.Errorf("the QR code reads %q, want the pickup code", got)
	}
	waitfor.Until(t, "the plain pickup code gone from web.db", 5*time.Second, func() bool {
		rec, ok, err := e.db.LockerDeposit("ums", "d1")
		return err == nil && ok && rec.PickupCode == "" && rec.Name == residentName
	})

	ctx := context.Background()
	deadline := e.clock.Now().Add(48 * time.Hour)
	for _, step := range []struct {
		name    string
		at      time.Time
		mails   int
		outbox  int
		state   queue.DepositState
		nextDue time.Time
	}{
		{"a day later: nothing due", deadline.Add(-24 * time.Hour), 1, 1, queue.DepositStateStored, deadline.Add(-12 * time.Hour)},
		{"12 h before: the reminder", deadline.Add(-12*time.Hour + time.Minute), 2, 2, queue.DepositStateStored, deadline},
		{"an hour on: no second reminder", deadline.Add(-11 * time.Hour), 2, 2, queue.DepositStateStored, deadline},
		{"past the deadline: expired", deadline.Add(time.Second), 2, 3, queue.DepositStateExpired, time.Time{}},
	} {
		t.Run(step.name, func(t *testing.T) {
			e.clock.Set(step.at)
			next := e.svc.Sweep(ctx)
			if step.state == queue.DepositStateStored && !next.Equal(step.nextDue) {
				t.Errorf("next due %v, want %v", next, step.nextDue)
			}
			if step.state == queue.DepositStateExpired {
				waitfor.Until(t, "the admin's alert in the outbox", 5*time.Second, func() bool { return e.outboxCount(t) == step.outbox })
			}
			waitfor.Until(t, "the resident's e-mails", 10*time.Second, func() bool { return len(e.mailsTo(t, residentMail)) == step.mails })
			if n := e.outboxCount(t); n != step.outbox {
				t.Errorf("%d messages in the outbox, want %d", n, step.outbox)
			}
			if st := e.depositState(t, "d1"); st != step.state {
				t.Errorf("deposit %s, want %s", st, step.state)
			}
		})
	}
	reminder := e.mailsTo(t, residentMail)[1]
	if !strings.Contains(reminder.Subject, "Reminder") || strings.Contains(reminder.Text, formatted) {
		t.Errorf("reminder %q:\n%s", reminder.Subject, reminder.Text)
	}
	waitfor.Until(t, "the admin's alert at the SMTP server", 10*time.Second, func() bool { return len(e.mailsTo(t, adminMail)) == 1 })
	alert := e.mailsTo(t, adminMail)[0]
	if want := "Urzędomat w holu: dokument nieodebrany (skrytka 1)"; alert.Subject != want {
		t.Errorf("alert subject %q, want %q", alert.Subject, want)
	}
	if strings.Contains(alert.Text, "Kowalski") || strings.Contains(alert.Text, residentMail) {
		t.Errorf("the admin's alert names the resident:\n%s", alert.Text)
	}
	// Expired documents stay expired: another sweep expires nothing more
	// and alerts no one again.
	e.svc.Sweep(ctx)
	if n := e.outboxCount(t); n != 3 {
		t.Errorf("%d messages after another sweep, want 3", n)
	}
	e.checkNoPersonalData(t, code, formatted)
}

// A pickup code the staff replace (the resident lost it) is sent again,
// the new one; a document stored while the service was not running is
// told of when it starts.
func TestReplacedCodeAndCatchUp(t *testing.T) {
	e := newEnv(t)
	first := e.deposit(t, "d1", "passport", "pl")
	e.run(t)
	waitfor.Until(t, "the ready e-mail of a deposit stored before the start", 10*time.Second, func() bool { return len(e.mailsTo(t, residentMail)) == 1 })
	if got := decodeQR(t, e.mailsTo(t, residentMail)[0].Parts["image/png"]); got != first {
		t.Errorf("first QR reads %q, want %q", got, first)
	}
	second, hash, err := queue.NewLockerCode(nil, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.db.UpdateLockerDeposit("ums", "d1", func(r *store.LockerDeposit) { r.PickupCode = second }); err != nil {
		t.Fatal(err)
	}
	r := e.actor.Do(context.Background(), "clerk:anna", queue.ReplaceLockerCode{Deposit: "d1", Which: "pickup", Code: hash, Until: e.clock.Now().Add(48 * time.Hour)})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	waitfor.Until(t, "the ready e-mail with the new code", 10*time.Second, func() bool { return len(e.mailsTo(t, residentMail)) == 2 })
	again := e.mailsTo(t, residentMail)[1]
	if got := decodeQR(t, again.Parts["image/png"]); got != second {
		t.Errorf("second QR reads %q, want the new code", got)
	}
	if want := "Twój dokument czeka na odbiór: paszport"; again.Subject != want {
		t.Errorf("subject %q, want %q", again.Subject, want)
	}
	e.checkNoPersonalData(t, first, second)
}

// The second factor: a 6-digit code by SMS to the phone the clerk gave,
// good once, for 5 minutes and 3 tries; a second press within 30 s sends
// nothing new; documents without it, and unknown deposits, are refused.
func TestSecondFactor(t *testing.T) {
	e := newEnv(t)
	e.run(t)
	ctx := context.Background()
	e.deposit(t, "d1", "id-card", "pl")
	e.deposit(t, "d2", "passport", "pl")
	smsCount := 0
	// sent asks for a code and returns it as the SMS stand-in got it.
	sent := func(t *testing.T) string {
		t.Helper()
		masked, err := e.svc.Send(ctx, "ums", "d1")
		if err != nil {
			t.Fatal(err)
		}
		if masked != "+48 *** *** 789" {
			t.Errorf("sent to %q, want the masked phone", masked)
		}
		smsCount++
		waitfor.Until(t, "the one-time code at the SMS gateway", 10*time.Second, func() bool { return len(e.sms.messages()) == smsCount })
		m := e.sms.messages()[smsCount-1]
		if m.To != "+48500600789" || m.Kind != "locker-second-factor" || m.Lang != "pl" {
			t.Errorf("gateway got %+v", m)
		}
		code := regexp.MustCompile(`^\d{6}\b`).FindString(m.Text)
		if code == "" {
			t.Fatalf("no 6-digit code first in %q", m.Text)
		}
		return code
	}
	check := func(t *testing.T, code string, want bool) {
		t.Helper()
		ok, err := e.svc.Check(ctx, "ums", "d1", code)
		if err != nil || ok != want {
			t.Errorf("check %q: %v, %v; want %v", code, ok, err, want)
		}
	}
	wrong := func(code string) string {
		if code == "000000" {
			return "111111"
		}
		return "000000"
	}

	t.Run("right after a wrong one, once", func(t *testing.T) {
		code := sent(t)
		check(t, wrong(code), false)
		check(t, code[:3]+" "+code[3:], true)
		check(t, code, false)
	})
	t.Run("a second press within 30 s sends nothing new", func(t *testing.T) {
		e.clock.Set(e.clock.Now().Add(time.Minute))
		code := sent(t)
		if masked, err := e.svc.Send(ctx, "ums", "d1"); err != nil || masked != "+48 *** *** 789" {
			t.Errorf("second press: %q, %v", masked, err)
		}
		if n := e.outboxCount(t); n != 2+2 {
			t.Errorf("%d messages in the outbox, want the 2 ready e-mails and 2 codes", n)
		}
		check(t, code, true)
	})
	t.Run("three wrong tries use the code up", func(t *testing.T) {
		e.clock.Set(e.clock.Now().Add(time.Minute))
		code := sent(t)
		for range CodeTries {
			check(t, wrong(code), false)
		}
		check(t, code, false)
	})
	t.Run("five minutes on, the code is void", func(t *testing.T) {
		e.clock.Set(e.clock.Now().Add(time.Minute))
		code := sent(t)
		e.clock.Set(e.clock.Now().Add(CodeValid))
		check(t, code, false)
	})
	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct {
			deposit string
			want    error
		}{{"d2", ErrNotNeeded}, {"nope", ErrNoDeposit}} {
			if _, err := e.svc.Send(ctx, "ums", c.deposit); !errors.Is(err, c.want) {
				t.Errorf("deposit %s: %v, want %v", c.deposit, err, c.want)
			}
		}
		if _, err := e.svc.Send(ctx, "elsewhere", "d1"); !errors.Is(err, ErrNoDeposit) {
			t.Errorf("another office: %v", err)
		}
		if ok, err := e.svc.Check(ctx, "ums", "d2", "123456"); ok || err != nil {
			t.Errorf("a deposit never sent a code checks %v, %v", ok, err)
		}
	})
	e.checkNoPersonalData(t)
	for _, m := range e.sms.messages() {
		if code := m.Text[:6]; strings.Contains(e.logs.String(), code) {
			t.Errorf("the log holds a one-time code %s", code)
		}
	}
}

// The deposits' personal side goes from web.db when its time has come,
// with the bookings' sweep; the rest stays.
func TestPurge(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	for _, r := range []store.LockerDeposit{
		{Office: "ums", ID: "old", Name: residentName, Contact: residentMail, CreatedAt: now.Add(-60 * 24 * time.Hour), PurgeAfter: now.Add(-time.Minute)},
		{Office: "ums", ID: "new", Name: residentName, Contact: residentMail, CreatedAt: now, PurgeAfter: now.Add(time.Hour)},
	} {
		if err := e.db.PutLockerDeposit(r); err != nil {
			t.Fatal(err)
		}
	}
	e.run(t)
	waitfor.Until(t, "the old deposit purged", 5*time.Second, func() bool {
		_, ok, err := e.db.LockerDeposit("ums", "old")
		return err == nil && !ok
	})
	if _, ok, err := e.db.LockerDeposit("ums", "new"); err != nil || !ok {
		t.Errorf("the deposit still in its time is gone: %v", err)
	}
}

type parsedMail = mailread.Mail

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	m, err := mailread.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func decodeQR(t *testing.T, data []byte) string {
	t.Helper()
	text, err := mailread.QR(data)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// A document put in within its reminder's time (a locker reminding 48 h
// ahead of a 48-hour deadline) gets the ready notice and no reminder on
// top of it.
func TestNoReminderWithinTheReadyNotice(t *testing.T) {
	e := newEnv(t)
	e.office.Lockers[0].RemindBefore = 48 * time.Hour
	e.run(t)
	e.deposit(t, "d1", "passport", "pl")
	waitfor.Until(t, "the ready e-mail", 10*time.Second, func() bool { return len(e.mailsTo(t, residentMail)) == 1 })
	e.clock.Set(e.clock.Now().Add(47 * time.Hour))
	e.svc.Sweep(context.Background())
	if n := e.outboxCount(t); n != 1 {
		t.Errorf("%d messages in the outbox, want the ready e-mail alone", n)
	}
}

// A server started after a deadline expires the document in its first
// sweep, before anything follows the office's events: the admins are
// alerted all the same (the end-to-end test's restart found them not).
func TestExpiredAtStartAlerts(t *testing.T) {
	e := newEnv(t)
	e.deposit(t, "d1", "passport", "pl")
	e.clock.Set(e.clock.Now().Add(30 * 24 * time.Hour))
	e.svc.Sweep(context.Background())
	if st := e.depositState(t, "d1"); st != queue.DepositStateExpired {
		t.Fatalf("deposit %s, want expired", st)
	}
	waitfor.Until(t, "the admin's alert at the SMTP server", 10*time.Second, func() bool { return len(e.mailsTo(t, adminMail)) == 1 })
}
