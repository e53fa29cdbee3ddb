package storetest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/numerek/numerek/store"
)

// RunClerks tests a clerk store: open gives a new, empty one (hashing at
// bcrypt.MinCost, to stay fast) and what it has written.
func RunClerks(t *testing.T, open func(t *testing.T) (Clerks, Raw)) {
	t.Run("refused", func(t *testing.T) {
		cs, _ := open(t)
		tests := []struct {
			name, login, password, role string
			offices                     []string
			want                        string
		}{
			{"short password", "anna", "short", store.ClerkRole, []string{"o"}, "password: must be at least 10 characters"},
			{"password over 72 bytes", "anna", strings.Repeat("ż", 37), store.ClerkRole, []string{"o"}, "password: must be at most 72 bytes"},
			{"space and capitals", "Anna K", "long enough password", store.ClerkRole, []string{"o"}, `name: "Anna K" may hold only lowercase letters`},
			{"no name", "", "long enough password", store.ClerkRole, []string{"o"}, "name: must be 1-40 characters"},
			{"unknown role", "anna", "long enough password", "boss", []string{"o"}, `role: "boss" is not clerk, manager or admin`},
			{"no office", "anna", "long enough password", store.ClerkRole, nil, "offices: give at least one office"},
		}
		for _, tt := range tests {
			if _, err := cs.Put(tt.login, tt.password, tt.role, tt.offices); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: %v, want an error saying %q", tt.name, err, tt.want)
			}
		}
		if list, err := cs.List(); len(list) != 0 || err != nil {
			t.Errorf("refused clerks were kept: %+v %v", list, err)
		}
	})
	t.Run("kept, checked, replaced, deleted", func(t *testing.T) {
		cs, raw := open(t)
		if _, found, err := cs.Get("anna"); found || err != nil {
			t.Fatalf("get in an empty store: found=%v %v", found, err)
		}
		if _, err := cs.Check("anna", "long enough password"); !errors.Is(err, store.ErrBadLogin) {
			t.Errorf("check in an empty store: %v, want ErrBadLogin", err)
		}
		for _, c := range []struct{ name, role string }{{"zofia", store.AdminRole}, {"anna", store.ClerkRole}, {"marek.k", store.ManagerRole}} {
			if _, err := cs.Put(c.name, "long enough password", c.role, []string{"o", "p"}); err != nil {
				t.Fatal(err)
			}
		}
		c, err := cs.Check(" anna ", "long enough password")
		if err != nil || c.Name != "anna" || c.Role != store.ClerkRole || !c.Sees("o") || !c.Sees("p") || c.Sees("q") || c.Created.IsZero() {
			t.Fatalf("check: %+v %v", c, err)
		}
		if bcrypt.CompareHashAndPassword(c.Hash, []byte("long enough password")) != nil {
			t.Error("the password is not kept as its bcrypt hash")
		}
		got, found, err := cs.Get("anna")
		if err != nil || !found || got.Name != c.Name || !bytes.Equal(got.Hash, c.Hash) || !slices.Equal(got.Offices, c.Offices) || !got.Created.Equal(c.Created) {
			t.Errorf("get: %+v found=%v %v, want %+v", got, found, err, c)
		}
		for _, bad := range [][2]string{{"anna", "wrong password!"}, {"nobody", "long enough password"}, {"anna", ""}} {
			if _, err := cs.Check(bad[0], bad[1]); !errors.Is(err, store.ErrBadLogin) {
				t.Errorf("check %q: %v, want ErrBadLogin", bad[0], err)
			}
		}
		written, err := raw()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(written, []byte("long enough password")) {
			t.Error("the store holds a password in clear")
		}

		if _, err := cs.Put("anna", "a new password here", store.AdminRole, []string{"*"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Check("anna", "long enough password"); !errors.Is(err, store.ErrBadLogin) {
			t.Errorf("the old password after a new one was set: %v", err)
		}
		if c, err := cs.Check("anna", "a new password here"); err != nil || c.Role != store.AdminRole || !c.Sees("anything") {
			t.Errorf("the replaced clerk: %+v %v", c, err)
		}

		list, err := cs.List()
		var names []string
		for _, c := range list {
			names = append(names, c.Name)
		}
		if err != nil || strings.Join(names, " ") != "anna marek.k zofia" {
			t.Errorf("list: %v %v, want every clerk once, by name", names, err)
		}
		if found, err := cs.Delete("anna"); !found || err != nil {
			t.Errorf("delete: found=%v %v", found, err)
		}
		if found, err := cs.Delete("anna"); found || err != nil {
			t.Errorf("deleting again: found=%v %v", found, err)
		}
		if _, err := cs.Check("anna", "a new password here"); !errors.Is(err, store.ErrBadLogin) {
			t.Errorf("a deleted clerk logs in: %v", err)
		}
		if list, _ := cs.List(); len(list) != 2 {
			t.Errorf("after delete: %+v", list)
		}
	})
}
