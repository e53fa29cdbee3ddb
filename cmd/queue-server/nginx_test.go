package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/lockedbuf"
	"github.com/numerek/numerek/internal/testcert"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol/sse"
)

// nginxRecipe is deploy/nginx/numerek.conf as an office would install it,
// with its addresses and files moved to the test's: each replacement must
// find its text exactly once, so the recipe cannot drift from what this
// test runs.
func nginxRecipe(t *testing.T, replacements ...string) string {
	t.Helper()
	data, err := os.ReadFile("../../deploy/nginx/numerek.conf")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i < len(replacements); i += 2 {
		if n := strings.Count(text, replacements[i]); n != 1 {
			t.Fatalf("deploy/nginx/numerek.conf has %q %d times, want once", replacements[i], n)
		}
		text = strings.Replace(text, replacements[i], replacements[i+1], 1)
	}
	return text
}

// startNginx runs Debian's nginx in the foreground with the recipe, its
// files all in dir.
func startNginx(t *testing.T, dir, recipe string) *lockedbuf.Buffer {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if nginx, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Fatal("nginx is not installed: run scripts/install-deps.sh")
		}
	}
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, "tmp", d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "numerek.conf"), []byte(recipe), 0o600); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		// As root, nginx's workers would become nobody, who cannot read
		// the test's files.
		user = "user root;"
	}
	main := fmt.Sprintf(`daemon off;
%s
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/tmp/body;
    proxy_temp_path %[2]s/tmp/proxy;
    fastcgi_temp_path %[2]s/tmp/fastcgi;
    uwsgi_temp_path %[2]s/tmp/uwsgi;
    scgi_temp_path %[2]s/tmp/scgi;
    include %[2]s/numerek.conf;
}
`, user, dir)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	out := startProcess(t, nil, nginx, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", log)
		}
	})
	return out
}

