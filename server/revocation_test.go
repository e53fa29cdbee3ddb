package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/pgtest"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// A device's token revoked elsewhere, not through this server (with the
// command line beside a token file, or on another node sharing the
// PostgreSQL tokens), is refused here and ends the device's stream here
// with `revoked`, as a revocation on this server's pages does. On
// PostgreSQL it is pushed: the stream ends without a single request
// reaching this node.
func TestTokenRevokedElsewhereEndsItsStreamHere(t *testing.T) {
	tests := []struct {
		name string
		// stores gives this server's token store and the one revoking
		// elsewhere; watch, when not nil, is this node's listener.
		stores func(t *testing.T) (here, elsewhere Tokens, watch func(ctx context.Context, changed func()))
		pushed bool
	}{
		{"token file and the command line", func(t *testing.T) (Tokens, Tokens, func(context.Context, func())) {
			path := filepath.Join(t.TempDir(), "tokens.db")
			return store.NewTokenStore(path), store.NewTokenStore(path), nil
		}, false},
		{"PostgreSQL and another node", func(t *testing.T) (Tokens, Tokens, func(context.Context, func())) {
			url := pgtest.Database(t)
			ctx := context.Background()
			if err := pgstore.Migrate(ctx, url, io.Discard); err != nil {
				t.Fatal(err)
			}
			var nodes [2]*pgstore.TokenStore
			for i := range nodes {
				db, err := pgstore.Open(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(db.Close)
				nodes[i] = db.Tokens()
			}
			here := nodes[0]
			watch := func(ctx context.Context, changed func()) {
				go here.Watch(ctx, slog.New(slog.DiscardHandler), changed)
				waitfor.Until(t, "this node to listen", 10*time.Second, here.Listening)
			}
			return here, nodes[1], watch
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			here, elsewhere, watch := tt.stores(t)
			e := newEnvWith(t, actor.Options{}, func(c *Config) { c.Tokens = here })
			if watch != nil {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				watch(ctx, e.srv.TokensChanged)
			}
			secret, tok, err := elsewhere.Create(store.Token{Office: e.office.ID, Role: "hall", Label: "hall-lcd"})
			if err != nil {
				t.Fatal(err)
			}
			e.tokens["hall-elsewhere"] = secret
			waitfor.Until(t, "the token made elsewhere to be accepted here", 5*time.Second, func() bool {
				status, _ := e.call("hall-elsewhere", "GET", e.path("/config"), "")
				return status == http.StatusOK
			})

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", e.path("/events"), nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			req.Header.Set(protocol.ControlHeader, "1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("the device's stream: %v %v", resp, err)
			}
			defer resp.Body.Close()
			var last string
			ended := make(chan struct{})
			go func() {
				defer close(ended)
				_ = sse.Read(resp.Body, func(m sse.Message) error { last = m.Event; return nil })
			}()
			waitfor.Until(t, "the device's stream to open", 5*time.Second, func() bool { return e.srv.Fleet().Presence(tok.ID).Connected })

			if found, err := elsewhere.Revoke(tok.ID); !found || err != nil {
				t.Fatalf("revoking elsewhere: %v %v", found, err)
			}
			refused := func() bool {
				status, _ := e.call("hall-elsewhere", "GET", e.path("/config"), "")
				return status == http.StatusUnauthorized
			}
			if tt.pushed {
				select {
				case <-ended:
				case <-time.After(5 * time.Second):
					t.Fatal("the revoked device's stream did not end without a request")
				}
				if !refused() {
					t.Error("the token revoked on another node is still accepted here")
				}
			} else {
				waitfor.Until(t, "the token revoked by the command line to be refused", 5*time.Second, refused)
				select {
				case <-ended:
				case <-time.After(5 * time.Second):
					t.Fatal("the revoked device's stream did not end")
				}
			}
			if last != protocol.RevokedEvent {
				t.Errorf("the stream's last event was %q, want revoked", last)
			}
		})
	}
}
