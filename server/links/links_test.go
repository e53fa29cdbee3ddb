package links

import (
	"fmt"
	"strings"
	"testing"
)

func TestCodesAreUnambiguousAndStable(t *testing.T) {
	s := New([]byte("0123456789abcdef0123456789abcdef"), "https://kolejka.example.pl/")
	seen := map[string]bool{}
	for i := range 2000 {
		id := strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26)
		code := s.BookingCode("office", id)
		if len(code) != CodeLength {
			t.Fatalf("code %q has %d characters", code, len(code))
		}
		if strings.ContainsAny(code, "O0I1LU") {
			t.Fatalf("code %q holds an ambiguous character", code)
		}
		if code != s.BookingCode("office", id) {
			t.Fatal("the same booking gave two codes")
		}
		if seen[code] {
			t.Fatalf("code %q repeated within 2000 bookings", code)
		}
		seen[code] = true
	}
	other := New([]byte("another key, another key, anothe"), "")
	if s.BookingCode("office", "a") == other.BookingCode("office", "a") {
		t.Error("the code does not depend on the server key")
	}
}

func TestNormalizeCode(t *testing.T) {
	for in, want := range map[string]string{
		"abcd-efgh": "ABCD-EFGH", " ABCD EFGH ": "ABCD-EFGH", "2345-6789": "2345-6789",
		"ABCD-EFG": "", "ABCD-EFGO": "", "ABCD-EFG1": "", "ABCDEFGHJ": "", "ąbcd-efgh": "",
	} {
		got, ok := NormalizeCode(in)
		if want == "" {
			if ok {
				t.Errorf("NormalizeCode(%q) = %q, want refusal", in, got)
			}
			continue
		}
		if !ok || FormatCode(got) != want {
			t.Errorf("NormalizeCode(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestTicketAddresses(t *testing.T) {
	s := New([]byte("0123456789abcdef0123456789abcdef"), "https://kolejka.example.pl/")
	url := s.TicketURL("cus", "2026-11-23-A001")
	if !strings.HasPrefix(url, "https://kolejka.example.pl/e/cus/2026-11-23-A001/") {
		t.Fatalf("address %s", url)
	}
	mac := url[strings.LastIndex(url, "/")+1:]
	if !s.CheckTicket("cus", "2026-11-23-A001", mac) {
		t.Error("the ticket's own address is refused")
	}
	if s.CheckTicket("cus", "2026-11-23-A002", mac) || s.CheckTicket("other", "2026-11-23-A001", mac) {
		t.Error("one ticket's address opens another")
	}
	if s.CheckBooking("cus", "2026-11-23-A001", mac) {
		t.Error("a ticket address passes as a booking address")
	}
}

// Whatever a resident types, NormalizeCode either refuses it or returns a
// code of the alphabet that reads back to itself.
func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH", "abcd efgh", "", "ABCD-EFG0", "ąęść-żźół", "\x00\xff", strings.Repeat("A", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		code, ok := NormalizeCode(typed)
		if !ok {
			return
		}
		if len(code) != CodeLength {
			t.Fatalf("%q gave %q", typed, code)
		}
		for _, c := range code {
			if !strings.ContainsRune(CodeAlphabet, c) {
				t.Fatalf("%q gave %q with %q outside the alphabet", typed, code, c)
			}
		}
		if again, ok := NormalizeCode(FormatCode(code)); !ok || again != code {
			t.Fatalf("%q does not read back", FormatCode(code))
		}
	})
}

// The confirmation code as typed (spaces allowed) is accepted, and
// nothing else a resident may type is.
func FuzzCheckConfirmCode(f *testing.F) {
	s := New([]byte("key"), "https://numerek.test")
	right := s.ConfirmCode("office", "id")
	f.Add(right)
	f.Add(right[:3] + " " + right[3:])
	f.Add("000000")
	f.Add("")
	f.Fuzz(func(t *testing.T, typed string) {
		ok := s.CheckConfirmCode("office", "id", typed)
		if ok != (strings.Join(strings.Fields(typed), "") == right) {
			t.Fatalf("%q accepted=%v for code %s", typed, ok, right)
		}
	})
}

func TestConfirmCodeIsSixDigits(t *testing.T) {
	s := New([]byte("key"), "https://numerek.test")
	seen := map[string]bool{}
	for i := range 50 {
		c := s.ConfirmCode("office", fmt.Sprint("id", i))
		if len(c) != ConfirmCodeLength || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 45 {
		t.Errorf("50 bookings share %d codes", len(seen))
	}
}
