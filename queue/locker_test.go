package queue

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// lockerOffice is the test office with one locker: compartments 1-3
// small (2 accessible), 4 medium, 10 large; an identity card needs a
// second factor.
func lockerOffice() *Office {
	o := testOffice()
	o.Lockers = []Locker{{
		ID: "hall", Names: map[string]string{"pl": "Urzędomat", "en": "Locker"},
		Deadline: 48 * time.Hour, RemindBefore: 24 * time.Hour,
		Compartments: []Compartment{
			{ID: "10", Size: "L"}, {ID: "2", Size: "S", Accessible: true}, {ID: "1", Size: "S"},
			{ID: "3", Size: "S"}, {ID: "4", Size: "M"},
		},
		Documents: []LockerDocument{
			{ID: "id-card", Names: map[string]string{"pl": "Dowód", "en": "ID card"}, SecondFactor: true},
			{ID: "certificate", Names: map[string]string{"pl": "Zaświadczenie", "en": "Certificate"}},
		},
	}}
	return o
}

// codes makes locker codes from a fixed seed, so a test's codes are the
// same on every run.
type codes struct {
	t    *testing.T
	rand *rand.ChaCha8
}

func newCodes(t *testing.T) *codes {
	return &codes{t: t, rand: rand.NewChaCha8([32]byte{1, 5})}
}

func (c *codes) next() (string, CodeHash) {
	c.t.Helper()
	code, h, err := NewLockerCode(nil, c.rand)
	if err != nil {
		c.t.Fatal(err)
	}
	return code, h
}

func (c *codes) hash() CodeHash {
	_, h := c.next()
	return h
}

func (c *codes) reserve(id, document, size string, accessible bool) ReserveCompartment {
	return ReserveCompartment{Deposit: id, Locker: "hall", Document: document, Size: size, Accessible: accessible, ClerkCode: c.hash(), PickupCode: c.hash()}
}

func queueError(err error) *Error {
	var qe *Error
	errors.As(err, &qe)
	return qe
}

