package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
)

// KeySize is the length of the server's secret key.
const KeySize = 32

// LoadOrCreateKey reads the server's secret key from path, or makes a new
// random one there (readable only by the server's user). The key signs
// e-ticket addresses and derives booking codes; losing it invalidates
// both, so it lives in the data directory with the logs.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	switch {
	case err == nil && len(key) == KeySize:
		return key, nil
	case err == nil:
		return nil, fmt.Errorf("secret key %s: %d bytes, want %d; restore it from a backup or remove it (old e-ticket links and booking codes stop working)", path, len(key), KeySize)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading the secret key: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("making the secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating the secret key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the secret key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing the secret key: %w", err)
	}
	return key, f.Close()
}
