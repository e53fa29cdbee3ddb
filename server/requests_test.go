package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/servertest"
)

// A kiosk's request that comes again after the office's day changed, with
// or without a server restart in between, is answered 200 with the ticket
// it gave, all a kiosk needs to print it: for an issue, a check-in and a
// leased ticket handed in. A week later it still is; on the eighth day the
// request is forgotten and is answered as a new one (docs/api.md).
func TestRetriedRequestsAfterTheDayChanged(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	loc := srv.Office.Location
	kiosk := srv.Tokens["ticket"]
	decodeTicket := func(data []byte) protocol.TicketResponse {
		t.Helper()
		var r protocol.TicketResponse
		if err := json.Unmarshal(data, &r); err != nil || r.Ticket.ID == "" {
			t.Fatalf("not a ticket: %s (%v)", data, err)
		}
		return r
	}
	code := srv.Book("family", time.Date(2026, 11, 23, 9, 15, 0, 0, loc))
	var lease protocol.LeaseResponse
	if err := json.Unmarshal(srv.MustCall(kiosk, "POST", "/leases", `{"service":"care","count":5}`, http.StatusCreated), &lease); err != nil {
		t.Fatal(err)
	}
	requests := []struct{ name, path, body string }{
		{"issue", "/tickets", `{"service":"family","lang":"uk","request_id":"k-1"}`},
		{"check-in", "/checkins", fmt.Sprintf(`{"code":%q,"lang":"en","request_id":"k-2"}`, code)},
		{"leased ticket", "/leased-tickets", fmt.Sprintf(`{"request_id":"k-3","service":"care","number":%d,"issued_at":%q,"lang":"lt"}`,
			lease.Lease.First, srv.Clock.Now().Format(time.RFC3339Nano))},
	}
	first := map[string]protocol.TicketResponse{}
	for _, rq := range requests {
		first[rq.name] = decodeTicket(srv.MustCall(kiosk, "POST", rq.path, rq.body, http.StatusCreated))
	}
	again := func(when string) {
		t.Helper()
		for _, rq := range requests {
			status, data, err := srv.Call(kiosk, "POST", rq.path, rq.body)
			if err != nil || status != http.StatusOK {
				t.Errorf("%s: %s again: %d %s %v, want 200 with its ticket", when, rq.name, status, data, err)
				continue
			}
			got, want := decodeTicket(data), first[rq.name]
			if got.Ticket.ID != want.Ticket.ID || got.Ticket.Number != want.Ticket.Number || got.Ticket.Service != want.Ticket.Service ||
				!got.Ticket.IssuedAt.Equal(want.Ticket.IssuedAt) || got.Ticket.Lang != want.Ticket.Lang ||
				!got.Ticket.BookedFor.Equal(want.Ticket.BookedFor) || got.ETicketURL != want.ETicketURL {
				t.Errorf("%s: %s again gave %+v, want %+v", when, rq.name, got, want)
			}
		}
	}
	again("the same day")

	srv.Clock.Set(time.Date(2026, 11, 24, 9, 0, 0, 0, loc))
	srv.MustCall(kiosk, "POST", "/tickets", `{"service":"family","lang":"pl","request_id":"k-4"}`, http.StatusCreated)
	again("the next day")

	srv.Stop()
	srv.Clock.Set(time.Date(2026, 11, 30, 9, 0, 0, 0, loc))
	srv.Restart()
	again("a week later, after a restart")

	// The eighth day: the requests are forgotten. An issue is a new
	// request; the booking's visit and the lease are over.
	srv.Clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, loc))
	want := map[string]int{"issue": http.StatusCreated, "check-in": http.StatusNotFound, "leased ticket": http.StatusConflict}
	for _, rq := range requests {
		status, data, err := srv.Call(kiosk, "POST", rq.path, rq.body)
		if err != nil || status != want[rq.name] {
			t.Errorf("the eighth day: %s again: %d %s %v, want %d", rq.name, status, data, err, want[rq.name])
		}
		if status == http.StatusCreated && decodeTicket(data).Ticket.ID == first[rq.name].Ticket.ID {
			t.Errorf("the eighth day: %s gave the old ticket", rq.name)
		}
	}
}

