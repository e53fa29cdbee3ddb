package web

import "net/http"

// browserCookie names the random id a resident's browser keeps, so limits
// can count what one browser does (phone tickets, bookings) instead of
// what one address does: a town behind one proxy is many browsers.
const browserCookie = "bid"

// browserID returns the id of the resident's browser, giving it one on
// first use; asked again in the same request, it gives the id this answer
// already sets (the limits and a phone ticket's holder key both ask). It
// is not personal data: it is random, names nobody, and reaches the
// office's log only as a keyed hash.
func (w *Web) browserID(rw http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(browserCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	for _, line := range rw.Header().Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == browserCookie {
			return c.Value
		}
	}
	id := randomToken()
	http.SetCookie(rw, &http.Cookie{Name: browserCookie, Value: id, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: w.secureCookies(r)})
	return id
}
