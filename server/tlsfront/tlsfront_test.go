package tlsfront

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/testcert"
)

// servedSerial makes a fresh TLS handshake with the server and returns the
// serial number of the certificate it presents.
func servedSerial(t *testing.T, addr string, roots *x509.CertPool) int64 {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "numerek.test", RootCAs: roots})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// serveTLS serves h over HTTPS with f's TLS settings on a local port.
func serveTLS(t *testing.T, f *Front, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f.Secure(h), TLSConfig: f.TLSConfig(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// A renewal that replaces the files on disk is served from the next
// handshake on; a broken new pair keeps the certificate served so far and
// says so in the log.
func TestCertificateFilesAreReadAgainWhenTheyChange(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	ca.Issue(t, 1001, []string{"numerek.test"}, certPath, keyPath)
	var logs bytes.Buffer
	f, err := New(Config{CertFile: certPath, KeyFile: keyPath, HSTS: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, f, http.NotFoundHandler())
	if got := servedSerial(t, addr, ca.Pool); got != 1001 {
		t.Fatalf("first certificate: serial %d, want 1001", got)
	}

	ca.Issue(t, 1002, []string{"numerek.test"}, certPath, keyPath)
	if got := servedSerial(t, addr, ca.Pool); got != 1002 {
		t.Fatalf("after the renewal: serial %d, want 1002", got)
	}

	testcert.WriteFile(t, certPath, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"))
	if got := servedSerial(t, addr, ca.Pool); got != 1002 {
		t.Fatalf("after a broken file: serial %d, want the last good one, 1002", got)
	}
	if !strings.Contains(logs.String(), "new certificate files could not be read") {
		t.Errorf("a broken certificate file was not logged; log:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "could not be read"); n != 1 {
		t.Errorf("the broken file was reported %d times, want once", n)
	}
}

func TestStartRefusesUnreadableCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if _, err := New(Config{CertFile: certPath, KeyFile: keyPath}); err == nil || !strings.Contains(err.Error(), "reading the certificate file") {
		t.Errorf("missing files: error %v", err)
	}
	os.WriteFile(certPath, []byte("not a certificate"), 0o600)
	os.WriteFile(keyPath, []byte("not a key"), 0o600)
	if _, err := New(Config{CertFile: certPath, KeyFile: keyPath}); err == nil || !strings.Contains(err.Error(), "reading the certificate files") {
		t.Errorf("garbage files: error %v", err)
	}
}

func TestHTTPSAnswersCarryHSTSUnlessOff(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	ca.Issue(t, 7, []string{"numerek.test"}, certPath, keyPath)
	for _, on := range []bool{true, false} {
		f, err := New(Config{CertFile: certPath, KeyFile: keyPath, HSTS: on})
		if err != nil {
			t.Fatal(err)
		}
		addr := serveTLS(t, f, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		client := &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true, TLSClientConfig: &tls.Config{RootCAs: ca.Pool, ServerName: "numerek.test"}}}
		resp, err := client.Get("https://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("protocol %s, want HTTP/2", resp.Proto)
		}
		got := resp.Header.Get("Strict-Transport-Security")
		if on && got != "max-age=31536000" {
			t.Errorf("HSTS on: header %q, want max-age=31536000", got)
		}
		if !on && got != "" {
			t.Errorf("HSTS off: header %q, want none", got)
		}
	}
}

func TestTLSBelow12IsRefused(t *testing.T) {
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	ca.Issue(t, 7, []string{"numerek.test"}, certPath, keyPath)
	f, err := New(Config{CertFile: certPath, KeyFile: keyPath})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, f, http.NotFoundHandler())
	_, err = tls.Dial("tcp", addr, &tls.Config{ServerName: "numerek.test", RootCAs: ca.Pool, MaxVersion: tls.VersionTLS11, MinVersion: tls.VersionTLS10})
	if err == nil {
		t.Error("a TLS 1.1 handshake was accepted")
	}
}

func TestRedirectKeepsPathAndQuery(t *testing.T) {
	f := &Front{}
	tests := []struct {
		host, target string
		port         int
		want         string
	}{
		{"kolejka.example.pl", "/o/cus/book?lang=uk&x=1", 443, "https://kolejka.example.pl/o/cus/book?lang=uk&x=1"},
		{"kolejka.example.pl:80", "/", 443, "https://kolejka.example.pl/"},
		{"kolejka.example.pl:8080", "/staff", 8443, "https://kolejka.example.pl:8443/staff"},
		{"[2001:db8::1]:80", "/a%20b", 443, "https://[2001:db8::1]/a%20b"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "http://"+tt.host+tt.target, nil)
		w := httptest.NewRecorder()
		f.Redirect(tt.port).ServeHTTP(w, r)
		if w.Code != http.StatusPermanentRedirect || w.Header().Get("Location") != tt.want {
			t.Errorf("%s%s: %d to %q, want 308 to %q", tt.host, tt.target, w.Code, w.Header().Get("Location"), tt.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = ""
	w := httptest.NewRecorder()
	f.Redirect(443).ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest {
		t.Errorf("no host: %d, want 400", w.Code)
	}
}
