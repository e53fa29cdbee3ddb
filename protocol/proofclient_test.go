package protocol_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/protocol"
)

// A paired device's client proves its key on every request, the event
// stream included, at the server's time as its clock knows it.
func TestClientSignsEveryRequestWithItsKey(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	serverAhead := 2 * time.Hour // far outside ProofWindow of the device's own clock
	var mu sync.Mutex
	var problems []string
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := protocol.VerifyProof(protocol.EncodePublicKey(pub), r.Header.Get(protocol.ProofHeader), r.Method, r.URL.Path, time.Now().Add(serverAhead))
		mu.Lock()
		seen[r.Method+" "+r.URL.Path] = true
		if err != nil {
			problems = append(problems, r.Method+" "+r.URL.Path+": "+err.Error())
		}
		mu.Unlock()
		switch r.URL.Path {
		case protocol.DeviceConfigPath:
			json.NewEncoder(w).Encode(protocol.DeviceSettings{Revision: 7, TOML: "role = \"hall\"\n"})
		case "/api/v1/offices/cus-x/events":
			w.Header().Set("Content-Type", "text/event-stream")
		default:
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(protocol.ErrorResponse{Error: "unknown or revoked token"})
		}
	}))
	defer srv.Close()
	clock := replica.NewClock(serverAhead)
	var refused []*protocol.APIError
	c, err := protocol.NewClient(srv.URL, "cus-x", "nmk_tok", protocol.ClientOptions{Clock: clock, Key: key,
		OnUnauthorized: func(ae *protocol.APIError) { refused = append(refused, ae) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := c.DeviceSettings(ctx)
	if err != nil || s.Revision != 7 {
		t.Fatalf("DeviceSettings = %+v, %v", s, err)
	}
	resp, err := c.Events(ctx, 12, true)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, err = c.Ticket(ctx, "A001")
	if !protocol.TokenRevoked(err) {
		t.Errorf("Ticket after revocation: %v, want TokenRevoked", err)
	}
	if len(refused) != 1 || refused[0].Status != http.StatusUnauthorized {
		t.Errorf("OnUnauthorized was told %v, want the one 401", refused)
	}
	for _, want := range []string{"GET " + protocol.DeviceConfigPath, "GET /api/v1/offices/cus-x/events", "GET /api/v1/offices/cus-x/tickets/A001"} {
		if !seen[want] {
			t.Errorf("the server never saw %s", want)
		}
	}
	for _, p := range problems {
		t.Errorf("proof refused: %s", p)
	}
}

func TestTokenRevokedIsNotAClockProblem(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&protocol.APIError{Status: 401, Body: protocol.ErrorResponse{Error: "unknown or revoked token"}}, true},
		{&protocol.APIError{Status: 401, Body: protocol.ErrorResponse{Error: "Numerek-Proof was made at 2026-11-23T09:00:00Z, 2h0m0s from the server's clock"}}, false},
		{&protocol.APIError{Status: 401, Body: protocol.ErrorResponse{Error: "Numerek-Proof is not signed by this device's key (unknown key)"}}, false},
		{&protocol.APIError{Status: 403, Body: protocol.ErrorResponse{Error: "revoked"}}, false},
		{context.DeadlineExceeded, false},
	} {
		if got := protocol.TokenRevoked(tc.err); got != tc.want {
			t.Errorf("TokenRevoked(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// A device started with its clock far from the server's (a Raspberry Pi
// has no battery clock; a test server runs on a clock of its own) has its
// first proof refused: the refusal tells the server's time, and the
// request, signed again at it, passes, its body whole. Nobody is told of
// a 401, so the device is not unpaired.
func TestClientLearnsTheServersTimeFromARefusedProof(t *testing.T) {
	for _, tc := range []struct {
		name   string
		offset time.Duration
	}{
		{"server days behind", -76 * time.Hour},
		{"server hours ahead", 2 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, key, _ := ed25519.GenerateKey(nil)
			var mu sync.Mutex
			var refusals, reports int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				now := time.Now().Add(tc.offset)
				if err := protocol.VerifyProof(protocol.EncodePublicKey(pub), r.Header.Get(protocol.ProofHeader), r.Method, r.URL.Path, now); err != nil {
					mu.Lock()
					refusals++
					mu.Unlock()
					w.WriteHeader(http.StatusUnauthorized)
					json.NewEncoder(w).Encode(protocol.ErrorResponse{Error: "this token is bound to a device's key: " + err.Error(), ServerTime: now})
					return
				}
				var rep protocol.HealthReport
				if err := json.NewDecoder(r.Body).Decode(&rep); err != nil || rep.Version != "1.4.0" {
					w.WriteHeader(http.StatusBadRequest)
					json.NewEncoder(w).Encode(protocol.ErrorResponse{Error: "the report did not come whole"})
					return
				}
				mu.Lock()
				reports++
				mu.Unlock()
				json.NewEncoder(w).Encode(protocol.HealthAck{ServerTime: now, EverySeconds: 30})
			}))
			defer srv.Close()
			var told []*protocol.APIError
			c, err := protocol.NewClient(srv.URL, "cus-x", "nmk_tok", protocol.ClientOptions{Clock: replica.NewClock(0), Key: key,
				OnUnauthorized: func(ae *protocol.APIError) { told = append(told, ae) }})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := c.ReportHealth(context.Background(), protocol.HealthReport{Version: "1.4.0", Role: "hall"}); err != nil {
					t.Fatalf("reporting: %v", err)
				}
			}
			if refusals != 1 || reports != 2 || len(told) != 0 {
				t.Errorf("%d proofs refused, %d reports taken, OnUnauthorized told %v; want the first proof refused, both reports taken, nobody told", refusals, reports, told)
			}
		})
	}
}
