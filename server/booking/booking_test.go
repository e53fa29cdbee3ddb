package booking

import (
	"errors"
	"fmt"
	"testing"
)

func TestGuardsPerAddressAndPerCode(t *testing.T) {
	g := NewGuards()
	for i := range 5 {
		if !g.Try(fmt.Sprintf("10.0.0.%d", i), "ABCDEFGH") {
			t.Fatalf("try %d of one code refused", i)
		}
	}
	if g.Try("10.0.0.99", "ABCDEFGH") {
		t.Error("a sixth try of the same code, from yet another address, was allowed")
	}
	if !g.Try("10.0.0.99", "ABCDEFGJ") {
		t.Error("another code from a fresh address was refused")
	}
	for range addrBurst {
		g.Failed("10.0.1.1")
	}
	if g.Try("10.0.1.1", "ZZZZZZZZ") {
		t.Error("an address that got 10 codes wrong may try again at once")
	}
	if !g.Try("10.0.1.2", "ZZZZZZZZ") {
		t.Error("a neighbour address is throttled too")
	}
}

func TestValidatePersonalData(t *testing.T) {
	for _, tc := range []struct {
		req   Request
		field string
	}{
		{Request{Name: " Jan   Kowalski ", Contact: "jan@example.pl", Terms: true}, ""},
		{Request{Name: "Jan Kowalski", Contact: "+48 (600) 100-200", Terms: true}, ""},
		{Request{Name: "J", Contact: "jan@example.pl", Terms: true}, "name"},
		{Request{Name: "Jan", Contact: "", Terms: true}, "contact"},
		{Request{Name: "Jan", Contact: "Jan <jan@example.pl>", Terms: true}, "contact"},
		{Request{Name: "Jan", Contact: "600 100", Terms: true}, "contact"},
		{Request{Name: "Jan", Contact: "600x100200", Terms: true}, "contact"},
		{Request{Name: "Jan", Contact: "600100200"}, "terms"},
	} {
		name, _, err := tc.req.Validate()
		var fe *FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.req, err)
		case tc.field == "" && name != "Jan Kowalski":
			t.Errorf("%+v: name cleaned to %q", tc.req, name)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%+v: %v, want an error at %s", tc.req, err, tc.field)
		}
	}
}

// Form input never panics Validate, and what it accepts is bounded.
func FuzzValidate(f *testing.F) {
	f.Add("Jan Kowalski", "jan@example.pl", true)
	f.Add("", "+48 600 100 200", true)
	f.Add("\u00a0\u2028x", "a@b", false)
	f.Fuzz(func(t *testing.T, name, contact string, terms bool) {
		n, c, err := Request{Name: name, Contact: contact, Terms: terms}.Validate()
		if err != nil {
			return
		}
		if !terms || len([]rune(n)) < 2 || len([]rune(n)) > 100 || c == "" || len(c) > 254 {
			t.Fatalf("accepted name %q contact %q terms %v", n, c, terms)
		}
	})
}

// Wrong codes sprayed from many addresses do not reset the throttle of an
// address that keeps guessing: the guards forget idle addresses, one at a
// time, not all of them at once.
func TestGuardsHoldAnAbuserWhileAddressesChurn(t *testing.T) {
	g := NewGuards()
	for range addrBurst {
		g.Failed("10.9.9.9")
	}
	for i := range 3 * maxTracked {
		addr := fmt.Sprintf("fd00::%x", i)
		if g.Try(addr, "") {
			g.Failed(addr)
		}
		if i%1000 == 0 && g.Try("10.9.9.9", "") {
			t.Fatalf("after %d other addresses the guessing address may try again", i)
		}
	}
}
