package pgstore

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/store"
)

// node is one queue-server's view of the shared tokens: a pool of its
// own and a watched token store.
func node(t *testing.T, url string) *TokenStore {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	ts := db.Tokens()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ts.Watch(ctx, slog.New(slog.DiscardHandler), nil) }()
	t.Cleanup(func() { cancel(); <-done })
	waitfor.Until(t, "the store to listen", 10*time.Second, ts.Listening)
	return ts
}

// A token made or revoked on one node changes the other node's stamp as
// soon as PostgreSQL delivers the notification, not at a poll: each
// node's authenticator rereads its tokens at the next request. Losing
// the listening connection changes the stamp too (what was said while
// it was away is lost) and the store listens again.
func TestTokensChangedOnOneNodeSeenByAnother(t *testing.T) {
	url := authMigrated(t)
	a, b := node(t, url), node(t, url)

	seen := func(ts *TokenStore, before string, what string) {
		t.Helper()
		waitfor.Until(t, what, 5*time.Second, func() bool { return ts.Stamp() != before })
		if !strings.HasPrefix(ts.Stamp(), "heard ") {
			t.Errorf("%s: stamp %q, want one a notification gave", what, ts.Stamp())
		}
	}

	before := b.Stamp()
	secret, tok, err := a.Create(store.Token{Office: "o", Role: "counter", Counter: 2})
	if err != nil {
		t.Fatal(err)
	}
	seen(b, before, "node b to hear of the token node a made")
	idx, err := b.Index()
	if err != nil || idx[store.Hash(secret)].ID != tok.ID {
		t.Fatalf("node b's index after the change: %v %v", idx, err)
	}

	before = b.Stamp()
	if found, err := a.Revoke(tok.ID); !found || err != nil {
		t.Fatalf("revoke: %v %v", found, err)
	}
	seen(b, before, "node b to hear of the revocation on node a")
	if _, ok, err := b.Lookup(secret); ok || err != nil {
		t.Errorf("node b still finds the revoked token: %v %v", ok, err)
	}

	// Cut node b's listening connection: its stamp changes, and it hears
	// node a again once it listens anew.
	before = b.Stamp()
	terminateListeners(t, url)
	waitfor.Until(t, "node b's stamp to change when its listener was cut", 10*time.Second, func() bool { return b.Stamp() != before })
	waitfor.Until(t, "node b to listen again", 10*time.Second, b.Listening)
	before = b.Stamp()
	if _, _, err := a.Create(store.Token{Office: "o", Role: "ticket"}); err != nil {
		t.Fatal(err)
	}
	seen(b, before, "node b to hear node a after listening again")
}

// terminateListeners cuts every connection LISTENing on the database at
// url, as a network fault or a restarted PostgreSQL would.
func terminateListeners(t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var cut int
	err = conn.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&cut)
	if err != nil || cut == 0 {
		t.Fatalf("cutting the listeners: %d cut, %v", cut, err)
	}
}
