package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/devices"
	"github.com/numerek/numerek/server/servertest"
	"github.com/numerek/numerek/store"
)

// pairingDevice is a device that pairs as kioskd would: its own key, the
// RFC 8628 requests, then its token with a proof on every request.
type pairingDevice struct {
	t     *testing.T
	srv   *servertest.Server
	key   ed25519.PrivateKey
	grant protocol.PairingGrant
	creds protocol.Credentials
}

func newPairingDevice(t *testing.T, srv *servertest.Server) *pairingDevice {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &pairingDevice{t: t, srv: srv, key: key}
}

func (d *pairingDevice) publicKey() string {
	return protocol.EncodePublicKey(d.key.Public().(ed25519.PublicKey))
}

// post sends a JSON body without a token.
func (d *pairingDevice) post(path string, body any) (int, []byte) {
	d.t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(d.srv.URL+path, "application/json", bytes.NewReader(data))
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// start asks for a pairing, with an enrolment secret if one is given.
func (d *pairingDevice) start(enrolment string) {
	d.t.Helper()
	status, body := d.post(protocol.PairingPath, protocol.PairingRequest{PublicKey: d.publicKey(), Version: "1.4.0",
		Hardware: protocol.Hardware{Model: "Raspberry Pi 4 Model B", Serial: "10000000abcdef", Screen: "800x480"}, Enrolment: enrolment})
	if status != http.StatusOK {
		d.t.Fatalf("pairing request: %d %s", status, body)
	}
	if err := json.Unmarshal(body, &d.grant); err != nil {
		d.t.Fatal(err)
	}
}

// poll polls once, signed with key (the device's own unless another is
// given); it returns the error's code, or "" with the credentials kept.
func (d *pairingDevice) poll(key ed25519.PrivateKey) protocol.PairingError {
	d.t.Helper()
	if key == nil {
		key = d.key
	}
	sig := ed25519.Sign(key, protocol.PairingSignedText(d.grant.DeviceCode))
	status, body := d.post(protocol.PairingTokenPath, protocol.PairingPoll{GrantType: protocol.DeviceCodeGrantType,
		DeviceCode: d.grant.DeviceCode, Signature: base64.StdEncoding.EncodeToString(sig)})
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &d.creds); err != nil {
			d.t.Fatal(err)
		}
		return protocol.PairingError{}
	}
	var pe protocol.PairingError
	if status != http.StatusBadRequest || json.Unmarshal(body, &pe) != nil || pe.Error == "" {
		d.t.Fatalf("poll: %d %s, want 200 or 400 with an RFC 8628 error", status, body)
	}
	return pe
}

// request calls the API with the device's token; proof is the
// Numerek-Proof header ("sign" signs the request now).
func (d *pairingDevice) request(method, path, proof string) (*http.Response, error) {
	req, _ := http.NewRequest(method, d.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+d.creds.Token)
	if proof == "sign" {
		proof = protocol.SignProof(d.key, method, path, d.srv.Clock.Now())
	}
	if proof != "" {
		req.Header.Set(protocol.ProofHeader, proof)
	}
	return http.DefaultClient.Do(req)
}

