// Package links makes and checks the unguessable things residents carry:
// e-ticket addresses, booking management addresses and booking codes. All
// are keyed hashes (HMAC-SHA256) under the server's secret key, so nothing
// needs storing to check them and none reveals anything but itself.
package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/numerek/numerek/queue"
)

// CodeAlphabet is the booking code's 30 characters (see queue).
const CodeAlphabet = queue.BookingCodeAlphabet

// CodeLength is how many characters a booking code has: 30^8, about 6.6e11
// codes, against guessing throttled to a few tries a minute.
const CodeLength = queue.BookingCodeLength

// macLength is how many base32 characters of an HMAC an address carries
// (80 bits).
const macLength = 16

// Signer makes and checks links under one secret key.
type Signer struct {
	key  []byte
	base string
}

// New returns a signer; publicURL ("https://kolejka.example.pl") prefixes
// the absolute addresses printed on paper tickets.
func New(key []byte, publicURL string) *Signer {
	return &Signer{key: append([]byte(nil), key...), base: strings.TrimRight(publicURL, "/")}
}

func (s *Signer) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func (s *Signer) shortMAC(parts ...string) string {
	return strings.ToLower(b32.EncodeToString(s.mac(parts...))[:macLength])
}

// TicketMAC is the secret part of a ticket's e-ticket address.
func (s *Signer) TicketMAC(office, ticket string) string { return s.shortMAC("ticket", office, ticket) }

// TicketPath is the e-ticket page's path: /e/{office}/{ticket}/{mac}.
func (s *Signer) TicketPath(office, ticket string) string {
	return "/e/" + office + "/" + ticket + "/" + s.TicketMAC(office, ticket)
}

// TicketURL is the e-ticket page's absolute address, for the paper
// ticket's QR code.
func (s *Signer) TicketURL(office, ticket string) string {
	return s.base + s.TicketPath(office, ticket)
}

// CheckTicket reports whether mac is the ticket's.
func (s *Signer) CheckTicket(office, ticket, mac string) bool {
	return hmac.Equal([]byte(mac), []byte(s.TicketMAC(office, ticket)))
}

// BookingMAC is the secret part of a booking's management address.
func (s *Signer) BookingMAC(office, id string) string { return s.shortMAC("booking", office, id) }

// BookingPath is the booking's confirmation page: /booking/{office}/{id}/{mac}.
func (s *Signer) BookingPath(office, id string) string {
	return "/booking/" + office + "/" + id + "/" + s.BookingMAC(office, id)
}

// BookingURL is the confirmation page's absolute address.
func (s *Signer) BookingURL(office, id string) string { return s.base + s.BookingPath(office, id) }

// CheckBooking reports whether mac is the booking's.
func (s *Signer) CheckBooking(office, id, mac string) bool {
	return hmac.Equal([]byte(mac), []byte(s.BookingMAC(office, id)))
}

// BookingCode derives a booking's code from its id: the code need not be
// stored to be shown again, and only its keyed hash (CodeKey) is indexed.
func (s *Signer) BookingCode(office, id string) string {
	var out []byte
	for round := 0; len(out) < CodeLength; round++ {
		for _, b := range s.mac("code", office, id, string(rune('0'+round))) {
			// 240 = 8 x 30: bytes above it would favour the first letters.
			if b < 240 && len(out) < CodeLength {
				out = append(out, CodeAlphabet[int(b)%len(CodeAlphabet)])
			}
		}
	}
	return string(out)
}

// CodeKey is the keyed hash a code is indexed under.
func (s *Signer) CodeKey(code string) string { return hex.EncodeToString(s.mac("code-index", code)) }

// NormalizeCode reads a code as typed ("abcd-efgh", "ABCD EFGH"): case and
// separators do not matter. ok=false if it cannot be a code at all.
func NormalizeCode(typed string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r < 128 && strings.IndexByte(CodeAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != CodeLength {
		return "", false
	}
	return b.String(), true
}

// FormatCode groups a code for reading aloud and typing: "ABCD-EFGH".
func FormatCode(code string) string {
	if len(code) != CodeLength {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// ConfirmCodeLength is how many digits the code has that confirms a
// resident's contact: short enough to type from an SMS, and guarded by a
// few tries per hold.
const ConfirmCodeLength = 6

// ConfirmCode derives the short code that confirms a booking's contact,
// so it need not be stored.
func (s *Signer) ConfirmCode(office, id string) string {
	m := s.mac("confirm", office, id)
	n := (uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3])) % 1_000_000
	return fmt.Sprintf("%06d", n)
}

// CheckConfirmCode reports whether typed (spaces allowed) is the booking's
// confirmation code.
func (s *Signer) CheckConfirmCode(office, id, typed string) bool {
	typed = strings.Join(strings.Fields(typed), "")
	return hmac.Equal([]byte(typed), []byte(s.ConfirmCode(office, id)))
}

// ConfirmPath is the link in the confirmation message: opening it
// confirms the contact, as typing the code does.
func (s *Signer) ConfirmPath(office, id string) string {
	return s.BookingPath(office, id) + "/confirm/" + s.ConfirmCode(office, id)
}

// URL makes a path of this server absolute, for messages.
func (s *Signer) URL(path string) string { return s.base + path }

// HolderKey is the key a phone ticket's holder is known by in the office's
// log (queue.Ticket.Holders): what holds it (kind: "browser", "contact")
// and its value, on one office day. Keyed under the secret and the day,
// it names nobody, and keys of different days cannot be matched.
func (s *Signer) HolderKey(kind, day, value string) string {
	return hex.EncodeToString(s.mac("holder", kind, day, value))[:32]
}
