package queue

import (
	"fmt"
	"time"
)

// MaxNumber is the highest ticket number of a day: numbers have three digits.
const MaxNumber = 999

// TicketState is where a ticket is in its life.
type TicketState string

// The states of a ticket.
const (
	Waiting   TicketState = "waiting"
	Called    TicketState = "called"
	Serving   TicketState = "serving"
	Done      TicketState = "done"
	NoShow    TicketState = "no-show"
	Cancelled TicketState = "cancelled"
	Parked    TicketState = "parked"
	// ParkedAway is a phone ticket that reached the front of its line
	// while its resident had not confirmed being near: it is set aside
	// instead of called, until confirmed (back in line) or timed out.
	ParkedAway TicketState = "parked-away"
)

// Final reports whether the ticket's life has ended.
func (s TicketState) Final() bool { return s == Done || s == NoShow || s == Cancelled }

// Channel is how a ticket was drawn.
type Channel string

// The channels a ticket can come through.
const (
	ChannelKiosk     Channel = "kiosk"
	ChannelPhone     Channel = "phone"
	ChannelBooking   Channel = "booking"
	ChannelAssistant Channel = "assistant"
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case ChannelKiosk, ChannelPhone, ChannelBooking, ChannelAssistant:
		return true
	}
	return false
}

// Remote reports whether a ticket of this channel was taken away from
// the office, so the office's remote rules apply to it.
func (c Channel) Remote() bool { return c == ChannelPhone }

// Presence is where a phone ticket stands with the office's request to
// confirm that its resident is near (see RemoteRules).
type Presence string

// The answers about presence.
const (
	// PresenceNeeded: the office will ask, or has asked, and no answer came.
	PresenceNeeded Presence = "needed"
	// PresenceHere and PresenceOnTheWay: the resident confirmed.
	PresenceHere     Presence = "here"
	PresenceOnTheWay Presence = "on-the-way"
	// PresenceLapsed: set aside unconfirmed for too long, the ticket ended.
	PresenceLapsed Presence = "lapsed"
)

// Confirmed reports whether the resident said they are here or coming.
func (p Presence) Confirmed() bool { return p == PresenceHere || p == PresenceOnTheWay }

// Rating is a resident's rating of a finished service (seed 001).
type Rating string

// The three ratings a resident can give.
const (
	RatingGood    Rating = "good"
	RatingNeutral Rating = "neutral"
	RatingBad     Rating = "bad"
)

// Valid reports whether r is one of the three ratings.
func (r Rating) Valid() bool { return r == RatingGood || r == RatingNeutral || r == RatingBad }

// Ticket is one resident's place in a queue.
type Ticket struct {
	ID       string      `json:"id"`
	Day      string      `json:"day"`
	Number   string      `json:"number"`
	Service  string      `json:"service"`
	Channel  Channel     `json:"channel"`
	Lang     string      `json:"lang"`
	Priority bool        `json:"priority,omitempty"`
	State    TicketState `json:"state"`
	IssuedAt time.Time   `json:"issued_at"`
	// QueuedAt orders the queue: the issue time, kept or reset on transfer.
	QueuedAt time.Time `json:"queued_at"`
	// Order breaks ties between equal QueuedAt: the seq of the event that
	// queued the ticket.
	Order uint64 `json:"order"`
	// Counter is the counter that called the ticket last.
	Counter int `json:"counter,omitempty"`
	// TargetCounter, when set, is the only counter that may call the ticket
	// (it was transferred to that counter).
	TargetCounter int       `json:"target_counter,omitempty"`
	CalledAt      time.Time `json:"called_at,omitzero"`
	StartedAt     time.Time `json:"started_at,omitzero"`
	EndedAt       time.Time `json:"ended_at,omitzero"`
	Recalls       int       `json:"recalls,omitempty"`
	// ReservationID and BookedFor are set for a booked visit checked in at the
	// kiosk: the ticket is not called before BookedFor.
	ReservationID string    `json:"reservation_id,omitempty"`
	BookedFor     time.Time `json:"booked_for,omitzero"`
	Note          string    `json:"note,omitempty"`
	Rating        Rating    `json:"rating,omitempty"`
	Device        string    `json:"device,omitempty"`
	Leased        bool      `json:"leased,omitempty"`
	// Holders are opaque keys of who took a phone ticket (a browser, a
	// contact), each a keyed hash made by the server, so one holder keeps
	// one active phone ticket per service.
	Holders []string `json:"holders,omitempty"`
	// Presence is set on phone tickets the office asks to confirm.
	Presence Presence `json:"presence,omitempty"`
	// AwayAt is when the ticket was set aside unconfirmed (ParkedAway).
	AwayAt time.Time `json:"away_at,omitzero"`
}

// active reports whether the ticket still holds a place: not ended.
func (t *Ticket) active() bool { return !t.State.Final() }

// TicketID is the id of ticket number on an office-local day.
func TicketID(day, number string) string { return day + "-" + number }

// FormatNumber is a ticket number: the service prefix and three digits.
func FormatNumber(prefix string, n int) string { return fmt.Sprintf("%s%03d", prefix, n) }

// Waited is how long the ticket has waited (or waited until called) at now.
func (t *Ticket) Waited(now time.Time) time.Duration {
	end := now
	if !t.CalledAt.IsZero() && t.State != Waiting {
		end = t.CalledAt
	}
	if end.Before(t.IssuedAt) {
		return 0
	}
	return end.Sub(t.IssuedAt)
}

// callableAt reports whether the ticket may be called at now: booked visits
// never before their slot.
func (t *Ticket) callableAt(now time.Time) bool {
	return t.State == Waiting && (t.BookedFor.IsZero() || !now.Before(t.BookedFor))
}
