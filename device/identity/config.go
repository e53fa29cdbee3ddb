package identity

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/numerek/numerek/device/config"
)

// ErrNotPaired: the device's own file leaves its role to the server, and
// the server has not paired it yet.
var ErrNotPaired = errors.New("the device is not paired yet: its role and office come from the server once it is (kioskctl pairing says how far it is)")

// Effective is the configuration the device at local runs with, as kioskd
// builds it: its own file alone when set up by hand; else the server's
// settings (the last ones heard, when no older than those given at
// pairing) under its own file, with the credentials it was paired with.
// Settings that do not fit fall back to those given at pairing, as kioskd
// does. Tools that act on the device's hardware (kioskctl diag, buttons,
// locker) read it here, so a paired device is checked as it runs.
//
// key is the device's key for a paired device, whose token the server
// takes only with a proof signed by it (protocol.ClientOptions.Key); nil
// for one set up by hand, or when the key cannot be read.
func Effective(local *config.Local) (cfg *config.Config, key ed25519.PrivateKey, err error) {
	if local.ByHand {
		cfg, err = config.Parse(local.File, local.Text)
		return cfg, nil, err
	}
	paired, err := LoadPaired(local.DataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the device's credentials in %s: %w", local.DataDir, err)
	}
	if paired == nil {
		return nil, nil, ErrNotPaired
	}
	// A paired device whose key is gone or damaged is still checked by
	// what needs no key (buttons, doors); its token is refused, and kioskd
	// pairs it again at its next start.
	key, _ = ReadKey(local.DataDir)
	server := local.ServerURL
	if local.Discover() {
		server = paired.ServerURL
	}
	creds := config.Credentials{Office: paired.Office, Token: paired.Token, ServerURL: server}
	settings := paired.Settings
	if cached, found, err := LoadSettings(local.DataDir); err == nil && found && cached.Revision >= settings.Revision {
		settings = cached
	}
	cfg, err = config.Layered([]byte(settings.TOML), local.File, local.Text, creds)
	if err != nil && settings != paired.Settings {
		cfg, err = config.Layered([]byte(paired.Settings.TOML), local.File, local.Text, creds)
	}
	return cfg, key, err
}

// ReadKey reads the device's key from dir, changing nothing: unlike Key,
// a missing or damaged key is an error, for tools that only look.
func ReadKey(dir string) (ed25519.PrivateKey, error) {
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the device key: %w", err)
	}
	if len(data) != ed25519.SeedSize {
		return nil, fmt.Errorf("reading the device key %s: %w", path, ErrCorrupt)
	}
	return ed25519.NewKeyFromSeed(data), nil
}
