package queue

import (
	"crypto/subtle"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Locker is a document pickup locker ("urzędomat") of an office: a wall
// of compartments a clerk puts documents in and residents open with a
// code. Which pins drive each compartment is the device's configuration;
// the office's is what residents and clerks see.
type Locker struct {
	ID string `json:"id"`
	// Names maps a language to the locker's name ("Urzędomat, parter").
	Names map[string]string `json:"names"`
	// Place maps a language to where the locker is, for residents.
	Place        map[string]string `json:"place"`
	Compartments []Compartment     `json:"compartments"`
	// Deadline is how long a document waits for pickup (168h, 48h).
	Deadline time.Duration `json:"deadline"`
	// RemindBefore: the resident is reminded this long before the
	// deadline (0: no reminder).
	RemindBefore time.Duration `json:"remind_before"`
	// DoorAlarm: a door open longer than this alarms on screen and alerts
	// staff (default DefaultDoorAlarm).
	DoorAlarm time.Duration `json:"door_alarm"`
	// Documents are the only document types that may go in.
	Documents []LockerDocument `json:"documents"`
}

// DefaultDoorAlarm is how long a door may stand open before it alarms
// when the office does not say.
const DefaultDoorAlarm = 60 * time.Second

// Compartment is one door of a locker.
type Compartment struct {
	// ID is the compartment's number as painted on the door ("1".."24").
	ID string `json:"id"`
	// Size is "S", "M" or "L".
	Size string `json:"size"`
	// Accessible compartments are reachable from a wheelchair.
	Accessible bool `json:"accessible"`
}

// The sizes of compartments, smallest first.
var CompartmentSizes = []string{"S", "M", "L"}

// LockerDocument is a type of document a locker takes.
type LockerDocument struct {
	ID    string            `json:"id"` // "id-card"
	Names map[string]string `json:"names"`
	// SecondFactor: pickup also needs a one-time code sent to the
	// resident's phone.
	SecondFactor bool `json:"second_factor"`
}

// Name returns the locker's name in lang, falling back as Service.Name
// does.
func (l Locker) Name(lang string) string {
	return Service{ID: l.ID, Names: l.Names}.Name(lang)
}

// PlaceIn returns where the locker is in lang, falling back to Polish
// and then to any language; empty when the office gave none.
func (l Locker) PlaceIn(lang string) string {
	if len(l.Place) == 0 {
		return ""
	}
	return Service{Names: l.Place}.Name(lang)
}

// Name returns the document type's name in lang, falling back as
// Service.Name does.
func (d LockerDocument) Name(lang string) string {
	return Service{ID: d.ID, Names: d.Names}.Name(lang)
}

// Compartment finds one of the locker's compartments by its id.
func (l Locker) Compartment(id string) (Compartment, bool) {
	for _, c := range l.Compartments {
		if c.ID == id {
			return c, true
		}
	}
	return Compartment{}, false
}

// Document finds one of the locker's document types by its id.
func (l Locker) Document(id string) (LockerDocument, bool) {
	for _, d := range l.Documents {
		if d.ID == id {
			return d, true
		}
	}
	return LockerDocument{}, false
}

// Alarm is how long a door may stand open before it alarms.
func (l Locker) Alarm() time.Duration {
	if l.DoorAlarm > 0 {
		return l.DoorAlarm
	}
	return DefaultDoorAlarm
}

// Locker finds one of the office's lockers by its id.
func (o *Office) Locker(id string) (Locker, bool) {
	for _, l := range o.Lockers {
		if l.ID == id {
			return l, true
		}
	}
	return Locker{}, false
}

// CodeHash is a locker code as the event log keeps it: the lookup in
// clear, so a locker finds the deposit a typed code is for, and the rest
// only as a salted argon2id hash.
type CodeHash struct {
	Lookup string `json:"lookup"`
	Salt   []byte `json:"salt"`
	Hash   []byte `json:"hash"`
}

// DepositState is where a deposit is.
type DepositState string

// The states of a deposit.
const (
	// DepositStateReserved: the compartment is held and the clerk code issued;
	// the document is not in yet.
	DepositStateReserved DepositState = "reserved"
	// DepositStateStored: the door closed on the document; it waits for the
	// resident.
	DepositStateStored   DepositState = "stored"
	DepositStatePickedUp DepositState = "picked-up"
	// DepositStateExpired: past the deadline, still inside.
	DepositStateExpired DepositState = "expired"
	// DepositStateRetrieved: staff took it back out (after expiry or a mistake).
	DepositStateRetrieved DepositState = "retrieved"
	// DepositStateCancelled: the reservation was withdrawn before the document
	// went in.
	DepositStateCancelled DepositState = "cancelled"
)

// Live reports whether a deposit in this state still holds its
// compartment.
func (st DepositState) Live() bool {
	return st == DepositStateReserved || st == DepositStateStored || st == DepositStateExpired
}

// Deposit is a document left in a locker for a resident. Who the
// resident is, and the plain codes, are kept apart from the event log
// (store.LockerDeposit).
type Deposit struct {
	ID           string       `json:"id"`
	Locker       string       `json:"locker"`
	Compartment  string       `json:"compartment"`
	Document     string       `json:"document"`
	SecondFactor bool         `json:"second_factor"`
	State        DepositState `json:"state"`
	// ClerkCode opens the compartment for the clerk (putting the document
	// in, taking an expired one back) until ClerkCodeUntil.
	ClerkCode      CodeHash  `json:"clerk_code"`
	ClerkCodeUntil time.Time `json:"clerk_code_until"`
	// PickupCode opens it for the resident until Deadline.
	PickupCode CodeHash  `json:"pickup_code"`
	ReservedAt time.Time `json:"reserved_at"`
	StoredAt   time.Time `json:"stored_at,omitzero"`
	// Deadline is StoredAt + Locker.Deadline.
	Deadline time.Time `json:"deadline,omitzero"`
	// EndedAt is when it was picked up, retrieved or cancelled.
	EndedAt time.Time `json:"ended_at,omitzero"`
	// Offline: the pickup happened while the locker could not reach the
	// server.
	Offline bool `json:"offline,omitempty"`
}

// ClerkCodeValid is how long a clerk code opens its compartment from when
// it was issued.
const ClerkCodeValid = 30 * time.Minute

// The parts of a locker code: LockerCodeLookup characters stored in clear
// to find the deposit, then the secret, stored only hashed.
const (
	LockerCodeLength = BookingCodeLength
	LockerCodeLookup = 3
)

// argon2id's cost for locker codes: one pass over 8 MiB, so a locker's
// small computer checks a code in a blink while a stolen event log
// still costs real work per guess of the secret.
const (
	lockerHashTime    = 1
	lockerHashMemory  = 8 * 1024 // KiB
	lockerHashThreads = 1
	lockerHashLen     = 32
	lockerSaltLen     = 16
)

// NormalizeLockerCode turns a typed or scanned code into its canonical
// form: capitals, without the dash or blanks. ok is false when what is
// left is not LockerCodeLength characters of BookingCodeAlphabet.
func NormalizeLockerCode(typed string) (code string, ok bool) {
	var b strings.Builder
	for _, r := range typed {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		if r > 0x7f || !strings.ContainsRune(BookingCodeAlphabet, r) {
			return "", false
		}
		if b.Len() == LockerCodeLength {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != LockerCodeLength {
		return "", false
	}
	return b.String(), true
}

// FormatLockerCode shows a canonical code as residents read it:
// "ABCD-EFGH".
func FormatLockerCode(code string) string {
	if len(code) != LockerCodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// LockerCodeLookupOf is the lookup part of a typed code, or "" when the
// code is not well formed.
func LockerCodeLookupOf(typed string) string {
	code, ok := NormalizeLockerCode(typed)
	if !ok {
		return ""
	}
	return code[:LockerCodeLookup]
}

// HashLockerCode is the argon2id hash of a code (normalised first) with
// salt.
func HashLockerCode(code string, salt []byte) []byte {
	if c, ok := NormalizeLockerCode(code); ok {
		code = c
	}
	return argon2.IDKey([]byte(code), salt, lockerHashTime, lockerHashMemory, lockerHashThreads, lockerHashLen)
}

// NewLockerCode makes a code from rand whose lookup lookupTaken does not
// refuse, and its hash to keep in the event log. Codes are drawn without
// bias from BookingCodeAlphabet.
func NewLockerCode(lookupTaken func(string) bool, rand io.Reader) (string, CodeHash, error) {
	for range 100 {
		code, err := randomCode(rand)
		if err != nil {
			return "", CodeHash{}, fmt.Errorf("making a locker code: %w", err)
		}
		if lookupTaken != nil && lookupTaken(code[:LockerCodeLookup]) {
			continue
		}
		salt := make([]byte, lockerSaltLen)
		if _, err := io.ReadFull(rand, salt); err != nil {
			return "", CodeHash{}, fmt.Errorf("making a locker code's salt: %w", err)
		}
		return code, CodeHash{Lookup: code[:LockerCodeLookup], Salt: salt, Hash: HashLockerCode(code, salt)}, nil
	}
	return "", CodeHash{}, fmt.Errorf("making a locker code: no free lookup found in 100 tries")
}

// randomCode draws LockerCodeLength characters of BookingCodeAlphabet,
// rejecting bytes past the largest multiple of the alphabet's size so
// each character is equally likely.
func randomCode(rand io.Reader) (string, error) {
	n := len(BookingCodeAlphabet)
	limit := 256 - 256%n
	out := make([]byte, 0, LockerCodeLength)
	buf := make([]byte, 16)
	for len(out) < LockerCodeLength {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < LockerCodeLength {
				out = append(out, BookingCodeAlphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// Matches reports whether a typed code is the one hashed, comparing in
// constant time.
func (h CodeHash) Matches(typed string) bool {
	code, ok := NormalizeLockerCode(typed)
	if !ok || len(h.Hash) == 0 || code[:LockerCodeLookup] != h.Lookup {
		return false
	}
	return subtle.ConstantTimeCompare(HashLockerCode(code, h.Salt), h.Hash) == 1
}

// LiveDeposits returns a locker's deposits that hold a compartment,
// sorted by compartment.
func (s *State) LiveDeposits(locker string) []*Deposit {
	var out []*Deposit
	for _, d := range s.Deposits {
		if d.Locker == locker && d.State.Live() {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *Deposit) int { return compareCompartments(a.Compartment, b.Compartment) })
	return out
}

// FreeCompartments returns the locker's compartments no live deposit
// holds, in the office's order.
func (s *State) FreeCompartments(locker string) []Compartment {
	l, ok := s.Office.Locker(locker)
	if !ok {
		return nil
	}
	held := map[string]bool{}
	for _, d := range s.LiveDeposits(locker) {
		held[d.Compartment] = true
	}
	var out []Compartment
	for _, c := range l.Compartments {
		if !held[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// compareCompartments orders compartment ids as numbers where both are
// ("2" before "10"), else as text.
func compareCompartments(a, b string) int {
	if len(a) != len(b) && isDigits(a) && isDigits(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
