package booking

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/testclock"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// guardStep is one try in a guards script: at t0+at, src tries code; if
// it is let through and wrong, it is counted as wrong.
type guardStep struct {
	at     time.Duration
	src    Source
	code   string
	wrong  bool
	ok     bool
	repeat int // the step is done this many times (at least once)
	// newDevice: each repeat comes from a device never seen before.
	newDevice bool
}

func TestGuards(t *testing.T) {
	kiosk := Source{Device: "token:kiosk-1", Addr: "10.0.0.5"}
	kiosk2 := Source{Device: "token:kiosk-2", Addr: "10.0.0.5"}
	phone := func(i int) Source { return Source{Device: fmt.Sprint("browser:", i), Addr: "10.0.0.9"} }
	tests := []struct {
		name  string
		steps []guardStep
	}{
		{"a valid code after ten mistypes at one kiosk goes through at once", []guardStep{
			{src: kiosk, code: "WRONGAAA", wrong: true, ok: true, repeat: deviceBurst},
			{src: kiosk, code: "VALIDAAA", ok: true},
		}},
		{"past its budget a kiosk is paced, whatever the code", []guardStep{
			{src: kiosk, code: "WRONGAAA", wrong: true, ok: true, repeat: deviceBurst + 1},
			{src: kiosk, code: "WRONGBBB", ok: false},
			{src: kiosk, code: "VALIDAAA", ok: false},
			{at: devicePace, src: kiosk, code: "VALIDAAA", ok: true},
		}},
		{"another kiosk at the same address is not paced", []guardStep{
			{src: kiosk, code: "WRONGAAA", wrong: true, ok: true, repeat: deviceBurst + 1},
			{src: kiosk, code: "WRONGBBB", ok: false},
			{src: kiosk2, code: "WRONGBBB", wrong: true, ok: true},
			{src: kiosk2, code: "VALIDAAA", ok: true},
		}},
		{"a code tried too often is refused from anywhere", []guardStep{
			{src: kiosk, code: "GUESSEDA", ok: true}, {src: kiosk, code: "GUESSEDA", ok: true},
			{src: kiosk, code: "GUESSEDA", ok: true}, {src: kiosk2, code: "GUESSEDA", ok: true},
			{src: phone(1), code: "GUESSEDA", ok: true},
			{src: kiosk2, code: "GUESSEDA", ok: false},
			{src: phone(1), code: "GUESSEDA", ok: false},
			{src: phone(1), code: "OTHERAAA", ok: true},
			{at: codeRefill, src: phone(2), code: "GUESSEDA", ok: true},
		}},
		{"fresh browsers at one address meet the address's budget", []guardStep{
			{src: phone(0), code: "WRONGAAA", wrong: true, ok: true, repeat: addrBurst, newDevice: true},
			{src: phone(999), code: "WRONGBBB", wrong: true, ok: true},
			{src: phone(1000), code: "VALIDAAA", ok: false},
			{at: addrPace, src: phone(1001), code: "VALIDAAA", ok: true},
		}},
		{"not a code: only the source's pace applies", []guardStep{
			{src: kiosk, code: "", ok: true, repeat: 3 * deviceBurst},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := testclock.New(t0)
			g := NewGuards(clock.Now)
			for i, s := range tt.steps {
				clock.Set(t0.Add(s.at))
				for n := range max(s.repeat, 1) {
					code := s.code
					if s.repeat > 1 && code != "" {
						code = fmt.Sprint(code, n) // each a different code
					}
					src := s.src
					if s.newDevice {
						src.Device = fmt.Sprint(src.Device, "/", n)
					}
					err := g.Try(src, code)
					if (err == nil) != s.ok {
						t.Fatalf("step %d (try %d): %+v %s at +%v: %v, want allowed %v", i, n, s.src, code, s.at, err, s.ok)
					}
					if err != nil && (!errors.Is(err, ErrThrottled) || RetryAfter(err) <= 0 || RetryAfter(err) > codeRefill) {
						t.Errorf("step %d: refused with %v, retry %v", i, err, RetryAfter(err))
					}
					if err == nil && s.wrong {
						g.Wrong(src)
					}
				}
			}
		})
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

// Wrong codes sprayed from many addresses do not reset the budget of an
// address that keeps guessing: the guards forget idle addresses, one at a
// time, not all of them at once.
func TestGuardsHoldAnAbuserWhileAddressesChurn(t *testing.T) {
	clock := testclock.New(t0)
	g := NewGuards(clock.Now)
	abuser := Source{Addr: "10.9.9.9"}
	for range addrBurst {
		g.Wrong(abuser)
	}
	if g.Try(abuser, "") != nil {
		t.Fatal("past its budget the address is refused even its paced try")
	}
	for i := range 3 * maxTracked {
		src := Source{Addr: fmt.Sprintf("fd00::%x", i)}
		if g.Try(src, "") == nil {
			g.Wrong(src)
		}
		// The clock stands still: were the abuser's budget forgotten, it
		// would be let through unpaced.
		if i%1000 == 0 && g.Try(abuser, "") == nil {
			t.Fatalf("after %d other addresses the guessing address may try again at once", i)
		}
	}
}

// One person's contact is one key however it is typed; different people
// are different keys.
func TestContactKey(t *testing.T) {
	tests := []struct {
		contact, want string
	}{
		{"Jan.Kowalski@Example.PL", "mailto:jan.kowalski@example.pl"},
		{" jan.kowalski@example.pl ", "mailto:jan.kowalski@example.pl"},
		{"600 100 200", "tel:+48600100200"},
		{"600-100-200", "tel:+48600100200"},
		{"+48 (600) 100 200", "tel:+48600100200"},
		{"0048 600 100 200", "tel:+48600100200"},
		{"+370 612 34567", "tel:+37061234567"},
		{"+380 67 123 4567", "tel:+380671234567"},
		{"600 100 201", "tel:+48600100201"},
		{"", ""},
		{"not a number", ""},
	}
	for _, tt := range tests {
		if got := (Request{Contact: tt.contact}).ContactKey(); got != tt.want {
			t.Errorf("ContactKey(%q) = %q, want %q", tt.contact, got, tt.want)
		}
	}
}
