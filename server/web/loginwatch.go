package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/numerek/numerek/store"
)

// Staff logins are limited per account typed and per address, counting
// wrong passwords only. An account that meets too many is slowed for
// everyone, except the browsers that have logged in to it before: each of
// those keeps a budget of its own, so the real clerk is not locked out
// by whoever is guessing, and the admin is told (an alert in web.db, shown
// on the staff pages, and a log line without the password).

// staffBrowserDays is how long a browser that logged in to an account
// keeps its own budget for it.
const staffBrowserDays = 90

// alertsShownFor is how far back the admin's pages list alerts.
const alertsShownFor = 7 * 24 * time.Hour

// loginAccount is the account a login names, as its limit counts it.
func loginAccount(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// staffBrowserKey names one browser's logins to one account, hashed so
// web.db holds neither the browser's cookie nor a list of who uses what.
func staffBrowserKey(account, browser string) string {
	return store.Hash("staff-browser\x00" + account + "\x00" + browser)
}

// accountBudget is the budget a login is counted in: the account's, or,
// for a browser that logged in to the account before, that browser's own.
func (w *Web) accountBudget(account, browser string) budgetKey {
	since := w.Clock().Add(-staffBrowserDays * 24 * time.Hour)
	known, err := w.DB.StaffBrowser(browser, since)
	if err != nil {
		w.Logger.Error("checking a clerk's browser", "err", err)
	}
	if known {
		return budgetKey{w.limits.loginAccount, "browser:" + browser}
	}
	return budgetKey{w.limits.loginAccount, "account:" + account}
}

// watchAccount raises an alert once an account's budget of wrong passwords
// is used up, at most once each loginAlertEvery, and only for an account
// that exists (a name nobody has may be anything a person typed).
func (w *Web) watchAccount(account string) {
	now := w.Clock()
	if w.limits.loginAccount.Tokens("account:"+account, now) >= 1 {
		return
	}
	if ok, _ := w.limits.loginAlerts.Allow(account, now); !ok {
		return
	}
	if _, exists, err := w.Clerks.Get(account); err != nil || !exists {
		return
	}
	w.Logger.Warn("too many wrong passwords for a staff account; its logins are slowed",
		"account", account, "failures", loginPerAccount.burst)
	if err := w.DB.PutLoginAlert(store.LoginAlert{At: now, Account: account, Failures: loginPerAccount.burst}); err != nil {
		w.Logger.Error("recording a login alert", "err", err)
	}
}

// loginAlerts are the alerts an admin's page shows: those no admin has
// marked read.
func (w *Web) loginAlerts() []store.LoginAlert {
	alerts, err := w.DB.LoginAlerts(w.Clock().Add(-alertsShownFor))
	if err != nil {
		w.Logger.Error("reading login alerts", "err", err)
	}
	unread := alerts[:0]
	for _, a := range alerts {
		if a.SeenBy == "" {
			unread = append(unread, a)
		}
	}
	return unread
}

// loginAlertsSeen marks the alerts shown until now read, so they leave
// every admin's pages; the record stays, with who read it.
func (w *Web) loginAlertsSeen(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	n, err := w.DB.MarkLoginAlertsSeen(w.Clock(), st.Name)
	if err != nil {
		w.Logger.Error("marking login alerts read", "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	w.Logger.Info("login alerts marked read", "alerts", n, "by", st.Name)
	redirect(rw, r, "/staff")
}
