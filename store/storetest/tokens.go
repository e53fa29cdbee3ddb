package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/store"
)

// sameToken compares tokens as a reader does: times by their instant.
func sameToken(a, b store.Token) bool {
	if !a.Created.Equal(b.Created) {
		return false
	}
	a.Created, b.Created = time.Time{}, time.Time{}
	return a == b
}

// RunTokens tests a token store: open gives a new, empty one and what it
// has written.
func RunTokens(t *testing.T, open func(t *testing.T) (Tokens, Raw)) {
	t.Run("empty", func(t *testing.T) {
		ts, _ := open(t)
		if _, ok, err := ts.Lookup("nmk_nothing"); ok || err != nil {
			t.Errorf("lookup in an empty store: found=%v %v", ok, err)
		}
		if list, err := ts.List(); len(list) != 0 || err != nil {
			t.Errorf("list of an empty store: %v %v", list, err)
		}
		if idx, err := ts.Index(); idx == nil || len(idx) != 0 || err != nil {
			t.Errorf("index of an empty store: %v %v, want an empty map", idx, err)
		}
		if found, err := ts.Revoke("0123456789"); found || err != nil {
			t.Errorf("revoking in an empty store: found=%v %v", found, err)
		}
	})
	t.Run("created, found, listed, revoked", func(t *testing.T) {
		ts, raw := open(t)
		at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		tests := []struct {
			name string
			tok  store.Token
		}{
			{"counter", store.Token{Office: "cus-starachowice", Role: "counter", Counter: 5, Label: "stanowisko 5", Created: at.Add(2 * time.Minute)}},
			{"admin of every office", store.Token{Office: "*", Role: "admin", Label: "kierownik", Created: at}},
			{"paired device", store.Token{Office: "o1", Role: "hall", Label: "hall-1", Key: "MCowBQYDK2VwAyEA", Created: at.Add(time.Minute)}},
			{"no time given", store.Token{Office: "o1", Role: "ticket"}},
		}
		secrets := map[string]store.Token{}
		for _, tt := range tests {
			before := time.Now().Add(-time.Second)
			secret, tok, err := ts.Create(tt.tok)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) != len(store.TokenPrefix)+32 || len(tok.ID) != 10 {
				t.Errorf("%s: secret %q, id %q", tt.name, secret, tok.ID)
			}
			want := tt.tok
			want.ID = tok.ID
			if want.Created.IsZero() {
				if tok.Created.Before(before) || tok.Created.After(time.Now()) {
					t.Errorf("%s: created %v, want now", tt.name, tok.Created)
				}
				want.Created = tok.Created
			}
			if !sameToken(tok, want) {
				t.Errorf("%s: created %+v, want %+v", tt.name, tok, want)
			}
			got, ok, err := ts.Lookup(secret)
			if err != nil || !ok || !sameToken(got, tok) {
				t.Errorf("%s: lookup gave %+v found=%v %v, want %+v", tt.name, got, ok, err, tok)
			}
			if _, ok, _ := ts.Lookup(secret + "x"); ok {
				t.Errorf("%s: a wrong secret was accepted", tt.name)
			}
			secrets[secret] = tok
		}

		list, err := ts.List()
		if err != nil || len(list) != len(tests) {
			t.Fatalf("list: %+v %v", list, err)
		}
		for i := 1; i < len(list); i++ {
			if list[i].Created.Before(list[i-1].Created) {
				t.Errorf("list not oldest first: %v before %v", list[i-1].Created, list[i].Created)
			}
		}
		idx, err := ts.Index()
		if err != nil || len(idx) != len(tests) {
			t.Fatalf("index: %v %v", idx, err)
		}
		for secret, tok := range secrets {
			if got, ok := idx[store.Hash(secret)]; !ok || !sameToken(got, tok) {
				t.Errorf("index under the secret's hash: %+v found=%v, want %+v", got, ok, tok)
			}
		}

		written, err := raw()
		if err != nil {
			t.Fatal(err)
		}
		for secret := range secrets {
			if bytes.Contains(written, []byte(strings.TrimPrefix(secret, store.TokenPrefix))) {
				t.Errorf("the store holds the secret %s… in clear", secret[:8])
			}
			if !bytes.Contains(written, []byte(store.Hash(secret))) {
				t.Errorf("the store does not hold the secret's SHA-256 (hex), as every store keeps it")
			}
		}

		var revoked string
		for secret, tok := range secrets {
			revoked = secret
			if found, err := ts.Revoke(tok.ID); !found || err != nil {
				t.Fatalf("revoke %s: found=%v %v", tok.ID, found, err)
			}
			if found, err := ts.Revoke(tok.ID); found || err != nil {
				t.Errorf("revoking %s again: found=%v %v, want not found", tok.ID, found, err)
			}
			break
		}
		if _, ok, _ := ts.Lookup(revoked); ok {
			t.Error("a revoked token still works")
		}
		if idx, _ := ts.Index(); len(idx) != len(tests)-1 || idx[store.Hash(revoked)] != (store.Token{}) {
			t.Errorf("index after a revocation: %d tokens, the revoked one %+v", len(idx), idx[store.Hash(revoked)])
		}
		for secret, tok := range secrets {
			if secret == revoked {
				continue
			}
			if _, ok, _ := ts.Lookup(secret); !ok {
				t.Errorf("revoking another token revoked %s too", tok.ID)
			}
		}
	})
	t.Run("stamp changes with the tokens", func(t *testing.T) {
		ts, _ := open(t)
		before := ts.Stamp()
		_, tok, err := ts.Create(store.Token{Office: "o", Role: "clerk"})
		if err != nil {
			t.Fatal(err)
		}
		waitfor.Until(t, "the stamp to change after a token was created", 5*time.Second, func() bool { return ts.Stamp() != before })
		before = ts.Stamp()
		if _, err := ts.Revoke(tok.ID); err != nil {
			t.Fatal(err)
		}
		waitfor.Until(t, "the stamp to change after a token was revoked", 5*time.Second, func() bool { return ts.Stamp() != before })
	})
}
