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

// The recipe sends to the fleet's node exactly the paths a node that
// does not run the fleet refuses (fleetPaths): one more on either side
// would be a request refused by every other node, or taken by one that
// does not act on it.
func TestHAProxyRecipeRoutesTheFleetsPaths(t *testing.T) {
	recipe, err := os.ReadFile("../../deploy/cluster/haproxy.cfg")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(recipe), "\n") {
		if fields := strings.Fields(line); len(fields) > 3 && fields[0] == "acl" && fields[1] == "fleet" && fields[2] == "path_beg" {
			if got, want := strings.Join(fields[3:], " "), strings.Join(fleetPaths, " "); got != want {
				t.Errorf("the recipe's fleet paths are %q, the server's %q", got, want)
			}
			return
		}
	}
	t.Error("the recipe has no acl fleet path_beg line")
}
