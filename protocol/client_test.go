package protocol_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/servertest"
)

func newClient(t *testing.T, srv *servertest.Server, token string, clock protocol.ServerClock) *protocol.Client {
	t.Helper()
	c, err := protocol.NewClient(srv.URL, srv.Office.ID, token, protocol.ClientOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewClientChecksItsSettings(t *testing.T) {
	for _, tc := range []struct{ url, office, token, want string }{
		{"10.0.0.2:8080", "x", "t", "want http://host:port"},
		{"ftp://server", "x", "t", "want http://host:port"},
		{"http://server", "", "t", "office: missing"},
		{"http://server", "x", "", "token: missing"},
	} {
		if _, err := protocol.NewClient(tc.url, tc.office, tc.token, protocol.ClientOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewClient(%q, %q, %q): %v, want %q", tc.url, tc.office, tc.token, err, tc.want)
		}
	}
}

// The same request id gives the same ticket; the answer carries the
// e-ticket address and teaches the clock the server's time.
func TestIssueIdempotentAndClock(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	clock := replica.NewClock(0)
	c := newClient(t, srv, srv.Tokens["ticket"], clock)
	ctx := context.Background()
	sent := time.Now()
	first, created, err := c.Issue(ctx, protocol.IssueRequest{Service: "family", Lang: "uk", RequestID: "r-1"})
	roundTrip := time.Since(sent)
	if err != nil || !created {
		t.Fatalf("first issue: %v, created %v", err, created)
	}
	if first.Ticket.Number != "A001" || first.Ticket.Lang != "uk" || !strings.HasPrefix(first.ETicketURL, "http://numerek.test/") {
		t.Errorf("first ticket %+v", first)
	}
	sent = time.Now()
	again, created, err := c.Issue(ctx, protocol.IssueRequest{Service: "family", Lang: "uk", RequestID: "r-1"})
	roundTrip = max(roundTrip, time.Since(sent))
	if err != nil || created || again.Ticket.ID != first.Ticket.ID {
		t.Errorf("same request again: %+v created %v %v; want the same ticket", again.Ticket, created, err)
	}
	// The device learns the server's time from an answer, so it can be off
	// by no more than the round trips that carried it (long on a loaded
	// machine), plus a little for reading the two clocks here.
	limit := roundTrip + 20*time.Millisecond
	if d := clock.Now().Sub(srv.Clock.Now()); !clock.Known() || d < -limit || d > limit {
		t.Errorf("device clock %v from the server's after a ticket (known %v, round trip %v)", d, clock.Known(), roundTrip)
	}
}

// The office's refusals come back as *queue.Error, for the screen to
// explain; a stopped server is unreachable, a refusal is not.
func TestErrorsSayWhatHappened(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	c := newClient(t, srv, srv.Tokens["ticket"], nil)
	ctx := context.Background()

	srv.Clock.Set(time.Date(2026, 11, 22, 10, 0, 0, 0, srv.Office.Location)) // a Sunday
	_, _, err := c.Issue(ctx, protocol.IssueRequest{Service: "family", Lang: "pl", RequestID: "sunday"})
	var qe *queue.Error
	if !errors.As(err, &qe) || qe.Kind != queue.Refused || qe.Refusal == nil || qe.Refusal.Reason != queue.ReasonClosed || qe.Refusal.Until.IsZero() {
		t.Fatalf("issue on a Sunday: %v (%+v)", err, qe)
	}
	if protocol.Unreachable(err) {
		t.Error("a refusal taken for an unreachable server")
	}
	srv.Clock.Set(time.Date(2026, 11, 23, 9, 0, 0, 0, srv.Office.Location))

	_, err = c.CheckIn(ctx, protocol.CheckInRequest{Code: "KYRF-V7GZ", Lang: "pl", RequestID: "c1"})
	if !errors.As(err, &qe) || qe.Kind != queue.NotFound {
		t.Errorf("unknown booking code: %v, want NotFound", err)
	}
	if _, err := c.Lease(ctx, "nothing", 5); !errors.As(err, &qe) || qe.Kind != queue.NotFound {
		t.Errorf("lease of an unknown service: %v", err)
	}

	srv.Stop()
	_, _, err = c.Issue(ctx, protocol.IssueRequest{Service: "family", Lang: "pl", RequestID: "down"})
	if !protocol.Unreachable(err) {
		t.Errorf("stopped server: %v, want unreachable", err)
	}
}

// A leased ticket is accepted once; handing it in again is the same
// ticket; a number outside the lease is refused, not lost in retries.
func TestLeaseAndHandIn(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	c := newClient(t, srv, srv.Tokens["ticket"], nil)
	ctx := context.Background()
	l, err := c.Lease(ctx, "care", 5)
	if err != nil || l.Last-l.First != 4 || l.Service != "care" {
		t.Fatalf("lease: %+v, %v", l, err)
	}
	req := protocol.LeasedTicketRequest{RequestID: "off-1", Service: "care", Number: l.First, IssuedAt: srv.Clock.Now(), Lang: "lt"}
	res, err := c.HandIn(ctx, req)
	if err != nil || !res.Created || res.Expired || res.Ticket.Ticket.Number != queue.FormatNumber("E", l.First) {
		t.Fatalf("hand-in: %+v, %v", res, err)
	}
	again, err := c.HandIn(ctx, req)
	if err != nil || again.Created || again.Ticket.Ticket.ID != res.Ticket.Ticket.ID {
		t.Errorf("hand-in again: %+v, %v; want the same ticket", again, err)
	}
	req.RequestID, req.Number = "off-2", l.Last+1
	_, err = c.HandIn(ctx, req)
	var ae *protocol.APIError
	if !errors.As(err, &ae) || ae.Status != 409 || protocol.Unreachable(err) {
		t.Errorf("a number outside the lease: %v, want 409", err)
	}
}

// Counter actions: next with nobody waiting is no ticket, not an error.
func TestCounterActions(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	c := newClient(t, srv, srv.Tokens["counter2"], nil)
	ctx := context.Background()
	if _, err := c.CounterAction(ctx, 2, "open", nil); err != nil {
		t.Fatal(err)
	}
	tv, err := c.CounterAction(ctx, 2, "next", nil)
	if err != nil || tv != nil {
		t.Fatalf("next with nobody waiting: %v, %v", tv, err)
	}
	kiosk := newClient(t, srv, srv.Tokens["ticket"], nil)
	if _, _, err := kiosk.Issue(ctx, protocol.IssueRequest{Service: "family", Lang: "pl", RequestID: "x"}); err != nil {
		t.Fatal(err)
	}
	tv, err = c.CounterAction(ctx, 2, "next", nil)
	if err != nil || tv == nil || tv.Number != "A001" || tv.Counter != 2 {
		t.Fatalf("next: %+v, %v", tv, err)
	}
	if _, err := c.CounterAction(ctx, 2, "finish", nil); err != nil {
		t.Fatal(err)
	}
	tv, err = c.CounterAction(ctx, 2, "rate", protocol.RateRequest{Rating: "good"})
	if err != nil || tv == nil || tv.Rating != queue.RatingGood {
		t.Errorf("rate: %+v, %v", tv, err)
	}
	if _, err := c.CounterAction(ctx, 3, "next", nil); err == nil {
		t.Error("a counter token acted at another counter")
	}
}

// A success without a ticket is not one: the kiosk must not say it printed
// (or print an empty ticket) on a 204 or an empty 200.
func TestAnswerWithoutATicketIsNoTicket(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"no content", http.StatusNoContent, ""},
		{"an empty ticket", http.StatusOK, `{"ticket":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, err := protocol.NewClient(srv.URL, "office", "token", protocol.ClientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if resp, _, err := c.Issue(ctx, protocol.IssueRequest{Service: "family", Lang: "pl", RequestID: "r-1"}); err == nil || !strings.Contains(err.Error(), "without a ticket") {
				t.Errorf("issue: %+v, %v; want an error saying there is no ticket", resp.Ticket, err)
			}
			if resp, err := c.CheckIn(ctx, protocol.CheckInRequest{Code: "K7M2X9P4", Lang: "pl", RequestID: "r-2"}); err == nil || !strings.Contains(err.Error(), "without a ticket") {
				t.Errorf("check-in: %+v, %v; want an error saying there is no ticket", resp.Ticket, err)
			}
		})
	}
}
