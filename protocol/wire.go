package protocol

import (
	"encoding/json"
	"time"

	"github.com/numerek/numerek/queue"
)

// IssueRequest asks for a new ticket.
type IssueRequest struct {
	Service  string `json:"service"`
	Lang     string `json:"lang"`
	Priority bool   `json:"priority"`
	// RequestID, chosen by the device, makes the request idempotent.
	RequestID string `json:"request_id"`
	// Channel defaults to the caller's: kiosk for a ticket machine.
	Channel string `json:"channel,omitempty"`
}

// TicketResponse carries one ticket.
type TicketResponse struct {
	Ticket queue.TicketView `json:"ticket"`
	// ETicketURL is the ticket's page for the resident's phone (the QR code
	// on the paper ticket), when the server has a public address.
	ETicketURL string `json:"eticket_url,omitempty"`
}

// CheckInRequest confirms a booked visit at the kiosk by its code.
type CheckInRequest struct {
	Code      string `json:"code"`
	Lang      string `json:"lang"`
	RequestID string `json:"request_id"`
}

// CounterResponse carries one counter.
type CounterResponse struct {
	Counter queue.CounterView `json:"counter"`
}

// CallRequest names a ticket for a counter to call out of order or back
// from parking.
type CallRequest struct {
	Ticket string `json:"ticket"`
}

// TransferRequest moves a ticket to another service or counter.
type TransferRequest struct {
	ToService string `json:"to_service"`
	ToCounter int    `json:"to_counter"`
	KeepPlace bool   `json:"keep_place"`
	Note      string `json:"note"`
}

// RateRequest is a resident's rating: good, neutral or bad.
type RateRequest struct {
	Rating string `json:"rating"`
}

// LeaseRequest asks for numbers to issue while offline.
type LeaseRequest struct {
	Service string `json:"service"`
	Count   int    `json:"count"`
}

// LeaseResponse carries a granted lease.
type LeaseResponse struct {
	Lease queue.Lease `json:"lease"`
}

// LeasedTicketRequest hands in a ticket issued from a lease while offline.
type LeasedTicketRequest struct {
	RequestID string    `json:"request_id"`
	Service   string    `json:"service"`
	Number    int       `json:"number"`
	IssuedAt  time.Time `json:"issued_at"`
	Lang      string    `json:"lang"`
	Priority  bool      `json:"priority"`
}

// WithdrawRequest says that a kiosk printed nothing of the server's for
// one of its requests: the answer came too late, or never.
type WithdrawRequest struct {
	RequestID string `json:"request_id"`
}

// FaultRequest reports a device's trouble; an empty Fault clears it.
type FaultRequest struct {
	Fault  string `json:"fault"`
	Detail string `json:"detail"`
}

// WhoAmI says what the request's token is: devices learn from it the name
// the server knows them by (the device of the tickets staff send them).
type WhoAmI struct {
	TokenID string `json:"token_id"`
	Office  string `json:"office"`
	Role    string `json:"role"`
	Counter int    `json:"counter,omitempty"`
	Label   string `json:"label,omitempty"`
	// Device is the name faults and assistant tickets use for this device.
	Device string `json:"device"`
}

// OfficesResponse lists the offices a token may see.
type OfficesResponse struct {
	Offices []OfficeRef `json:"offices"`
}

// OfficeRef names an office.
type OfficeRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ErrorResponse is every error's body.
type ErrorResponse struct {
	// Error says what is wrong, in English, for technicians and logs.
	Error string `json:"error"`
	// Field names the request field at fault, when one is.
	Field string `json:"field,omitempty"`
	// Code and Params name the office's refusal for screens that say it
	// in their own language (i18n "error.<code>"); Message already says
	// it in the request's.
	Code   string            `json:"code,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	// Reason, Until and Message are set when a service refuses a resident:
	// Message says it in the request's language.
	Reason  string    `json:"reason,omitempty"`
	Until   time.Time `json:"until,omitzero"`
	Message string    `json:"message,omitempty"`
	// ServerTime is set on a 401 refusing a paired device's key proof:
	// the server's clock, which proofs are held to, so a device whose
	// clock is off (a Raspberry Pi has no battery clock) can sign its
	// next request at the server's time.
	ServerTime time.Time `json:"server_time,omitzero"`
}

// Snapshot is the body of a stream's "snapshot" event: the office's whole
// state at Seq, to fold later events onto.
type Snapshot struct {
	Seq   uint64          `json:"seq"`
	State json.RawMessage `json:"state"`
}

// SnapshotEvent is the SSE event name of a Snapshot.
const SnapshotEvent = "snapshot"
