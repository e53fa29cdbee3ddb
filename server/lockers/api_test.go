package lockers

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/api/apitest"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/store"
)

// The locker's side through the server's API: the locker reports the
// door closed on a reserved deposit, and the resident's ready e-mail
// goes out; at pickup the locker asks for the second factor, the
// resident's phone gets the code, and the locker's check of what was
// typed is refused when wrong and accepted when right.
func TestThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	e.run(t)
	tokens := store.NewTokenStore(filepath.Join(t.TempDir(), "tokens.db"))
	secret, _, err := tokens.Create(store.Token{Office: "ums", Role: string(server.RoleLocker), Label: "hall"})
	if err != nil {
		t.Fatal(err)
	}
	// Every exchange is checked against the API's document.
	monitor := apitest.NewMonitor(t)
	srv := httptest.NewServer(monitor.Wrap(server.New(server.Config{Offices: []*actor.Actor{e.actor}, Tokens: tokens, Clock: e.clock.Now,
		Logger: e.logger, LockerSecondFactor: e.svc})))
	defer srv.Close()
	post := func(path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(answer)
	}

	// The desk's part: the compartment reserved, the resident kept.
	_, clerkHash, _ := queue.NewLockerCode(nil, rand.Reader)
	pickup, pickupHash, _ := queue.NewLockerCode(nil, rand.Reader)
	res := e.actor.Do(context.Background(), "clerk:anna", queue.ReserveCompartment{Deposit: "d1", Locker: "hall", Document: "id-card", Size: "M",
		ClerkCode: clerkHash, PickupCode: pickupHash})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	now := e.clock.Now()
	if err := e.db.PutLockerDeposit(store.LockerDeposit{Office: "ums", ID: "d1", Name: residentName, Contact: residentMail, Lang: "pl",
		Phone: residentPhone, PickupCode: pickup, CreatedAt: now, PurgeAfter: now.Add(80 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	report, _ := json.Marshal(protocol.LockerReport{ID: "j1", Kind: protocol.LockerReportStored, Deposit: "d1", Compartment: res.Decision.Compartment, At: now})
	base := "/api/v1/offices/ums/lockers/hall"
	if status, body := post(base+"/reports", string(report)); status != http.StatusOK || !strings.Contains(body, `"applied":true`) {
		t.Fatalf("the stored report: %d %s", status, body)
	}
	waitfor.Until(t, "the ready e-mail", 10*time.Second, func() bool { return len(e.mailsTo(t, residentMail)) == 1 })
	if got := decodeQR(t, e.mailsTo(t, residentMail)[0].Parts["image/png"]); got != pickup {
		t.Errorf("the QR code reads %q, want the pickup code", got)
	}

	factor := base + "/deposits/d1/second-factor"
	status, body := post(factor, "{}")
	if status != http.StatusAccepted || !strings.Contains(body, `"sent_to":"+48 *** *** 789"`) {
		t.Fatalf("asking for the second factor: %d %s", status, body)
	}
	waitfor.Until(t, "the one-time code at the SMS gateway", 10*time.Second, func() bool { return len(e.sms.messages()) == 1 })
	code := regexp.MustCompile(`^\d{6}`).FindString(e.sms.messages()[0].Text)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for _, c := range []struct {
		typed  string
		status int
	}{{wrong, http.StatusUnprocessableEntity}, {code, http.StatusOK}, {code, http.StatusUnprocessableEntity}} {
		if status, body := post(factor+"/check", `{"code":"`+c.typed+`"}`); status != c.status {
			t.Errorf("checking %s: %d %s, want %d", c.typed, status, body, c.status)
		}
	}
	e.checkNoPersonalData(t, pickup, code)
}
