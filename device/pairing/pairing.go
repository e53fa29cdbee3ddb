// Package pairing is a device's side of pairing with a queue server, as
// RFC 8628's device authorization grant says (with JSON bodies): the
// device asks for a code with its public key, shows the code, and polls
// until an admin approves it on /staff/devices, then receives its
// credentials. It also reads what the device can say of its hardware, for
// the admin to recognise it.
package pairing

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/numerek/numerek/protocol"
)

// Options are how a device pairs.
type Options struct {
	// ServerURL is the queue server ("http://10.0.0.2:8080").
	ServerURL string
	// Key is the device's key; its public half is what the server pairs.
	Key      ed25519.PrivateKey
	Hardware protocol.Hardware
	Version  string
	// Enrolment is a batch's enrolment secret (the card's numerek.txt
	// gave it): the server approves the device at once, without an
	// admin typing its code. Empty: none.
	Enrolment string
	// HTTP sends the requests; nil: a client with LAN-sized timeouts.
	HTTP *http.Client
	// OnState is told each change of what the pairing screen shows, on
	// Run's goroutine.
	OnState func(State)
	Log     *slog.Logger
	// Second is the unit of the server's intervals and lifetimes: a
	// second, which tests shrink.
	Second time.Duration
	// Backoff spaces out tries while the server cannot be reached:
	// default 1 s doubling to 30 s.
	Backoff protocol.Backoff
}

// State is what the pairing screen shows.
type State struct {
	// Code is the user code as people type it, "XXXX-XXXX"; empty until
	// the server has given one.
	Code string
	// URI is where an admin approves it; URIComplete has the code in it
	// (for a QR).
	URI, URIComplete string
	// Refused: the admin refused the previous code; this is a new one.
	Refused bool
	// Unreachable: the server cannot be reached now; the device keeps
	// trying. Problem says why.
	Unreachable bool
	Problem     string
}

// SlowDownStep is what RFC 8628 adds to the interval at each slow_down.
const SlowDownStep = 5

// Run pairs: it asks for codes and polls until the server gives the
// credentials or ctx ends. It keeps trying while the server cannot be
// reached, and asks for a new code when one expires or is refused.
func Run(ctx context.Context, opts Options) (protocol.Credentials, error) {
	if opts.Second <= 0 {
		opts.Second = time.Second
	}
	if opts.Backoff.Min <= 0 {
		opts.Backoff.Min = time.Second
	}
	if opts.Backoff.Max <= 0 {
		opts.Backoff.Max = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
			Proxy:       http.ProxyFromEnvironment,
			DialContext: (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
		}}
	}
	root, err := url.Parse(strings.TrimRight(opts.ServerURL, "/"))
	if err != nil || (root.Scheme != "http" && root.Scheme != "https") || root.Host == "" {
		return protocol.Credentials{}, fmt.Errorf("server URL %q: want http://host:port or https://host", opts.ServerURL)
	}
	p := &pairer{opts: opts, root: root.String()}
	return p.run(ctx)
}

type pairer struct {
	opts    Options
	root    string
	state   State
	backoff protocol.Backoff
}

func (p *pairer) show(s State) {
	if s != p.state && p.opts.OnState != nil {
		p.opts.OnState(s)
	}
	p.state = s
}

func (p *pairer) run(ctx context.Context) (protocol.Credentials, error) {
	p.backoff = p.opts.Backoff
	refused := false
	for {
		grant, err := p.ask(ctx)
		if err != nil {
			return protocol.Credentials{}, err
		}
		code := FormatCode(grant.UserCode)
		p.opts.Log.Info("pairing: showing a code", "code", code, "approve_at", grant.VerificationURI)
		p.show(State{Code: code, URI: grant.VerificationURI, URIComplete: grant.VerificationURIComplete, Refused: refused})
		creds, outcome, err := p.poll(ctx, grant)
		switch {
		case err != nil:
			return protocol.Credentials{}, err
		case outcome == "":
			return creds, nil
		}
		refused = outcome == protocol.PairingDenied
		p.opts.Log.Info("pairing: the code is over; asking for a new one", "code", code, "why", outcome)
	}
}

// ask asks for a code until the server gives one.
func (p *pairer) ask(ctx context.Context) (protocol.PairingGrant, error) {
	req := protocol.PairingRequest{PublicKey: protocol.EncodePublicKey(p.opts.Key.Public().(ed25519.PublicKey)), Hardware: p.opts.Hardware, Version: p.opts.Version, Enrolment: p.opts.Enrolment}
	for {
		var grant protocol.PairingGrant
		status, err := p.post(ctx, protocol.PairingPath, req, &grant, nil)
		if err == nil && status == http.StatusOK && grant.DeviceCode != "" && grant.UserCode != "" {
			p.backoff.Reset()
			return grant, nil
		}
		if err == nil {
			err = fmt.Errorf("asking for a pairing code: the server answered %d without a code", status)
		}
		if werr := p.unreachable(ctx, err, p.backoff.Next()); werr != nil {
			return grant, werr
		}
	}
}

