// Package pushservice is a stand-in for a browser vendor's push service,
// for tests: there is none to reach from a build machine. It speaks the
// documented protocol of the receiving side: it takes pushes posted to
// its subscriptions' endpoints over HTTPS (RFC 8030), checks the sender's
// VAPID authorization (RFC 8292: an ES256 JWT for the endpoint's origin,
// signed with the key in k=) and decrypts the aes128gcm body (RFC 8291,
// RFC 8188) with the subscription's private key and auth secret, as a
// browser would. A subscription can be made to answer 410 Gone, as a push
// service does once the browser unsubscribed.
package pushservice

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/hkdf"
)

// Service is the stand-in push service, listening on a local HTTPS port.
type Service struct {
	srv *httptest.Server
	// Delivered receives every push taken or refused, in arrival order.
	Delivered chan Push

	mu   sync.Mutex
	subs map[string]*Subscription
	next int
}

// Subscription is what a browser's PushManager.subscribe returns, with
// the private half the browser keeps.
type Subscription struct {
	Endpoint string
	// P256dh and Auth are base64url, as PushSubscription.toJSON gives them.
	P256dh string
	Auth   string

	key  *ecdh.PrivateKey
	auth []byte
	gone bool
}

// Push is one POST to a subscription's endpoint, as the push service
// understood it.
type Push struct {
	Endpoint string
	// Message is the decrypted body.
	Message []byte
	// RecordSize is the body's size, as padded by the sender.
	RecordSize int
	TTL        int
	Urgency    string
	Topic      string
	// VAPIDKey is the sender's public key (k=), base64url; Claims the
	// verified JWT's claims.
	VAPIDKey string
	Claims   Claims
	// Status is what the push service answered; Err why it refused.
	Status int
	Err    error
	At     time.Time
}

// Claims are a VAPID JWT's claims (RFC 8292 2).
type Claims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub"`
}

// New starts the stand-in; Close stops it.
func New() *Service {
	s := &Service{Delivered: make(chan Push, 1024), subs: map[string]*Subscription{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.receive))
	return s
}

// Close stops listening.
func (s *Service) Close() { s.srv.Close() }

// Host is the host name of the stand-in's endpoints, for the sender's
// list of push services.
func (s *Service) Host() string {
	u, _ := url.Parse(s.srv.URL)
	return u.Hostname()
}

// Client is an HTTP client that trusts the stand-in's certificate: the
// sender's client in tests.
func (s *Service) Client() *http.Client { return s.srv.Client() }

// Subscribe makes a subscription as a browser would: a fresh P-256 key
// pair and a 16-byte auth secret, and an endpoint of this service.
func (s *Service) Subscribe() *Subscription {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	sub := &Subscription{
		Endpoint: fmt.Sprintf("%s/push/%d", s.srv.URL, s.next),
		P256dh:   base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(auth),
		key:      key, auth: auth,
	}
	s.subs[sub.Endpoint] = sub
	return sub
}

// Unsubscribe makes the push service answer 410 Gone for sub from now on.
func (s *Service) Unsubscribe(sub *Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub.gone = true
}

// Next waits for the next push, or returns ok=false after within.
func (s *Service) Next(within time.Duration) (Push, bool) {
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case p := <-s.Delivered:
		return p, true
	case <-t.C:
		return Push{}, false
	}
}

func (s *Service) receive(w http.ResponseWriter, r *http.Request) {
	p := Push{Endpoint: s.srv.URL + r.URL.Path, At: time.Now(), Urgency: r.Header.Get("Urgency"), Topic: r.Header.Get("Topic")}
	p.Status, p.Err = s.take(r, &p)
	if p.Status == http.StatusCreated {
		w.Header().Set("Location", p.Endpoint+"/message")
	}
	w.WriteHeader(p.Status)
	s.Delivered <- p
}

