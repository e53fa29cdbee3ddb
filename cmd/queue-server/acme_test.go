package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/numerek/numerek"
	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/testcert"
	"github.com/numerek/numerek/internal/waitfor"
)

// pebbleVersion is the Let's Encrypt test authority the ACME test runs.
const pebbleVersion = "v2.10.1"

var (
	pebbleOnce sync.Once
	pebbleDir  string
	pebbleErr  error
)

// buildPebble installs Pebble and its DNS server (pebble-challtestsrv)
// once per test binary; the Go build cache makes it a link step after the
// first time.
func buildPebble(t *testing.T) string {
	t.Helper()
	pebbleOnce.Do(func() {
		pebbleDir, pebbleErr = os.MkdirTemp("", "pebble-bin")
		if pebbleErr != nil {
			return
		}
		cmd := exec.Command("go", "install",
			"github.com/letsencrypt/pebble/v2/cmd/pebble@"+pebbleVersion,
			"github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@"+pebbleVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+pebbleDir, "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			pebbleErr = fmt.Errorf("go install pebble: %v\n%s", err, out)
		}
	})
	if pebbleErr != nil {
		t.Fatal(pebbleErr)
	}
	return pebbleDir
}

// freePort is a TCP port nothing listens on now.
func freePort(t testing.TB, host string) int {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// freeDNSPort is a port on 127.0.0.1 free for both TCP and UDP, as a DNS
// server takes both. It is taken below Linux's ephemeral range (32768 and
// up), where the ports of outgoing connections and of other tests'
// listeners on port 0 come from: a port free for UDP there was once taken
// for TCP by the time pebble-challtestsrv bound it.
func freeDNSPort(t testing.TB) int {
	t.Helper()
	for range 200 {
		port := 20000 + rand.IntN(12000)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		c, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err != nil {
			continue
		}
		c.Close()
		return port
	}
	t.Fatal("no port below 32768 is free for both TCP and UDP")
	return 0
}

// startProcess runs a helper program until the test ends, its output kept
// for the failure message.
func startProcess(t *testing.T, env []string, name string, args ...string) *lockedbuf.Buffer {
	t.Helper()
	out := &lockedbuf.Buffer{}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	// Output pipes are let go soon after the process ends, even if a child
	// it left behind still holds them.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM first: nginx's master stops its workers on it, which a
		// SIGKILL would leave running.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s:\n%s", filepath.Base(name), out.String())
		}
	})
	return out
}