func TestLockerCodes(t *testing.T) {
	r := rand.NewChaCha8([32]byte{7})
	var refused []string
	taken := func(lookup string) bool {
		if len(refused) < 3 {
			refused = append(refused, lookup)
			return true
		}
		return false
	}
	code, h, err := NewLockerCode(taken, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(refused) != 3 {
		t.Errorf("lookups refused %v, then code %s", refused, code)
	}
	if _, ok := NormalizeLockerCode(code); !ok || h.Lookup != code[:3] || len(h.Salt) != 16 || len(h.Hash) != 32 {
		t.Fatalf("code %q, hash %+v", code, h)
	}
	if strings.Contains(string(h.Hash), code[3:]) || strings.Contains(string(h.Salt), code[3:]) {
		t.Errorf("the secret %s stands in the hash", code[3:])
	}
	wrongSecret := code[:7] + string(BookingCodeAlphabet[(strings.IndexByte(BookingCodeAlphabet, code[7])+1)%len(BookingCodeAlphabet)])
	tests := []struct {
		typed string
		match bool
	}{
		{code, true},
		{FormatLockerCode(code), true},
		{strings.ToLower(FormatLockerCode(code)), true},
		{" " + code[:4] + " " + code[4:] + " ", true},
		{wrongSecret, false},
		{code[:7], false},
		{code + "2", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := h.Matches(tt.typed); got != tt.match {
			t.Errorf("Matches(%q) = %v, want %v", tt.typed, got, tt.match)
		}
	}
	if (CodeHash{}).Matches(code) {
		t.Error("an empty hash matches a code")
	}
	if _, _, err := NewLockerCode(nil, strings.NewReader("short")); err == nil {
		t.Error("a reader that runs dry makes a code")
	}
	if _, _, err := NewLockerCode(func(string) bool { return true }, r); err == nil {
		t.Error("a code made although every lookup is taken")
	}
}

// Codes are drawn evenly from the alphabet: over many codes every
// character comes about as often as any other.
func TestLockerCodesAreEven(t *testing.T) {
	r := rand.NewChaCha8([32]byte{3})
	counts := map[rune]int{}
	for range 3000 {
		code, err := randomCode(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range code {
			counts[c]++
		}
	}
	want := 3000 * LockerCodeLength / len(BookingCodeAlphabet)
	for _, c := range BookingCodeAlphabet {
		if n := counts[c]; n < want*8/10 || n > want*12/10 {
			t.Errorf("%c drawn %d times, want about %d", c, n, want)
		}
	}
}

func TestNormalizeLockerCode(t *testing.T) {
	tests := []struct {
		typed, want string
		ok          bool
	}{
		{"ABCD-EFGH", "ABCDEFGH", true},
		{"abcd-efgh", "ABCDEFGH", true},
		{"abcdefgh", "ABCDEFGH", true},
		{"AB CD\tEF-GH", "ABCDEFGH", true},
		{"ABCD-EFG", "", false},
		{"ABCD-EFGHJ", "", false},
		{"ABCD-EFG0", "", false}, // 0 is not in the alphabet
		{"ABCD-EFGI", "", false}, // nor I
		{"ABCD-EFGĄ", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeLockerCode(tt.typed)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeLockerCode(%q) = %q, %v; want %q, %v", tt.typed, got, ok, tt.want, tt.ok)
		}
	}
	if got := LockerCodeLookupOf("abcd-efgh"); got != "ABC" {
		t.Errorf("lookup of abcd-efgh: %q", got)
	}
}

func TestReserveCompartment(t *testing.T) {
	tests := []struct {
		name        string
		reserve     func(c *codes) ReserveCompartment
		compartment string
		code        string
	}{
		{"lowest free small, by number", func(c *codes) ReserveCompartment { return c.reserve("d", "certificate", "S", false) }, "1", ""},
		{"accessible only", func(c *codes) ReserveCompartment { return c.reserve("d", "certificate", "S", true) }, "2", ""},
		{"large", func(c *codes) ReserveCompartment { return c.reserve("d", "id-card", "L", false) }, "10", ""},
		{"accessible large: none", func(c *codes) ReserveCompartment { return c.reserve("d", "id-card", "L", true) }, "", "no-free-accessible-compartment"},
		{"a document type the locker does not take", func(c *codes) ReserveCompartment { return c.reserve("d", "passport", "S", false) }, "", "locker-document-refused"},
		{"no such locker", func(c *codes) ReserveCompartment {
			r := c.reserve("d", "certificate", "S", false)
			r.Locker = "roof"
			return r
		}, "", "no-locker"},
		{"bad size", func(c *codes) ReserveCompartment { return c.reserve("d", "certificate", "XL", false) }, "", "bad-compartment-size"},
		{"no id", func(c *codes) ReserveCompartment { return c.reserve("", "certificate", "S", false) }, "", "deposit-id-missing"},
		{"id too long", func(c *codes) ReserveCompartment {
			return c.reserve(strings.Repeat("d", 65), "certificate", "S", false)
		}, "", "deposit-id-missing"},
		{"an id already used", func(c *codes) ReserveCompartment { return c.reserve("first", "certificate", "S", false) }, "", "deposit-exists"},
		{"a clerk code without its hash", func(c *codes) ReserveCompartment {
			r := c.reserve("d", "certificate", "S", false)
			r.ClerkCode.Hash = nil
			return r
		}, "", "bad-locker-code-hash"},
		{"a lookup outside the alphabet", func(c *codes) ReserveCompartment {
			r := c.reserve("d", "certificate", "S", false)
			r.PickupCode.Lookup = "AB0"
			return r
		}, "", "bad-locker-code-hash"},
		{"both codes with one lookup", func(c *codes) ReserveCompartment {
			r := c.reserve("d", "certificate", "S", false)
			r.PickupCode.Lookup = r.ClerkCode.Lookup
			return r
		}, "", "locker-code-taken"},
		{"a lookup a live deposit has", func(c *codes) ReserveCompartment {
			r := c.reserve("d", "certificate", "S", false)
			r.ClerkCode.Lookup = "FGH"
			return r
		}, "", "locker-code-taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lockerOffice(), at("09:00"))
			c := newCodes(t)
			first := c.reserve("first", "certificate", "M", false)
			first.ClerkCode.Lookup = "FGH"
			h.do(first)
			d, err := h.try(tt.reserve(c))
			if tt.code != "" {
				if qe := queueError(err); qe == nil || qe.Code != tt.code {
					t.Fatalf("got %v, want the error %s", err, tt.code)
				}
				if len(h.s.Deposits) != 1 {
					t.Errorf("a refused reservation left %d deposits", len(h.s.Deposits))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dep := h.s.Deposits[d.Deposit]
			if d.Compartment != tt.compartment || dep == nil || dep.Compartment != tt.compartment || dep.State != DepositStateReserved {
				t.Fatalf("reserved %+v (%+v), want compartment %s", d, dep, tt.compartment)
			}
			if !dep.ClerkCodeUntil.Equal(h.now.Add(ClerkCodeValid)) || !dep.ReservedAt.Equal(h.now) {
				t.Errorf("clerk code until %v, reserved at %v", dep.ClerkCodeUntil, dep.ReservedAt)
			}
			if dep.SecondFactor != (dep.Document == "id-card") {
				t.Errorf("second factor %v for a %s", dep.SecondFactor, dep.Document)
			}
			h.refold()
		})
	}
}

// A full locker refuses, and a compartment is free again once its
// deposit ends.
func TestCompartmentsFillAndFree(t *testing.T) {
	h := newHarness(t, lockerOffice(), at("09:00"))
	c := newCodes(t)
	for i, want := range []string{"1", "2", "3"} {
		d := h.do(c.reserve(string(rune('a'+i)), "certificate", "S", false))
		if d.Compartment != want {
			t.Fatalf("deposit %d went to %s, want %s", i, d.Compartment, want)
		}
	}
	_, err := h.try(c.reserve("d", "certificate", "S", false))
	if qe := queueError(err); qe == nil || qe.Code != "no-free-compartment" || qe.Params["size"] != "S" {
		t.Fatalf("a full locker: %v", err)
	}
	if free := h.s.FreeCompartments("hall"); len(free) != 2 || free[0].ID != "10" || free[1].ID != "4" {
		t.Errorf("free compartments %+v, want 10 and 4 in the office's order", free)
	}
	h.do(CancelDeposit{Deposit: "b", Reason: "wrong office"})
	if d := h.do(c.reserve("d", "certificate", "S", true)); d.Compartment != "2" {
		t.Errorf("after cancelling b, an accessible one went to %s", d.Compartment)
	}
	live := h.s.LiveDeposits("hall")
	var got []string
	for _, d := range live {
		got = append(got, d.Compartment)
	}
	if strings.Join(got, ",") != "1,2,3" {
		t.Errorf("live deposits in compartments %v", got)
	}
	h.refold()
}

// A deposit's life: reserved, stored by the locker (the deadline runs
// from the door's closing), expired, picked up by a locker that was
// offline; then forgotten at the day's end, the log keeping it.
func TestDepositLife(t *testing.T) {
	h := newHarness(t, lockerOffice(), at("09:00"))
	c := newCodes(t)
	h.do(c.reserve("dep", "id-card", "S", false))
	closed := at("09:10")
	h.advance(15 * time.Minute)
	if d := h.do(StoreDeposit{Deposit: "dep", At: closed}); d.Compartment != "1" {
		t.Errorf("stored in %s", d.Compartment)
	}
	dep := h.s.Deposits["dep"]
	if dep.State != DepositStateStored || !dep.StoredAt.Equal(closed) || !dep.Deadline.Equal(closed.Add(48*time.Hour)) {
		t.Fatalf("stored: %+v", dep)
	}
	if dep.ClerkCodeUntil.After(closed) {
		t.Errorf("the clerk code still opens until %v after the document went in", dep.ClerkCodeUntil)
	}
	if len(h.do(StoreDeposit{Deposit: "dep", At: at("09:20")}).Events) != 0 {
		t.Error("storing again made an event")
	}
	h.now = closed.Add(47 * time.Hour)
	if d := h.do(ExpireDeposits{}); len(d.Events) != 0 {
		t.Errorf("expired before the deadline: %v", d.Events)
	}
	h.now = closed.Add(48 * time.Hour)
	if d := h.do(ExpireDeposits{}); len(d.Events) != 1 || h.s.Deposits["dep"].State != DepositStateExpired {
		t.Fatalf("at the deadline: %v, %s", d.Events, h.s.Deposits["dep"].State)
	}
	picked := h.now.Add(-time.Minute)
	h.do(PickUpDeposit{Deposit: "dep", At: picked, Offline: true})
	dep = h.s.Deposits["dep"]
	if dep.State != DepositStatePickedUp || !dep.EndedAt.Equal(picked) || !dep.Offline {
		t.Fatalf("picked up: %+v", dep)
	}
	if d := h.do(PickUpDeposit{Deposit: "dep", At: h.now}); len(d.Events) != 0 || !h.s.Deposits["dep"].EndedAt.Equal(picked) {
		t.Error("a repeated pickup changed the deposit")
	}
	h.refold()
	h.now = at("08:00", "2026-11-30")
	h.do(ExpireDeposits{})
	if len(h.s.Deposits) != 0 {
		t.Errorf("the next day still holds %d ended deposits", len(h.s.Deposits))
	}
}

// Each command accepts a deposit only in the states it makes sense in,
// and says which it is in otherwise.
func TestDepositCommandsByState(t *testing.T) {
	type step func(h *harness, c *codes)
	reserved := func(h *harness, c *codes) { h.do(c.reserve("dep", "certificate", "S", false)) }
	stored := func(h *harness, c *codes) { reserved(h, c); h.do(StoreDeposit{Deposit: "dep"}) }
	expired := func(h *harness, c *codes) { stored(h, c); h.now = h.now.Add(49 * time.Hour); h.do(ExpireDeposits{}) }
	pickedUp := func(h *harness, c *codes) { stored(h, c); h.do(PickUpDeposit{Deposit: "dep"}) }
	retrieved := func(h *harness, c *codes) { expired(h, c); h.do(RetrieveDeposit{Deposit: "dep"}) }
	cancelled := func(h *harness, c *codes) { reserved(h, c); h.do(CancelDeposit{Deposit: "dep"}) }
	tests := []struct {
		name  string
		state step
		cmd   func(c *codes) Command
		code  string // "" accepted
		want  DepositState
	}{
		{"store a reservation", reserved, func(*codes) Command { return StoreDeposit{Deposit: "dep"} }, "", DepositStateStored},
		{"store one picked up since (a late report)", pickedUp, func(*codes) Command { return StoreDeposit{Deposit: "dep"} }, "", DepositStatePickedUp},
		{"store a cancelled one", cancelled, func(*codes) Command { return StoreDeposit{Deposit: "dep"} }, "store-not-reserved", DepositStateCancelled},
		{"store an unknown one", reserved, func(*codes) Command { return StoreDeposit{Deposit: "nope"} }, "no-deposit", DepositStateReserved},
		{"pick up a reservation", reserved, func(*codes) Command { return PickUpDeposit{Deposit: "dep"} }, "pickup-not-stored", DepositStateReserved},
		{"pick up a retrieved one", retrieved, func(*codes) Command { return PickUpDeposit{Deposit: "dep"} }, "pickup-not-stored", DepositStateRetrieved},
		{"retrieve a stored one", stored, func(*codes) Command { return RetrieveDeposit{Deposit: "dep"} }, "", DepositStateRetrieved},
		{"retrieve an expired one", expired, func(*codes) Command { return RetrieveDeposit{Deposit: "dep"} }, "", DepositStateRetrieved},
		{"retrieve again", retrieved, func(*codes) Command { return RetrieveDeposit{Deposit: "dep"} }, "", DepositStateRetrieved},
		{"retrieve a reservation", reserved, func(*codes) Command { return RetrieveDeposit{Deposit: "dep"} }, "retrieve-not-stored", DepositStateReserved},
		{"retrieve one picked up", pickedUp, func(*codes) Command { return RetrieveDeposit{Deposit: "dep"} }, "retrieve-not-stored", DepositStatePickedUp},
		{"cancel a reservation", reserved, func(*codes) Command { return CancelDeposit{Deposit: "dep", Reason: "mistake"} }, "", DepositStateCancelled},
		{"cancel a stored one", stored, func(*codes) Command { return CancelDeposit{Deposit: "dep"} }, "cancel-not-reserved", DepositStateStored},
		{"cancel with a long reason", reserved, func(*codes) Command { return CancelDeposit{Deposit: "dep", Reason: strings.Repeat("x", 201)} }, "cancel-reason-too-long", DepositStateReserved},
		{"new pickup code", stored, func(c *codes) Command { return ReplaceLockerCode{Deposit: "dep", Which: "pickup", Code: c.hash()} }, "", DepositStateStored},
		{"new clerk code for an expired one", expired, func(c *codes) Command { return ReplaceLockerCode{Deposit: "dep", Which: "clerk", Code: c.hash()} }, "", DepositStateExpired},
		{"new code for one picked up", pickedUp, func(c *codes) Command { return ReplaceLockerCode{Deposit: "dep", Which: "pickup", Code: c.hash()} }, "deposit-ended", DepositStatePickedUp},
		{"a third kind of code", stored, func(c *codes) Command { return ReplaceLockerCode{Deposit: "dep", Which: "master", Code: c.hash()} }, "bad-code-kind", DepositStateStored},
		{"a clerk code already run out", stored, func(c *codes) Command {
			return ReplaceLockerCode{Deposit: "dep", Which: "clerk", Code: c.hash(), Until: at("08:00")}
		}, "code-until-past", DepositStateStored},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lockerOffice(), at("09:00"))
			c := newCodes(t)
			tt.state(h, c)
			_, err := h.try(tt.cmd(c))
			if tt.code == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.code != "" {
				if qe := queueError(err); qe == nil || qe.Code != tt.code {
					t.Fatalf("got %v, want the error %s", err, tt.code)
				}
			}
			if got := h.s.Deposits["dep"].State; got != tt.want {
				t.Errorf("deposit is %s, want %s", got, tt.want)
			}
			h.refold()
		})
	}
}

// A replaced code opens no more: the deposit holds the new one, and the
// new one's lookup is free of the old.
func TestReplaceLockerCode(t *testing.T) {
	h := newHarness(t, lockerOffice(), at("09:00"))
	c := newCodes(t)
	clerk, clerkHash := c.next()
	pickup, pickupHash := c.next()
	h.do(ReserveCompartment{Deposit: "dep", Locker: "hall", Document: "certificate", Size: "S", ClerkCode: clerkHash, PickupCode: pickupHash})
	h.do(StoreDeposit{Deposit: "dep"})
	newCode, newHash := c.next()
	h.do(ReplaceLockerCode{Deposit: "dep", Which: PickupCodeKind, Code: newHash})
	dep := h.s.Deposits["dep"]
	if dep.PickupCode.Matches(pickup) || !dep.PickupCode.Matches(newCode) {
		t.Error("the old pickup code still opens, or the new one does not")
	}
	// The deposit's own old code does not block its lookup.
	again := newHash
	if _, err := h.try(ReplaceLockerCode{Deposit: "dep", Which: PickupCodeKind, Code: again}); err != nil {
		t.Errorf("a code with the lookup the deposit's pickup code has: %v", err)
	}
	if !dep.ClerkCode.Matches(clerk) {
		t.Error("replacing the pickup code changed the clerk code")
	}
	h.now = h.now.Add(time.Hour)
	_, takeBack := c.next()
	h.do(ReplaceLockerCode{Deposit: "dep", Which: ClerkCodeKind, Code: takeBack})
	if dep := h.s.Deposits["dep"]; !dep.ClerkCodeUntil.Equal(h.now.Add(ClerkCodeValid)) {
		t.Errorf("the new clerk code runs until %v", dep.ClerkCodeUntil)
	}
	h.refold()
}

// FuzzNormalizeLockerCode: codes are typed on a keypad or scanned from
// paper; whatever comes, a code read is 8 characters of the alphabet,
// reads the same again, and shows as ABCD-EFGH.
func FuzzNormalizeLockerCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH", "abcd efgh", "ABCD-EFG0", "", "----", "ABCDEFGHJ", "ąbcd-efgh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		code, ok := NormalizeLockerCode(typed)
		if !ok {
			if code != "" || LockerCodeLookupOf(typed) != "" {
				t.Fatalf("%q refused but read as %q", typed, code)
			}
			return
		}
		if len(code) != LockerCodeLength || strings.Trim(code, BookingCodeAlphabet) != "" {
			t.Fatalf("%q read as %q", typed, code)
		}
		if again, ok := NormalizeLockerCode(FormatLockerCode(code)); !ok || again != code {
			t.Fatalf("%q shown as %q reads as %q", code, FormatLockerCode(code), again)
		}
	})
}
