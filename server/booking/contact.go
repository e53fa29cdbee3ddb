package booking

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// homeRegion is the country a phone number typed without its country
// code belongs to: the offices Numerek serves are Polish.
const homeRegion = "PL"

// ContactKey is the contact of the request as limits count it: one person
// however they type it. An e-mail address is lower-cased; a phone number
// becomes its international form (+48600100200 for "600 100 200",
// "0048 600-100-200" or "+48 (600) 100 200"). It is "" when the contact is
// neither, so a form the desk will refuse anyway is not counted.
func (r Request) ContactKey() string {
	c := strings.TrimSpace(r.Contact)
	if c == "" || len(c) > 254 {
		return ""
	}
	if strings.Contains(c, "@") {
		return "mail:" + strings.ToLower(c)
	}
	n, err := phonenumbers.Parse(c, homeRegion)
	if err != nil {
		return ""
	}
	return "tel:" + phonenumbers.Format(n, phonenumbers.E164)
}
