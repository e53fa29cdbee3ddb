package protocol

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"
)

func TestProof(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, other, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	good := SignProof(key, "GET", "/api/v1/devices/self/config", now)
	tests := []struct {
		name         string
		header       string
		method, path string
		at           time.Time
		want         string
	}{
		{"signed now", good, "GET", "/api/v1/devices/self/config", now, ""},
		{"four minutes late", good, "GET", "/api/v1/devices/self/config", now.Add(4 * time.Minute), ""},
		{"missing", "", "GET", "/x", now, "missing"},
		{"another path", good, "GET", "/api/v1/offices/x/events", now, "not signed by this device's key"},
		{"another method", good, "POST", "/api/v1/devices/self/config", now, "not signed"},
		{"another key", SignProof(other, "GET", "/p", now), "GET", "/p", now, "not signed"},
		{"too old", good, "GET", "/api/v1/devices/self/config", now.Add(6 * time.Minute), "is the device's clock right"},
		{"from the future", good, "GET", "/api/v1/devices/self/config", now.Add(-6 * time.Minute), "is the device's clock right"},
		{"garbled", "yesterday.abc", "GET", "/p", now, "is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyProof(EncodePublicKey(pub), tt.header, tt.method, tt.path, tt.at)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := ParsePublicKey("c2hvcnQ="); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	if fp := Fingerprint(pub); len(strings.Fields(fp)) != 8 {
		t.Errorf("fingerprint %q, want 8 groups", fp)
	}
}

func FuzzVerifyProof(f *testing.F) {
	pub, key, _ := ed25519.GenerateKey(nil)
	now := time.Unix(1_800_000_000, 0)
	f.Add(SignProof(key, "GET", "/p", now))
	f.Add("1.x")
	f.Fuzz(func(t *testing.T, header string) {
		_ = VerifyProof(EncodePublicKey(pub), header, "GET", "/p", now)
	})
}
