package push

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The VAPID key is made once, kept readable only by the server, and read
// back the same; a damaged file is refused, not replaced.
func TestKeysKeptInTheDataDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vapid.key")
	first, err := LoadOrCreateKeys(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("vapid.key: %v, mode %v; want 0600", err, info.Mode())
	}
	again, err := LoadOrCreateKeys(path)
	if err != nil || again != first {
		t.Fatalf("read back %+v (%v), want %+v", again, err, first)
	}
	pub, err := base64.RawURLEncoding.DecodeString(first.Public)
	if err != nil || len(pub) != 65 || pub[0] != 4 {
		t.Errorf("public key %q is not an uncompressed P-256 point", first.Public)
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeys(path); err == nil || !strings.Contains(err.Error(), "not a P-256 private key") {
		t.Errorf("a damaged key gave %v", err)
	}
}

func browserKeys(t testing.TB) (p256dh, auth string) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(secret)
}

func TestParseSubscription(t *testing.T) {
	key, auth := browserKeys(t)
	padded := base64.URLEncoding.EncodeToString(must(base64.RawURLEncoding.DecodeString(key)))
	for _, c := range []struct {
		name, endpoint, p256dh, auth string
		err                          string
	}{
		{"as Chrome gives it", "https://fcm.googleapis.com/fcm/send/abc:def", key, auth, ""},
		{"padded keys", "https://updates.push.services.mozilla.com/wpush/v2/x", padded, auth + "==", ""},
		{"plain http", "http://push.example/x", key, auth, "not an https URL"},
		{"a user in the URL", "https://u:p@push.example/x", key, auth, "not an https URL"},
		{"no endpoint", "", key, auth, "no endpoint"},
		{"too long", "https://push.example/" + strings.Repeat("a", 1100), key, auth, "at most 1024"},
		{"not base64", "https://push.example/x", "!!", auth, "keys.p256dh: not base64url"},
		{"not a point", "https://push.example/x", base64.RawURLEncoding.EncodeToString(make([]byte, 65)), auth, "not a P-256 public key"},
		{"short secret", "https://push.example/x", key, "AAAA", "keys.auth is 3 bytes, want 16"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := ParseSubscription(c.endpoint, c.p256dh, c.auth)
			if c.err == "" {
				if err != nil || s.Endpoint != c.endpoint || s.P256dh != key || s.Auth != strings.TrimRight(auth, "=") {
					t.Errorf("got %+v, %v", s, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want one saying %q", err, c.err)
			}
		})
	}
}

func TestParsePhone(t *testing.T) {
	for _, c := range []struct{ in, want, err string }{
		{"+48 600-100-200", "+48600100200", ""},
		{"(22) 123 45 67", "221234567", ""},
		{"600.100.200", "600100200", ""},
		{"12345678", "", "8 digits"},
		{"+48 600 100 200 300 400", "", "17 digits"},
		{"600 100 2OO", "", "'O' is not a digit"},
		{"48+600100200", "", "'+' is not a digit"},
	} {
		got, err := ParsePhone(c.in)
		if c.err == "" && (err != nil || got != c.want) || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q, error %q", c.in, got, err, c.want, c.err)
		}
	}
}

func FuzzParseSubscription(f *testing.F) {
	key, auth := browserKeys(f)
	f.Add("https://fcm.googleapis.com/fcm/send/abc", key, auth)
	f.Add("https://x/", key+"==", "AAAA")
	f.Fuzz(func(t *testing.T, endpoint, p256dh, auth string) {
		s, err := ParseSubscription(endpoint, p256dh, auth)
		if err != nil {
			return
		}
		// What is accepted parses again to itself: it is what the sender
		// will use.
		again, err := ParseSubscription(s.Endpoint, s.P256dh, s.Auth)
		if err != nil || again != s || !strings.HasPrefix(s.Endpoint, "https://") {
			t.Errorf("accepted %+v, which reparses to %+v, %v", s, again, err)
		}
	})
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"+48 600-100-200", "(22) 123 45 67", "", "+", "ąę"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, err := ParsePhone(in)
		if err != nil {
			return
		}
		digits := strings.TrimPrefix(p, "+")
		if len(digits) < 9 || len(digits) > 15 || strings.Trim(digits, "0123456789") != "" {
			t.Errorf("ParsePhone(%q) accepted %q", in, p)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
