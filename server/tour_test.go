package server

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/actor"
)

// A working day over the API that reaches the answers and events no other
// test of this package does (a counter's call, transfer and no-show, a
// leased ticket of a day that has ended, a withdrawal), so that the
// document is held to them too: the env checks every answer, and the
// stream read at the end, against api/openapi.yaml.
func TestTourOfTheAnswers(t *testing.T) {
	e := newEnv(t, actor.Options{})
	ticket := func(status int, role, method, path, body string) protocol.TicketResponse {
		t.Helper()
		return decode[protocol.TicketResponse](t, e.must(status, role, method, e.path(path), body))
	}
	issue := func(id string) protocol.TicketResponse {
		t.Helper()
		return ticket(http.StatusCreated, "ticket", "POST", "/tickets", fmt.Sprintf(`{"service":"documents","lang":"pl","request_id":%q}`, id))
	}
	e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/open"), "")
	for i := range 5 {
		issue(fmt.Sprintf("tour-%d", i))
	}

	// Called, recalled, not come.
	first := ticket(http.StatusOK, "counter5", "POST", "/counters/5/next", "")
	ticket(http.StatusOK, "counter5", "POST", "/counters/5/recall", "")
	if got := ticket(http.StatusOK, "counter5", "POST", "/counters/5/no-show", ""); got.Ticket.ID != first.Ticket.ID || got.Ticket.State != "no-show" {
		t.Errorf("no-show: %+v", got.Ticket)
	}
	// Parked to fetch a form, called back, sent to another service.
	parked := ticket(http.StatusOK, "counter5", "POST", "/counters/5/next", "")
	ticket(http.StatusOK, "counter5", "POST", "/counters/5/start", "")
	ticket(http.StatusOK, "counter5", "POST", "/counters/5/park", "")
	if got := ticket(http.StatusOK, "counter5", "POST", "/counters/5/call", fmt.Sprintf(`{"ticket":%q}`, parked.Ticket.Number)); got.Ticket.ID != parked.Ticket.ID {
		t.Errorf("called back %s, want %s", got.Ticket.ID, parked.Ticket.ID)
	}
	ticket(http.StatusOK, "counter5", "POST", "/counters/5/start", "")
	if got := ticket(http.StatusOK, "counter5", "POST", "/counters/5/transfer", `{"to_service":"family","keep_place":true,"note":"brings form 3"}`); got.Ticket.Service != "family" {
		t.Errorf("transferred to %s, want family", got.Ticket.Service)
	}
	// Served and rated.
	ticket(http.StatusOK, "counter5", "POST", "/counters/5/next", "")
	ticket(http.StatusOK, "counter5", "POST", "/counters/5/start", "")
	ticket(http.StatusOK, "counter5", "POST", "/counters/5/finish", "")
	ticket(http.StatusOK, "counter5", "POST", "/counters/5/rate", `{"rating":"good"}`)
	e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/pause"), "")
	e.must(http.StatusOK, "counter5", "POST", e.path("/counters/5/close"), "")
	// The hall assistant moves one waiting ticket and cancels another.
	e.must(http.StatusOK, "clerk", "GET", e.path("/state"), "")
	moved := issue("tour-moved")
	ticket(http.StatusOK, "clerk", "POST", "/tickets/"+moved.Ticket.Number+"/transfer", `{"to_service":"family"}`)
	ticket(http.StatusOK, "clerk", "POST", "/tickets/"+moved.Ticket.ID+"/cancel", "")
	ticket(http.StatusOK, "hall", "GET", "/tickets/"+moved.Ticket.ID, "")

	// The kiosk: a fault, a lease, a ticket from it, a withdrawal.
	e.must(http.StatusNoContent, "ticket", "POST", e.path("/faults"), `{"fault":"paper-low","detail":"roll 80%"}`)
	e.must(http.StatusNoContent, "ticket", "POST", e.path("/faults"), `{"fault":""}`)
	lease := decode[protocol.LeaseResponse](t, e.must(http.StatusCreated, "ticket", "POST", e.path("/leases"), `{"service":"documents","count":2}`)).Lease
	handIn := func(status int, id string, number int, at time.Time) []byte {
		t.Helper()
		return e.must(status, "ticket", "POST", e.path("/leased-tickets"),
			fmt.Sprintf(`{"request_id":%q,"service":"documents","number":%d,"issued_at":%q,"lang":"uk"}`, id, number, at.Format(time.RFC3339Nano)))
	}
	handIn(http.StatusCreated, "tour-l1", lease.First, e.clock.Now())
	issue("tour-w1")
	if got := ticket(http.StatusOK, "ticket", "POST", "/withdrawals", `{"request_id":"tour-w1"}`); got.Ticket.State != "cancelled" {
		t.Errorf("withdrawn ticket %+v", got.Ticket)
	}
	// The kiosk comes back the next morning with a ticket of yesterday.
	yesterday := e.clock.Now()
	e.clock.Set(time.Date(2026, 11, 24, 9, 0, 0, 0, e.office.Location))
	issue("tour-next-day")
	expired := decode[map[string]string](t, handIn(http.StatusAccepted, "tour-l2", lease.Last, yesterday))
	if expired["state"] != "expired" {
		t.Errorf("a ticket of yesterday handed in: %v", expired)
	}

	// Every event of the day comes down the stream as documented.
	msgs, cancel := readStream(t, e, "1", int(e.seq()-1))
	cancel()
	var kinds []string
	for _, m := range msgs {
		if !slices.Contains(kinds, m.Event) {
			kinds = append(kinds, m.Event)
		}
	}
	for _, want := range []string{"DayRolledOver", "TicketIssued", "TicketCalled", "TicketRecalled", "ServiceStarted",
		"TicketFinished", "TicketNoShow", "TicketTransferred", "TicketParked", "TicketCancelled", "CounterOpened",
		"CounterPaused", "CounterClosed", "RatingGiven", "DeviceFault", "LeaseGranted", "RequestWithdrawn"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("no %s on the stream; it had %v", want, kinds)
		}
	}
}
