package queue

import (
	"fmt"
	"time"
)

// ErrorKind sorts command errors for the API: what the caller got wrong,
// what does not exist, what the current state does not allow, and what the
// office refuses (closed, cut-off).
type ErrorKind int

// The kinds of command errors.
const (
	Invalid ErrorKind = iota + 1
	NotFound
	Conflict
	Refused
)

// Error is a command's refusal, with a message in English for logs and
// technicians. Code and Params say it again for screens, which put it in
// their reader's language; refusals to residents carry a Refusal instead.
type Error struct {
	Kind    ErrorKind
	Message string
	// Code names the error ("counter-closed"); i18n has "error.<code>"
	// in every language, with Params filling its placeholders. Empty for
	// refusals (see Refusal) and errors from outside this package.
	Code    string
	Params  map[string]string
	Refusal *Refusal
}

func (e *Error) Error() string { return e.Message }

func invalid(format string, args ...any) *Error { return coded(Invalid, format, args) }

func notFound(format string, args ...any) *Error { return coded(NotFound, format, args) }

func conflict(format string, args ...any) *Error { return coded(Conflict, format, args) }

// Reason says why a ticket or booking is refused.
type Reason string

// The reasons a resident is refused; i18n has a message for each.
const (
	// ReasonClosed: the office is not open now.
	ReasonClosed Reason = "closed"
	// ReasonHoliday: the office is closed all day (Refusal.Holiday names it).
	ReasonHoliday Reason = "holiday"
	// ReasonCutOff: the service stopped issuing for today before closing.
	ReasonCutOff Reason = "cut-off"
	// ReasonPastClosing: the queue is too long to be served before closing.
	ReasonPastClosing Reason = "past-closing"
	// ReasonDailyCap: the service's tickets for today are all given.
	ReasonDailyCap Reason = "daily-cap"
	// ReasonTooEarly: a booked visit is confirmed before its check-in opens.
	ReasonTooEarly Reason = "too-early"
	// ReasonTooLate: a booked visit is confirmed after its grace time.
	ReasonTooLate Reason = "too-late"
	// ReasonCancelled: a booked visit is confirmed after it was cancelled.
	ReasonCancelled Reason = "cancelled"
	// ReasonSlotFull, ReasonSlotUnavailable: a booking is refused.
	ReasonSlotFull        Reason = "slot-full"
	ReasonSlotUnavailable Reason = "slot-unavailable"
	// ReasonRemotePaused: the office's cap on phone tickets waiting is
	// reached; the kiosk still issues.
	ReasonRemotePaused Reason = "remote-paused"
)

// Refusal says why and until when a service does not take residents.
type Refusal struct {
	Reason  Reason `json:"reason"`
	Service string `json:"service,omitempty"`
	// Until is when it will be possible again (the next opening, or the
	// start of check-in); zero when unknown or never.
	Until time.Time `json:"until,omitzero"`
	// Closing is today's closing time, for cut-off and past-closing.
	Closing time.Time `json:"closing,omitzero"`
	// Holiday names the day the office is closed for; HolidayNames by
	// language, where the office gives them.
	Holiday      string            `json:"holiday,omitempty"`
	HolidayNames map[string]string `json:"holiday_names,omitempty"`
}

func (r *Refusal) err(format string, args ...any) *Error {
	return &Error{Kind: Refused, Message: fmt.Sprintf(format, args...), Refusal: r}
}