// TestBehindNginx puts Debian's nginx with deploy/nginx/numerek.conf in
// front of queue-server (trusted_proxies = 127.0.0.1/32) and checks what
// an office behind nginx relies on: each resident is told apart by the
// address nginx passes on (a limit reached by one is not reached by
// another), a header a resident sends to pretend to be someone else is
// passed over, device event streams deliver at once through nginx, and
// the form's cookie is Secure because nginx says the request came over
// HTTPS.
func TestBehindNginx(t *testing.T) {
	if testing.Short() {
		t.Skip("runs nginx and queue-server")
	}
	t.Parallel()
	bin := buildServer(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	ticketToken := token(t, bin, data, "--role", "ticket", "--label", "kiosk")
	hallToken := token(t, bin, data, "--role", "hall", "--label", "hall")
	config := officeConfig(t, dir, "[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n")
	srv := startServerWith(t, bin, "--data", data, "--config", config, "--clock", "2026-11-23T09:00:00")
	upstream := strings.TrimPrefix(strings.TrimSuffix(srv.base, "/api/v1/offices/"+officeID), "http://")

	ca := testcert.NewCA(t)
	certFile, keyFile := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	ca.Issue(t, 3, []string{"kolejka.example.pl"}, certFile, keyFile)
	httpsPort, httpPort := freePort(t, "127.0.0.1"), freePort(t, "127.0.0.1")
	startNginx(t, filepath.Join(dir, "nginx"), nginxRecipe(t,
		"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", httpPort),
		"    listen [::]:80;\n", "",
		"listen 443 ssl http2;", fmt.Sprintf("listen 127.0.0.1:%d ssl http2;", httpsPort),
		"    listen [::]:443 ssl http2;\n", "",
		"server 127.0.0.1:8080;", "server "+upstream+";",
		"/etc/letsencrypt/live/kolejka.example.pl/fullchain.pem", certFile,
		"/etc/letsencrypt/live/kolejka.example.pl/privkey.pem", keyFile,
		"root /var/www/letsencrypt;", "root "+filepath.Join(dir, "webroot")+";",
	))
	nginxAddr := fmt.Sprintf("127.0.0.1:%d", httpsPort)
	waitfor.Until(t, "nginx to listen", 10*time.Second, func() bool {
		c, err := net.Dial("tcp", nginxAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	// Two residents on different addresses (the whole of 127/8 is this
	// machine), both reaching nginx; nginx itself reaches queue-server
	// from 127.0.0.1.
	resident := func(from string) *http.Client {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: ca.Pool, ServerName: "kolejka.example.pl"},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, nginxAddr)
			},
		}}
	}
	anna, boris := resident("127.0.0.2"), resident("127.0.0.3")
	api := "https://kolejka.example.pl/api/v1/offices/" + officeID
	wrongToken := func(c *http.Client, headers ...string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", api+"/state", nil)
		req.Header.Set("Authorization", "Bearer not-a-token")
		for i := 0; i < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Wrong tokens are limited per client address: Anna guesses until
	// refused.
	refused := false
	for i := 0; i < 30 && !refused; i++ {
		refused = wrongToken(anna) == http.StatusTooManyRequests
	}
	if !refused {
		t.Fatal("30 wrong tokens from one address were never refused")
	}
	if got := wrongToken(boris); got != http.StatusUnauthorized {
		t.Errorf("Boris, at another address behind the same nginx: %d, want 401 (not Anna's 429): the server does not see X-Forwarded-For's address", got)
	}
	spoofs := [][]string{
		{"X-Forwarded-For", "198.51.100.1"},
		{"X-Forwarded-For", "198.51.100.1, 127.0.0.1"},
		{"Forwarded", "for=198.51.100.1"},
		{"X-Real-IP", "198.51.100.1"},
	}
	for _, spoof := range spoofs {
		if got := wrongToken(anna, spoof...); got != http.StatusTooManyRequests {
			t.Errorf("Anna sending %s: %s: %d, want still 429: a header she wrote made her someone else", spoof[0], spoof[1], got)
		}
	}

	// A hall display's event stream through nginx delivers a new ticket
	// at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", api+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+hallToken)
	hall := resident("127.0.0.4")
	hall.Timeout = 0
	resp, err := hall.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("event stream: %s", resp.Status)
	}
	messages := make(chan sse.Message, 100)
	go func() {
		_ = sse.Read(resp.Body, func(m sse.Message) error { messages <- m; return nil })
		close(messages)
	}()
	kiosk := resident("127.0.0.5")
	issued := time.Now()
	status, tr, err := post(kiosk, api+"/tickets", ticketToken, `{"service":"documents","lang":"pl","request_id":"nginx-1"}`)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("issuing a ticket through nginx: %d %v", status, err)
	}
	// Buffered by nginx (proxy_buffering on), the event would wait for
	// the proxy's buffer to fill, which a stream of small heartbeats takes
	// minutes to do. 10 s is no speed target, only room for a busy machine.
	deadline := time.After(10 * time.Second)
	for seen := false; !seen; {
		select {
		case m, ok := <-messages:
			if !ok {
				t.Fatal("the event stream ended")
			}
			seen = bytes.Contains(m.Data, []byte(tr.Ticket.ID))
		case <-deadline:
			t.Fatalf("ticket %s issued, but its event did not come through nginx within 10 s", tr.Ticket.Number)
		}
	}
	t.Logf("the ticket's event came through nginx %v after it was issued", time.Since(issued).Round(time.Millisecond))

	// nginx says https: the form's cookie is Secure, and HSTS is sent.
	page, err := anna.Get("https://kolejka.example.pl/book/" + officeID)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Fatalf("booking page through nginx: %s", page.Status)
	}
	var csrf *http.Cookie
	for _, c := range page.Cookies() {
		if c.Name == "csrf" {
			csrf = c
		}
	}
	if csrf == nil || !csrf.Secure {
		t.Errorf("the form's cookie behind nginx's HTTPS is %+v, want Secure", csrf)
	}
	if page.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS from nginx")
	}
}
