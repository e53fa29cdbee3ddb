package main

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/server/tlsfront"
)

// httpsFlags are the command line's say over the config's HTTPS.
type httpsFlags struct {
	listen, acmeHosts, certFile, keyFile string
}

// apply lets the flags given override the config.
func (fl httpsFlags) apply(h officeconfig.HTTPS) (officeconfig.HTTPS, error) {
	if fl.listen != "" {
		h.Listen = fl.listen
	}
	if fl.acmeHosts != "" {
		h.ACMEHosts, h.CertFile, h.KeyFile = nil, "", ""
		for _, name := range strings.Split(fl.acmeHosts, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.ACMEHosts = append(h.ACMEHosts, name)
			}
		}
	}
	if fl.certFile != "" || fl.keyFile != "" {
		if fl.certFile == "" || fl.keyFile == "" {
			return h, fmt.Errorf("--cert and --key go together")
		}
		if fl.acmeHosts != "" {
			return h, fmt.Errorf("give either --acme-host or --cert and --key, not both")
		}
		h.ACMEHosts, h.CertFile, h.KeyFile = nil, fl.certFile, fl.keyFile
	}
	return h, nil
}

// newFront makes the HTTPS side from the config: ACME keeps its account
// and certificates in the data directory's acme folder.
func newFront(h officeconfig.HTTPS, dataDir string, logger *slog.Logger) (*tlsfront.Front, error) {
	cfg := tlsfront.Config{
		ACMEHosts: h.ACMEHosts, ACMEDirectory: h.ACMEDirectory, ACMEEmail: h.ACMEEmail,
		ACMECacheDir: filepath.Join(dataDir, "acme"),
		CertFile:     h.CertFile, KeyFile: h.KeyFile, HSTS: h.HSTS, Logger: logger,
	}
	if h.ACMECAFile != "" {
		pem, err := os.ReadFile(h.ACMECAFile)
		if err != nil {
			return nil, fmt.Errorf("reading acme_ca_file: %w", err)
		}
		cfg.ACMERoots = x509.NewCertPool()
		if !cfg.ACMERoots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("acme_ca_file %s: no PEM certificate in it", h.ACMECAFile)
		}
	}
	return tlsfront.New(cfg)
}

// redirectPort is the port HTTP is redirected to: the public address's
// when it is https (the listener may sit behind a port forward), else the
// HTTPS listener's own.
func redirectPort(publicURL string, ln net.Listener) int {
	if u, err := url.Parse(publicURL); err == nil && u.Scheme == "https" {
		if p, err := strconv.Atoi(u.Port()); err == nil {
			return p
		}
		return 443
	}
	return ln.Addr().(*net.TCPAddr).Port
}
