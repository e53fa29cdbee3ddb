// Package tlsfront puts the queue server on the public internet by
// itself: HTTPS with a certificate from an ACME authority (Let's Encrypt,
// through golang.org/x/crypto/acme/autocert) or from certificate files
// that are read again when a renewal replaces them, the plain HTTP listener
// turned into a redirect to HTTPS (still answering ACME's http-01
// challenges), and HSTS on HTTPS answers.
package tlsfront

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// HSTSMaxAge is how long browsers keep to HTTPS after an answer: a year
// (well past the 180 days browsers' preload lists ask for).
const HSTSMaxAge = 365 * 24 * 60 * 60

// Config is where the certificate comes from and how HTTPS is served.
// Exactly one of ACMEHosts and CertFile is set.
type Config struct {
	// ACMEHosts are the host names to get certificates for; a handshake
	// for any other name is refused.
	ACMEHosts []string
	// ACMEDirectory is the authority's directory URL; "" is Let's
	// Encrypt's production directory.
	ACMEDirectory string
	// ACMEEmail is the contact given to the authority; may be "".
	ACMEEmail string
	// ACMERoots checks the authority's own HTTPS (a private authority);
	// nil: the system's roots.
	ACMERoots *x509.CertPool
	// ACMECacheDir keeps the account key and the certificates across
	// restarts, so that a restart does not ask the authority again.
	ACMECacheDir string

	// CertFile and KeyFile are the PEM certificate (with its chain) and
	// key, checked for changes at every handshake.
	CertFile, KeyFile string

	// HSTS sends Strict-Transport-Security on HTTPS answers.
	HSTS bool
	// Logger hears about certificates that could not be read or got.
	Logger *slog.Logger
}

// Front is the HTTPS side of one server.
type Front struct {
	cfg   Config
	acme  *autocert.Manager
	files *certFiles
}

// New checks cfg and, for certificate files, reads them: a server must not
// start without a certificate it can serve.
func New(cfg Config) (*Front, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Front{cfg: cfg}
	switch {
	case len(cfg.ACMEHosts) > 0 && cfg.CertFile != "":
		return nil, errors.New("HTTPS: give either ACME host names or certificate files, not both")
	case len(cfg.ACMEHosts) > 0:
		if cfg.ACMECacheDir == "" {
			return nil, errors.New("HTTPS by ACME: no directory to keep the certificates in")
		}
		client := &acme.Client{DirectoryURL: cfg.ACMEDirectory}
		if client.DirectoryURL == "" {
			client.DirectoryURL = autocert.DefaultACMEDirectory
		}
		if cfg.ACMERoots != nil {
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.TLSClientConfig = &tls.Config{RootCAs: cfg.ACMERoots, MinVersion: tls.VersionTLS12}
			client.HTTPClient = &http.Client{Transport: tr}
		}
		f.acme = &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(cfg.ACMECacheDir),
			HostPolicy: autocert.HostWhitelist(cfg.ACMEHosts...),
			Email:      cfg.ACMEEmail,
			Client:     client,
		}
	case cfg.CertFile != "":
		files, err := loadCertFiles(cfg.CertFile, cfg.KeyFile, cfg.Logger)
		if err != nil {
			return nil, err
		}
		f.files = files
	default:
		return nil, errors.New("HTTPS: no ACME host name and no certificate file")
	}
	return f, nil
}

// TLSConfig is the HTTPS listener's: TLS 1.2 at least, Go's cipher
// suites, HTTP/2, and the certificate from ACME (answering tls-alpn-01
// challenges) or from the files.
func (f *Front) TLSConfig() *tls.Config {
	var c *tls.Config
	if f.acme != nil {
		c = f.acme.TLSConfig()
	} else {
		c = &tls.Config{GetCertificate: f.files.get, NextProtos: []string{"h2", "http/1.1"}}
	}
	c.MinVersion = tls.VersionTLS12
	return c
}

// Secure wraps the HTTPS listener's handler: it adds HSTS when configured.
func (f *Front) Secure(next http.Handler) http.Handler {
	if !f.cfg.HSTS {
		return next
	}
	value := "max-age=" + strconv.Itoa(HSTSMaxAge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", value)
		next.ServeHTTP(w, r)
	})
}

// Devices is the plain HTTP listener's handler: the device API (/api/)
// and /healthz are served by app as they are, and everything else goes to
// redirect. Devices reach the server on its office-network address, which
// no public certificate names; sent to HTTPS they would fail the
// handshake and the whole office's screens and kiosks would go dark the
// day HTTPS is turned on. Their bearer tokens cross only the office's
// network, as before; residents' pages and the staff's are all HTTPS.
func Devices(app, redirect http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz" {
			app.ServeHTTP(w, r)
			return
		}
		redirect.ServeHTTP(w, r)
	})
}

// Redirect is the plain HTTP listener's handler: every request is sent to
// the same path and query over HTTPS on httpsPort (left out of the address
// when it is 443), except ACME's http-01 challenges, which are answered.
func (f *Front) Redirect(httpsPort int) http.Handler {
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := hostOnly(r.Host)
		if host == "" {
			http.Error(w, "the request names no host; use https://", http.StatusBadRequest)
			return
		}
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		if httpsPort != 443 {
			host += ":" + strconv.Itoa(httpsPort)
		}
		target := "https://" + host + r.URL.RequestURI()
		// 308 keeps the method and body of a form sent to http://.
		http.Redirect(w, r, target, http.StatusPermanentRedirect)
	})
	if f.acme == nil {
		return redirect
	}
	challenges := f.acme.HTTPHandler(redirect)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			// The host policy knows names, not ports: an authority
			// validating on a port other than 80 (a test's, or behind a
			// port forward) names it in Host.
			r = r.Clone(r.Context())
			r.Host = hostOnly(r.Host)
		}
		challenges.ServeHTTP(w, r)
	})
}

// hostOnly is a Host header without its port, and without the brackets of
// an IPv6 address.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// Describe says where the certificate comes from, for the start-up log.
func (f *Front) Describe() string {
	if f.acme != nil {
		return fmt.Sprintf("ACME (%s) for %s", f.acme.Client.DirectoryURL, strings.Join(f.cfg.ACMEHosts, ", "))
	}
	return "files " + f.cfg.CertFile + ", " + f.cfg.KeyFile
}
