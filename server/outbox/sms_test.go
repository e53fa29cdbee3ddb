package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/server/notice"
)

// smsapiStandIn speaks SMSAPI.pl's documented sms.do: a form POST with a
// bearer token and to, message, from, encoding=utf-8, format=json; it
// answers {"count":1,"list":[...]} or {"error":N,"message":"..."}.
type smsapiStandIn struct {
	token string
	mu    sync.Mutex
	sent  []map[string]string
	// failNext answers this many requests with internal error 666.
	failNext int
}

func (s *smsapiStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	answerError := func(status, code int, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": code, "message": msg})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/sms.do" {
		answerError(http.StatusNotFound, 8, "Error in request")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		answerError(http.StatusUnauthorized, 101, "Authorization failed")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		answerError(http.StatusBadRequest, 8, "Error in request")
		return
	}
	if err := r.ParseForm(); err != nil {
		answerError(http.StatusBadRequest, 8, "Error in request")
		return
	}
	p := map[string]string{}
	for k := range r.PostForm {
		p[k] = r.PostForm.Get(k)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		answerError(http.StatusInternalServerError, 666, "Internal error")
		return
	}
	if p["format"] != "json" || p["encoding"] != "utf-8" || p["message"] == "" {
		answerError(http.StatusBadRequest, 8, "Error in request")
		return
	}
	if len(p["to"]) != 11 || !strings.HasPrefix(p["to"], "48") {
		answerError(http.StatusOK, 13, "No correct phone numbers")
		return
	}
	s.sent = append(s.sent, p)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"count": 1,
		"list": []map[string]any{{
			"id": fmt.Sprintf("6F1%07d", len(s.sent)), "points": 0.16, "number": p["to"], "date_sent": time.Now().Unix(),
			"submitted_number": p["to"], "status": "QUEUE", "error": nil, "idx": nil, "parts": 1,
		}},
	})
}

func (s *smsapiStandIn) messages() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]string(nil), s.sent...)
}

func TestSMSAPI(t *testing.T) {
	gw := &smsapiStandIn{token: "oauth-token-123", failNext: 1}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	cfg := officeconfig.SMS{Driver: officeconfig.SMSDriverSMSAPI, URL: srv.URL + "/sms.do", Token: "oauth-token-123", Sender: "UMStarach", CountryCode: "48"}
	texter, err := NewTexter(cfg, testComposer(), srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	logs := &testLog{}
	ob := openTest(t, t.TempDir(), Options{SMS: texter, Log: logs.logger()})
	defer ob.Close()
	n := bookedNotice("pl", "500 600 123")
	n.Kind, n.Key = notice.Reminder, "reminder/1"
	if err := ob.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "the SMS at the gateway after its internal error", 5*time.Second, func() bool { return len(gw.messages()) == 1 })
	got := gw.messages()[0]
	want := "Przypomnienie: wizyta jutro o 10:30, kod K7M2-X9P4. https://kolejka.example.pl/booking/ums/abc/mac"
	if got["to"] != "48500600123" || got["from"] != "UMStarach" || got["message"] != want {
		t.Errorf("gateway got %v, want to=48500600123 from=UMStarach message=%q", got, want)
	}
	waitfor.Until(t, "marked sent after 2 attempts", 5*time.Second, func() bool {
		e := entryOf(t, ob)
		return e.State == Sent && e.Attempts == 2
	})

	// A wrong token: SMSAPI's error 101 fails the message at once, and
	// the staff see why.
	cfg.Token = "revoked"
	texter, _ = NewTexter(cfg, testComposer(), srv.Client())
	ob2 := openTest(t, t.TempDir(), Options{SMS: texter, Log: logs.logger()})
	defer ob2.Close()
	if err := ob2.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "failed on a wrong token", 5*time.Second, func() bool { return entryOf(t, ob2).State == Failed })
	if e := entryOf(t, ob2); !strings.Contains(e.LastError, "SMSAPI error 101: Authorization failed") || e.Attempts != 1 {
		t.Errorf("entry %+v", e)
	}
	assertNoPersonalData(t, logs.String(), "500 600 123", "500600123", "Jan Kowalski", "oauth-token-123")
}

