package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/storetest"
)

// readFile is what a bbolt store has written: its file.
func readFile(path string) storetest.Raw {
	return func() ([]byte, error) { return os.ReadFile(path) }
}

func TestTokenStore(t *testing.T) {
	storetest.RunTokens(t, func(t *testing.T) (storetest.Tokens, storetest.Raw) {
		path := filepath.Join(t.TempDir(), "tokens.db")
		return store.NewTokenStore(path), readFile(path)
	})
}

func TestClerkStore(t *testing.T) {
	storetest.RunClerks(t, func(t *testing.T) (storetest.Clerks, storetest.Raw) {
		path := filepath.Join(t.TempDir(), "clerks.db")
		return store.NewClerkStore(path).WithCost(bcrypt.MinCost), readFile(path)
	})
}

func TestDeviceStore(t *testing.T) {
	storetest.RunDevices(t, func(t *testing.T) (storetest.Devices, storetest.Raw) {
		path := filepath.Join(t.TempDir(), "devices.db")
		return store.NewDeviceStore(path), readFile(path)
	})
}
