package pgstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a connection pool to the cluster's database, its schema current.
type DB struct {
	Pool *pgxpool.Pool
	url  string
}

// IsURL tells a PostgreSQL store (postgres://, postgresql://) from a folder.
func IsURL(store string) bool {
	return strings.HasPrefix(store, "postgres://") || strings.HasPrefix(store, "postgresql://")
}

// Open connects to the database at url and checks its schema is the one
// this build expects: an older one is refused (queue-server migrate first),
// so a node never writes rows another version does not understand.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("reading the PostgreSQL address: %w", err)
	}
	survivePrimaryLoss(cfg, url)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to PostgreSQL at %s: %w", redact(url), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL at %s: %w", redact(url), err)
	}
	db := &DB{Pool: pool, url: url}
	pending, err := db.pending(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	if pending {
		pool.Close()
		return nil, fmt.Errorf("the database at %s is not at this version's schema: run `queue-server migrate --store URL` first", redact(url))
	}
	return db, nil
}

// Pool settings for the loss of the primary's machine (no reset, no
// answer), when the URL does not give its own (pool_max_conns,
// pool_ping_timeout):
const (
	// maxConns leaves room for new connections (to the promoted standby)
	// while those to the vanished primary are cleaned up: pgx waits 15 s
	// for such a server to answer its cancel request and goodbye, and
	// the pool counts the connection until then. The pool grows only as
	// far as the node's concurrency asks; pgx's default (4, or one per
	// core) left a node waiting those 15 s after a promotion.
	maxConns = 16
	// pingTimeout bounds the ping of a connection idle for over a second
	// before it is handed out: without it a dead one holds its caller
	// for the caller's whole timeout instead of being set aside for the
	// next (or a new) connection.
	pingTimeout = time.Second
)

// survivePrimaryLoss sets the pool's size and ping timeout unless url
// sets them.
func survivePrimaryLoss(cfg *pgxpool.Config, url string) {
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, maxConns)
	}
	if !strings.Contains(url, "pool_ping_timeout") {
		cfg.PingTimeout = pingTimeout
	}
}

// Close closes the pool.
func (db *DB) Close() { db.Pool.Close() }

func (db *DB) pending(ctx context.Context) (bool, error) {
	sqlDB := stdlib.OpenDBFromPool(db.Pool)
	defer sqlDB.Close()
	p, err := provider(sqlDB)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("reading the database's schema version: %w", err)
	}
	return pending, nil
}

// Migrate brings the schema of the database at url up to this build's,
// telling out each step. Nodes may run it at once: a session lock lets
// one migrate while the others wait.
func Migrate(ctx context.Context, url string, out io.Writer) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL at %s: %w", redact(url), err)
	}
	defer pool.Close()
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	p, err := provider(sqlDB)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		fmt.Fprintf(out, "migrated: %s (%v)\n", r.Source.Path, r.Duration.Round(1e6))
	}
	if err != nil {
		return fmt.Errorf("migrating the schema: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	fmt.Fprintf(out, "the schema is at version %d\n", v)
	return nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("reading the embedded migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("making the migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("reading the migrations: %w", err)
	}
	return p, nil
}

// redact drops the password from a URL for messages and logs.
func redact(url string) string {
	at := strings.LastIndex(url, "@")
	scheme := strings.Index(url, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return url
	}
	userinfo := url[scheme+3 : at]
	if user, _, ok := strings.Cut(userinfo, ":"); ok {
		return url[:scheme+3] + user + ":xxxxx" + url[at:]
	}
	return url
}
