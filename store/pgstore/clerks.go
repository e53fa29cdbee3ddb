package pgstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/numerek/numerek/store"
)

// ClerkStore keeps clerk accounts in the database every node shares; it
// behaves as store.ClerkStore does: passwords are kept only as bcrypt
// hashes, checked the same way, with the same errors.
type ClerkStore struct {
	db *DB
	// cost is bcrypt's; tests lower it.
	cost int
}

// Clerks is the database's clerk store.
func (db *DB) Clerks() *ClerkStore { return &ClerkStore{db: db, cost: bcrypt.DefaultCost} }

// WithCost returns the store hashing with the given bcrypt cost (tests use
// bcrypt.MinCost to stay fast).
func (cs *ClerkStore) WithCost(cost int) *ClerkStore { c := *cs; c.cost = cost; return &c }

const clerkColumns = "name, role, offices, hash, created"

func scanClerk(row pgx.Row) (store.Clerk, error) {
	var c store.Clerk
	err := row.Scan(&c.Name, &c.Role, &c.Offices, &c.Hash, &c.Created)
	c.Created = c.Created.UTC()
	return c, err
}

// Put creates a clerk, or replaces one of the same name (a new password,
// role or offices).
func (cs *ClerkStore) Put(name, password, role string, offices []string) (store.Clerk, error) {
	c, err := store.NewClerk(name, password, role, offices, cs.cost)
	if err != nil {
		return store.Clerk{}, err
	}
	c.Created = micro(c.Created)
	ctx, cancel := statement()
	defer cancel()
	_, err = cs.db.Pool.Exec(ctx, "INSERT INTO clerks ("+clerkColumns+") VALUES ($1, $2, $3, $4, $5) "+
		"ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, offices = EXCLUDED.offices, hash = EXCLUDED.hash, created = EXCLUDED.created",
		c.Name, c.Role, c.Offices, c.Hash, c.Created)
	if err != nil {
		return store.Clerk{}, fmt.Errorf("storing clerk %s: %w", name, err)
	}
	return c, nil
}

// Import stores a clerk of a clerk file, its password's hash as it is,
// unless the database has a clerk of the name already: added=false then,
// and the database's is kept.
func (cs *ClerkStore) Import(c store.Clerk) (added bool, err error) {
	ctx, cancel := statement()
	defer cancel()
	tag, err := cs.db.Pool.Exec(ctx, "INSERT INTO clerks ("+clerkColumns+") VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
		c.Name, c.Role, c.Offices, c.Hash, micro(c.Created))
	if err != nil {
		return false, fmt.Errorf("importing clerk %s: %w", c.Name, err)
	}
	return tag.RowsAffected() > 0, nil
}

// Get returns the clerk of that name.
func (cs *ClerkStore) Get(name string) (store.Clerk, bool, error) {
	ctx, cancel := statement()
	defer cancel()
	c, err := scanClerk(cs.db.Pool.QueryRow(ctx, "SELECT "+clerkColumns+" FROM clerks WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Clerk{}, false, nil
	}
	if err != nil {
		return store.Clerk{}, false, fmt.Errorf("reading clerk %s: %w", name, err)
	}
	return c, true, nil
}

// Check returns the clerk if the password is theirs, else
// store.ErrBadLogin; an unknown name costs a bcrypt comparison too.
func (cs *ClerkStore) Check(name, password string) (store.Clerk, error) {
	c, found, err := cs.Get(strings.TrimSpace(name))
	if err != nil {
		return store.Clerk{}, err
	}
	return store.CheckLogin(c, found, password)
}

// List returns every clerk, by name.
func (cs *ClerkStore) List() ([]store.Clerk, error) {
	out, err := queryAll(cs.db, "SELECT "+clerkColumns+" FROM clerks ORDER BY name COLLATE \"C\"", scanClerk)
	if err != nil {
		return nil, fmt.Errorf("listing the clerks: %w", err)
	}
	return out, nil
}

// Delete removes a clerk; ok=false if there was none.
func (cs *ClerkStore) Delete(name string) (bool, error) {
	found, err := deleted(cs.db, "DELETE FROM clerks WHERE name = $1", name)
	if err != nil {
		return false, fmt.Errorf("deleting clerk %s: %w", name, err)
	}
	return found, nil
}
