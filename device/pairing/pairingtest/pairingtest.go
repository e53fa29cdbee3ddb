// Package pairingtest is a stand-in for the queue server's pairing
// endpoints in tests, speaking protocol/fleet.go (RFC 8628 with JSON
// bodies) exactly: it hands out codes, checks each poll's signature
// against the key the device asked with, and answers as the test decides
// (pending, slow_down, expired, refused, approved). Other requests go to
// Next, a real server, when set.
package pairingtest

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/protocol"
)

// Server answers the two pairing paths.
type Server struct {
	// Interval and ExpiresIn go into each grant (seconds of the device's
	// Second).
	Interval, ExpiresIn int
	// Next answers every other request; nil: 404.
	Next http.Handler

	mu       sync.Mutex
	grants   []*Grant
	byDevice map[string]*Grant
	polls    int
	changed  chan struct{}
}

// Grant is one code handed out and what the test decided for it.
type Grant struct {
	protocol.PairingGrant
	Request protocol.PairingRequest
	// Polls are when this code was polled.
	Polls []time.Time
	// answer is what the next polls get: a PairingError's error, or ""
	// for pending; creds, when set, approve.
	answer   string
	slowOnce bool
	creds    *protocol.Credentials
}

// New returns a pairing server; put it behind an httptest.Server.
func New() *Server {
	return &Server{Interval: 1, ExpiresIn: 600, byDevice: map[string]*Grant{}, changed: make(chan struct{})}
}

// Grants are the codes handed out so far, oldest first.
func (s *Server) Grants() []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Grant, len(s.grants))
	for i, g := range s.grants {
		out[i] = *g
	}
	return out
}

// Changed is closed at the next grant or poll.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

func (s *Server) touch() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) decide(userCode string, fn func(g *Grant)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := strings.ReplaceAll(userCode, "-", "")
	for _, g := range s.grants {
		if g.UserCode == code {
			fn(g)
			return nil
		}
	}
	return fmt.Errorf("no code %s was handed out", userCode)
}

// Approve gives the code's device creds at its next poll.
func (s *Server) Approve(userCode string, creds protocol.Credentials) error {
	return s.decide(userCode, func(g *Grant) { g.creds = &creds })
}

// Deny refuses the code (access_denied).
func (s *Server) Deny(userCode string) error {
	return s.decide(userCode, func(g *Grant) { g.answer = protocol.PairingDenied })
}

// Expire ends the code (expired_token).
func (s *Server) Expire(userCode string) error {
	return s.decide(userCode, func(g *Grant) { g.answer = protocol.PairingExpired })
}

// SlowDown answers the code's next poll with slow_down.
func (s *Server) SlowDown(userCode string) error {
	return s.decide(userCode, func(g *Grant) { g.slowOnce = true })
}

// ServeHTTP answers POST PairingPath and PairingTokenPath.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == "POST" && r.URL.Path == protocol.PairingPath:
		s.grant(w, r)
	case r.Method == "POST" && r.URL.Path == protocol.PairingTokenPath:
		s.poll(w, r)
	case s.Next != nil:
		s.Next.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) grant(w http.ResponseWriter, r *http.Request) {
	var req protocol.PairingRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		refuse(w, protocol.PairingError{Error: "invalid_request", Description: err.Error()})
		return
	}
	if _, err := protocol.ParsePublicKey(req.PublicKey); err != nil {
		refuse(w, protocol.PairingError{Error: "invalid_request", Description: err.Error()})
		return
	}
	s.mu.Lock()
	n := len(s.grants) + 1
	user := fmt.Sprintf("TEST%04d", n)
	g := &Grant{Request: req, PairingGrant: protocol.PairingGrant{
		DeviceCode: fmt.Sprintf("device-code-%d", n), UserCode: user,
		VerificationURI:         "http://numerek.test/staff/devices",
		VerificationURIComplete: "http://numerek.test/staff/devices?code=" + user,
		ExpiresIn:               s.ExpiresIn, Interval: s.Interval,
	}}
	s.grants = append(s.grants, g)
	s.byDevice[g.DeviceCode] = g
	s.touch()
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(g.PairingGrant)
}

func (s *Server) poll(w http.ResponseWriter, r *http.Request) {
	var p protocol.PairingPoll
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil || p.GrantType != protocol.DeviceCodeGrantType {
		refuse(w, protocol.PairingError{Error: "invalid_request"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls++
	s.touch()
	g, ok := s.byDevice[p.DeviceCode]
	if !ok {
		refuse(w, protocol.PairingError{Error: protocol.PairingInvalid, Description: "no such device code"})
		return
	}
	g.Polls = append(g.Polls, time.Now())
	pub, _ := protocol.ParsePublicKey(g.Request.PublicKey)
	sig, err := base64.StdEncoding.DecodeString(p.Signature)
	if err != nil || !ed25519.Verify(pub, protocol.PairingSignedText(p.DeviceCode), sig) {
		refuse(w, protocol.PairingError{Error: protocol.PairingInvalid, Description: "the poll is not signed by the key that asked"})
		return
	}
	switch {
	case g.slowOnce:
		g.slowOnce = false
		refuse(w, protocol.PairingError{Error: protocol.PairingSlowDown})
	case g.answer != "":
		refuse(w, protocol.PairingError{Error: g.answer})
	case g.creds != nil:
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(g.creds)
		delete(s.byDevice, p.DeviceCode) // credentials are given once
	default:
		refuse(w, protocol.PairingError{Error: protocol.PairingPending})
	}
}

func refuse(w http.ResponseWriter, e protocol.PairingError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(e)
}