func TestSMSAPIRefusesANumber(t *testing.T) {
	gw := &smsapiStandIn{token: "t"}
	srv := httptest.NewServer(gw)
	defer srv.Close()
	s, _ := NewTexter(officeconfig.SMS{Driver: officeconfig.SMSDriverSMSAPI, URL: srv.URL + "/sms.do", Token: "t", CountryCode: "48"}, testComposer(), nil)
	err := s.Deliver(context.Background(), notice.Notice{Kind: notice.Called, Office: "ums", Lang: "en", Contact: "+370 600 12345", Ticket: "A1", Counter: 3})
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "error 13") {
		t.Errorf("error %v: want SMSAPI's permanent error 13", err)
	}
}

func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []WebhookMessage
	status := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer hook-secret" || r.Header.Get(SignatureHeader) != Sign("hook-secret", body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if status != http.StatusOK {
			w.WriteHeader(status)
			status = http.StatusOK
			return
		}
		var m WebhookMessage
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, m)
	}))
	defer srv.Close()
	texter, err := NewTexter(officeconfig.SMS{Driver: officeconfig.SMSDriverWebhook, URL: srv.URL, Token: "hook-secret", CountryCode: "48"}, testComposer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ob := openTest(t, t.TempDir(), Options{SMS: texter})
	defer ob.Close()
	n := notice.Notice{Kind: notice.Called, Office: "ums", Lang: "uk", Contact: "+48 500 600 123", Ticket: "A012", Counter: 3, Key: "called/A012"}
	if err := ob.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	waitfor.Until(t, "the webhook's message after a 503", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 1
	})
	want := WebhookMessage{To: "+48500600123", Text: "Талон A012: підійдіть до віконця 3.", Lang: "uk", Kind: "called"}
	if got[0] != want {
		t.Errorf("webhook got %+v, want %+v", got[0], want)
	}

	// A wrong secret is refused (401): permanent.
	bad, _ := NewTexter(officeconfig.SMS{Driver: officeconfig.SMSDriverWebhook, URL: srv.URL, Token: "wrong", CountryCode: "48"}, testComposer(), nil)
	if err := bad.Deliver(context.Background(), n); err == nil || !IsPermanent(err) {
		t.Errorf("wrong secret: %v, want a permanent error", err)
	}
}

// Every kind's SMS in every language fits: the ticket's moments in one
// message, a booking's (with its link) in at most three; Polish and
// Lithuanian lose their marks to stay GSM-7.
func TestSMSTextsFit(t *testing.T) {
	c := testComposer()
	link := "https://kolejka.example.pl/booking/cus-starachowice/abcdefghijklmnop/abcdefghijklmnop"
	for _, lang := range []string{"pl", "en", "lt", "ru", "uk"} {
		for _, kind := range []notice.Kind{notice.ConfirmContact, notice.Booked, notice.Rescheduled, notice.Cancelled,
			notice.CancelledByOffice, notice.HoursClosed, notice.Reminder, notice.Called, notice.Recalled, notice.Ahead} {
			n := notice.Notice{Kind: kind, Office: "ums", Lang: lang, Service: "id-card", Booking: "K7M2X9P4", Slot: visit,
				Code: "482913", Ticket: "A012", Counter: 3, Ahead: 5, Reason: "awaria", Links: notice.Links{Manage: link, Confirm: link, Ticket: link}}
			text := c.SMS(n)
			if strings.Contains(text, "{") || strings.Contains(text, "msg.") {
				t.Errorf("%s %s: a placeholder or id is left: %q", lang, kind, text)
			}
			units, gsm := SMSLength(text)
			if (lang == "pl" || lang == "en" || lang == "lt") && !gsm {
				t.Errorf("%s %s is not GSM-7: %q", lang, kind, text)
			}
			limit := 3
			if kind == notice.Called || kind == notice.Recalled || kind == notice.Ahead || kind == notice.Cancelled {
				limit = 1
			}
			if p := SMSParts(text); p > limit {
				t.Errorf("%s %s: %d units in %d messages, want at most %d: %q", lang, kind, units, p, limit, text)
			}
		}
	}
}