// officeConfig is the example office with the given [server] section.
func officeConfig(t *testing.T, dir, serverSection string) string {
	t.Helper()
	example, err := numerek.ExampleOffices.ReadFile(numerek.DefaultOfficeFile)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(example), "[server]\npublic_url = \"http://localhost:8080\"\n", serverSection, 1)
	if text == string(example) {
		t.Fatal("the example office's [server] section changed; update officeConfig")
	}
	path := filepath.Join(dir, "office.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHTTPSByACME runs Let's Encrypt's test authority, Pebble, with real
// validation (its DNS is pebble-challtestsrv): queue-server gets its
// certificates for two names, one proved by tls-alpn-01 on the HTTPS
// listener and one (whose address has no HTTPS listener) by http-01 on the
// HTTP listener, and serves the resident's page to a client trusting
// Pebble's root alone.
func TestHTTPSByACME(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs Pebble and queue-server")
	}
	t.Parallel()
	pebbleBin := buildPebble(t)
	bin := buildServer(t)
	dir := t.TempDir()

	// Pebble's own API is HTTPS; queue-server is told to trust its CA.
	apiCA := testcert.NewCA(t)
	caFile := filepath.Join(dir, "pebble-api-ca.pem")
	testcert.WriteFile(t, caFile, apiCA.PEM())
	apiCert, apiKey := filepath.Join(dir, "pebble-cert.pem"), filepath.Join(dir, "pebble-key.pem")
	apiCA.Issue(t, 2, []string{"127.0.0.1", "localhost"}, apiCert, apiKey)

	httpPort, httpsPort := freePort(t, ""), freePort(t, "127.0.0.1")
	acmePort, mgmtPort := freePort(t, "127.0.0.1"), freePort(t, "127.0.0.1")
	dnsPort, dnsMgmtPort := freeDNSPort(t), freePort(t, "127.0.0.1")

	startProcess(t, nil, filepath.Join(pebbleBin, "pebble-challtestsrv"),
		"-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort), "-management", fmt.Sprintf("127.0.0.1:%d", dnsMgmtPort),
		"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	// plain.numerek.test is at 127.0.0.2, where nothing answers HTTPS
	// (the HTTPS listener is on 127.0.0.1 only) but HTTP does: its
	// tls-alpn-01 fails and autocert proves it by http-01 instead.
	waitfor.Until(t, "pebble-challtestsrv to take a DNS record", 10*time.Second, func() bool {
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/add-a", dnsMgmtPort), "application/json",
			strings.NewReader(`{"host":"plain.numerek.test","addresses":["127.0.0.2"]}`))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	pebbleConfig := filepath.Join(dir, "pebble.json")
	testcert.WriteFile(t, pebbleConfig, []byte(fmt.Sprintf(`{"pebble": {
		"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
		"certificate": %q, "privateKey": %q, "httpPort": %d, "tlsPort": %d,
		"ocspResponderURL": "", "externalAccountBindingRequired": false,
		"retryAfter": {"authz": 1, "order": 1}, "keyAlgorithm": "ecdsa"}}`,
		acmePort, mgmtPort, apiCert, apiKey, httpPort, httpsPort)))
	pebbleLog := startProcess(t, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"},
		filepath.Join(pebbleBin, "pebble"), "-config", pebbleConfig, "-dnsserver", fmt.Sprintf("127.0.0.1:%d", dnsPort))

	// The root Pebble issues under is new at every start.
	apiClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: apiCA.Pool}}}
	var rootPEM []byte
	waitfor.Until(t, "Pebble's root certificate", 20*time.Second, func() bool {
		resp, err := apiClient.Get(fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		rootPEM, err = io.ReadAll(resp.Body)
		return err == nil && resp.StatusCode == http.StatusOK
	})
	pebbleRoots := x509.NewCertPool()
	if !pebbleRoots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("Pebble's root is not PEM: %q", rootPEM)
	}

	config := officeConfig(t, dir, fmt.Sprintf(`[server]
acme_hosts = ["numerek.test", "plain.numerek.test"]
acme_directory = "https://127.0.0.1:%d/dir"
acme_ca_file = %q
`, acmePort, caFile))
	startServerWith(t, bin, "--data", filepath.Join(dir, "data"), "--config", config,
		"--listen", fmt.Sprintf(":%d", httpPort), "--listen-https", fmt.Sprintf("127.0.0.1:%d", httpsPort))

	// The resident's browser: trusts Pebble's root alone, and finds each
	// name where the DNS above says it is.
	resident := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pebbleRoots},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, port, _ := net.SplitHostPort(addr)
				ip := "127.0.0.1"
				if host == "plain.numerek.test" && port == strconv.Itoa(httpPort) {
					ip = "127.0.0.2"
				}
				return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(ip, port))
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	for _, name := range []string{"numerek.test", "plain.numerek.test"} {
		page := fmt.Sprintf("https://%s:%d/book/cus-starachowice?lang=en", name, httpsPort)
		resp, err := resident.Get(page)
		if err != nil {
			t.Fatalf("%s: the resident's page over HTTPS: %v", name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Starachowic") {
			t.Fatalf("%s: %s, %.200q", name, resp.Status, body)
		}
		chain := resp.TLS.PeerCertificates
		if chain[0].Subject.CommonName != name && !strings.Contains(strings.Join(chain[0].DNSNames, " "), name) {
			t.Errorf("%s: certificate for %v", name, chain[0].DNSNames)
		}
		if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
			t.Errorf("%s: no HSTS (%q)", name, hsts)
		} else if age, _ := strconv.Atoi(strings.TrimPrefix(hsts, "max-age=")); age < 180*24*3600 {
			t.Errorf("%s: HSTS max-age %d s is under 180 days", name, age)
		}
		var csrf *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "csrf" {
				csrf = c
			}
		}
		if csrf == nil || !csrf.Secure {
			t.Errorf("%s: the form's cookie over HTTPS is %+v, want Secure", name, csrf)
		}
	}
	t.Logf("both certificates got and served in %v", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(pebbleLog.String(), "validate w/ HTTP: http://plain.numerek.test:") {
		t.Error("Pebble did not validate plain.numerek.test by http-01")
	}

	// Plain HTTP is sent to HTTPS, path and query kept.
	resp, err := resident.Get(fmt.Sprintf("http://numerek.test:%d/book/cus-starachowice?lang=uk", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := fmt.Sprintf("https://numerek.test:%d/book/cus-starachowice?lang=uk", httpsPort)
	if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
		t.Errorf("HTTP: %s to %q, want 308 to %q", resp.Status, resp.Header.Get("Location"), want)
	}

	// A name outside acme_hosts gets no certificate.
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpsPort), &tls.Config{ServerName: "elsewhere.test", RootCAs: pebbleRoots})
	if err == nil {
		conn.Close()
		t.Error("a handshake for elsewhere.test succeeded")
	}
}

// TestHTTPSWithCertificateFiles runs queue-server with --cert and --key:
// a renewal that replaces the files is served from the next handshake,
// with no restart, and plain HTTP is redirected, but for the device API.
func TestHTTPSWithCertificateFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs queue-server")
	}
	t.Parallel()
	bin := buildServer(t)
	dir := t.TempDir()
	ca := testcert.NewCA(t)
	certFile, keyFile := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	ca.Issue(t, 501, []string{"kolejka.example.pl"}, certFile, keyFile)
	httpsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	srv := startServerWith(t, bin, "--data", filepath.Join(dir, "data"),
		"--listen-https", httpsAddr, "--cert", certFile, "--key", keyFile)

	served := func() int64 {
		t.Helper()
		conn, err := tls.Dial("tcp", httpsAddr, &tls.Config{ServerName: "kolejka.example.pl", RootCAs: ca.Pool})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	if got := served(); got != 501 {
		t.Fatalf("serial %d, want 501", got)
	}
	ca.Issue(t, 502, []string{"kolejka.example.pl"}, certFile, keyFile)
	if got := served(); got != 502 {
		t.Fatalf("after the files were replaced: serial %d, want 502", got)
	}

	plain := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := plain.Get(strings.TrimSuffix(srv.base, "/api/v1/offices/"+officeID) + "/o/" + officeID + "?lang=lt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, port, _ := net.SplitHostPort(httpsAddr)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusPermanentRedirect || loc != "https://127.0.0.1:"+port+"/o/"+officeID+"?lang=lt" {
		t.Errorf("plain HTTP: %s to %q", resp.Status, loc)
	}
	// The office's devices keep the server's LAN address over plain HTTP:
	// the device API answers there (401 without a token), not a redirect
	// to a certificate that does not name that address.
	for path, want := range map[string]int{"/api/v1/offices/" + officeID + "/state": http.StatusUnauthorized, "/healthz": http.StatusOK} {
		resp, err := plain.Get(strings.TrimSuffix(srv.base, "/api/v1/offices/"+officeID) + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("plain HTTP %s: %s, want %d", path, resp.Status, want)
		}
	}
}
