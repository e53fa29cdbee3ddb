package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/numerek/numerek/internal/keyedlimit"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
)

// limits keep the public forms fair. Each action is counted against what
// is abused: phone tickets against the browser, bookings against the
// browser and the contact given, staff logins against the account typed.
// The network address is counted too, but only as a generous last line:
// a town behind one proxy, a mobile operator's shared address or an
// office's guest Wi-Fi is many residents. Only accepted actions count (and
// for logins, wrong passwords): a form refused for a missing field, a bad
// date or a full slot costs nothing.
type limits struct {
	clock func() time.Time

	ticketBrowser, ticketAddr                   *keyedlimit.Limiter
	bookingBrowser, bookingContact, bookingAddr *keyedlimit.Limiter
	loginAccount, loginAddr, loginAlerts        *keyedlimit.Limiter
}

// rule is one budget: burst at once, then one more each period.
type rule struct {
	every time.Duration
	burst int
}

// The numbers (docs/web.md says them to offices).
var (
	// A resident takes a phone ticket or two; an address of a whole
	// household or operator takes many.
	ticketPerBrowser = rule{10 * time.Minute, 4}
	ticketPerAddr    = rule{time.Minute, 40}
	// A resident books for themselves and a family member or two.
	bookingPerBrowser = rule{20 * time.Minute, 5}
	bookingPerContact = rule{time.Hour, 3}
	bookingPerAddr    = rule{2 * time.Minute, 40}
	// Wrong passwords: 5 per account, then one a minute; 20 per address,
	// then one each 12 s.
	loginPerAccount = rule{time.Minute, 5}
	loginPerAddr    = rule{12 * time.Second, 20}
	// An account under attack is told to the admin once a quarter hour.
	loginAlertEvery = 15 * time.Minute
)

// maxKeys bounds the keys (browsers, contacts, accounts, addresses) each
// budget remembers.
const maxKeys = 20000

func newLimits(clock func() time.Time) *limits {
	n := func(r rule) *keyedlimit.Limiter { return keyedlimit.New(rate.Every(r.every), r.burst, maxKeys) }
	return &limits{
		clock:         clock,
		ticketBrowser: n(ticketPerBrowser), ticketAddr: n(ticketPerAddr),
		bookingBrowser: n(bookingPerBrowser), bookingContact: n(bookingPerContact), bookingAddr: n(bookingPerAddr),
		loginAccount: n(loginPerAccount), loginAddr: n(loginPerAddr),
		loginAlerts: keyedlimit.New(rate.Every(loginAlertEvery), 1, maxKeys),
	}
}

// budgetKey is one key of one budget; an empty key is not counted (a
// contact the form did not give).
type budgetKey struct {
	budget *keyedlimit.Limiter
	key    string
}

// claim is room held in every budget of one action until the action is
// decided: commit counts it, release gives the room back.
type claim struct {
	l    *limits
	keys []budgetKey
}

// hold keeps room for one action in every budget named, or in none: when
// one has no room the others are released and retry says how long until
// that one has.
func (l *limits) hold(keys ...budgetKey) (c *claim, ok bool, retry time.Duration) {
	now := l.clock()
	c = &claim{l: l}
	for _, k := range keys {
		if k.key == "" {
			continue
		}
		if ok, retry := k.budget.Hold(k.key, now); !ok {
			c.release()
			return nil, false, retry
		}
		c.keys = append(c.keys, k)
	}
	return c, true, 0
}

// commit counts the action: it was accepted.
func (c *claim) commit() {
	now := c.l.clock()
	for _, k := range c.keys {
		k.budget.Commit(k.key, now)
	}
	c.keys = nil
}

// release gives the room back: the action was refused.
func (c *claim) release() {
	for _, k := range c.keys {
		k.budget.Release(k.key)
	}
	c.keys = nil
}

// againAt is the time of day, in the office's zone, when a throttled
// resident may try again: a time reads the same in every language, where
// "in 3 minutes" would need each language's cases.
func (w *Web) againAt(a *actor.Actor, retry time.Duration) string {
	return w.Clock().Add(retry).Add(time.Minute - 1).In(a.Office().Location).Format("15:04")
}

// retryAfter tells a throttled browser when to try again.
func retryAfter(rw http.ResponseWriter, d time.Duration) {
	rw.Header().Set("Retry-After", strconv.Itoa(server.RetryAfterSeconds(d)))
}

func equalTokens(a, b string) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
