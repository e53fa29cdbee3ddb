package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/numerek/numerek/internal/pgtest"
)

// The token and clerk commands work on the cluster's database with
// --store, as on a data folder; a wrong URL or an unmigrated database is
// refused saying what to do.
func TestAuthCommandsOnTheDatabase(t *testing.T) {
	url, db := migratedDB(t)
	unmigrated := pgtest.Database(t)
	runCmd := func(stdin string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := runWithStdin(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	code, secret, stderr := runCmd("", "token", "--store", url, "--office", "o1", "--role", "counter", "--counter", "4", "--label", "stanowisko 4")
	if code != 0 || !strings.HasPrefix(secret, "nmk_") {
		t.Fatalf("token: exit %d, %q %q", code, secret, stderr)
	}
	tok, ok, err := db.Tokens().Lookup(strings.TrimSpace(secret))
	if err != nil || !ok || tok.Counter != 4 {
		t.Fatalf("the new token in the database: %+v %v %v", tok, ok, err)
	}
	if code, list, _ := runCmd("", "tokens", "--store", url); code != 0 || !strings.Contains(list, tok.ID) || !strings.Contains(list, "stanowisko 4") || strings.Contains(list, "nmk_") {
		t.Errorf("tokens: exit %d, %q", code, list)
	}
	if code, said, _ := runCmd("", "revoke", "--store", url, tok.ID); code != 0 || !strings.Contains(said, "every node refuses it at once") {
		t.Errorf("revoke: exit %d, %q", code, said)
	}
	if _, ok, _ := db.Tokens().Lookup(strings.TrimSpace(secret)); ok {
		t.Error("the revoked token is still in the database")
	}

	if code, said, stderr := runCmd("a password for anna\n", "clerk", "--store", url, "--name", "anna", "--office", "o1,o2", "--role", "manager"); code != 0 || !strings.Contains(said, "clerk anna (manager of o1, o2) saved") {
		t.Fatalf("clerk: exit %d, %q %q", code, said, stderr)
	}
	if _, err := db.Clerks().Check("anna", "a password for anna"); err != nil {
		t.Errorf("the clerk does not log in on the database: %v", err)
	}
	if code, list, _ := runCmd("", "clerks", "--store", url); code != 0 || !strings.Contains(list, "anna") || !strings.Contains(list, "o1,o2") {
		t.Errorf("clerks: exit %d, %q", code, list)
	}
	if code, said, _ := runCmd("", "clerk", "--store", url, "--name", "anna", "--delete"); code != 0 || !strings.Contains(said, "clerk anna deleted") {
		t.Errorf("deleting the clerk: exit %d, %q", code, said)
	}

	refusals := []struct {
		args []string
		says string
	}{
		{[]string{"tokens", "--store", "/var/lib/numerek"}, `--store "/var/lib/numerek": give the database's URL, postgres://`},
		{[]string{"revoke", "--store", "postgres://numerek:secret@127.0.0.1:1/x?sslmode=nonsense", "abc"}, "reading the PostgreSQL address"},
		{[]string{"clerks", "--store", unmigrated}, "queue-server migrate --store URL"},
		{[]string{"token", "--store", unmigrated, "--office", "o1", "--role", "hall"}, "queue-server migrate --store URL"},
	}
	for _, r := range refusals {
		code, _, stderr := runCmd("", r.args...)
		if code != 1 || !strings.Contains(stderr, r.says) {
			t.Errorf("%v: exit %d, %q; want 1 saying %q", r.args, code, stderr, r.says)
		}
		if strings.Contains(stderr, "secret@") {
			t.Errorf("%v: the database's password was printed: %q", r.args, stderr)
		}
	}
}
