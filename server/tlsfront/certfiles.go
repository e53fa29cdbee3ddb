package tlsfront

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// certFiles serves a certificate from files and reads them again when
// either changes on disk, so that a renewal (certbot, an office's own
// tooling) needs no restart. A stat of each file per handshake is all it
// costs; a pair that cannot be read keeps the certificate served so far.
type certFiles struct {
	certPath, keyPath string
	log               *slog.Logger

	mu   sync.Mutex
	cert *tls.Certificate
	// loaded is the files' stamp when cert was read; tried the stamp last
	// tried, so that a bad pair is reported once, not at every handshake.
	loaded, tried stamp
}

// stamp is what tells a changed file: its modification time and size.
type stamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func loadCertFiles(certPath, keyPath string, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{certPath: certPath, keyPath: keyPath, log: log}
	st, err := c.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("reading the certificate files: %w", err)
	}
	c.cert, c.loaded, c.tried = &cert, st, st
	return c, nil
}

func (c *certFiles) stat() (stamp, error) {
	cf, err := os.Stat(c.certPath)
	if err != nil {
		return stamp{}, fmt.Errorf("reading the certificate file: %w", err)
	}
	kf, err := os.Stat(c.keyPath)
	if err != nil {
		return stamp{}, fmt.Errorf("reading the key file: %w", err)
	}
	return stamp{certMod: cf.ModTime(), keyMod: kf.ModTime(), certSize: cf.Size(), keySize: kf.Size()}, nil
}

// get is tls.Config.GetCertificate.
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.stat()
	if err != nil || st == c.loaded || st == c.tried {
		if err != nil && st != c.tried {
			c.tried = st
			c.log.Error("certificate files unreadable; serving the certificate read before", "err", err)
		}
		return c.cert, nil
	}
	c.tried = st
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		// A renewal writing the certificate before the key is seen here
		// in between; the next handshake after the key is written
		// tries again, as the stamp will have changed.
		c.log.Error("new certificate files could not be read; serving the certificate read before", "cert", c.certPath, "err", err)
		return c.cert, nil
	}
	c.cert, c.loaded = &cert, st
	c.log.Info("certificate files read again", "cert", c.certPath, "expires", cert.Leaf.NotAfter.Format(time.DateOnly))
	return c.cert, nil
}
