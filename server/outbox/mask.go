package outbox

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaskContact shows enough of a contact for the staff to tell messages
// apart and a resident to recognise their own, and no more:
// "jan.kowalski@example.pl" is "j***@e***.pl", "+48 500 600 123" is
// "+48 *** *** 123".
func MaskContact(contact string) string {
	if contact == "" {
		return ""
	}
	if ChannelOf(contact) == Hook {
		// A webhook's address is the office's, not a person's, but its
		// path may hold a secret: the host is enough to tell it.
		if u, err := url.Parse(contact); err == nil {
			return u.Scheme + "://" + u.Host + "/***"
		}
		return "***"
	}
	if local, domain, ok := strings.Cut(contact, "@"); ok {
		tld := ""
		if i := strings.LastIndexByte(domain, '.'); i >= 0 {
			tld = domain[i:]
		}
		return first(local) + "***@" + first(domain) + "***" + tld
	}
	var digits []rune
	for _, r := range contact {
		if unicode.IsDigit(r) {
			digits = append(digits, r)
		}
	}
	if strings.HasPrefix(strings.TrimSpace(contact), "00") && len(digits) > 2 {
		digits = digits[2:]
	}
	if len(digits) < 6 {
		return "***"
	}
	last := string(digits[len(digits)-3:])
	prefix := ""
	if strings.HasPrefix(strings.TrimSpace(contact), "+") || len(digits) > 9 {
		if n := len(digits) - 9; n > 0 {
			prefix = "+" + string(digits[:n]) + " "
		}
	}
	return prefix + "*** *** " + last
}

func first(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return ""
	}
	return string(r)
}

// scrub replaces a contact and a name in an error's text (an SMTP server
// may repeat the address it refuses) so that what is stored for the
// staff and written to the log has no personal data.
func scrub(text, contact, name string) string {
	if contact != "" {
		masked := MaskContact(contact)
		text = strings.ReplaceAll(text, contact, masked)
		if ChannelOf(contact) == SMS {
			// A gateway may echo the number as digits only.
			digits := strings.Map(func(r rune) rune {
				if unicode.IsDigit(r) {
					return r
				}
				return -1
			}, contact)
			if len(digits) >= 9 {
				text = strings.ReplaceAll(text, digits, masked)
				text = strings.ReplaceAll(text, digits[len(digits)-9:], masked)
			}
		}
	}
	if len(name) >= 2 {
		text = strings.ReplaceAll(text, name, "***")
	}
	return text
}
