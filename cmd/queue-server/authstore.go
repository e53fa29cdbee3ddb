package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/numerek/numerek/server/web"
	"github.com/numerek/numerek/store"
	"github.com/numerek/numerek/store/pgstore"
)

// authFlags say where the token and clerk commands find their data: the
// files of --data, or, with --store, the PostgreSQL database every node
// of a cluster shares.
type authFlags struct {
	dataDir *string
	store   *string
}

func addAuthFlags(fs *flag.FlagSet) authFlags {
	return authFlags{
		dataDir: fs.String("data", "numerek-data", "the server's data directory"),
		store:   fs.String("store", "", "the cluster's PostgreSQL database (postgres://…), used instead of --data's files"),
	}
}

// authStores are the token and clerk stores the flags chose; close
// releases them.
type authStores struct {
	tokens web.Tokens
	clerks web.Clerks
	close  func()
	// shared is true for the database: every node sees a change at once.
	shared bool
}

func (f authFlags) open(ctx context.Context) (authStores, error) {
	if *f.store == "" {
		return authStores{
			tokens: store.NewTokenStore(filepath.Join(*f.dataDir, tokensFile)),
			clerks: store.NewClerkStore(filepath.Join(*f.dataDir, clerksFile)),
			close:  func() {},
		}, nil
	}
	if !pgstore.IsURL(*f.store) {
		return authStores{}, fmt.Errorf("--store %q: give the database's URL, postgres://USER:PASSWORD@HOST/DATABASE", *f.store)
	}
	db, err := pgstore.Open(ctx, *f.store)
	if err != nil {
		return authStores{}, fmt.Errorf("--store: %w", err)
	}
	return authStores{tokens: db.Tokens(), clerks: db.Clerks(), close: db.Close, shared: true}, nil
}
