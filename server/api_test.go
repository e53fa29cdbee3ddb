package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// route is one API route with a request that is valid for a role allowed
// to make it.
type route struct {
	method, path, body string
	allowed            []string
}

var allRoles = []string{"ticket", "counter5", "hall", "clerk", "admin"}

func TestRoleMatrix(t *testing.T) {
	e := newEnv(t, actor.Options{})
	reading := allRoles
	counterActors := []string{"counter5", "clerk", "admin"}
	routes := []route{
		{"GET", "/state", "", reading},
		{"GET", "/config", "", reading},
		{"GET", "/tickets/B001", "", reading},
		{"POST", "/tickets", `{"service":"child800","lang":"pl"}`, []string{"ticket", "clerk", "admin"}},
		{"POST", "/tickets/B002/transfer", `{"to_service":"documents"}`, []string{"clerk", "admin"}},
		{"POST", "/tickets/B003/cancel", "", []string{"clerk", "admin"}},
		{"POST", "/counters/5/open", "", counterActors},
		{"POST", "/counters/5/next", "", counterActors},
		{"POST", "/counters/5/recall", "", counterActors},
		{"POST", "/counters/5/start", "", counterActors},
		{"POST", "/counters/5/transfer", `{"to_counter":6}`, counterActors},
		{"POST", "/counters/5/next", "", counterActors},
		{"POST", "/counters/5/park", "", counterActors},
		{"POST", "/counters/5/call", `{"ticket":"B001"}`, counterActors},
		{"POST", "/counters/5/no-show", "", counterActors},
		{"POST", "/counters/5/finish", "", counterActors},
		{"POST", "/counters/5/rate", `{"rating":"good"}`, counterActors},
		{"POST", "/counters/5/pause", "", counterActors},
		{"POST", "/counters/5/close", "", counterActors},
		{"POST", "/counters/4/open", "", []string{"clerk", "admin"}},
		{"POST", "/leases", `{"service":"child800","count":5}`, []string{"ticket"}},
		{"POST", "/leased-tickets", `{"request_id":"x","service":"child800","number":1,"issued_at":"2026-11-23T08:00:00Z","lang":"pl"}`, []string{"ticket"}},
		{"POST", "/withdrawals", `{"request_id":"w"}`, []string{"ticket"}},
		{"POST", "/faults", `{"fault":"paper-out"}`, []string{"ticket", "counter5", "hall"}},
		{"POST", "/checkins", `{"code":"ABCD2345","lang":"pl"}`, []string{"ticket", "clerk", "admin"}},
	}
	// A few tickets so the moves have something to act on.
	for range 6 {
		e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), `{"service":"child800","lang":"pl"}`)
	}
	for _, rt := range routes {
		for _, role := range allRoles {
			allowed := false
			for _, a := range rt.allowed {
				allowed = allowed || a == role
			}
			before := e.seq()
			status, body := e.call(role, rt.method, e.path(rt.path), rt.body)
			switch {
			case allowed && (status == http.StatusUnauthorized || status == http.StatusForbidden):
				t.Errorf("%s %s as %s: %d %s, want it allowed", rt.method, rt.path, role, status, body)
			case !allowed && status != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d %s, want 403", rt.method, rt.path, role, status, body)
			case !allowed && e.seq() != before:
				t.Errorf("%s %s as %s was refused but changed the state", rt.method, rt.path, role)
			}
		}
		// No token, a wrong token, and another office's token never pass.
		for _, who := range []string{"", "nmk_wrong", "other-office"} {
			before := e.seq()
			status, _ := e.call(who, rt.method, e.path(rt.path), rt.body)
			want := http.StatusUnauthorized
			if who == "other-office" {
				want = http.StatusForbidden
			}
			if who == "nmk_wrong" && status == http.StatusTooManyRequests {
				want = status // guessing is throttled; see TestWrongTokensThrottled
			}
			if status != want || e.seq() != before {
				t.Errorf("%s %s with token %q: %d, want %d and no change", rt.method, rt.path, who, status, want)
			}
		}
	}
	// Listing offices shows only the token's own.
	list := decode[protocol.OfficesResponse](t, e.must(200, "hall", "GET", e.url+"/api/v1/offices", ""))
	if len(list.Offices) != 1 || list.Offices[0].ID != e.office.ID {
		t.Errorf("offices for a hall token: %+v", list.Offices)
	}
	e.must(http.StatusUnauthorized, "", "GET", e.url+"/api/v1/offices", "")
	// Every token may ask what it is; a kiosk learns its device name.
	who := decode[protocol.WhoAmI](t, e.must(200, "ticket", "GET", e.url+"/api/v1/whoami", ""))
	if who.Role != "ticket" || who.Device != "kiosk-lobby" || who.Office != e.office.ID {
		t.Errorf("whoami for the kiosk: %+v", who)
	}
	e.must(http.StatusUnauthorized, "", "GET", e.url+"/api/v1/whoami", "")
	e.must(http.StatusOK, "", "GET", e.url+"/healthz", "")
}

