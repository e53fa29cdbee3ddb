package server

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/numerek/numerek/store"
)

// Wrong tokens sprayed from many addresses do not lift the throttle of an
// address that keeps guessing: the authenticator forgets the addresses
// idle longest, one at a time, not all of them at once.
func TestWrongTokensThrottleHoldsWhileAddressesChurn(t *testing.T) {
	ts := store.NewTokenStore(filepath.Join(t.TempDir(), "tokens.db"))
	if _, _, err := ts.Create(store.Token{Office: "o", Role: "clerk", Label: "anna"}); err != nil {
		t.Fatal(err)
	}
	a := newAuthenticator(ts, time.Now, nil)
	try := func(addr string) int {
		r := httptest.NewRequest("GET", "/api/v1/offices/o/state", nil)
		r.RemoteAddr = addr + ":40000"
		r.Header.Set("Authorization", "Bearer nmk_guess")
		_, err := a.authenticate(r)
		if e, ok := err.(*errAuth); ok {
			return e.status
		}
		t.Fatalf("a wrong token from %s: %v, want an errAuth", addr, err)
		return 0
	}
	for range 10 {
		try("10.9.9.9")
	}
	for i := range 25000 {
		if st := try(fmt.Sprintf("10.1.%d.%d", i/256, i%256)); st != http.StatusUnauthorized {
			t.Fatalf("the first wrong token of a fresh address: %d, want 401", st)
		}
		if i%1000 == 0 {
			if st := try("10.9.9.9"); st != http.StatusTooManyRequests {
				t.Fatalf("after %d other addresses the guessing address got %d, want 429", i, st)
			}
		}
	}
}
