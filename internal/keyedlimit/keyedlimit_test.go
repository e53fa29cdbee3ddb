package keyedlimit

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// step is one event in a test script: key tries at t0+at, and is or is
// not allowed, with retry the wait it is told when refused.
type step struct {
	key   string
	at    time.Duration
	ok    bool
	retry time.Duration
}

func TestAllowPerKey(t *testing.T) {
	tests := []struct {
		name  string
		every time.Duration
		burst int
		steps []step
	}{
		{"a burst then refused", time.Minute, 3, []step{
			{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0},
			{"a", 0, false, time.Minute},
			{"a", 20 * time.Second, false, 40 * time.Second},
		}},
		{"one more each period", time.Minute, 1, []step{
			{"a", 0, true, 0}, {"a", 59 * time.Second, false, time.Second},
			{"a", time.Minute, true, 0}, {"a", time.Minute, false, time.Minute},
		}},
		{"a refusal is not counted", 12 * time.Second, 1, []step{
			{"a", 0, true, 0},
			{"a", 6 * time.Second, false, 6 * time.Second},
			{"a", 6 * time.Second, false, 6 * time.Second},
			{"a", 12 * time.Second, true, 0},
		}},
		{"keys are independent", time.Minute, 2, []step{
			{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, false, time.Minute},
			{"b", 0, true, 0}, {"b", 0, true, 0}, {"b", 0, false, time.Minute},
			{"c", 30 * time.Second, true, 0},
			{"a", 30 * time.Second, false, 30 * time.Second},
		}},
		{"a burst of zero refuses with a period to wait", 2 * time.Minute, 0, []step{
			{"a", 0, false, 2 * time.Minute},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(rate.Every(tt.every), tt.burst, 100)
			for i, s := range tt.steps {
				ok, retry := l.Allow(s.key, t0.Add(s.at))
				if ok != s.ok || retry != s.retry {
					t.Errorf("step %d: %s at +%v: allowed %v, retry %v; want %v, %v", i, s.key, s.at, ok, retry, s.ok, s.retry)
				}
			}
		})
	}
}

func TestTokens(t *testing.T) {
	l := New(rate.Every(time.Minute), 5, 10)
	if got := l.Tokens("new", t0); got != 5 {
		t.Errorf("an unknown key has %v tokens, want the burst of 5", got)
	}
	if l.Len() != 0 {
		t.Errorf("asking about a key remembered it: %d keys", l.Len())
	}
	for range 5 {
		l.Allow("a", t0)
	}
	if got := l.Tokens("a", t0); got != 0 {
		t.Errorf("after its burst a key has %v tokens, want 0", got)
	}
	if got := l.Tokens("a", t0.Add(time.Minute)); got != 1 {
		t.Errorf("a minute later: %v tokens, want 1", got)
	}
}

// Memory stays bounded however many distinct keys come, and the newest
// keys are the ones kept.
func TestMemoryBound(t *testing.T) {
	for _, maxKeys := range []int{1, 1000, 20000} {
		t.Run(fmt.Sprint(maxKeys), func(t *testing.T) {
			l := New(rate.Every(time.Minute), 1, maxKeys)
			for i := range 100_000 {
				l.Allow(fmt.Sprint("10.0.", i), t0)
				if n := l.Len(); n > maxKeys {
					t.Fatalf("after %d keys %d are remembered, want at most %d", i+1, n, maxKeys)
				}
			}
			if l.Len() != maxKeys {
				t.Errorf("%d keys remembered, want %d", l.Len(), maxKeys)
			}
			if ok, _ := l.Allow(fmt.Sprint("10.0.", 99_999), t0); ok {
				t.Error("the newest key was forgotten: its second try passed")
			}
		})
	}
}

