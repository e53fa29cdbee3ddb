package outbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/smtpsink"
	"github.com/numerek/numerek/internal/testclock"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/notice"
)

// alertHookStandIn is an office's webhook: it fails its first call with
// 503, then keeps what it is sent.
type alertHookStandIn struct {
	mu     sync.Mutex
	failed bool
	got    []AlertMessage
}

func (s *alertHookStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.failed {
		s.failed = true
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m AlertMessage
	if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &m) != nil {
		http.Error(w, "not an alert", http.StatusBadRequest)
		return
	}
	s.got = append(s.got, m)
}

func (s *alertHookStandIn) messages() []AlertMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AlertMessage(nil), s.got...)
}

// A kiosk's paper running low reaches the office's admin by e-mail (a
// real SMTP server) in the office's first language and the office's
// webhook (after a retry), once it has lasted a minute; when the roll is
// changed, both are told it cleared, with the note.
func TestDeviceAlertReachesAdminsAndClears(t *testing.T) {
	sink := smtpsink.Start(t, "127.0.0.1:0", smtpsink.Options{})
	hook := &alertHookStandIn{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	c := testComposer()
	ob := openTest(t, t.TempDir(), Options{Email: NewMailer(emailConfig(sink.Port()), c), Webhook: NewAlertHook(c, nil)})
	defer ob.Close()

	start := time.Date(2026, 11, 23, 9, 40, 0, 0, time.UTC) // 10:40 in Warsaw
	clock := testclock.New(start)
	h, err := fleet.NewHealth(fleet.HealthOptions{Clock: clock.Now, Alerts: fleet.Alerts{
		Sender: ob,
		Route: func(office string) fleet.AlertRoute {
			return fleet.AlertRoute{To: []string{"admin@example.pl", hookSrv.URL + "/alerts"}, Lang: "pl"}
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	kiosk := fleet.Reporter{ID: "tok123", Office: "ums", Role: "ticket"}
	report := protocol.HealthReport{
		Version: "1.4.0", Name: "Kiosk przy wejściu", DiskFreeBytes: 8 << 30, DiskSizeBytes: 16 << 30,
		Screen:  protocol.ScreenHealth{Drawing: true},
		Printer: &protocol.PrinterHealth{URI: "usb:///dev/usb/lp0", Online: true, PaperNearEnd: true},
	}
	if err := h.Ingest(ctx, kiosk, report); err != nil {
		t.Fatal(err)
	}
	clock.Set(start.Add(61 * time.Second))
	if err := h.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Set(start.Add(2 * time.Minute))
	report.Printer.PaperNearEnd = false
	if err := h.Ingest(ctx, kiosk, report); err != nil {
		t.Fatal(err)
	}

	waitfor.Until(t, "two e-mails to the admin", 10*time.Second, func() bool { return len(sink.Messages()) == 2 })
	var subjects, texts []string
	for _, m := range sink.Messages() {
		if len(m.To) != 1 || m.To[0] != "admin@example.pl" {
			t.Errorf("an alert went to %v", m.To)
		}
		pm := parseMail(t, m.Data)
		subjects = append(subjects, pm.Subject)
		texts = append(texts, pm.Text)
	}
	wantSubjects := map[string]bool{"Kiosk przy wejściu: kończy się papier": true, "Kiosk przy wejściu: kończy się papier – usunięte": true}
	for _, s := range subjects {
		if !wantSubjects[s] {
			t.Errorf("subject %q, want one of %v", s, wantSubjects)
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"ma problem od 2026-11-23 10:40: kończy się papier.",
		"kończy się papier: usunięte o 10:42, rolkę wymieniono.",
		"https://kolejka.example.pl/staff/fleet/tok123",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the e-mails do not say %q:\n%s", want, all)
		}
	}

	waitfor.Until(t, "the webhook's two alerts after a 503", 10*time.Second, func() bool { return len(hook.messages()) == 2 })
	got := hook.messages()
	byEvent := map[string]AlertMessage{}
	for _, m := range got {
		byEvent[m.Event] = m
	}
	raised, cleared := byEvent[string(notice.DeviceAlert)], byEvent[string(notice.DeviceAlertCleared)]
	if raised.Fault != fleet.FaultPaperNearEnd || raised.DeviceID != "tok123" || raised.Office != "ums" || !raised.Since.Equal(start) {
		t.Errorf("raised: %+v", raised)
	}
	if cleared.Note != "the roll was changed" || !cleared.Cleared.Equal(start.Add(2*time.Minute)) ||
		cleared.Text != "Kiosk przy wejściu: kończy się papier – usunięte. kończy się papier: usunięte o 10:42, rolkę wymieniono." {
		t.Errorf("cleared: %+v", cleared)
	}

	// The outbox's list for the staff shows the webhook's host only.
	entries, err := ob.Recent(10, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Channel == Hook && (strings.Contains(e.Contact, "/alerts") || !strings.HasPrefix(e.Contact, "http://127.0.0.1")) {
			t.Errorf("the webhook's address is listed as %q", e.Contact)
		}
	}
}

// A webhook that refuses an alert (4xx) is not asked again.
func TestAlertHookRefusalIsPermanent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	}))
	defer srv.Close()
	n := notice.Notice{Kind: notice.DeviceAlert, Office: "ums", Lang: "en", Contact: srv.URL,
		Device: &notice.DeviceFault{DeviceID: "d", Device: "Hall", Fault: fleet.FaultOffline, Since: time.Now()}}
	if err := NewAlertHook(testComposer(), nil).Deliver(context.Background(), n); !IsPermanent(err) {
		t.Errorf("410: %v, want a permanent error", err)
	}
}
