package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/numerek/numerek/internal/keyedlimit"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/clientaddr"
	"github.com/numerek/numerek/server/devices"
	"github.com/numerek/numerek/store"
)

// Role is what a token is for.
type Role string

// The roles of tokens.
const (
	RoleTicket  Role = "ticket"
	RoleCounter Role = "counter"
	RoleHall    Role = "hall"
	// RoleLocker is a document pickup locker's device: it reads its
	// office's events and reports what its doors did.
	RoleLocker Role = "locker"
	RoleClerk  Role = "clerk"
	RoleAdmin  Role = "admin"
	// RoleMetrics reads GET /metrics and nothing else: it is Prometheus's
	// token, of every office ("*"), as the metrics are the whole
	// server's.
	RoleMetrics Role = "metrics"
)

// Roles lists every role, for help texts and checks.
var Roles = []Role{RoleTicket, RoleCounter, RoleHall, RoleLocker, RoleClerk, RoleAdmin, RoleMetrics}

// OfficeRoles are the roles a token of one office may have (the admin
// pages make these); RoleMetrics is the server's, not an office's.
var OfficeRoles = []Role{RoleTicket, RoleCounter, RoleHall, RoleLocker, RoleClerk, RoleAdmin}

// ValidRole reports whether r is a role.
func ValidRole(r string) bool { return slices.Contains(Roles, Role(r)) }

// ValidOfficeRole reports whether r is a role of OfficeRoles.
func ValidOfficeRole(r string) bool { return slices.Contains(OfficeRoles, Role(r)) }

// AllOffices in a token's office grants an admin every office.
const AllOffices = "*"

// Principal is who a request comes from.
type Principal struct {
	Token store.Token
}

// Role is the principal's role.
func (p Principal) Role() Role { return Role(p.Token.Role) }

// Name identifies the principal in the audit trail of events.
func (p Principal) Name() string {
	label := p.Token.Label
	if label == "" {
		label = p.Token.ID
	}
	if p.Role() == RoleCounter {
		return fmt.Sprintf("counter:%d", p.Token.Counter)
	}
	return string(p.Role()) + ":" + label
}

// Device names the principal as a device, for faults.
func (p Principal) Device() string {
	if p.Token.Label != "" {
		return p.Token.Label
	}
	return string(p.Role()) + "-" + p.Token.ID
}

// SeesOffice reports whether the principal may see the office at all.
func (p Principal) SeesOffice(office string) bool {
	return p.Token.Office == office || (p.Token.Office == AllOffices && p.Role() == RoleAdmin)
}

// MayIssue: ticket kiosks, clerks (the hall assistant) and admins draw tickets.
func (p Principal) MayIssue() bool {
	switch p.Role() {
	case RoleTicket, RoleClerk, RoleAdmin:
		return true
	}
	return false
}

// MayActAt: a counter display acts only for its own counter.
func (p Principal) MayActAt(counter int) bool {
	switch p.Role() {
	case RoleClerk, RoleAdmin:
		return true
	case RoleCounter:
		return p.Token.Counter == counter
	}
	return false
}

// MayManage: cancelling tickets and moving waiting ones.
func (p Principal) MayManage() bool { return p.Role() == RoleClerk || p.Role() == RoleAdmin }

// MayReadMetrics: the metrics cover every office, so only a token of
// every office reads them: the metrics role's, or a global admin's.
func (p Principal) MayReadMetrics() bool {
	return p.Token.Office == AllOffices && (p.Role() == RoleMetrics || p.Role() == RoleAdmin)
}

// IsDevice: devices report their faults.
func (p Principal) IsDevice() bool {
	switch p.Role() {
	case RoleTicket, RoleCounter, RoleHall, RoleLocker:
		return true
	}
	return false
}

// Tokens is the store bearer tokens are checked against: the token file
// of this node (store.TokenStore) or the database every node shares
// (pgstore.TokenStore).
type Tokens interface {
	devices.Tokens
	// Index is every token by store.Hash of its secret.
	Index() (map[string]store.Token, error)
	List() ([]store.Token, error)
	// Stamp changes whenever the tokens may have changed, here or
	// elsewhere (the command line, another node); it is asked on every
	// request, so it must be cheap.
	Stamp() string
}

// authenticator checks bearer tokens against the token store, held in
// memory and read again when the store's stamp changes, so a token added
// or revoked elsewhere (the command line, another node) takes effect at
// once and a wrong token never costs a read.
type authenticator struct {
	tokens Tokens
	clock  func() time.Time
	// gone is told of each token that left the store elsewhere, once
	// this server notices.
	gone func(id string)

	mu    sync.Mutex
	index map[string]store.Token
	stamp string
	// failed is when reading the tokens last failed: they are not read
	// again for a second, so a damaged store is not read on every request.
	failed  time.Time
	loadErr error
	// failures limits wrong tokens per address, so tokens cannot be guessed
	// at speed (they are 160 random bits; this keeps logs calm too).
	failures *keyedlimit.Limiter
}

