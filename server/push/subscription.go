package push

import (
	"crypto/ecdh"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/numerek/numerek/store"
)

// maxEndpoint bounds a push endpoint's length; real ones are under 600.
const maxEndpoint = 1024

// ParseSubscription checks a subscription a page sent (its JSON's
// endpoint, keys.p256dh and keys.auth) before the server posts to it: an
// https URL without user or fragment, a P-256 public key and a 16-byte
// secret, the keys base64url with or without padding.
func ParseSubscription(endpoint, p256dh, auth string) (store.PushSubscription, error) {
	if endpoint == "" {
		return store.PushSubscription{}, fmt.Errorf("push subscription: no endpoint")
	}
	if len(endpoint) > maxEndpoint {
		return store.PushSubscription{}, fmt.Errorf("push subscription: endpoint is %d characters long, at most %d", len(endpoint), maxEndpoint)
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return store.PushSubscription{}, fmt.Errorf("push subscription: endpoint %.60q is not an https URL", endpoint)
	}
	key, err := decodeKey(p256dh)
	if err != nil {
		return store.PushSubscription{}, fmt.Errorf("push subscription: keys.p256dh: %w", err)
	}
	if _, err := ecdh.P256().NewPublicKey(key); err != nil {
		return store.PushSubscription{}, fmt.Errorf("push subscription: keys.p256dh is not a P-256 public key (%d bytes)", len(key))
	}
	secret, err := decodeKey(auth)
	if err != nil {
		return store.PushSubscription{}, fmt.Errorf("push subscription: keys.auth: %w", err)
	}
	if len(secret) != 16 {
		return store.PushSubscription{}, fmt.Errorf("push subscription: keys.auth is %d bytes, want 16", len(secret))
	}
	return store.PushSubscription{
		Endpoint: u.String(),
		P256dh:   base64.RawURLEncoding.EncodeToString(key),
		Auth:     base64.RawURLEncoding.EncodeToString(secret),
	}, nil
}

func decodeKey(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("not base64url: %w", err)
	}
	return b, nil
}

// ParsePhone checks a phone number a resident typed for the SMS of their
// ticket and returns it as digits with an optional leading +: spaces,
// dashes, dots and brackets may separate the 9 to 15 digits (E.164 has at
// most 15).
func ParsePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > 32 {
		return "", fmt.Errorf("phone number: %d characters, at most 32", len(s))
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", fmt.Errorf("phone number: %q is not a digit", r)
		}
	}
	out := b.String()
	if digits := len(strings.TrimPrefix(out, "+")); digits < 9 || digits > 15 {
		return "", fmt.Errorf("phone number: %d digits, want 9 to 15", digits)
	}
	return out, nil
}
