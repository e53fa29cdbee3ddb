package queue

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// The codes a deposit has, as LockerCodeReplaced and ReplaceLockerCode
// name them.
const (
	ClerkCodeKind  = "clerk"
	PickupCodeKind = "pickup"
)

// MaxDepositID bounds a deposit's id: it is a key in the log, web.db and
// the locker's journal.
const MaxDepositID = 64

// ReserveCompartment holds the lowest free compartment of Size (only
// accessible ones when Accessible) for a document of type Document, with
// both codes already hashed: the server keeps the plain ones apart.
type ReserveCompartment struct {
	Deposit    string
	Locker     string
	Document   string
	Size       string
	Accessible bool
	ClerkCode  CodeHash
	PickupCode CodeHash
}

func (c ReserveCompartment) decide(s *State, now time.Time) (Decision, error) {
	if c.Deposit == "" || len(c.Deposit) > MaxDepositID {
		return Decision{}, invalid("deposit: an id of 1-%d characters is needed", MaxDepositID)
	}
	if _, dup := s.Deposits[c.Deposit]; dup {
		return Decision{}, conflict("deposit %s already exists", c.Deposit)
	}
	l, ok := s.Office.Locker(c.Locker)
	if !ok {
		return Decision{}, notFound("no locker %q in office %s", c.Locker, s.Office.ID)
	}
	doc, ok := l.Document(c.Document)
	if !ok {
		return Decision{}, invalid("document: locker %s does not take %q", l.ID, c.Document)
	}
	if !slices.Contains(CompartmentSizes, c.Size) {
		return Decision{}, invalid("size: %q is not S, M or L", c.Size)
	}
	if err := checkCodeHash("clerk_code", c.ClerkCode); err != nil {
		return Decision{}, err
	}
	if err := checkCodeHash("pickup_code", c.PickupCode); err != nil {
		return Decision{}, err
	}
	if c.ClerkCode.Lookup == c.PickupCode.Lookup {
		return Decision{}, conflict("code %s is already in use at locker %s; make another", c.PickupCode.Lookup, l.ID)
	}
	for _, h := range []CodeHash{c.ClerkCode, c.PickupCode} {
		if s.LockerLookupTaken(l.ID, h.Lookup, "", "") {
			return Decision{}, conflict("code %s is already in use at locker %s; make another", h.Lookup, l.ID)
		}
	}
	comp, ok := s.lowestFree(l, c.Size, c.Accessible)
	if !ok {
		if c.Accessible {
			return Decision{}, conflict("locker %s has no free accessible compartment of size %s", l.ID, c.Size)
		}
		return Decision{}, conflict("locker %s has no free compartment of size %s", l.ID, c.Size)
	}
	d := Deposit{
		ID: c.Deposit, Locker: l.ID, Compartment: comp.ID, Document: doc.ID, SecondFactor: doc.SecondFactor,
		State: DepositStateReserved, ClerkCode: c.ClerkCode, ClerkCodeUntil: now.Add(ClerkCodeValid),
		PickupCode: c.PickupCode, ReservedAt: now,
	}
	return Decision{Events: []Body{DepositReserved{Deposit: d}}, Deposit: d.ID, Compartment: comp.ID}, nil
}

// lowestFree is the free compartment of size with the lowest id, among
// the accessible ones only when accessible is asked for.
func (s *State) lowestFree(l Locker, size string, accessible bool) (Compartment, bool) {
	var best Compartment
	found := false
	for _, c := range s.FreeCompartments(l.ID) {
		if c.Size != size || (accessible && !c.Accessible) {
			continue
		}
		if !found || compareCompartments(c.ID, best.ID) < 0 {
			best, found = c, true
		}
	}
	return best, found
}

// LockerLookupTaken reports whether a live deposit of locker has a code
// with lookup, other than the code of kind which of deposit except (the
// one being replaced). A new code needs a lookup no other live code has,
// so a typed code leads to one deposit.
func (s *State) LockerLookupTaken(locker, lookup, except, which string) bool {
	for _, d := range s.Deposits {
		if d.Locker != locker || !d.State.Live() {
			continue
		}
		if d.ClerkCode.Lookup == lookup && (d.ID != except || which != ClerkCodeKind) {
			return true
		}
		if d.PickupCode.Lookup == lookup && (d.ID != except || which != PickupCodeKind) {
			return true
		}
	}
	return false
}

