package printer

import (
	"errors"
	"strings"

	"github.com/numerek/numerek/printer/escpos"
)

// Condition is one thing a printer can report about itself.
type Condition uint32

// The conditions a kiosk acts on. PaperNearEnd and NoStatus do not stop
// printing; every other one does.
const (
	PaperOut Condition = 1 << iota
	PaperNearEnd
	CoverOpen
	Offline // not printing, for a reason the printer does not break down further
	CutterError
	MechanicalError // recoverable: clears when the cause is removed
	HeadOverheat    // clears by itself
	UnrecoverableError
	NotAnswering // no answer to a status request within the timeout
	Disconnected // the line failed: unplugged, powered off, network down
	NoStatus     // the line has no way back (file://, a one-way USB link)
)

var conditionNames = []struct {
	c    Condition
	name string
}{
	{PaperOut, "paper out"}, {PaperNearEnd, "paper near end"}, {CoverOpen, "cover open"},
	{Offline, "offline"}, {CutterError, "cutter error"}, {MechanicalError, "mechanical error"},
	{HeadOverheat, "print head overheated"}, {UnrecoverableError, "unrecoverable error"},
	{NotAnswering, "not answering"}, {Disconnected, "disconnected"}, {NoStatus, "status unknown (no way back)"},
}

func (c Condition) String() string {
	var parts []string
	for _, n := range conditionNames {
		if c&n.c != 0 {
			parts = append(parts, n.name)
		}
	}
	if len(parts) == 0 {
		return "ready"
	}
	return strings.Join(parts, ", ")
}

// Status is what is known of the printer: the set of conditions that hold.
// The zero Status is a printer that answered and reported nothing wrong.
type Status struct {
	Conditions Condition
}

// Has reports whether condition c holds.
func (s Status) Has(c Condition) bool { return s.Conditions&c != 0 }

// Ready reports whether a ticket can be printed: nothing holds but, at
// most, paper near end or an unknown status.
func (s Status) Ready() bool { return s.Conditions&^(PaperNearEnd|NoStatus) == 0 }

func (s Status) String() string { return s.Conditions.String() }

// statusFromState turns the status bytes' meaning into conditions.
func statusFromState(st escpos.State) Status {
	var c Condition
	set := func(on bool, cond Condition) {
		if on {
			c |= cond
		}
	}
	set(st.PaperOut || st.PaperEndStop, PaperOut)
	set(st.PaperNearEnd, PaperNearEnd)
	set(st.CoverOpen, CoverOpen)
	set(st.CutterError, CutterError)
	set(st.RecoverableError, MechanicalError)
	set(st.AutoRecoverable, HeadOverheat)
	set(st.Unrecoverable, UnrecoverableError)
	// Offline alone is reported only when no cause explains it.
	set(st.Offline && c&^PaperNearEnd == 0, Offline)
	return Status{Conditions: c}
}

// ErrNotReady is wrapped by every StatusError.
var ErrNotReady = errors.New("printer not ready")

// StatusError says a job was not printed, or not confirmed printed,
// because of the printer's status.
type StatusError struct {
	Op     string // "printing ticket A123"
	Status Status
	Err    error // what went wrong reading the status, if that failed
}

func (e *StatusError) Error() string {
	msg := e.Op + ": printer not ready: " + e.Status.String()
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrNotReady) hold, and reach the cause.
func (e *StatusError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrNotReady}
	}
	return []error{ErrNotReady, e.Err}
}

// Health is a printer's full status in the terms any thermal printer
// has, whatever its protocol: what the device reports to the server and
// shows its technician.
type Health struct {
	Online       bool // it can print now
	CoverOpen    bool
	PaperNearEnd bool // the roll is running low; it still prints
	PaperOut     bool
	CutterError  bool
	// Error says what else is wrong, when something is: the line is down,
	// the printer does not answer, a mechanical or unrecoverable error.
	Error string
}

// Health turns a full status read (Printer.Status) into Health; err is
// the read's error, if any.
func (s Status) Health(err error) Health {
	h := Health{
		Online:       s.Ready() && !s.Has(NoStatus),
		CoverOpen:    s.Has(CoverOpen),
		PaperNearEnd: s.Has(PaperNearEnd),
		PaperOut:     s.Has(PaperOut),
		CutterError:  s.Has(CutterError),
	}
	// The conditions with a field of their own are not repeated in Error.
	other := s.Conditions &^ (CoverOpen | PaperNearEnd | PaperOut | CutterError)
	if other != 0 {
		h.Error = other.String()
	}
	if err != nil {
		var se *StatusError
		if !errors.As(err, &se) || se.Err != nil {
			if h.Error != "" {
				h.Error += ": "
			}
			h.Error += err.Error()
		}
	}
	return h
}
