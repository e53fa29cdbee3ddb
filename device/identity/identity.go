// Package identity keeps what makes a device itself across restarts: its
// Ed25519 key pair, made on first start, and, once the server has paired
// it, the credentials it was given and the last settings it heard. All of
// it lives in the device's data folder, written so that a power cut at any
// moment leaves either the old file or the new one, never a torn one: a
// device must always boot, paired or pairing.
package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/numerek/numerek/protocol"
)

// The files in the data folder.
const (
	KeyFile         = "device.key"
	CredentialsFile = "credentials.json"
	SettingsFile    = "settings.json"
)

// ErrCorrupt marks a file that is there but cannot be read as what it
// should be (a disk that lost sectors, a hand edit): the caller treats the
// device as unpaired, and says so in its log.
var ErrCorrupt = errors.New("the file is damaged")

// Paired is what a paired device keeps: the credentials the server gave
// it and the server that gave them.
type Paired struct {
	protocol.Credentials
	// ServerURL is the server the device was paired with.
	ServerURL string `json:"server_url"`
}

// Key returns the device's private key from dir, making and saving a new
// one on first start. A damaged key file is replaced by a new key (the
// device pairs again: with another key its old pairing is worthless
// anyway), and the returned replaced says so.
func Key(dir string) (key ed25519.PrivateKey, replaced bool, err error) {
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil && len(data) == ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(data), false, nil
	case err == nil:
		replaced = true
	case !errors.Is(err, fs.ErrNotExist):
		return nil, false, fmt.Errorf("reading the device key: %w", err)
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("making the device key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("making the data folder: %w", err)
	}
	if err := writeAtomic(path, key.Seed()); err != nil {
		return nil, false, fmt.Errorf("saving the device key: %w", err)
	}
	return key, replaced, nil
}

// PublicKey reads the device's public key from dir without making one;
// nil when the device has none yet (or it is damaged).
func PublicKey(dir string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(filepath.Join(dir, KeyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the device key: %w", err)
	case len(data) != ed25519.SeedSize:
		return nil, nil
	}
	return ed25519.NewKeyFromSeed(data).Public().(ed25519.PublicKey), nil
}

// LoadPaired reads the credentials in dir: nil when the device is not
// paired, an error wrapping ErrCorrupt when the file cannot be read as
// credentials.
func LoadPaired(dir string) (*Paired, error) {
	var p Paired
	found, err := readJSON(filepath.Join(dir, CredentialsFile), &p)
	if err != nil || !found {
		return nil, err
	}
	if p.Token == "" || p.Office == "" || p.ServerURL == "" {
		return nil, fmt.Errorf("%s: %w: it lacks the token, the office or the server", filepath.Join(dir, CredentialsFile), ErrCorrupt)
	}
	return &p, nil
}

// SavePaired stores the credentials in dir, and the settings they came
// with as the device's current settings.
func SavePaired(dir string, p Paired) error {
	if err := SaveSettings(dir, p.Settings); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, CredentialsFile), p); err != nil {
		return fmt.Errorf("saving the credentials: %w", err)
	}
	return nil
}

// Forget removes the credentials and the cached settings: the device is
// unpaired and pairs again at its next start. Its key stays.
func Forget(dir string) error {
	for _, name := range []string{CredentialsFile, SettingsFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("forgetting the pairing: %w", err)
		}
	}
	return syncDir(dir)
}

// LoadSettings reads the last settings the device heard from the server;
// found is false when there are none (or they are damaged: the
// credentials' settings stand in, and the error says why).
func LoadSettings(dir string) (s protocol.DeviceSettings, found bool, err error) {
	found, err = readJSON(filepath.Join(dir, SettingsFile), &s)
	return s, found && err == nil, err
}

// SaveSettings caches the device's settings as the server keeps them, for
// a start without the server.
func SaveSettings(dir string, s protocol.DeviceSettings) error {
	if err := writeJSON(filepath.Join(dir, SettingsFile), s); err != nil {
		return fmt.Errorf("saving the settings: %w", err)
	}
	return nil
}

func readJSON(path string, v any) (found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("%s: %w: %v", path, ErrCorrupt, err)
	}
	return true, nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeAtomic(path, append(data, '\n'))
}

// writeAtomic replaces path with data: written and synced to a temporary
// file beside it, renamed over it, and the folder synced, so that after a
// power cut the name holds the old data or the new, whole. The file is
// the device's secret (mode 0600).
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or a removal in dir survive a power cut.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}