func TestIssueIdempotentAndPlaced(t *testing.T) {
	e := newEnv(t, actor.Options{})
	e.must(http.StatusOK, "admin", "POST", e.path("/counters/1/open"), "")
	body := `{"service":"family","lang":"uk","priority":false,"request_id":"kiosk-1-0001"}`
	first := decode[protocol.TicketResponse](t, e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), body))
	again := decode[protocol.TicketResponse](t, e.must(http.StatusOK, "ticket", "POST", e.path("/tickets"), body))
	if first.Ticket.ID != again.Ticket.ID || first.Ticket.Number != "A001" || first.Ticket.Lang != "uk" {
		t.Errorf("first %+v, again %+v", first.Ticket, again.Ticket)
	}
	second := decode[protocol.TicketResponse](t, e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), `{"service":"family","lang":"pl","request_id":"kiosk-1-0002"}`))
	if second.Ticket.Number != "A002" || second.Ticket.Ahead != 1 || second.Ticket.EstimatedWaitS <= 0 {
		t.Errorf("second ticket %+v: want A002, one ahead, a positive wait", second.Ticket)
	}
	// The same request id from another kiosk is another request.
	e.tokens["kiosk2"] = e.tokens["clerk"]
	other := decode[protocol.TicketResponse](t, e.must(http.StatusCreated, "kiosk2", "POST", e.path("/tickets"), body))
	if other.Ticket.ID == first.Ticket.ID {
		t.Errorf("another device's request id matched kiosk 1's")
	}
}

func TestBadInputSaysWhatAndWhere(t *testing.T) {
	e := newEnv(t, actor.Options{})
	e.must(http.StatusOK, "admin", "POST", e.path("/counters/1/open"), "")
	start := e.seq()
	tests := []struct {
		path, body string
		status     int
		field      string
		words      string
	}{
		{"/tickets", `{"service":"family","lang":"pl"`, 400, "", "ends too early"},
		{"/tickets", `{"service":"family","lang":7}`, 400, "lang", "must be a string"},
		{"/tickets", `{"service":"family","lang":"pl","colour":"red"}`, 400, "colour", "unknown field"},
		{"/tickets", `{"lang":"pl"}`, 400, "service", "missing"},
		{"/tickets", `{"service":"family","lang":"de"}`, 400, "lang", "not one of"},
		{"/tickets", `{"service":"family","lang":"pl","channel":"booking"}`, 400, "channel", "kiosk issues only"},
		{"/tickets", `{"service":"taxes","lang":"pl"}`, 404, "", `no service "taxes"`},
		{"/tickets", `[1,2]`, 400, "", "JSON object"},
		{"/tickets", `{"service":"family","lang":"pl"} {}`, 400, "", "more than one"},
		{"/tickets", `{"service":"` + strings.Repeat("x", MaxBody) + `"}`, 400, "", "larger than"},
		{"/counters/77/next", ``, 404, "counter", "no counter 77"},
		{"/counters/x/next", ``, 400, "counter", "not a number"},
		{"/counters/5/dance", ``, 404, "", `no counter action "dance"`},
	}
	for _, tt := range tests {
		role := "ticket"
		if strings.HasPrefix(tt.path, "/counters") {
			role = "admin"
		}
		status, data := e.call(role, "POST", e.path(tt.path), tt.body)
		resp := decode[protocol.ErrorResponse](t, data)
		if status != tt.status || resp.Field != tt.field || !strings.Contains(resp.Error, tt.words) {
			t.Errorf("%s %.60s: %d %+v; want %d, field %q, saying %q", tt.path, tt.body, status, resp, tt.status, tt.field, tt.words)
		}
	}
	e.must(http.StatusNotFound, "admin", "GET", e.url+"/api/v1/offices/nowhere/state", "")
	if e.seq() != start {
		t.Errorf("bad requests changed the state from seq %d to %d", start, e.seq())
	}
}

