package pgtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"testing"
	"time"
)

// envURL carries the server Main started to the tests of the same binary
// (and to the programs they start, which inherit the environment).
const envURL = "NUMEREK_PGTEST_URL"

// Main starts a server for a package's tests, runs them and stops it:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// When PostgreSQL 15 is not installed the tests still run, and each that
// asks for a Database fails saying so (make test installs it).
func Main(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	s, err := Start(ctx, "")
	cancel()
	if err != nil {
		os.Setenv(envURL, "error: "+err.Error())
		return m.Run()
	}
	os.Setenv(envURL, s.URL("postgres"))
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: stopping the server:", err)
	}
	return code
}

// Database makes an empty database on the server Main started, for one
// test, and returns its URL. The server itself is the test binary's.
func Database(t testing.TB) string {
	t.Helper()
	base := os.Getenv(envURL)
	switch {
	case base == "":
		t.Fatal("pgtest.Database: the package's TestMain must call pgtest.Main")
	case len(base) > 7 && base[:7] == "error: ":
		t.Fatalf("no PostgreSQL for the tests: %s", base[7:])
	}
	name := fmt.Sprintf("%s_%s", sanitize(t.Name()), rand.Text()[:8])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := createOn(ctx, base, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
