package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

var bucketClerks = []byte("clerks")

// Clerk is a person who logs in to the clerk console: a clerk works at a
// counter; an admin also manages clerks, device tokens and statistics.
type Clerk struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Offices the clerk works in; "*" is every office.
	Offices []string  `json:"offices"`
	Hash    []byte    `json:"hash"`
	Created time.Time `json:"created"`
}

// The roles of clerk accounts.
const (
	ClerkRole = "clerk"
	AdminRole = "admin"
	// ManagerRole sees the statistics and the booking desk of its
	// offices, without an admin's powers over people and devices.
	ManagerRole = "manager"
)

// ErrBadLogin is a wrong name or password; which of the two is not said.
var ErrBadLogin = errors.New("wrong name or password")

// MinPassword is the shortest password accepted.
const MinPassword = 10

// ClerkStore keeps clerk accounts in their own bbolt file, opened for each
// operation so the command line can add the first admin while the server
// runs. Passwords are stored only as bcrypt hashes.
type ClerkStore struct {
	path string
	// cost is bcrypt's; tests lower it.
	cost int
}

// NewClerkStore uses the clerk file at path (created on first write).
func NewClerkStore(path string) *ClerkStore { return &ClerkStore{path: path, cost: bcrypt.DefaultCost} }

// WithCost returns the store hashing with the given bcrypt cost (tests use
// bcrypt.MinCost to stay fast).
func (cs *ClerkStore) WithCost(cost int) *ClerkStore { c := *cs; c.cost = cost; return &c }

// Sees reports whether the clerk works in office.
func (c Clerk) Sees(office string) bool {
	for _, o := range c.Offices {
		if o == office || o == "*" {
			return true
		}
	}
	return false
}

// CheckClerkName says what is wrong with a login name, or nil.
func CheckClerkName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 40 {
		return fmt.Errorf("name: must be 1-40 characters")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("name: %q may hold only lowercase letters, digits, '.', '-' and '_'", name)
		}
	}
	return nil
}

func checkPassword(pw string) error {
	if utf8.RuneCountInString(pw) < MinPassword {
		return fmt.Errorf("password: must be at least %d characters", MinPassword)
	}
	if len(pw) > 72 {
		return fmt.Errorf("password: must be at most 72 bytes")
	}
	return nil
}

func (cs *ClerkStore) update(fn func(b *bolt.Bucket) error) error {
	return updateFile(cs.path, "clerk", [][]byte{bucketClerks}, func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketClerks)) })
}

func (cs *ClerkStore) view(fn func(b *bolt.Bucket) error) error {
	return viewFile(cs.path, [][]byte{bucketClerks}, func(tx *bolt.Tx) error { return fn(tx.Bucket(bucketClerks)) })
}

// NewClerk checks a clerk's name, password, role and offices and hashes
// the password with bcrypt at cost: what every clerk store does before
// it keeps one.
func NewClerk(name, password, role string, offices []string, cost int) (Clerk, error) {
	if err := CheckClerkName(name); err != nil {
		return Clerk{}, err
	}
	if err := checkPassword(password); err != nil {
		return Clerk{}, err
	}
	if role != ClerkRole && role != AdminRole && role != ManagerRole {
		return Clerk{}, fmt.Errorf("role: %q is not clerk, manager or admin", role)
	}
	if len(offices) == 0 {
		return Clerk{}, fmt.Errorf("offices: give at least one office (or \"*\")")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return Clerk{}, fmt.Errorf("hashing the password: %w", err)
	}
	return Clerk{Name: name, Role: role, Offices: offices, Hash: hash, Created: time.Now().UTC()}, nil
}

// Put creates a clerk, or replaces one of the same name (a new password,
// role or offices).
func (cs *ClerkStore) Put(name, password, role string, offices []string) (Clerk, error) {
	c, err := NewClerk(name, password, role, offices, cs.cost)
	if err != nil {
		return Clerk{}, err
	}
	data, err := json.Marshal(c)
	if err != nil {
		return Clerk{}, err
	}
	err = cs.update(func(b *bolt.Bucket) error { return b.Put([]byte(name), data) })
	if err != nil {
		return Clerk{}, fmt.Errorf("storing clerk %s: %w", name, err)
	}
	return c, nil
}

// Get returns the clerk of that name.
func (cs *ClerkStore) Get(name string) (Clerk, bool, error) {
	var c Clerk
	found := false
	err := cs.view(func(b *bolt.Bucket) error {
		v := b.Get([]byte(name))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &c)
	})
	return c, found, err
}

// Check returns the clerk if the password is theirs, else ErrBadLogin. An
// unknown name costs a bcrypt comparison too, so timing does not tell
// which names exist.
func (cs *ClerkStore) Check(name, password string) (Clerk, error) {
	c, found, err := cs.Get(strings.TrimSpace(name))
	if err != nil {
		return Clerk{}, err
	}
	return CheckLogin(c, found, password)
}

// CheckLogin returns c if password is theirs, else ErrBadLogin; found
// says whether the store had a clerk of the name given. A clerk not found
// costs a bcrypt comparison all the same.
func CheckLogin(c Clerk, found bool, password string) (Clerk, error) {
	hash := c.Hash
	if !found {
		hash = dummyHash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !found {
		return Clerk{}, ErrBadLogin
	}
	return c, nil
}

// dummyHash is compared against when the name is unknown.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such clerk, no such password"), bcrypt.MinCost)

// List returns every clerk, by name.
func (cs *ClerkStore) List() ([]Clerk, error) {
	var out []Clerk
	err := cs.view(func(b *bolt.Bucket) error {
		return b.ForEach(func(_, v []byte) error {
			var c Clerk
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Delete removes a clerk; ok=false if there was none.
func (cs *ClerkStore) Delete(name string) (bool, error) {
	found := false
	err := cs.update(func(b *bolt.Bucket) error {
		if b.Get([]byte(name)) == nil {
			return nil
		}
		found = true
		return b.Delete([]byte(name))
	})
	return found, err
}
