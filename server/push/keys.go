package push

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
)

// Keys are the server's VAPID key pair (RFC 8292), base64url as the Push
// API and webpush-go take them: Private is the P-256 scalar, Public the
// uncompressed point a page hands to pushManager.subscribe as its
// applicationServerKey.
type Keys struct {
	Private string
	Public  string
}

// LoadOrCreateKeys reads the VAPID private key from path (32 raw bytes),
// or makes one there readable only by the server's user. Browsers
// subscribe to this key: a new key leaves every subscription made with
// the old one unreachable, so it lives in the data directory and its
// backups.
func LoadOrCreateKeys(path string) (Keys, error) {
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		raw, err = createKey(path)
		if err != nil {
			return Keys{}, err
		}
	case err != nil:
		return Keys{}, fmt.Errorf("reading the VAPID key: %w", err)
	}
	k, err := KeysFromRaw(raw)
	if err != nil {
		return Keys{}, fmt.Errorf("VAPID key %s: %w: restore it from a backup or remove it (phones subscribed until now stop getting pushes)", path, err)
	}
	return k, nil
}

// NewRawKey makes a new VAPID private key, 32 raw bytes.
func NewRawKey() ([]byte, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("making the VAPID key: %w", err)
	}
	return k.Bytes(), nil
}

// KeysFromRaw is the key pair of a VAPID private key's 32 raw bytes.
func KeysFromRaw(raw []byte) (Keys, error) {
	k, err := ecdh.P256().NewPrivateKey(raw)
	if err != nil {
		return Keys{}, fmt.Errorf("not a P-256 private key (%d bytes)", len(raw))
	}
	return Keys{
		Private: base64.RawURLEncoding.EncodeToString(raw),
		Public:  base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
	}, nil
}

func createKey(path string) ([]byte, error) {
	raw, err := NewRawKey()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the VAPID key: %w", err)
	}
	if _, err := f.Write(raw); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the VAPID key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the VAPID key: %w", err)
	}
	return raw, f.Close()
}