func (s *Service) take(r *http.Request, p *Push) (int, error) {
	s.mu.Lock()
	sub, gone := s.subs[p.Endpoint], false
	if sub != nil {
		gone = sub.gone
	}
	s.mu.Unlock()
	switch {
	case r.Method != http.MethodPost:
		return http.StatusMethodNotAllowed, fmt.Errorf("method %s, want POST", r.Method)
	case sub == nil:
		return http.StatusNotFound, errors.New("no such subscription")
	case gone:
		return http.StatusGone, errors.New("unsubscribed")
	}
	ttl, err := strconv.Atoi(r.Header.Get("TTL"))
	if err != nil || ttl < 0 {
		return http.StatusBadRequest, fmt.Errorf("TTL header %q: RFC 8030 5.2 requires one", r.Header.Get("TTL"))
	}
	p.TTL = ttl
	if err := p.checkVAPID(r.Header.Get("Authorization")); err != nil {
		return http.StatusUnauthorized, err
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return http.StatusUnsupportedMediaType, fmt.Errorf("Content-Encoding %q, want aes128gcm", ce)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		return http.StatusBadRequest, err
	}
	p.RecordSize = len(body)
	if p.Message, err = sub.Decrypt(body); err != nil {
		return http.StatusBadRequest, err
	}
	return http.StatusCreated, nil
}

// checkVAPID verifies "vapid t=<JWT>, k=<key>" (RFC 8292 3): an ES256
// JWT signed by k, for the endpoint's origin, not expired and expiring
// within 24 hours.
func (p *Push) checkVAPID(header string) error {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return fmt.Errorf("authorization header %.20q is not the vapid scheme", header)
	}
	params := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = v
	}
	token, key := params["t"], params["k"]
	p.VAPIDKey = key
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return fmt.Errorf("vapid k: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return fmt.Errorf("vapid k: %w", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("vapid t is not a JWT")
	}
	var head struct {
		Alg string `json:"alg"`
	}
	if err := decodeJSON(parts[0], &head); err != nil || head.Alg != "ES256" {
		return fmt.Errorf("JWT header: alg %q, want ES256 (%v)", head.Alg, err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("JWT signature is not 64 bytes of base64url")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("JWT signature does not verify with k")
	}
	if err := decodeJSON(parts[1], &p.Claims); err != nil {
		return fmt.Errorf("JWT claims: %w", err)
	}
	u, _ := url.Parse(p.Endpoint)
	if origin := u.Scheme + "://" + u.Host; p.Claims.Aud != origin {
		return fmt.Errorf("JWT aud %q, want the endpoint's origin %q", p.Claims.Aud, origin)
	}
	exp := time.Unix(p.Claims.Exp, 0)
	if exp.Before(time.Now()) || exp.After(time.Now().Add(24*time.Hour)) {
		return fmt.Errorf("JWT exp %v: must be in the next 24 hours", exp)
	}
	return nil
}

func decodeJSON(part string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Decrypt opens an aes128gcm push body (RFC 8188 header, keys per RFC
// 8291 3.3-3.4) as the browser holding sub would.
func (sub *Subscription) Decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("body shorter than the aes128gcm header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || rs < 18 {
		return nil, errors.New("aes128gcm header: bad record size or key id")
	}
	senderKey, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, fmt.Errorf("aes128gcm key id is not the sender's P-256 key: %w", err)
	}
	records := body[21+idlen:]
	if len(records) > int(rs) {
		return nil, fmt.Errorf("%d bytes of records, more than one record of %d: the sender sends one", len(records), rs)
	}
	secret, err := sub.key.ECDH(senderKey)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), sub.key.PublicKey().Bytes()...), senderKey.Bytes()...)
	ikm := derive(secret, sub.auth, string(info), 32)
	cek := derive(ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	nonce := derive(ikm, salt, "Content-Encoding: nonce\x00", 12)
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, records, nil)
	if err != nil {
		return nil, fmt.Errorf("decrypting: %w", err)
	}
	// The last record ends with 0x02 and then only zero padding.
	end := len(plain) - 1
	for end >= 0 && plain[end] == 0 {
		end--
	}
	if end < 0 || plain[end] != 2 {
		return nil, errors.New("no last-record delimiter (0x02) after the message")
	}
	return plain[:end], nil
}

// derive is HKDF-SHA-256 (RFC 5869) of length n.
func derive(secret, salt []byte, info string, n int) []byte {
	out := make([]byte, n)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, salt, []byte(info)), out); err != nil {
		panic(err) // only for n > 255*32
	}
	return out
}
