package pgstore

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/numerek/numerek/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// A new database is refused until it is migrated; migrating twice is
// harmless; the password never shows in what is told.
func TestOpenNeedsMigrate(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	if _, err := Open(ctx, url); err == nil || !strings.Contains(err.Error(), "queue-server migrate") {
		t.Fatalf("opening an empty database: %v, want it refused with how to migrate", err)
	}
	var out strings.Builder
	if err := Migrate(ctx, url, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "00001_offices.sql") {
		t.Errorf("migrate told %q, want the step it took", out.String())
	}
	out.Reset()
	if err := Migrate(ctx, url, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "migrated:") {
		t.Errorf("a second migrate did something: %q", out.String())
	}
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://numerek:s3cret@db.local:5432/numerek", "postgres://numerek:xxxxx@db.local:5432/numerek"},
		{"postgres://numerek@db.local/numerek", "postgres://numerek@db.local/numerek"},
		{"postgresql://db.local/numerek", "postgresql://db.local/numerek"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
