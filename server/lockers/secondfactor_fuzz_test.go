package lockers

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

// What a locker sends as the typed one-time code is outside input: any
// text is checked without trouble, and only the code itself (spaces
// aside) is right.
func FuzzCheck(f *testing.F) {
	for _, seed := range []string{"482913", "482 913", " 482913\n", "48291", "4829130", "", "\x00\xff", "４８２９１３"} {
		f.Add(seed)
	}
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, typed string) {
		s := New(Config{Clock: func() time.Time { return now }}, nil)
		s.factors[factorKey{"ums", "d1"}] = &oneTime{hash: sha256.Sum256([]byte("482913")), sentAt: now, until: now.Add(CodeValid)}
		ok, err := s.Check(context.Background(), "ums", "d1", typed)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.Join(strings.Fields(typed), "") == "482913"; ok != want {
			t.Errorf("%q checks %v, want %v", typed, ok, want)
		}
	})
}
