package server

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
)

// FuzzDecodeRequests: request bodies come from the network; decoding must
// never panic, and every failure must be a client error that explains
// itself.
func FuzzDecodeRequests(f *testing.F) {
	f.Add(`{"service":"family","lang":"pl","priority":true,"request_id":"k-1"}`)
	f.Add(`{"to_service":"docs","to_counter":3,"keep_place":true,"note":"x"}`)
	f.Add(`{"request_id":"a","service":"b","number":5,"issued_at":"2026-11-23T08:00:00Z","lang":"pl"}`)
	f.Add(`{"rating":"good"}`)
	f.Add(`{"lang":7}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, body string) {
		targets := []any{
			&protocol.IssueRequest{}, &protocol.TransferRequest{}, &protocol.LeasedTicketRequest{},
			&protocol.LeaseRequest{}, &protocol.RateRequest{}, &protocol.CallRequest{}, &protocol.FaultRequest{},
			&queue.CounterParams{},
		}
		for _, v := range targets {
			r := httptest.NewRequest("POST", "/", strings.NewReader(body))
			err := decodeJSON(httptest.NewRecorder(), r, v)
			var br *badRequest
			if err != nil && (!errors.As(err, &br) || br.msg == "") {
				t.Fatalf("decoding %q into %T: %v is not an explained client error", body, v, err)
			}
		}
	})
}
