package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/numerek/numerek/internal/testcert"
)

// The HAProxy recipe for several nodes (deploy/cluster/haproxy.cfg) is a
// configuration HAProxy itself accepts, with a certificate in its place.
func TestHAProxyRecipeIsValid(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Fatal("haproxy is not installed (scripts/install-deps.sh installs it)")
	}
	recipe, err := os.ReadFile("../../deploy/cluster/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// HAProxy takes the certificate, its chain and its key in one file.
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testcert.NewCA(t).Issue(t, 1, []string{"kolejka.example.pl"}, certPath, keyPath)
	certPEM, err1 := os.ReadFile(certPath)
	keyPEM, err2 := os.ReadFile(keyPath)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	pem := filepath.Join(dir, "site.pem")
	if err := os.WriteFile(pem, append(certPEM, keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	text := strings.ReplaceAll(string(recipe), "/etc/haproxy/kolejka.example.pl.pem", pem)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("haproxy", "-c", "-f", cfg).CombinedOutput(); err != nil {
		t.Fatalf("haproxy -c refuses the recipe: %v\n%s", err, out)
	}
}
