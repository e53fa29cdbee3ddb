// Package devices is the server's register of the devices it paired:
// pairing as RFC 8628's device authorization grant (the pending pairings
// live in memory), enrolment batches that approve a device at once, each
// device's settings, and revocation, which ends the device's streams and
// its token at once.
package devices

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/device/config"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/fleet"
	"github.com/numerek/numerek/server/links"
	"github.com/numerek/numerek/store"
)

// The pairing's timing (RFC 8628 section 3.2 and 3.5).
const (
	// Lifetime is how long a user code can be approved and its
	// credentials collected.
	Lifetime = 15 * time.Minute
	// Interval is how often a device may poll at first.
	Interval = 5 * time.Second
	// slowDown is what each poll that came too soon adds to the interval.
	slowDown = 5 * time.Second
	// maxPending bounds the pairings waiting at once, whoever asked: the
	// per-address limit in front keeps one address from filling it.
	maxPending = 1000
)

// Roles a paired device may have.
var Roles = []string{"ticket", "counter", "hall", "locker"}

// ValidRole reports whether role is a device's.
func ValidRole(role string) bool {
	for _, r := range Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Store keeps the paired devices and enrolment batches: the devices'
// file of this node (store.DeviceStore) or the database every node
// shares (pgstore.DeviceStore).
type Store interface {
	PutDevice(d store.DeviceRecord) error
	Device(id string) (store.DeviceRecord, bool, error)
	Devices() ([]store.DeviceRecord, error)
	UpdateDevice(id string, fn func(*store.DeviceRecord) error) (store.DeviceRecord, error)
	CreateBatch(b store.EnrolmentBatch) (string, store.EnrolmentBatch, error)
	Batches() ([]store.EnrolmentBatch, error)
	UseBatch(secret string, now time.Time) (store.EnrolmentBatch, bool, error)
	EndBatch(id string) (bool, error)
}

// Tokens makes a paired device's token and revokes it.
type Tokens interface {
	Create(t store.Token) (string, store.Token, error)
	Revoke(id string) (bool, error)
}

// Config is what a Registry is built from.
type Config struct {
	Store  Store
	Tokens Tokens
	Fleet  *fleet.Hub
	Clock  func() time.Time
	// Forget makes the server's authenticator drop a token at once (by its
	// id), instead of at its next reading of the token file.
	Forget func(tokenID string)
	// Office finds an office by id (its languages go into the settings of
	// a device an enrolment batch approves); nil when there is none.
	Office func(id string) *queue.Office
}

// Registry pairs devices and keeps them.
type Registry struct {
	cfg Config

	mu sync.Mutex
	// pending by the SHA-256 of the device code, and by user code.
	pending map[string]*pending
	byUser  map[string]*pending
}

// New makes a registry.
func New(cfg Config) *Registry {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Forget == nil {
		cfg.Forget = func(string) {}
	}
	return &Registry{cfg: cfg, pending: map[string]*pending{}, byUser: map[string]*pending{}}
}

// Store keeps the devices and enrolment batches.
func (r *Registry) Store() Store { return r.cfg.Store }

type pairingState int

const (
	waiting pairingState = iota
	approved
	denied
)

// pending is one pairing not yet finished.
type pending struct {
	Pending
	deviceKey string // the map key: SHA-256 of the device code
	interval  time.Duration
	lastPoll  time.Time
	state     pairingState
	creds     protocol.Credentials
}

// Pending is a pairing waiting for an admin, as the approve page shows
// it: the device's key and what it says it is.
type Pending struct {
	// UserCode is the 8 characters the device shows, without the dash.
	UserCode    string
	Key         string
	Fingerprint string
	Hardware    protocol.Hardware
	Version     string
	Expires     time.Time
}

// RequestError is a pairing request the server cannot take; its message
// names the field.
type RequestError struct{ Field, Msg string }

func (e *RequestError) Error() string { return e.Field + ": " + e.Msg }

// ErrBusy means too many pairings wait at once.
var ErrBusy = errors.New("too many pairings are waiting; try again in a few minutes")

// CheckRequest says what is wrong with a pairing request, or nil. It is
// all the server reads of one; the rest is shown to an admin as text.
func CheckRequest(req protocol.PairingRequest) error {
	if _, err := protocol.ParsePublicKey(req.PublicKey); err != nil {
		return &RequestError{Field: "public_key", Msg: strings.TrimPrefix(err.Error(), "public_key: ")}
	}
	for _, f := range []struct{ name, value string }{
		{"version", req.Version}, {"hardware.model", req.Hardware.Model}, {"hardware.serial", req.Hardware.Serial},
		{"hardware.hostname", req.Hardware.Hostname}, {"hardware.mac", req.Hardware.MAC}, {"hardware.screen", req.Hardware.Screen},
	} {
		if len(f.value) > 200 {
			return &RequestError{Field: f.name, Msg: "longer than 200 bytes"}
		}
	}
	if len(req.Enrolment) > 200 {
		return &RequestError{Field: "enrolment", Msg: "longer than 200 bytes"}
	}
	return nil
}

// Start begins a pairing: verifyURI is the approve page's address. With
// a usable enrolment secret the pairing is approved at once.
func (r *Registry) Start(req protocol.PairingRequest, verifyURI string) (protocol.PairingGrant, error) {
	if err := CheckRequest(req); err != nil {
		return protocol.PairingGrant{}, err
	}
	pub, _ := protocol.ParsePublicKey(req.PublicKey)
	now := r.cfg.Clock()
	deviceCode := randomText(32)
	p := &pending{
		Pending: Pending{Key: req.PublicKey, Fingerprint: protocol.Fingerprint(pub), Hardware: req.Hardware,
			Version: req.Version, Expires: now.Add(Lifetime)},
		deviceKey: hashText(deviceCode), interval: Interval,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweep(now)
	if len(r.pending) >= maxPending {
		return protocol.PairingGrant{}, ErrBusy
	}
	for {
		p.UserCode = userCode()
		if r.byUser[p.UserCode] == nil {
			break
		}
	}
	if req.Enrolment != "" {
		if err := r.enrol(p, req.Enrolment, now); err != nil {
			return protocol.PairingGrant{}, err
		}
	}
	r.pending[p.deviceKey], r.byUser[p.UserCode] = p, p
	return protocol.PairingGrant{
		DeviceCode: deviceCode, UserCode: FormatUserCode(p.UserCode),
		VerificationURI: verifyURI, VerificationURIComplete: verifyURI + "?code=" + FormatUserCode(p.UserCode),
		ExpiresIn: int(Lifetime / time.Second), Interval: int(Interval / time.Second),
	}, nil
}

// enrol approves p at once if secret is a usable batch's; a secret that is
// not leaves the pairing to an admin, as if none was given (a card made
// for an ended batch still lets its device pair by code).
func (r *Registry) enrol(p *pending, secret string, now time.Time) error {
	b, ok, err := r.cfg.Store.UseBatch(secret, now)
	if err != nil || !ok {
		return err
	}
	var langs []string
	if r.cfg.Office != nil {
		if o := r.cfg.Office(b.Office); o != nil {
			langs = o.Languages
		}
	}
	name := b.NamePrefix + strings.ReplaceAll(p.Fingerprint, " ", "")[:4]
	_, err = r.approve(p, Approval{Office: b.Office, Role: b.Role, Name: name, Languages: langs, By: "enrolment:" + b.ID}, now)
	return err
}

// sweep forgets pairings past their lifetime.
func (r *Registry) sweep(now time.Time) {
	for k, p := range r.pending {
		if !now.Before(p.Expires) {
			delete(r.pending, k)
			delete(r.byUser, p.UserCode)
		}
	}
}

// Poll answers a device's poll (RFC 8628 section 3.4 and 3.5): the
// credentials once the pairing is approved, else the error to send.
func (r *Registry) Poll(poll protocol.PairingPoll) (protocol.Credentials, *protocol.PairingError) {
	if poll.GrantType != protocol.DeviceCodeGrantType {
		return protocol.Credentials{}, &protocol.PairingError{Error: "unsupported_grant_type",
			Description: "grant_type must be " + protocol.DeviceCodeGrantType}
	}
	now := r.cfg.Clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[hashText(poll.DeviceCode)]
	if p == nil {
		return protocol.Credentials{}, &protocol.PairingError{Error: protocol.PairingInvalid,
			Description: "unknown device_code: never given, already collected, or lost when the server restarted; ask for a new pairing"}
	}
	if !now.Before(p.Expires) {
		r.drop(p)
		return protocol.Credentials{}, &protocol.PairingError{Error: protocol.PairingExpired,
			Description: "the user code was not approved in time; ask for a new pairing"}
	}
	pub, _ := protocol.ParsePublicKey(p.Key)
	sig, err := base64.StdEncoding.DecodeString(poll.Signature)
	if err != nil || !ed25519.Verify(pub, protocol.PairingSignedText(poll.DeviceCode), sig) {
		return protocol.Credentials{}, &protocol.PairingError{Error: protocol.PairingInvalid,
			Description: "signature: not made by the key the pairing was asked with"}
	}
	tooSoon := !p.lastPoll.IsZero() && now.Sub(p.lastPoll) < p.interval
	p.lastPoll = now
	switch {
	case p.state == denied:
		r.drop(p)
		return protocol.Credentials{}, &protocol.PairingError{Error: protocol.PairingDenied, Description: "an admin rejected the pairing"}
	case p.state == approved:
		r.drop(p)
		return p.creds, nil
	case tooSoon:
		p.interval += slowDown
		return protocol.Credentials{}, &protocol.PairingError{Error: protocol.PairingSlowDown,
			Description: fmt.Sprintf("poll at most every %d s", int(p.interval/time.Second)), Interval: int(p.interval / time.Second)}
	}
	return protocol.Credentials{}, &protocol.PairingError{Error: protocol.PairingPending, Description: "waiting for an admin to approve the user code"}
}

func (r *Registry) drop(p *pending) {
	delete(r.pending, p.deviceKey)
	delete(r.byUser, p.UserCode)
}

// waiting is the pairing that waits for an admin under the typed user
// code at now, or nil. r.mu is held.
func (r *Registry) waiting(typed string, now time.Time) *pending {
	code, ok := NormalizeUserCode(typed)
	if !ok {
		return nil
	}
	p := r.byUser[code]
	if p == nil || p.state != waiting || !now.Before(p.Expires) {
		return nil
	}
	return p
}

// Lookup finds a pairing waiting for an admin by its user code as typed
// ("abcd-efgh" too); ok=false for a code that is not waiting.
func (r *Registry) Lookup(typed string) (Pending, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.waiting(typed, r.cfg.Clock())
	if p == nil {
		return Pending{}, false
	}
	return p.Pending, true
}

// Approval is what an admin decides for a device.
type Approval struct {
	Office  string
	Role    string // ticket, counter or hall
	Counter int    // the counter role's number
	Name    string
	// Languages are the office's, for the device's settings.
	Languages []string
	// By is the admin's name.
	By string
}

// ErrNotWaiting is a user code no pairing waits under (never given,
// expired, or already decided).
var ErrNotWaiting = errors.New("no pairing waits for this code")

// Approve pairs the device waiting under the user code: its token (bound
// to its key) and its record are made now, and its next poll collects the
// credentials.
func (r *Registry) Approve(typed string, a Approval) (store.DeviceRecord, error) {
	now := r.cfg.Clock()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.waiting(typed, now)
	if p == nil {
		return store.DeviceRecord{}, ErrNotWaiting
	}
	return r.approve(p, a, now)
}

func (r *Registry) approve(p *pending, a Approval, now time.Time) (store.DeviceRecord, error) {
	if !ValidRole(a.Role) {
		return store.DeviceRecord{}, fmt.Errorf("role: %q is not ticket, counter or hall", a.Role)
	}
	if a.Role != "counter" {
		a.Counter = 0
	}
	settings := protocol.DeviceSettings{Revision: 1, TOML: InitialSettings(a.Role, a.Name, a.Counter, a.Languages, p.Hardware)}
	if err := config.CheckSettings([]byte(settings.TOML)); err != nil {
		return store.DeviceRecord{}, fmt.Errorf("the settings made for the device do not pass: %w", err)
	}
	secret, tok, err := r.cfg.Tokens.Create(store.Token{Office: a.Office, Role: a.Role, Counter: a.Counter, Label: a.Name, Key: p.Key, Created: now.UTC()})
	if err != nil {
		return store.DeviceRecord{}, fmt.Errorf("making the device's token: %w", err)
	}
	d := store.DeviceRecord{
		ID: tok.ID, Name: a.Name, Office: a.Office, Role: a.Role, Counter: a.Counter,
		Key: p.Key, Fingerprint: p.Fingerprint, Hardware: p.Hardware, Version: p.Version,
		Settings: settings, Paired: now.UTC(), PairedBy: a.By,
	}
	if err := r.cfg.Store.PutDevice(d); err != nil {
		// A token without its record would work but show nowhere.
		_, _ = r.cfg.Tokens.Revoke(tok.ID)
		return store.DeviceRecord{}, err
	}
	p.state = approved
	p.creds = protocol.Credentials{DeviceID: tok.ID, Token: secret, Office: a.Office, Role: a.Role, Counter: a.Counter, Name: a.Name, Settings: settings}
	return d, nil
}

// Deny rejects the pairing waiting under the user code: the device's next
// poll gets access_denied.
func (r *Registry) Deny(typed string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.waiting(typed, r.cfg.Clock())
	if p == nil {
		return ErrNotWaiting
	}
	p.state = denied
	return nil
}

// Revoke ends a paired device: its token is deleted and forgotten by the
// authenticator at once, its streams end with a revoked event, and its
// record is marked revoked (kept, so the office sees what it had).
func (r *Registry) Revoke(id string) (store.DeviceRecord, error) {
	d, err := r.cfg.Store.UpdateDevice(id, func(d *store.DeviceRecord) error {
		if d.Revoked.IsZero() {
			d.Revoked = r.cfg.Clock().UTC()
		}
		return nil
	})
	if err != nil {
		return store.DeviceRecord{}, err
	}
	if _, err := r.cfg.Tokens.Revoke(id); err != nil {
		return d, fmt.Errorf("deleting device %s's token: %w", id, err)
	}
	r.cfg.Forget(id)
	if r.cfg.Fleet != nil {
		r.cfg.Fleet.Revoke(id)
	}
	return d, nil
}

// SettingsError is settings that device/config refused, with its
// messages ("settings:LINE: key: message").
type SettingsError struct{ Err error }

func (e *SettingsError) Error() string { return e.Err.Error() }
func (e *SettingsError) Unwrap() error { return e.Err }

// SaveSettings stores a device's new settings if device/config accepts
// them, with the next revision, and sends them to the device if it is
// connected; sent says whether a stream took them. A *SettingsError says
// what is wrong, line by line.
func (r *Registry) SaveSettings(id, text string) (d store.DeviceRecord, sent bool, err error) {
	if err := config.CheckSettings([]byte(text)); err != nil {
		return store.DeviceRecord{}, false, &SettingsError{Err: err}
	}
	d, err = r.cfg.Store.UpdateDevice(id, func(d *store.DeviceRecord) error {
		if !d.Active() {
			return errors.New("the device was revoked")
		}
		d.Settings = protocol.DeviceSettings{Revision: d.Settings.Revision + 1, TOML: text}
		return nil
	})
	if err != nil {
		return store.DeviceRecord{}, false, err
	}
	if r.cfg.Fleet != nil {
		sent = r.cfg.Fleet.Send(id, fleet.Control{Event: protocol.SettingsEvent, Data: d.Settings}) > 0
	}
	return d, sent, nil
}

// NormalizeUserCode reads a user code as typed: case, spaces and dashes
// do not matter. ok=false if it cannot be one. User codes are written as
// booking codes are.
func NormalizeUserCode(typed string) (string, bool) { return links.NormalizeCode(typed) }

// FormatUserCode writes a user code as devices show it: "XXXX-XXXX".
func FormatUserCode(code string) string { return links.FormatCode(code) }

const userCodeLength = links.CodeLength

// userCode draws 8 characters of the booking-code alphabet evenly
// (RFC 8628 section 6.1: about 39 bits here, with the approve form's limit
// on wrong codes).
func userCode() string {
	alphabet := links.CodeAlphabet
	out := make([]byte, userCodeLength)
	buf := make([]byte, 1)
	limit := byte(256 - 256%len(alphabet))
	for i := 0; i < len(out); {
		_, _ = rand.Read(buf)
		if buf[0] >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}

// randomText is n random bytes, base64url.
func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashText(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