// checkCodeHash checks that a hashed code is whole: a lookup of the
// alphabet, a salt and a hash.
func checkCodeHash(field string, h CodeHash) error {
	lookupOK := len(h.Lookup) == LockerCodeLookup
	for _, r := range h.Lookup {
		if r > 0x7f || !containsRune(BookingCodeAlphabet, r) {
			lookupOK = false
		}
	}
	if !lookupOK || len(h.Salt) < 8 || len(h.Hash) != lockerHashLen {
		return invalid("%s: not a hashed locker code (lookup, salt and hash)", field)
	}
	return nil
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

// deposit finds a deposit by id.
func (s *State) deposit(id string) (*Deposit, error) {
	d := s.Deposits[id]
	if d == nil {
		return nil, notFound("no deposit %q", id)
	}
	return d, nil
}

// reportedAt is the device's time of an event, or now when it gave none.
func reportedAt(at, now time.Time) time.Time {
	if at.IsZero() {
		return now
	}
	return at
}

// StoreDeposit records, from the locker, that the door closed on the
// document of a reserved deposit. A repeat, or a report that comes after
// the deposit moved on (its answer was lost, and the pickup reported
// since), is no event and no error.
type StoreDeposit struct {
	Deposit string
	At      time.Time
}

func (c StoreDeposit) decide(s *State, now time.Time) (Decision, error) {
	d, err := s.deposit(c.Deposit)
	if err != nil {
		return Decision{}, err
	}
	switch d.State {
	case DepositStateReserved:
		return Decision{Events: []Body{DepositStored{Deposit: d.ID, At: reportedAt(c.At, now)}}, Deposit: d.ID, Compartment: d.Compartment}, nil
	case DepositStateStored, DepositStateExpired, DepositStatePickedUp, DepositStateRetrieved:
		return Decision{Deposit: d.ID, Compartment: d.Compartment}, nil
	}
	return Decision{}, conflict("deposit %s is %s: only a reserved deposit can be stored", d.ID, d.State)
}

// PickUpDeposit records that the resident took the document, online or
// reported later by a locker that was offline. It is idempotent: a
// deposit already picked up gives no event and no error.
type PickUpDeposit struct {
	Deposit string
	At      time.Time
	Offline bool
}

func (c PickUpDeposit) decide(s *State, now time.Time) (Decision, error) {
	d, err := s.deposit(c.Deposit)
	if err != nil {
		return Decision{}, err
	}
	switch d.State {
	case DepositStateStored, DepositStateExpired:
		// An expired one still inside may be picked up: a locker offline
		// at the deadline still opened for its code.
		return Decision{Events: []Body{DepositPickedUp{Deposit: d.ID, At: reportedAt(c.At, now), Offline: c.Offline}}, Deposit: d.ID, Compartment: d.Compartment}, nil
	case DepositStatePickedUp:
		return Decision{Deposit: d.ID, Compartment: d.Compartment}, nil
	}
	return Decision{}, conflict("deposit %s is %s: only a stored deposit can be picked up", d.ID, d.State)
}

// ExpireDeposits ends the wait of every stored deposit whose deadline has
// passed at now; nothing to expire is no error.
type ExpireDeposits struct{}

func (ExpireDeposits) decide(s *State, now time.Time) (Decision, error) {
	var ids []string
	for _, d := range s.Deposits {
		if d.State == DepositStateStored && !d.Deadline.After(now) {
			ids = append(ids, d.ID)
		}
	}
	slices.Sort(ids)
	var events []Body
	for _, id := range ids {
		events = append(events, DepositExpired{Deposit: id})
	}
	return Decision{Events: events}, nil
}

// RetrieveDeposit records, from the locker, that staff took the document
// back out (expired, or put in by mistake). A repeat is no event and no
// error.
type RetrieveDeposit struct {
	Deposit string
	At      time.Time
}

func (c RetrieveDeposit) decide(s *State, now time.Time) (Decision, error) {
	d, err := s.deposit(c.Deposit)
	if err != nil {
		return Decision{}, err
	}
	switch d.State {
	case DepositStateStored, DepositStateExpired:
		return Decision{Events: []Body{DepositRetrieved{Deposit: d.ID, At: reportedAt(c.At, now)}}, Deposit: d.ID, Compartment: d.Compartment}, nil
	case DepositStateRetrieved:
		return Decision{Deposit: d.ID, Compartment: d.Compartment}, nil
	}
	return Decision{}, conflict("deposit %s is %s: only a stored or expired deposit can be taken back", d.ID, d.State)
}

// MaxCancelReason bounds the reason a clerk gives for cancelling a
// reservation.
const MaxCancelReason = 200

// CancelDeposit withdraws a reservation before the document went in.
type CancelDeposit struct {
	Deposit string
	Reason  string
}

func (c CancelDeposit) decide(s *State, now time.Time) (Decision, error) {
	if utf8.RuneCountInString(c.Reason) > MaxCancelReason {
		return Decision{}, invalid("reason: a cancellation's reason has at most %d characters", MaxCancelReason)
	}
	d, err := s.deposit(c.Deposit)
	if err != nil {
		return Decision{}, err
	}
	if d.State != DepositStateReserved {
		return Decision{}, conflict("deposit %s is %s: only a reservation can be cancelled", d.ID, d.State)
	}
	return Decision{Events: []Body{DepositCancelled{Deposit: d.ID, Reason: c.Reason}}, Deposit: d.ID, Compartment: d.Compartment}, nil
}

// ReplaceLockerCode gives a live deposit a new clerk code (valid until
// Until, by default ClerkCodeValid from now) or pickup code; the old one
// no longer opens.
type ReplaceLockerCode struct {
	Deposit string
	Which   string
	Code    CodeHash
	Until   time.Time
}

func (c ReplaceLockerCode) decide(s *State, now time.Time) (Decision, error) {
	if c.Which != ClerkCodeKind && c.Which != PickupCodeKind {
		return Decision{}, invalid("which: %q is not clerk or pickup", c.Which)
	}
	if err := checkCodeHash("code", c.Code); err != nil {
		return Decision{}, err
	}
	d, err := s.deposit(c.Deposit)
	if err != nil {
		return Decision{}, err
	}
	if !d.State.Live() {
		return Decision{}, conflict("deposit %s has ended (%s): its codes cannot change", d.ID, d.State)
	}
	if s.LockerLookupTaken(d.Locker, c.Code.Lookup, d.ID, c.Which) {
		return Decision{}, conflict("code %s is already in use at locker %s; make another", c.Code.Lookup, d.Locker)
	}
	until := time.Time{}
	if c.Which == ClerkCodeKind {
		until = c.Until
		if until.IsZero() {
			until = now.Add(ClerkCodeValid)
		}
		if !until.After(now) {
			return Decision{}, invalid("until: %s has already passed", fmtTime(until, s.Office))
		}
	}
	return Decision{Events: []Body{LockerCodeReplaced{Deposit: d.ID, Which: c.Which, Code: c.Code, Until: until}}, Deposit: d.ID, Compartment: d.Compartment}, nil
}

func (s *State) liveDeposit(id string) (*Deposit, error) {
	d := s.Deposits[id]
	if d == nil {
		return nil, fmt.Errorf("no deposit %s", id)
	}
	return d, nil
}

func (s *State) applyDepositReserved(b DepositReserved, _ Event) error {
	d := b.Deposit
	if d.ID == "" {
		return fmt.Errorf("a deposit without an id")
	}
	if _, dup := s.Deposits[d.ID]; dup {
		return fmt.Errorf("deposit %s reserved twice", d.ID)
	}
	for _, o := range s.Deposits {
		if o.Locker == d.Locker && o.Compartment == d.Compartment && o.State.Live() {
			return fmt.Errorf("compartment %s of locker %s already holds deposit %s", d.Compartment, d.Locker, o.ID)
		}
	}
	s.Deposits[d.ID] = &d
	return nil
}

// applyDepositStored starts the deadline; the clerk code has done its
// work and opens no more.
func (s *State) applyDepositStored(b DepositStored, _ Event) error {
	d, err := s.liveDeposit(b.Deposit)
	if err != nil {
		return err
	}
	var wait time.Duration
	if l, ok := s.Office.Locker(d.Locker); ok {
		wait = l.Deadline
	}
	d.State, d.StoredAt, d.Deadline = DepositStateStored, b.At, b.At.Add(wait)
	if d.ClerkCodeUntil.After(b.At) {
		d.ClerkCodeUntil = b.At
	}
	return nil
}

func (s *State) applyDepositPickedUp(b DepositPickedUp, _ Event) error {
	d, err := s.liveDeposit(b.Deposit)
	if err != nil {
		return err
	}
	d.State, d.EndedAt, d.Offline = DepositStatePickedUp, b.At, b.Offline
	return nil
}

func (s *State) applyDepositExpired(b DepositExpired, _ Event) error {
	d, err := s.liveDeposit(b.Deposit)
	if err != nil {
		return err
	}
	d.State = DepositStateExpired
	return nil
}

func (s *State) applyDepositRetrieved(b DepositRetrieved, _ Event) error {
	d, err := s.liveDeposit(b.Deposit)
	if err != nil {
		return err
	}
	d.State, d.EndedAt = DepositStateRetrieved, b.At
	return nil
}

func (s *State) applyDepositCancelled(b DepositCancelled, e Event) error {
	d, err := s.liveDeposit(b.Deposit)
	if err != nil {
		return err
	}
	d.State, d.EndedAt = DepositStateCancelled, e.At
	return nil
}

func (s *State) applyLockerCodeReplaced(b LockerCodeReplaced, _ Event) error {
	d, err := s.liveDeposit(b.Deposit)
	if err != nil {
		return err
	}
	switch b.Which {
	case ClerkCodeKind:
		d.ClerkCode, d.ClerkCodeUntil = b.Code, b.Until
	case PickupCodeKind:
		d.PickupCode = b.Code
	default:
		return fmt.Errorf("deposit %s: no %q code", d.ID, b.Which)
	}
	return nil
}

// dropEndedDeposits forgets, at the day's rollover, the deposits that
// ended; the log keeps them for statistics.
func (s *State) dropEndedDeposits() {
	for id, d := range s.Deposits {
		if !d.State.Live() {
			delete(s.Deposits, id)
		}
	}
}