func newAuthenticator(tokens Tokens, clock func() time.Time, gone func(id string)) *authenticator {
	if gone == nil {
		gone = func(string) {}
	}
	return &authenticator{tokens: tokens, clock: clock, gone: gone, failures: newFailures()}
}

// errAuth is an authentication failure with its HTTP status.
type errAuth struct {
	status int
	msg    string
	// serverTime is the clock a refused key proof was held to.
	serverTime time.Time
	// retry is when a throttled address may try again (429).
	retry time.Duration
}

func (e *errAuth) Error() string { return e.msg }

func (a *authenticator) authenticate(r *http.Request) (Principal, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if h == "" {
		return Principal{}, &errAuth{status: http.StatusUnauthorized, msg: "missing Authorization: Bearer token"}
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return Principal{}, &errAuth{status: http.StatusUnauthorized, msg: "Authorization must be \"Bearer <token>\""}
	}
	tok, found, err := a.lookup(secret)
	if err != nil {
		return Principal{}, &errAuth{status: http.StatusServiceUnavailable, msg: "checking the token: " + err.Error()}
	}
	if found {
		// A known token always passes: an office's devices often share one
		// address, and one guessing device must not lock the others out.
		// A paired device's token is bound to its key: without a fresh
		// proof signed by it, a copied token is worth nothing.
		if tok.Key != "" {
			now := a.now()
			if err := protocol.VerifyProof(tok.Key, r.Header.Get(protocol.ProofHeader), r.Method, r.URL.Path, now); err != nil {
				return Principal{}, &errAuth{status: http.StatusUnauthorized, msg: "this token is bound to a device's key: " + err.Error(), serverTime: now}
			}
		}
		return Principal{Token: tok}, nil
	}
	if ok, retry := a.failures.Allow(clientaddr.From(r), time.Now()); !ok {
		return Principal{}, &errAuth{status: http.StatusTooManyRequests, retry: retry,
			msg: fmt.Sprintf("too many wrong tokens from this address; try again in %d s", RetryAfterSeconds(retry))}
	}
	return Principal{}, &errAuth{status: http.StatusUnauthorized, msg: "unknown or revoked token"}
}

// now is the server's clock, which proofs are held to.
func (a *authenticator) now() time.Time {
	if a.clock == nil {
		return time.Now()
	}
	return a.clock()
}

// forget drops the token with id at once and makes the next request read
// the tokens again: a device revoked here must not get in for another
// moment, nor ever again if the store's stamp happens to look unchanged.
func (a *authenticator) forget(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, t := range a.index {
		if t.ID == id {
			delete(a.index, k)
		}
	}
	a.stamp, a.failed = "", time.Time{}
}

func (a *authenticator) lookup(secret string) (store.Token, bool, error) {
	a.refresh()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.index == nil {
		return store.Token{}, false, a.loadErr
	}
	tok, ok := a.index[store.Hash(secret)]
	return tok, ok, nil
}

// refresh reads the tokens again if their stamp changed, and tells gone
// of the tokens that left the store meanwhile; a store that cannot be
// read keeps the tokens last read.
func (a *authenticator) refresh() {
	stamp := a.tokens.Stamp()
	a.mu.Lock()
	if a.index != nil && (stamp == a.stamp || time.Since(a.failed) < time.Second) {
		a.mu.Unlock()
		return
	}
	var gone []string
	idx, err := a.tokens.Index()
	if err != nil {
		a.loadErr, a.failed = err, time.Now()
	} else {
		gone = vanished(a.index, idx)
		a.index, a.stamp, a.loadErr, a.failed = idx, stamp, nil, time.Time{}
	}
	a.mu.Unlock()
	for _, id := range gone {
		a.gone(id)
	}
}

// vanished lists the ids of the tokens of before that after lacks.
func vanished(before, after map[string]store.Token) []string {
	var out []string
	for hash, t := range before {
		if _, ok := after[hash]; !ok {
			out = append(out, t.ID)
		}
	}
	return out
}

// newFailures returns the limiter of wrong tokens per address: 10 at
// once, then one a minute (docs/api.md: "429 for a minute"), remembering
// at most 10000 addresses.
func newFailures() *keyedlimit.Limiter {
	return keyedlimit.New(rate.Every(time.Minute), 10, 10000)
}

// RetryAfterSeconds is a wait as a Retry-After header says it: whole
// seconds, rounded up, at least one.
func RetryAfterSeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}