func (d *pairingDevice) get(path, proof string) (int, string) {
	d.t.Helper()
	resp, err := d.request("GET", path, proof)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// The whole pairing of a counter display, as RFC 8628 runs it: pending,
// too fast, a poll signed by another key, the admin's approval, the
// credentials collected once; then the token works only with the device's
// proof, its settings are the server's, and revoking it ends its stream at
// once with `revoked` and refuses it afterwards.
func TestPairingDance(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	dev := newPairingDevice(t, srv)
	dev.start("")
	g := dev.grant
	if !regexp.MustCompile(`^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$`).MatchString(g.UserCode) {
		t.Errorf("user code %q is not XXXX-XXXX of the booking-code alphabet", g.UserCode)
	}
	if g.VerificationURI != "http://numerek.test/staff/devices/pair" || g.VerificationURIComplete != g.VerificationURI+"?code="+g.UserCode ||
		g.ExpiresIn != 900 || g.Interval != 5 || len(g.DeviceCode) < 32 {
		t.Errorf("grant %+v", g)
	}

	if e := dev.poll(nil); e.Error != protocol.PairingPending {
		t.Errorf("first poll: %+v, want authorization_pending", e)
	}
	if e := dev.poll(nil); e.Error != protocol.PairingSlowDown || e.Interval != 10 {
		t.Errorf("a poll at once: %+v, want slow_down with interval 10", e)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if e := dev.poll(other); e.Error != protocol.PairingInvalid || !strings.Contains(e.Description, "signature") {
		t.Errorf("a poll signed by another key: %+v, want invalid_grant about the signature", e)
	}
	srv.Clock.Set(srv.Clock.Now().Add(11 * time.Second))
	if e := dev.poll(nil); e.Error != protocol.PairingPending {
		t.Errorf("a poll after the slower interval: %+v, want authorization_pending", e)
	}

	p, ok := srv.Devices().Lookup(strings.ToLower(g.UserCode))
	if !ok || p.Hardware.Serial != "10000000abcdef" || p.Version != "1.4.0" ||
		p.Fingerprint != protocol.Fingerprint(dev.key.Public().(ed25519.PublicKey)) {
		t.Fatalf("the admin sees %+v (found=%v)", p, ok)
	}
	rec, err := srv.Devices().Approve(g.UserCode, devices.Approval{Office: srv.Office.ID, Role: "counter", Counter: 5,
		Name: "counter-5", Languages: srv.Office.Languages, By: "kierownik"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Devices().Approve(g.UserCode, devices.Approval{Office: srv.Office.ID, Role: "hall", Name: "again"}); !errors.Is(err, devices.ErrNotWaiting) {
		t.Errorf("approving a code twice: %v, want ErrNotWaiting", err)
	}
	srv.Clock.Set(srv.Clock.Now().Add(11 * time.Second))
	if e := dev.poll(nil); e.Error != "" {
		t.Fatalf("poll after approval: %+v, want the credentials", e)
	}
	c := dev.creds
	if c.DeviceID != rec.ID || c.Office != srv.Office.ID || c.Role != "counter" || c.Counter != 5 || c.Name != "counter-5" ||
		!strings.HasPrefix(c.Token, store.TokenPrefix) || c.Settings.Revision != 1 || !strings.Contains(c.Settings.TOML, "number = 5") {
		t.Errorf("credentials %+v", c)
	}
	srv.Clock.Set(srv.Clock.Now().Add(11 * time.Second))
	if e := dev.poll(nil); e.Error != protocol.PairingInvalid {
		t.Errorf("a second collection: %+v, want invalid_grant", e)
	}

	// The token is bound to the key.
	configPath := "/api/v1/offices/" + srv.Office.ID + "/config"
	tests := []struct {
		name, proof string
		status      int
		says        string
	}{
		{"no proof", "", 401, "Numerek-Proof is missing"},
		{"another request's proof", protocol.SignProof(dev.key, "GET", "/api/v1/whoami", srv.Clock.Now()), 401, "not signed by this device's key"},
		{"another key's proof", protocol.SignProof(other, "GET", configPath, srv.Clock.Now()), 401, "not signed by this device's key"},
		{"a stale proof", protocol.SignProof(dev.key, "GET", configPath, srv.Clock.Now().Add(-10*time.Minute)), 401, "from the server's clock"},
		{"a proof", "sign", 200, ""},
	}
	for _, tt := range tests {
		status, body := dev.get(configPath, tt.proof)
		if status != tt.status || !strings.Contains(body, tt.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tt.name, status, body, tt.status, tt.says)
		}
		// A refused proof tells the server's clock, so that a device
		// whose own is off signs its next request at it.
		var refusal protocol.ErrorResponse
		if status == 401 && (json.Unmarshal([]byte(body), &refusal) != nil || refusal.ServerTime.Sub(srv.Clock.Now()).Abs() > time.Second) {
			t.Errorf("%s: the refusal tells the server's time as %v, want %v", tt.name, refusal.ServerTime, srv.Clock.Now())
		}
	}
	status, body := dev.get(protocol.DeviceConfigPath, "sign")
	var settings protocol.DeviceSettings
	if status != 200 || json.Unmarshal([]byte(body), &settings) != nil || settings != c.Settings {
		t.Errorf("the device's settings: %d %s, want %+v", status, body, c.Settings)
	}
	if st, _, _ := srv.Call(srv.Tokens["hall"], "GET", "/config", ""); st != 200 {
		t.Errorf("a token made by hand needs no proof: %d", st)
	}
	handMade := &pairingDevice{t: t, srv: srv, creds: protocol.Credentials{Token: srv.Tokens["hall"]}}
	if status, body := handMade.get(protocol.DeviceConfigPath, ""); status != 404 || !strings.Contains(body, "not a paired device") {
		t.Errorf("settings of a token made by hand: %d %s, want 404", status, body)
	}

	// Revoked: the stream ends at once with `revoked`, then 401.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eventsPath := "/api/v1/offices/" + srv.Office.ID + "/events"
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+eventsPath, nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set(protocol.ProofHeader, protocol.SignProof(dev.key, "GET", eventsPath, srv.Clock.Now()))
	req.Header.Set(protocol.ControlHeader, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the device's stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	events := make(chan string, 100)
	ended := make(chan error, 1)
	go func() {
		ended <- sse.Read(resp.Body, func(m sse.Message) error { events <- m.Event; return nil })
		close(events)
	}()
	waitfor.Until(t, "the device's stream to open", 5*time.Second, func() bool { return srv.Fleet().Presence(c.DeviceID).Connected })
	edited := strings.Replace(c.Settings.TOML, "number = 5", "number = 5\n\n[buttons]\nnext = \"GPIO17\"", 1)
	if _, sent, err := srv.Devices().SaveSettings(c.DeviceID, edited); err != nil || !sent {
		t.Fatalf("saving settings: sent=%v %v", sent, err)
	}
	if _, _, err := srv.Devices().SaveSettings(c.DeviceID, "role = 7\n"); err == nil || !strings.Contains(err.Error(), "settings:1: role") {
		t.Errorf("settings with a wrong role: %v, want an error at settings:1", err)
	}
	for heard := false; !heard; {
		select {
		case e := <-events:
			heard = e == protocol.SettingsEvent
		case <-time.After(5 * time.Second):
			t.Fatal("the device's stream did not carry its new settings")
		}
	}
	if status, body := dev.get(protocol.DeviceConfigPath, "sign"); status != 200 || !strings.Contains(body, `"revision":2`) || !strings.Contains(body, "GPIO17") {
		t.Errorf("settings after the edit: %d %s", status, body)
	}
	if _, err := srv.Devices().Revoke(c.DeviceID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the revoked device's stream did not end")
	}
	var last string
	for e := range events {
		last = e
	}
	if last != protocol.RevokedEvent {
		t.Errorf("the stream's last event was %q, want revoked", last)
	}
	if status, body := dev.get(configPath, "sign"); status != 401 {
		t.Errorf("the revoked device's next call: %d %s, want 401", status, body)
	}
	if d, _, _ := srv.Devices().Store().Device(c.DeviceID); d.Active() {
		t.Error("the device's record is not marked revoked")
	}
}

// A pairing nobody approves in 15 minutes expires; one an admin rejects is
// denied; an unknown device code is invalid.
func TestPairingExpiredDeniedUnknown(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	late, refused := newPairingDevice(t, srv), newPairingDevice(t, srv)
	late.start("")
	refused.start("")
	if err := srv.Devices().Deny(refused.grant.UserCode); err != nil {
		t.Fatal(err)
	}
	if e := refused.poll(nil); e.Error != protocol.PairingDenied {
		t.Errorf("after the admin's rejection: %+v, want access_denied", e)
	}
	if _, ok := srv.Devices().Lookup(late.grant.UserCode); !ok {
		t.Fatal("the pairing does not wait for an admin")
	}
	srv.Clock.Set(srv.Clock.Now().Add(15*time.Minute + time.Second))
	if _, ok := srv.Devices().Lookup(late.grant.UserCode); ok {
		t.Error("an expired code can still be approved")
	}
	if e := late.poll(nil); e.Error != protocol.PairingExpired {
		t.Errorf("after 15 minutes: %+v, want expired_token", e)
	}
	if e := late.poll(nil); e.Error != protocol.PairingInvalid {
		t.Errorf("after expired_token: %+v, want invalid_grant", e)
	}
	status, body := late.post(protocol.PairingTokenPath, map[string]string{"grant_type": "password", "device_code": "x", "signature": ""})
	if status != 400 || !strings.Contains(string(body), "unsupported_grant_type") {
		t.Errorf("another grant type: %d %s", status, body)
	}
}

// A device with a batch's enrolment secret is approved at once with the
// batch's office and role; a used-up batch leaves the next to an admin.
// Bad requests and floods of them are refused.
func TestPairingEnrolmentAndLimits(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	secret, batch, err := srv.Devices().Store().CreateBatch(store.EnrolmentBatch{Office: srv.Office.ID, Role: "hall", NamePrefix: "hall-",
		UsesLeft: 1, Expires: srv.Clock.Now().Add(time.Hour), CreatedBy: "kierownik", Created: srv.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	first, second := newPairingDevice(t, srv), newPairingDevice(t, srv)
	first.start(secret)
	if e := first.poll(nil); e.Error != "" {
		t.Fatalf("an enrolled device's first poll: %+v, want its credentials", e)
	}
	fp := strings.ReplaceAll(protocol.Fingerprint(first.key.Public().(ed25519.PublicKey)), " ", "")
	if c := first.creds; c.Role != "hall" || c.Office != srv.Office.ID || c.Name != "hall-"+fp[:4] || !strings.Contains(c.Settings.TOML, "[sound]") {
		t.Errorf("enrolled: %+v", c)
	}
	if d, _, _ := srv.Devices().Store().Device(first.creds.DeviceID); d.PairedBy != "enrolment:"+batch.ID {
		t.Errorf("paired by %q", d.PairedBy)
	}
	second.start(secret)
	if e := second.poll(nil); e.Error != protocol.PairingPending {
		t.Errorf("with a used-up batch: %+v, want authorization_pending", e)
	}

	bad := []struct{ name, body, field string }{
		{"no key", `{}`, "public_key"},
		{"short key", `{"public_key":"AAAA"}`, "public_key"},
		{"unknown field", `{"public_key":"x","colour":"red"}`, "colour"},
	}
	for _, b := range bad {
		resp, err := http.Post(srv.URL+protocol.PairingPath, "application/json", strings.NewReader(b.body))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(data), b.field) {
			t.Errorf("%s: %d %s, want 400 naming %s", b.name, resp.StatusCode, data, b.field)
		}
	}
	// Five requests were taken from this address; the rest of the burst
	// is taken, then the next is refused.
	for i := 5; i < server.PairingBurst; i++ {
		if status, body := first.post(protocol.PairingPath, protocol.PairingRequest{PublicKey: first.publicKey()}); status != 200 {
			t.Fatalf("pairing request %d of the burst: %d %s", i+1, status, body)
		}
	}
	status, body := first.post(protocol.PairingPath, protocol.PairingRequest{PublicKey: first.publicKey()})
	if status != http.StatusTooManyRequests || !strings.Contains(string(body), "too many pairing requests") {
		t.Errorf("a pairing request past the burst: %d %s, want 429", status, body)
	}
}

// FuzzReadPairingRequest: whatever an unauthenticated client sends as a
// pairing request, reading it does not panic, and what it accepts has a
// usable key and texts within bounds.
func FuzzReadPairingRequest(f *testing.F) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	key := protocol.EncodePublicKey(pub)
	f.Add(`{"public_key":"` + key + `","version":"1.4.0","hardware":{"model":"Raspberry Pi 4","screen":"1920x1080","printer":true}}`)
	f.Add(`{"public_key":"` + key + `","enrolment":"nmke_abc"}`)
	f.Add(`{"public_key":"AAAA"}`)
	f.Add(`{"public_key":"` + key + `"}{}`)
	f.Add(`{"hardware":[]}`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", protocol.PairingPath, strings.NewReader(body))
		rec := httptest.NewRecorder()
		got, err := server.ReadPairingRequest(rec, req)
		if err != nil {
			if err.Error() == "" {
				t.Error("an error without a message")
			}
			return
		}
		if _, err := protocol.ParsePublicKey(got.PublicKey); err != nil {
			t.Errorf("accepted a request whose key does not parse: %v", err)
		}
		if len(got.Version) > 200 || len(got.Hardware.Model) > 200 || len(got.Enrolment) > 200 {
			t.Errorf("accepted texts over 200 bytes: %+v", got)
		}
	})
}