// Spraying fresh keys does not reset the limit of a key that keeps
// trying: the abuser is refused all along while other keys churn through
// a full table, where wiping the table would let it in again.
func TestChurnDoesNotResetAnAbuser(t *testing.T) {
	tests := []struct {
		name    string
		maxKeys int
		spray   int // fresh keys between two tries of the abuser
	}{
		{"a small table", 10, 9},
		{"a big table", 20000, 5000},
		{"just under the bound", 100, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(rate.Every(time.Hour), 3, tt.maxKeys)
			for range 3 {
				if ok, _ := l.Allow("abuser", t0); !ok {
					t.Fatal("the abuser's first burst was refused")
				}
			}
			fresh := 0
			for round := range 20 {
				for range tt.spray {
					fresh++
					if ok, _ := l.Allow(fmt.Sprint("spray-", fresh), t0); !ok {
						t.Fatalf("a fresh key %d was refused", fresh)
					}
				}
				if ok, _ := l.Allow("abuser", t0); ok {
					t.Fatalf("round %d: after %d fresh keys the abuser was let in again", round, fresh)
				}
			}
			if l.Len() > tt.maxKeys {
				t.Errorf("%d keys remembered, want at most %d", l.Len(), tt.maxKeys)
			}
		})
	}
}

// A key unused the longest is the one forgotten, and comes back fresh.
func TestEvictsLeastRecentlyUsed(t *testing.T) {
	l := New(rate.Every(time.Hour), 1, 2)
	l.Allow("a", t0)
	l.Allow("b", t0)
	l.Allow("a", t0) // refused, but a is used again
	l.Allow("c", t0) // forgets b
	if ok, _ := l.Allow("a", t0); ok {
		t.Error("a was forgotten though b was unused longer")
	}
	if ok, _ := l.Allow("b", t0); !ok {
		t.Error("b was not forgotten, though unused the longest")
	}
}

// Hold keeps room until the action it limits is decided: a committed
// action counts, a released one does not, and room held cannot be taken
// twice by actions running at once.
func TestHoldCommitRelease(t *testing.T) {
	type op struct {
		do    string // "hold", "commit", "release"
		at    time.Duration
		ok    bool // for hold
		retry time.Duration
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"released actions cost nothing", []op{
			{"hold", 0, true, 0}, {"release", 0, false, 0},
			{"hold", 0, true, 0}, {"release", 0, false, 0},
			{"hold", 0, true, 0}, {"release", 0, false, 0},
			{"hold", 0, true, 0}, {"hold", 0, true, 0},
		}},
		{"committed actions use the burst", []op{
			{"hold", 0, true, 0}, {"commit", 0, false, 0},
			{"hold", 0, true, 0}, {"commit", 0, false, 0},
			{"hold", 0, false, time.Minute},
			{"hold", 30 * time.Second, false, 30 * time.Second},
			{"hold", time.Minute, true, 0},
		}},
		{"room held is not given twice", []op{
			{"hold", 0, true, 0}, {"hold", 0, true, 0},
			{"hold", 0, false, time.Minute},
			{"release", 0, false, 0},
			{"hold", 0, true, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(rate.Every(time.Minute), 2, 10)
			for i, o := range tt.ops {
				now := t0.Add(o.at)
				switch o.do {
				case "hold":
					ok, retry := l.Hold("a", now)
					if ok != o.ok || retry != o.retry {
						t.Errorf("op %d: hold at +%v: %v, retry %v; want %v, %v", i, o.at, ok, retry, o.ok, o.retry)
					}
				case "commit":
					l.Commit("a", now)
				case "release":
					l.Release("a")
				}
			}
		})
	}
}

// While room is held, Allow does not give it away either.
func TestAllowRespectsHeldRoom(t *testing.T) {
	l := New(rate.Every(time.Minute), 1, 10)
	if ok, _ := l.Hold("a", t0); !ok {
		t.Fatal("the first hold was refused")
	}
	if ok, _ := l.Allow("a", t0); ok {
		t.Error("Allow took the room a hold kept")
	}
	if got := l.Tokens("a", t0); got != 0 {
		t.Errorf("with its only room held a key has %v tokens, want 0", got)
	}
	l.Release("a")
	if ok, _ := l.Allow("a", t0); !ok {
		t.Error("after the release the room is not free again")
	}
}
