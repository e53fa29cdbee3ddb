package protocol

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignProof makes a request's ProofHeader value with the device's key.
func SignProof(key ed25519.PrivateKey, method, path string, now time.Time) string {
	unix := now.Unix()
	sig := ed25519.Sign(key, ProofSignedText(method, path, unix))
	return strconv.FormatInt(unix, 10) + "." + base64.StdEncoding.EncodeToString(sig)
}

// VerifyProof checks a ProofHeader value against a device's public key
// (standard base64), the request's method and path, and the server's
// clock: it must be signed by the key and made within ProofWindow.
func VerifyProof(publicKey, header, method, path string, now time.Time) error {
	if header == "" {
		return errors.New(ProofHeader + " is missing: a paired device signs each request with its key")
	}
	pub, err := ParsePublicKey(publicKey)
	if err != nil {
		return err
	}
	unixText, sigText, ok := strings.Cut(header, ".")
	unix, err := strconv.ParseInt(unixText, 10, 64)
	if !ok || err != nil {
		return errors.New(ProofHeader + " is not \"<unix seconds>.<signature>\"")
	}
	at := time.Unix(unix, 0)
	if d := now.Sub(at); d > ProofWindow || d < -ProofWindow {
		return fmt.Errorf("%s was made at %s, %v from the server's clock (at most %v): is the device's clock right?",
			ProofHeader, at.UTC().Format(time.RFC3339), d.Round(time.Second), ProofWindow)
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil || !ed25519.Verify(pub, ProofSignedText(method, path, unix), sig) {
		return errors.New(ProofHeader + " is not signed by this device's key")
	}
	return nil
}

// ParsePublicKey reads an Ed25519 public key in standard base64.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public_key: not an Ed25519 public key (standard base64 of %d bytes)", ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// EncodePublicKey writes a public key as PairingRequest.PublicKey wants it.
func EncodePublicKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// Fingerprint is how a key is shown to people on the device's screen and
// the admin's page, to compare: the first 16 bytes of its SHA-256 in hex,
// in groups of four ("3f2a 9c01 ...").
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	h := hex.EncodeToString(sum[:16])
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+4])
	}
	return b.String()
}