func TestSMSLength(t *testing.T) {
	for _, tt := range []struct {
		s     string
		units int
		gsm   bool
		parts int
	}{
		{"Numer A012", 10, true, 1},
		{"cost: 5€", 9, true, 1},
		{strings.Repeat("a", 160), 160, true, 1},
		{strings.Repeat("a", 161), 161, true, 2},
		{"Талон", 5, false, 1},
		{strings.Repeat("ж", 71), 71, false, 2},
		{"zażółć", 6, false, 1},
	} {
		units, gsm := SMSLength(tt.s)
		if units != tt.units || gsm != tt.gsm || SMSParts(tt.s) != tt.parts {
			t.Errorf("%q: %d units gsm=%v %d parts, want %d %v %d", tt.s, units, gsm, SMSParts(tt.s), tt.units, tt.gsm, tt.parts)
		}
	}
	if got := ToGSM("Wizyta przełożona – zażółć"); got != "Wizyta przelozona - zazolc" {
		t.Errorf("ToGSM: %q", got)
	}
}

func TestPhoneNumber(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"500 600 123", "48500600123"},
		{"+48 500-600-123", "48500600123"},
		{"0048500600123", "48500600123"},
		{"+370 600 12345", "37060012345"},
		{"(22) 123 45 67", "48221234567"},
		{"12345", ""},
	} {
		got, err := PhoneNumber(tt.in, "48")
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("PhoneNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzPhoneNumber(f *testing.F) {
	for _, s := range []string{"500 600 123", "+48 500-600-123", "00", "+", "٣٣٣٣٣٣٣٣٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := PhoneNumber(s, "48")
		if err != nil {
			return
		}
		if len(n) < 9 || len(n) > 15 || strings.Trim(n, "0123456789") != "" {
			t.Errorf("PhoneNumber(%q) = %q", s, n)
		}
	})
}

func TestSMSAPIAnswers(t *testing.T) {
	for _, tt := range []struct {
		status    int
		body      string
		ok, retry bool
	}{
		{200, `{"count":1,"list":[{"id":"6F1","points":0.16,"number":"48500600123","status":"QUEUE","error":null}]}`, true, false},
		{200, `{"error":13,"message":"No correct phone numbers"}`, false, false},
		{401, `{"error":101,"message":"Authorization failed"}`, false, false},
		{200, `{"error":103,"message":"Not enough points"}`, false, true},
		{500, `{"error":666,"message":"Internal error"}`, false, true},
		{502, `<html>Bad gateway</html>`, false, true},
		{200, `{"count":0,"list":[]}`, false, true},
		{200, `{"count":1,"list":[{"id":"x","error":13}]}`, false, false},
	} {
		err := smsapiResult(tt.status, []byte(tt.body))
		if (err == nil) != tt.ok || (err != nil && IsPermanent(err) == tt.retry) {
			t.Errorf("%d %s: %v (permanent %v), want ok=%v retry=%v", tt.status, tt.body, err, IsPermanent(err), tt.ok, tt.retry)
		}
	}
}

func FuzzSMSAPIAnswer(f *testing.F) {
	f.Add(200, []byte(`{"count":1,"list":[{"id":"6F1","status":"QUEUE","error":null}]}`))
	f.Add(401, []byte(`{"error":101,"message":"Authorization failed"}`))
	f.Add(200, []byte(`{"count":1,"list":[{"error":13}]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if err := smsapiResult(status, body); err == nil && status/100 != 2 {
			t.Errorf("HTTP %d taken as sent", status)
		}
	})
}