// A kiosk whose answer came too late prints from its lease and hands that
// ticket in under the same request id: the server withdraws the ticket it
// issued for the request, and only the printed one waits. A kiosk that
// printed nothing for a request withdraws it; the request then gives no
// ticket, and another kiosk cannot withdraw it.
func TestLateAnswerLeavesOnlyThePrintedTicket(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	kiosk := srv.Tokens["ticket"]
	var lease protocol.LeaseResponse
	if err := json.Unmarshal(srv.MustCall(kiosk, "POST", "/leases", `{"service":"care","count":5}`, http.StatusCreated), &lease); err != nil {
		t.Fatal(err)
	}
	ticketOf := func(data []byte) protocol.TicketResponse {
		t.Helper()
		var r protocol.TicketResponse
		if err := json.Unmarshal(data, &r); err != nil || r.Ticket.ID == "" {
			t.Fatalf("not a ticket: %s (%v)", data, err)
		}
		return r
	}
	waiting := func() []string {
		var ids []string
		for _, tv := range srv.View().Waiting {
			if tv.Service == "care" {
				ids = append(ids, tv.ID)
			}
		}
		return ids
	}
	issue := `{"service":"care","lang":"pl","request_id":"k-1"}`
	online := ticketOf(srv.MustCall(kiosk, "POST", "/tickets", issue, http.StatusCreated))
	handIn := fmt.Sprintf(`{"request_id":"k-1","service":"care","number":%d,"issued_at":%q,"lang":"pl"}`,
		lease.Lease.First, srv.Clock.Now().Format(time.RFC3339Nano))
	leased := ticketOf(srv.MustCall(kiosk, "POST", "/leased-tickets", handIn, http.StatusCreated))
	if got := waiting(); len(got) != 1 || got[0] != leased.Ticket.ID {
		t.Errorf("care tickets waiting %v, want only the printed %s", got, leased.Ticket.ID)
	}
	if st := ticketOf(srv.MustCall(kiosk, "GET", "/tickets/"+online.Ticket.ID, "", http.StatusOK)).Ticket.State; st != "cancelled" {
		t.Errorf("the online ticket nobody holds is %s, want cancelled", st)
	}
	for _, again := range []struct{ path, body string }{{"/leased-tickets", handIn}, {"/tickets", issue}} {
		if got := ticketOf(srv.MustCall(kiosk, "POST", again.path, again.body, http.StatusOK)); got.Ticket.ID != leased.Ticket.ID {
			t.Errorf("POST %s again gave %s, want the printed %s", again.path, got.Ticket.ID, leased.Ticket.ID)
		}
	}

	// Printed nothing: withdrawn, and the request gives nothing after.
	second := ticketOf(srv.MustCall(kiosk, "POST", "/tickets", `{"service":"care","lang":"pl","request_id":"k-2"}`, http.StatusCreated))
	other := srv.Token("ticket", 0, "kiosk-2")
	srv.MustCall(other, "POST", "/withdrawals", `{"request_id":"k-2"}`, http.StatusNoContent)
	if got := waiting(); len(got) != 2 {
		t.Fatalf("another kiosk's withdrawal touched this kiosk's ticket: waiting %v", got)
	}
	if got := ticketOf(srv.MustCall(kiosk, "POST", "/withdrawals", `{"request_id":"k-2"}`, http.StatusOK)); got.Ticket.ID != second.Ticket.ID || got.Ticket.State != "cancelled" {
		t.Errorf("withdrawing k-2: %+v", got.Ticket)
	}
	srv.MustCall(kiosk, "POST", "/tickets", `{"service":"care","lang":"pl","request_id":"k-2"}`, http.StatusConflict)
	srv.MustCall(kiosk, "POST", "/withdrawals", `{"request_id":"k-3"}`, http.StatusNoContent)
	srv.MustCall(kiosk, "POST", "/tickets", `{"service":"care","lang":"pl","request_id":"k-3"}`, http.StatusConflict)
	srv.MustCall(kiosk, "POST", "/withdrawals", `{"request_id":"k-1"}`, http.StatusConflict) // printed from the lease
	srv.MustCall(kiosk, "POST", "/withdrawals", `{}`, http.StatusBadRequest)
	if got := waiting(); len(got) != 1 || got[0] != leased.Ticket.ID {
		t.Errorf("care tickets waiting %v, want only the printed %s", got, leased.Ticket.ID)
	}
}