func TestRefusalInResidentsLanguage(t *testing.T) {
	e := newEnv(t, actor.Options{})
	e.clock.Set(time.Date(2026, 11, 23, 15, 20, 0, 0, e.office.Location))
	status, data := e.call("ticket", "POST", e.path("/tickets"), `{"service":"family","lang":"uk"}`)
	resp := decode[protocol.ErrorResponse](t, data)
	if status != http.StatusConflict || resp.Reason != "cut-off" || !strings.Contains(resp.Message, "о 15:30") || !strings.Contains(resp.Message, "завтра о 07:30") {
		t.Errorf("cut-off refusal: %d %+v", status, resp)
	}
	if !resp.Until.Equal(time.Date(2026, 11, 24, 7, 30, 0, 0, e.office.Location)) {
		t.Errorf("until %v", resp.Until)
	}
}

func TestCounterFlowOverAPI(t *testing.T) {
	e := newEnv(t, actor.Options{})
	e.must(http.StatusConflict, "counter5", "POST", e.path("/counters/5/next"), "")
	e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/open"), "")
	e.must(http.StatusNoContent, "counter5", "POST", e.path("/counters/5/next"), "")
	e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), `{"service":"documents","lang":"pl"}`)
	called := decode[protocol.TicketResponse](t, e.must(200, "counter5", "POST", e.path("/counters/5/next"), ""))
	if called.Ticket.Number != "D001" || called.Ticket.State != queue.Called || called.Ticket.Counter != 5 {
		t.Errorf("called %+v", called.Ticket)
	}
	e.must(200, "counter5", "POST", e.path("/counters/5/start"), "")
	done := decode[protocol.TicketResponse](t, e.must(200, "counter5", "POST", e.path("/counters/5/finish"), ""))
	if done.Ticket.State != queue.Done {
		t.Errorf("finished %+v", done.Ticket)
	}
	e.must(200, "counter5", "POST", e.path("/counters/5/rate"), `{"rating":"good"}`)
	c := decode[protocol.CounterResponse](t, e.must(200, "counter5", "POST", e.path("/counters/5/pause"), ""))
	if c.Counter.Status != queue.CounterPausedStatus {
		t.Errorf("paused counter %+v", c.Counter)
	}
	e.must(http.StatusConflict, "counter5", "POST", e.path("/counters/5/next"), "")
}

