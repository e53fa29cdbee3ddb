package identity

import (
	"errors"
	"fmt"

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
func Effective(local *config.Local) (*config.Config, error) {
	if local.ByHand {
		return config.Parse(local.File, local.Text)
	}
	paired, err := LoadPaired(local.DataDir)
	if err != nil {
		return nil, fmt.Errorf("reading the device's credentials in %s: %w", local.DataDir, err)
	}
	if paired == nil {
		return nil, ErrNotPaired
	}
	server := local.ServerURL
	if local.Discover() {
		server = paired.ServerURL
	}
	creds := config.Credentials{Office: paired.Office, Token: paired.Token, ServerURL: server}
	settings := paired.Settings
	if cached, found, err := LoadSettings(local.DataDir); err == nil && found && cached.Revision >= settings.Revision {
		settings = cached
	}
	cfg, err := config.Layered([]byte(settings.TOML), local.File, local.Text, creds)
	if err != nil && settings != paired.Settings {
		cfg, err = config.Layered([]byte(paired.Settings.TOML), local.File, local.Text, creds)
	}
	return cfg, err
}
