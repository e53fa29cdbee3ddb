package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// reserve reserves a compartment of the example office's locker as the
// staff pages would, returning the deposit's compartment.
func (e *env) reserve(id, document string) string {
	e.t.Helper()
	_, clerk, err := queue.NewLockerCode(nil, rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	_, pickup, err := queue.NewLockerCode(nil, rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	res := e.actors[e.office.ID].Do(context.Background(), "clerk:anna", queue.ReserveCompartment{
		Deposit: id, Locker: "parter-b", Document: document, Size: "S", ClerkCode: clerk, PickupCode: pickup,
	})
	if res.Err != nil {
		e.t.Fatal(res.Err)
	}
	return res.Decision.Compartment
}

func (e *env) deposit(id string) queue.Deposit {
	e.t.Helper()
	var d queue.Deposit
	if err := e.actors[e.office.ID].Query(context.Background(), func(s *queue.State) {
		if found := s.Deposits[id]; found != nil {
			d = *found
		}
	}); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func lockerReport(id, kind, deposit, compartment string, at time.Time, offline bool) string {
	return fmt.Sprintf(`{"id":%q,"kind":%q,"deposit":%q,"compartment":%q,"at":%q,"offline":%v}`,
		id, kind, deposit, compartment, at.Format(time.RFC3339), offline)
}

// Only a locker device of the office reports for its lockers; everyone
// else is refused before anything is read.
func TestLockerReportsRoles(t *testing.T) {
	e := newEnv(t, actor.Options{})
	comp := e.reserve("dep", "certificate")
	body := lockerReport("j-1", "stored", "dep", comp, e.clock.Now(), false)
	reports := e.path("/lockers/parter-b/reports")
	tests := []struct {
		role   string
		url    string
		status int
	}{
		{"", reports, http.StatusUnauthorized},
		{"ticket", reports, http.StatusForbidden},
		{"hall", reports, http.StatusForbidden},
		{"clerk", reports, http.StatusForbidden},
		{"admin", reports, http.StatusForbidden},
		{"other-locker", reports, http.StatusForbidden},
		{"locker", e.path("/lockers/roof/reports"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.role+" "+tt.url[strings.LastIndex(tt.url, "lockers"):], func(t *testing.T) {
			if got, data := e.call(tt.role, "POST", tt.url, body); got != tt.status {
				t.Errorf("%d %s, want %d", got, data, tt.status)
			}
		})
	}
	if d := e.deposit("dep"); d.State != queue.DepositStateReserved {
		t.Errorf("a refused report moved the deposit to %s", d.State)
	}
}

// The locker reports a deposit's life; a report sent again (the answer
// was lost) is answered the same and changes nothing.
func TestLockerReportsMoveDeposits(t *testing.T) {
	e := newEnv(t, actor.Options{})
	comp := e.reserve("dep", "certificate")
	reports := e.path("/lockers/parter-b/reports")
	closed := e.clock.Now().Add(-time.Minute)
	first := decode[protocol.LockerReportAnswer](t, e.must(200, "locker", "POST", reports, lockerReport("j-1", "stored", "dep", comp, closed, false)))
	if !first.Applied || first.Seq != e.seq() {
		t.Fatalf("stored: %+v at seq %d", first, e.seq())
	}
	d := e.deposit("dep")
	if d.State != queue.DepositStateStored || !d.StoredAt.Equal(closed) || !d.Deadline.Equal(closed.Add(7*24*time.Hour)) {
		t.Fatalf("after the report: %+v", d)
	}
	seq := e.seq()
	again := decode[protocol.LockerReportAnswer](t, e.must(200, "locker", "POST", reports, lockerReport("j-1", "stored", "dep", comp, closed, false)))
	if again != first || e.seq() != seq {
		t.Errorf("the retry answered %+v (first %+v), seq %d -> %d", again, first, seq, e.seq())
	}
	e.clock.Set(e.clock.Now().Add(2 * time.Hour))
	picked := e.clock.Now().Add(-time.Hour)
	got := decode[protocol.LockerReportAnswer](t, e.must(200, "locker", "POST", reports, lockerReport("j-2", "picked-up", "dep", comp, picked, true)))
	if d := e.deposit("dep"); !got.Applied || d.State != queue.DepositStatePickedUp || !d.Offline || !d.EndedAt.Equal(picked) {
		t.Errorf("offline pickup: %+v, deposit %+v", got, d)
	}
	// A second copy under another id (the device lost its journal's
	// acknowledgement) is no second pickup either.
	seq = e.seq()
	if got := decode[protocol.LockerReportAnswer](t, e.must(200, "locker", "POST", reports, lockerReport("j-3", "picked-up", "dep", comp, picked, true))); !got.Applied || e.seq() != seq {
		t.Errorf("a second pickup: %+v, seq %d -> %d", got, seq, e.seq())
	}
}

func TestLockerReportsRefused(t *testing.T) {
	e := newEnv(t, actor.Options{})
	comp := e.reserve("dep", "certificate")
	other := "12"
	if comp == other {
		other = "11"
	}
	reports := e.path("/lockers/parter-b/reports")
	now := e.clock.Now()
	tests := []struct {
		name   string
		body   string
		status int
		words  string
	}{
		{"no id", lockerReport("", "stored", "dep", comp, now, false), 400, "id:"},
		{"an unknown kind", lockerReport("j", "exploded", "dep", comp, now, false), 400, "kind:"},
		{"no time", strings.Replace(lockerReport("j", "stored", "dep", comp, now, false), now.Format(time.RFC3339), "0001-01-01T00:00:00Z", 1), 400, "at:"},
		{"no such compartment", lockerReport("j", "stored", "dep", "99", now, false), 400, "compartment:"},
		{"a stored report without its deposit", lockerReport("j", "stored", "", comp, now, false), 400, "deposit:"},
		{"the deposit is in another compartment", lockerReport("j", "stored", "dep", other, now, false), 409, "not in compartment"},
		{"no such deposit", lockerReport("j", "stored", "nope", comp, now, false), 404, "no deposit"},
		{"picked up before it was stored", lockerReport("j", "picked-up", "dep", comp, now, false), 409, "only a stored deposit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, data := e.call("locker", "POST", reports, tt.body)
			if got != tt.status || !strings.Contains(string(data), tt.words) {
				t.Errorf("%d %s, want %d saying %q", got, data, tt.status, tt.words)
			}
		})
	}
	if d := e.deposit("dep"); d.State != queue.DepositStateReserved {
		t.Errorf("refused reports moved the deposit to %s", d.State)
	}
}

// A door's trouble is acknowledged, so the device stops sending it, and
// moves no deposit.
func TestLockerFaultReports(t *testing.T) {
	e := newEnv(t, actor.Options{})
	seq := e.seq()
	for i, kind := range []string{"lock-failed", "door-forced", "door-left-open", "door-closed"} {
		got := decode[protocol.LockerReportAnswer](t, e.must(200, "locker", "POST", e.path("/lockers/parter-b/reports"), lockerReport(fmt.Sprintf("f-%d", i), kind, "", "3", e.clock.Now(), false)))
		if got.Applied {
			t.Errorf("%s applied", kind)
		}
	}
	if e.seq() != seq {
		t.Errorf("door troubles made events: seq %d -> %d", seq, e.seq())
	}
}

// secondFactorStandIn is the notices' sender of one-time codes as far as
// the routes see it: it keeps one code per deposit and says where it
// went.
type secondFactorStandIn struct {
	mu    sync.Mutex
	codes map[string]string
	fail  bool
}

func (f *secondFactorStandIn) Send(_ context.Context, office, deposit string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return "", fmt.Errorf("the SMS gateway refused +48 600 100 789")
	}
	f.codes[office+"/"+deposit] = "482913"
	return "+48 *** *** 789", nil
}

func (f *secondFactorStandIn) Check(_ context.Context, office, deposit, code string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	want, ok := f.codes[office+"/"+deposit]
	return ok && code == want, nil
}

func TestLockerSecondFactor(t *testing.T) {
	sf := &secondFactorStandIn{codes: map[string]string{}}
	e := newEnvWith(t, actor.Options{}, func(c *Config) { c.LockerSecondFactor = sf })
	comp := e.reserve("card", "id-card")
	e.reserve("paper", "certificate")
	e.must(200, "locker", "POST", e.path("/lockers/parter-b/reports"), lockerReport("j-1", "stored", "card", comp, e.clock.Now(), false))
	send := e.path("/lockers/parter-b/deposits/card/second-factor")
	check := send + "/check"
	for _, role := range []string{"clerk", "admin", "other-locker", "ticket"} {
		if got, data := e.call(role, "POST", send, "{}"); got != http.StatusForbidden {
			t.Errorf("%s asked for a one-time code: %d %s", role, got, data)
		}
	}
	if got, _ := e.call("locker", "POST", check, `{"code":"482913"}`); got != http.StatusUnprocessableEntity {
		t.Errorf("a code checked before any was sent: %d", got)
	}
	sent := decode[protocol.LockerSecondFactorSent](t, e.must(202, "locker", "POST", send, "{}"))
	if sent.SentTo != "+48 *** *** 789" {
		t.Errorf("sent to %q", sent.SentTo)
	}
	if got, data := e.call("locker", "POST", check, `{"code":"000000"}`); got != http.StatusUnprocessableEntity || !strings.Contains(string(data), `"field":"code"`) {
		t.Errorf("a wrong code: %d %s", got, data)
	}
	if ok := decode[protocol.LockerSecondFactorResult](t, e.must(200, "locker", "POST", check, `{"code":"482913"}`)); !ok.OK {
		t.Error("the right code is not ok")
	}
	tests := []struct {
		name, url string
		status    int
	}{
		{"a document that needs none", e.path("/lockers/parter-b/deposits/paper/second-factor"), http.StatusConflict},
		{"no such deposit", e.path("/lockers/parter-b/deposits/nope/second-factor"), http.StatusNotFound},
	}
	for _, tt := range tests {
		if got, data := e.call("locker", "POST", tt.url, "{}"); got != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, got, data, tt.status)
		}
	}
	if got, _ := e.call("locker", "POST", check, `{"code":""}`); got != http.StatusBadRequest {
		t.Errorf("an empty code: %d", got)
	}
	sf.mu.Lock()
	sf.fail = true
	sf.mu.Unlock()
	if got, data := e.call("locker", "POST", send, "{}"); got != http.StatusServiceUnavailable || strings.Contains(string(data), "600") {
		t.Errorf("a failed send: %d %s (the phone must not be in it)", got, data)
	}
}

// A reserved deposit has no document to guard yet, and a server without
// a sender of codes says so.
func TestLockerSecondFactorNotYet(t *testing.T) {
	e := newEnv(t, actor.Options{})
	e.reserve("card", "id-card")
	if got, _ := e.call("locker", "POST", e.path("/lockers/parter-b/deposits/card/second-factor"), "{}"); got != http.StatusServiceUnavailable {
		t.Errorf("without a sender: %d", got)
	}
	sf := &secondFactorStandIn{codes: map[string]string{}}
	e = newEnvWith(t, actor.Options{}, func(c *Config) { c.LockerSecondFactor = sf })
	e.reserve("card", "id-card")
	if got, data := e.call("locker", "POST", e.path("/lockers/parter-b/deposits/card/second-factor"), "{}"); got != http.StatusConflict || !strings.Contains(string(data), "reserved") {
		t.Errorf("a reserved deposit: %d %s", got, data)
	}
}