// Finish records the service's outcomes from an optional body; an
// unknown one is refused and the ticket stays at the counter; a finish is
// undone within seconds and the ticket is back.
func TestFinishOutcomesAndUndoOverAPI(t *testing.T) {
	e := newEnv(t, actor.Options{})
	e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/open"), "")
	e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), `{"service":"documents","lang":"pl"}`)
	e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/next"), "")
	refused := decode[protocol.ErrorResponse](t, e.must(http.StatusBadRequest, "counter5", "POST", e.path("/counters/5/finish"), `{"outcomes":["certificate","wedding"]}`))
	if refused.Code != "bad-outcome" || !strings.Contains(refused.Error, `"wedding"`) {
		t.Errorf("unknown outcome: %+v", refused)
	}
	done := decode[protocol.TicketResponse](t, e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/finish"), `{"outcomes":["certificate"]}`))
	if done.Ticket.State != queue.Done {
		t.Fatalf("finished %+v", done.Ticket)
	}
	back := decode[protocol.TicketResponse](t, e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/undo"), ""))
	if back.Ticket.State != queue.Called || back.Ticket.Counter != 5 || back.Ticket.Number != done.Ticket.Number {
		t.Errorf("undone: %+v", back.Ticket)
	}
	e.must(http.StatusConflict, "counter5", "POST", e.path("/counters/5/undo"), "")
	e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/finish"), "")
	e.clock.Set(e.clock.Now().Add(queue.UndoWindow + time.Second))
	e.must(http.StatusConflict, "counter5", "POST", e.path("/counters/5/undo"), "")
	e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/close"), "")
	e.must(http.StatusNoContent, "counter5", "POST", e.path("/counters/5/undo"), "")

	// The stream carries both, each as its schema says (the monitor
	// checks), and a snapshot carries the counter's last end.
	msgs, cancel := readStream(t, e, "1", int(e.actors[e.office.ID].Seq())-1)
	cancel()
	var kinds []string
	for _, m := range msgs {
		kinds = append(kinds, m.Event)
	}
	if !slices.Contains(kinds, "Undone") || !slices.Contains(kinds, "TicketFinished") {
		t.Errorf("the stream carried %v", kinds)
	}
	_, cancel = readStream(t, e, "", 1)
	cancel()
}

// readStream collects events from an open stream until it has n of them.
func readStream(t *testing.T, e *env, cursor string, n int) ([]sse.Message, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.path("/events"), nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["hall"])
	if cursor != "" {
		req.Header.Set("Last-Event-ID", cursor)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	got := make(chan sse.Message, 1000)
	go func() {
		defer resp.Body.Close()
		_ = sse.Read(bufio.NewReader(resp.Body), func(m sse.Message) error {
			got <- m
			return nil
		})
		close(got)
	}()
	var out []sse.Message
	timeout := time.After(5 * time.Second)
	for len(out) < n {
		select {
		case m, ok := <-got:
			if !ok {
				t.Fatalf("stream ended after %d of %d events", len(out), n)
			}
			out = append(out, m)
		case <-timeout:
			t.Fatalf("only %d of %d events arrived", len(out), n)
		}
	}
	return out, cancel
}

func TestStreamResumesAfterDroppedConnection(t *testing.T) {
	e := newEnv(t, actor.Options{HubKeep: 8})
	issue := func(k int) {
		for i := 0; i < k; i++ {
			e.must(http.StatusCreated, "ticket", "POST", e.path("/tickets"), fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":"r%d-%d"}`, e.seq(), i))
		}
	}
	issue(3) // seq 1 is the day, 2-4 tickets

	// A new client gets a snapshot first, then live events.
	msgs, cancel := readStream(t, e, "", 1)
	if msgs[0].Event != protocol.SnapshotEvent || msgs[0].ID != "4" {
		t.Fatalf("first message %s %s, want snapshot at 4", msgs[0].Event, msgs[0].ID)
	}
	snap := decode[protocol.Snapshot](t, msgs[0].Data)
	st := queue.NewState(e.office)
	if err := decodeInto(snap.State, st); err != nil {
		t.Fatal(err)
	}
	st.Restore(e.office)
	cancel()

	// Dropped at 4; five more events while away; resume from the hub.
	issue(5)
	msgs, cancel = readStream(t, e, "4", 5)
	cancel()
	applyAll(t, st, msgs)
	// Away again for longer than the hub keeps: resume from the log.
	issue(12)
	msgs, cancel = readStream(t, e, "9", 12)
	cancel()
	applyAll(t, st, msgs)
	if st.Seq != e.seq() || len(st.Tickets) != 20 {
		t.Errorf("client folded to seq %d with %d tickets; server at %d", st.Seq, len(st.Tickets), e.seq())
	}
	// Heartbeats keep an idle stream open (200 ms in this test).
	_, cancel = readStream(t, e, fmt.Sprint(e.seq()), 0)
	cancel()
	e.must(http.StatusBadRequest, "hall", "GET", e.path("/events?after=x"), "")
}

func applyAll(t *testing.T, st *queue.State, msgs []sse.Message) {
	t.Helper()
	for _, m := range msgs {
		var ev queue.Event
		if err := decodeInto(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ev.Seq) != m.ID || ev.Body.Kind() != m.Event {
			t.Fatalf("message id %s / %s carries event %d %s", m.ID, m.Event, ev.Seq, ev.Body.Kind())
		}
		if err := st.Apply(ev); err != nil {
			t.Fatalf("resumed stream does not fold: %v", err)
		}
	}
}

func TestWrongTokensThrottled(t *testing.T) {
	e := newEnv(t, actor.Options{})
	for i := 0; i < 10; i++ {
		e.must(http.StatusUnauthorized, fmt.Sprintf("nmk_guess%d", i), "GET", e.path("/state"), "")
	}
	e.must(http.StatusTooManyRequests, "nmk_guess-more", "GET", e.path("/state"), "")
	// The office's devices share the address; their known tokens still work.
	e.must(http.StatusOK, "hall", "GET", e.path("/state"), "")
}
