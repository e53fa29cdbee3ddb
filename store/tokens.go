package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketTokens = []byte("tokens")

// Token is what a bearer token grants: a role in an office ("*" for an
// admin of every office), for counter roles a counter number. The secret
// itself is never stored, only its SHA-256.
type Token struct {
	ID      string    `json:"id"`
	Office  string    `json:"office"`
	Role    string    `json:"role"`
	Counter int       `json:"counter,omitempty"`
	Label   string    `json:"label,omitempty"`
	Created time.Time `json:"created"`
	// Key is a paired device's Ed25519 public key (standard base64):
	// its token is accepted only with a proof signed by that key
	// (protocol.ProofHeader). Empty for tokens made by hand.
	Key string `json:"key,omitempty"`
}

// TokenStore keeps tokens in their own bbolt file, opened only for each
// operation, so the command line can add tokens while the server runs.
type TokenStore struct {
	path string

	// The file's stamp, read at most once a second (Stamp).
	mu      sync.Mutex
	stamp   string
	stamped time.Time
}

// NewTokenStore uses the token file at path (created on first write).
func NewTokenStore(path string) *TokenStore { return &TokenStore{path: path} }

// TokenPrefix starts every secret, so a leaked one is easy to recognise.
const TokenPrefix = "nmk_"

func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return []byte(hex.EncodeToString(sum[:]))
}

// open checks the file before bbolt maps it (see openChecked): the file is
// small, and a damaged one must give an error, not crash the server in the
// middle of a request.
func (ts *TokenStore) open(readOnly bool) (*bolt.DB, error) {
	return openOrCreate(ts.path, &bolt.Options{Timeout: 3 * time.Second, ReadOnly: readOnly})
}

// NewToken gives t a new secret and id, and the time now if it has no
// creation time: what every token store does before it keeps a token
// under Hash(secret). The secret is shown once and never kept.
func NewToken(t Token) (secret string, tok Token, err error) {
	secret, id, err := newSecret(TokenPrefix, 5)
	if err != nil {
		return "", Token{}, fmt.Errorf("making a token: %w", err)
	}
	t.ID = id
	if t.Created.IsZero() {
		t.Created = time.Now().UTC()
	}
	return secret, t, nil
}

// Create makes a new token and returns its secret, shown once.
func (ts *TokenStore) Create(t Token) (string, Token, error) {
	secret, t, err := NewToken(t)
	if err != nil {
		return "", Token{}, err
	}
	data, err := json.Marshal(t)
	if err != nil {
		return "", Token{}, err
	}
	if err := os.MkdirAll(filepath.Dir(ts.path), 0o700); err != nil {
		return "", Token{}, fmt.Errorf("creating the token directory: %w", err)
	}
	db, err := ts.open(false)
	if err != nil {
		return "", Token{}, err
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketTokens)
		if err != nil {
			return err
		}
		return b.Put(hashSecret(secret), data)
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("storing the token: %w", err)
	}
	return secret, t, nil
}

// newSecret makes a secret of 160 random bits, lowercase base32 after
// prefix, and a random id of idBytes bytes in hex to name it by.
func newSecret(prefix string, idBytes int) (secret, id string, err error) {
	raw := make([]byte, 20+idBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	secret = prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:20]))
	return secret, hex.EncodeToString(raw[20:]), nil
}

// Lookup finds the token for a secret; ok=false if there is none.
func (ts *TokenStore) Lookup(secret string) (Token, bool, error) {
	if _, err := os.Stat(ts.path); errors.Is(err, os.ErrNotExist) {
		return Token{}, false, nil
	}
	db, err := ts.open(true)
	if err != nil {
		return Token{}, false, err
	}
	defer db.Close()
	var t Token
	found := false
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		v := b.Get(hashSecret(secret))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &t)
	})
	return t, found, err
}

// Index returns every token by the hash of its secret, for a server to
// check tokens in memory; Hash gives a secret's key.
func (ts *TokenStore) Index() (map[string]Token, error) {
	out := map[string]Token{}
	if _, err := os.Stat(ts.path); errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	db, err := ts.open(true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("token %s: %w", k[:8], err)
			}
			out[string(k)] = t
			return nil
		})
	})
	return out, err
}

// Hash is the key a secret is stored under.
func Hash(secret string) string { return string(hashSecret(secret)) }

// Path is the token file.
func (ts *TokenStore) Path() string { return ts.path }

// Stamp changes when the token file may have changed (the command line
// adds and revokes tokens while the server runs): the file's time and
// size, read at most once a second, so a server may ask on every request
// and reread the tokens only when it differs.
func (ts *TokenStore) Stamp() string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if now := time.Now(); ts.stamp == "" || now.Sub(ts.stamped) >= time.Second {
		ts.stamped = now
		ts.stamp = "no file"
		if fi, err := os.Stat(ts.path); err == nil {
			ts.stamp = fmt.Sprintf("%d %d", fi.ModTime().UnixNano(), fi.Size())
		}
	}
	return ts.stamp
}

// List returns every token, oldest first.
func (ts *TokenStore) List() ([]Token, error) {
	if _, err := os.Stat(ts.path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	db, err := ts.open(true)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var out []Token
	err = db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// Revoke deletes the token with the given id; ok=false if none had it.
func (ts *TokenStore) Revoke(id string) (bool, error) {
	db, err := ts.open(false)
	if err != nil {
		return false, err
	}
	defer db.Close()
	found := false
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b == nil {
			return nil
		}
		var key []byte
		err := b.ForEach(func(k, v []byte) error {
			var t Token
			if json.Unmarshal(v, &t) == nil && t.ID == id {
				key = append([]byte(nil), k...)
			}
			return nil
		})
		if err != nil || key == nil {
			return err
		}
		found = true
		return b.Delete(key)
	})
	return found, err
}
