// Package notice is what the server tells a resident about a visit or a
// ticket, as it passes from the part that has something to say (the
// booking desk, the e-ticket) to the part that delivers it (the message
// outbox: e-mail, SMS). One type between them, so neither knows the other.
// The office's admins are told of their devices' faults the same way
// (DeviceAlert), by e-mail and webhook.
package notice

import (
	"context"
	"time"
)

// Kind is what happened.
type Kind string

// The kinds of notice.
const (
	// ConfirmContact carries the short code and the link that confirm a
	// contact before a booking holds its slot.
	ConfirmContact Kind = "confirm-contact"
	// Booked: a booking holds its slot (code, date and time, links).
	Booked Kind = "booked"
	// Rescheduled: the same code, a new slot.
	Rescheduled Kind = "rescheduled"
	// Cancelled: the resident cancelled.
	Cancelled Kind = "cancelled"
	// CancelledByOffice: the office closed the slot (a holiday added
	// later, a closed afternoon); Reason says why.
	CancelledByOffice Kind = "cancelled-by-office"
	// HoursClosed: the office closed the visit's hours for bookings
	// after it was booked (Reason says why); the visit stands until the
	// resident moves it, and Links.Manage is where they do.
	HoursClosed Kind = "hours-closed"
	// Reminder: the visit is tomorrow.
	Reminder Kind = "reminder"
	// Called, Recalled and Ahead are a ticket's moments, sent as SMS where
	// no push reaches the resident and the office allows it.
	Called   Kind = "called"
	Recalled Kind = "recalled"
	Ahead    Kind = "ahead"
	// DeviceAlert and DeviceAlertCleared tell an office's admins (not a
	// resident) that one of its devices has a fault, and that it ended;
	// Device says which and what.
	DeviceAlert        Kind = "device-alert"
	DeviceAlertCleared Kind = "device-alert-cleared"
	// LockerReady: a document waits in a locker; Code is the pickup
	// code, Locker says which document, where and until when.
	LockerReady Kind = "locker-ready"
	// LockerReminder: the document still waits, its deadline is near
	// (no code: the plain one was forgotten once it was sent).
	LockerReminder Kind = "locker-reminder"
	// LockerSecondFactor: the one-time code (Code) a resident types at
	// the locker after the pickup code, by SMS.
	LockerSecondFactor Kind = "locker-second-factor"
	// LockerExpired tells an office's admins (not a resident) that a
	// document was not collected by its deadline; no personal data.
	LockerExpired Kind = "locker-expired"
)

// LockerDeposit is a document in a locker as a notice tells of it: what,
// where and until when; never who.
type LockerDeposit struct {
	Deposit     string `json:"deposit"`
	Locker      string `json:"locker"`
	Compartment string `json:"compartment"`
	// Document is the document type's id (queue.LockerDocument).
	Document string    `json:"document"`
	Deadline time.Time `json:"deadline,omitzero"`
	// SecondFactor: the pickup needs a one-time code sent to a phone.
	SecondFactor bool `json:"second_factor,omitempty"`
}

// DeviceFault is a device's fault as its office's admins are told of it.
// It is about a device, never a resident: no personal data.
type DeviceFault struct {
	// DeviceID is the device's token id; Device its name.
	DeviceID string `json:"device_id"`
	Device   string `json:"device"`
	Role     string `json:"role"`
	// Fault is the fault's code (server/fleet), Detail what the device
	// said of it.
	Fault  string    `json:"fault"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
	// Cleared and Note: when and how it ended (DeviceAlertCleared).
	Cleared time.Time `json:"cleared,omitzero"`
	Note    string    `json:"note,omitempty"`
}

// Links are the resident's addresses for what the notice is about; empty
// ones are left out of the message.
type Links struct {
	// Manage is the booking's page (cancel and reschedule are there).
	Manage string
	// Confirm confirms the contact (ConfirmContact).
	Confirm string
	// Ticket is the e-ticket's page.
	Ticket string
}

// Notice is one message to one resident, in their language.
type Notice struct {
	Kind   Kind
	Office string
	Lang   string
	// Name and Contact are as the resident gave them; Contact is an
	// e-mail address or a phone number.
	Name    string
	Contact string
	Service string
	// Booking is the booking code; Slot the visit's start (bookings).
	Booking string
	Slot    time.Time
	// Ticket is the ticket's number, Counter where it is called, Ahead
	// how many are before it (tickets).
	Ticket  string
	Counter int
	Ahead   int
	// Code is the short code of ConfirmContact, the pickup code of
	// LockerReady, the one-time code of LockerSecondFactor.
	Code string
	// Device is the device and its fault (DeviceAlert,
	// DeviceAlertCleared).
	Device *DeviceFault `json:",omitempty"`
	// Locker is the deposit the locker kinds are about.
	Locker *LockerDeposit `json:",omitempty"`
	Links  Links
	// Reason is the office's reason when the office cancelled, moved the
	// visit or closed its hours.
	Reason string
	// Key makes sending idempotent: a second notice with the same key is
	// not sent again (e.g. "booked/K7M2X9P4/2026-11-30T10:30").
	Key string
}

// Sender takes notices for delivery.
type Sender interface {
	// Send returns once n is stored durably for delivery, never waiting
	// for the mail or SMS to leave: a failed delivery cannot lose or hold
	// up what caused it.
	Send(ctx context.Context, n Notice) error
	// Reaches reports whether a message to contact can leave at all: an
	// e-mail address needs an SMTP server configured, a phone number an
	// SMS gateway. A contact that cannot be reached cannot be asked to
	// confirm itself.
	Reaches(contact string) bool
}