// unreachable shows that the server cannot be reached and waits before
// the next try.
func (p *pairer) unreachable(ctx context.Context, err error, wait time.Duration) error {
	s := p.state
	s.Unreachable, s.Problem = true, err.Error()
	p.opts.Log.Warn("pairing: the server cannot be reached", "err", err, "retry_in", wait.Round(time.Millisecond))
	p.show(s)
	return sleep(ctx, wait)
}

// poll polls for the grant's credentials: it returns them, or the reason
// the code is over (expired_token, access_denied, invalid_grant).
func (p *pairer) poll(ctx context.Context, grant protocol.PairingGrant) (protocol.Credentials, string, error) {
	interval := grant.Interval
	if interval <= 0 {
		interval = 5 // RFC 8628 section 3.2
	}
	var expires time.Time
	if grant.ExpiresIn > 0 {
		expires = time.Now().Add(time.Duration(grant.ExpiresIn) * p.opts.Second)
	}
	sig := ed25519.Sign(p.opts.Key, protocol.PairingSignedText(grant.DeviceCode))
	poll := protocol.PairingPoll{GrantType: protocol.DeviceCodeGrantType, DeviceCode: grant.DeviceCode, Signature: base64.StdEncoding.EncodeToString(sig)}
	wait := time.Duration(interval) * p.opts.Second
	for {
		if err := sleep(ctx, wait); err != nil {
			return protocol.Credentials{}, "", err
		}
		if !expires.IsZero() && time.Now().After(expires) {
			return protocol.Credentials{}, protocol.PairingExpired, nil
		}
		var creds protocol.Credentials
		var refusal protocol.PairingError
		status, err := p.post(ctx, protocol.PairingTokenPath, poll, &creds, &refusal)
		wait = time.Duration(interval) * p.opts.Second
		switch {
		case err != nil:
			// The server's interval still holds once it is back; the
			// backoff only stretches it.
			p.show(State{Code: p.state.Code, URI: p.state.URI, URIComplete: p.state.URIComplete, Refused: p.state.Refused, Unreachable: true, Problem: err.Error()})
			p.opts.Log.Warn("pairing: the server cannot be reached", "err", err)
			wait = max(wait, p.backoff.Next())
			continue
		case status == http.StatusOK:
			if creds.Token == "" || creds.Office == "" {
				return creds, "", fmt.Errorf("pairing: the server approved the code but sent no token or office")
			}
			return creds, "", nil
		}
		p.backoff.Reset()
		if p.state.Unreachable {
			s := p.state
			s.Unreachable, s.Problem = false, ""
			p.show(s)
		}
		switch refusal.Error {
		case protocol.PairingPending:
		case protocol.PairingSlowDown:
			interval += SlowDownStep
			if refusal.Interval > interval {
				interval = refusal.Interval
			}
			wait = time.Duration(interval) * p.opts.Second
		case protocol.PairingExpired, protocol.PairingDenied, protocol.PairingInvalid:
			return protocol.Credentials{}, refusal.Error, nil
		default:
			return protocol.Credentials{}, "", fmt.Errorf("pairing: the server answered %d %q: %s", status, refusal.Error, refusal.Description)
		}
	}
}

// post sends body as JSON to path; a 200's JSON goes into out, a 400's
// into refusal (nil: a 400 is an error). Other answers, and a network
// failure, are errors: the server is taken for unreachable.
func (p *pairer) post(ctx context.Context, path string, body, out, refusal any) (int, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", p.root+path, bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.opts.HTTP.Do(req)
	if err != nil {
		return 0, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("POST %s: reading the answer: %w", path, err)
	}
	into := out
	switch {
	case resp.StatusCode == http.StatusBadRequest && refusal != nil:
		into = refusal
	case resp.StatusCode != http.StatusOK:
		return resp.StatusCode, fmt.Errorf("POST %s: the server answered %d: %s", path, resp.StatusCode, firstLine(answer))
	}
	if err := json.Unmarshal(answer, into); err != nil {
		return resp.StatusCode, fmt.Errorf("POST %s: the answer (%d) is not the queue server's: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// FormatCode writes a user code as people read it: "ABCD-EFGH".
func FormatCode(code string) string {
	if len(code) == 8 && !strings.Contains(code, "-") {
		return code[:4] + "-" + code[4:]
	}
	return code
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
