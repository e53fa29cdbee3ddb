package outbox

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/notice"
)

// isLocker reports whether k is about a document in a locker.
func isLocker(k notice.Kind) bool {
	switch k {
	case notice.LockerReady, notice.LockerReminder, notice.LockerSecondFactor, notice.LockerExpired:
		return true
	}
	return false
}

// lockerOf is n's locker as the office configures it; ok is false when
// the configuration no longer has it (the notice then names its id).
func (c *Composer) lockerOf(n notice.Notice) (queue.Locker, bool) {
	if n.Locker == nil {
		return queue.Locker{}, false
	}
	for _, l := range c.office(n).Lockers {
		if l.ID == n.Locker.Locker {
			return l, true
		}
	}
	return queue.Locker{ID: n.Locker.Locker}, false
}

// inLang is a text of a map by language: n's language, else Polish, else
// English, else fallback.
func inLang(texts map[string]string, lang, fallback string) string {
	for _, l := range []string{lang, "pl", "en"} {
		if t := texts[l]; t != "" {
			return t
		}
	}
	return fallback
}

// lockerVars are the placeholders of a locker notice's texts: the
// document, the locker and its place in n's language, the deadline in the
// office's time zone (the date in an e-mail, day and month in an SMS;
// no weekday in a sentence, where languages would decline it).
func (c *Composer) lockerVars(n notice.Notice, short bool) []any {
	d := n.Locker
	if d == nil {
		d = &notice.LockerDeposit{}
	}
	l, _ := c.lockerOf(n)
	document := d.Document
	for _, doc := range l.Documents {
		if doc.ID == d.Document {
			document = inLang(doc.Names, n.Lang, d.Document)
		}
	}
	name := inLang(l.Names, n.Lang, l.ID)
	place := inLang(l.Place, n.Lang, name)
	return []any{
		"document", document, "locker", name, "place", place, "compartment", d.Compartment,
		"deadline", c.momentText(n, d.Deadline, short, false), "code", lockerCodeText(n.Code),
	}
}

// momentText is t in the office's time zone as n's language writes a
// date and a time of day: short is day and month, weekday puts the
// weekday's name first.
func (c *Composer) momentText(n notice.Notice, t time.Time, short, weekday bool) string {
	if t.IsZero() {
		return ""
	}
	loc := c.office(n).Location
	if loc == nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	if short {
		return lt.Format(c.t(n, "web.date_short")) + " " + lt.Format("15:04")
	}
	text := lt.Format(c.t(n, "web.date_layout")) + ", " + lt.Format("15:04")
	if weekday {
		text = c.t(n, "weekday."+fmt.Sprint(int(lt.Weekday()))) + " " + text
	}
	return text
}

// lockerCodeText writes a pickup code as the locker shows it (ABCD-EFGH);
// any other code (the one-time code's digits) as it is.
func lockerCodeText(code string) string {
	if len(code) == 8 && strings.Trim(code, "0123456789") != "" {
		return code[:4] + "-" + code[4:]
	}
	return code
}

// lockersPage is the office's lockers page on the staff's side.
func (c *Composer) lockersPage(n notice.Notice) string {
	if c.PublicURL == "" {
		return ""
	}
	return strings.TrimRight(c.PublicURL, "/") + "/staff/lockers?" + url.Values{"office": {n.Office}}.Encode()
}

// lockerMail is a locker notice as an e-mail: to the resident (the code,
// its QR, where and until when) or, for LockerExpired, to the office's
// admins (which compartment, no one's name).
func (c *Composer) lockerMail(n notice.Notice) (mailView, Mail, error) {
	kv := append(c.lockerVars(n, false), "office", c.office(n).Name)
	t := func(id string, more ...any) string { return c.Catalog.T(n.Lang, id, append(more, kv...)...) }
	v := mailView{Lang: n.Lang, Subject: t("msg.subject." + string(n.Kind)), Lead: t("msg.lead." + string(n.Kind)),
		Footer: c.t(n, "msg.footer", "office", c.office(n).Name)}
	if n.Name != "" && n.Kind != notice.LockerExpired {
		v.Greeting = c.t(n, "msg.greeting", "name", n.Name)
	} else {
		v.Greeting = c.t(n, "msg.greeting_anon")
	}
	d := n.Locker
	if d == nil {
		d = &notice.LockerDeposit{}
	}
	var m Mail
	vars := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		vars[kv[i].(string)] = fmt.Sprint(kv[i+1])
	}
	switch n.Kind {
	case notice.LockerReady, notice.LockerSecondFactor:
		label, hint := "msg.locker.code_label", "msg.locker.code_hint"
		if n.Kind == notice.LockerSecondFactor {
			label, hint = "msg.confirm_code_label", ""
		}
		v.CodeLabel, v.Code = t(label), vars["code"]
		if hint != "" {
			v.CodeHint = t(hint)
		}
		if n.Kind == notice.LockerReady && n.Code != "" {
			png, err := qrcode.Encode(n.Code, qrcode.Medium, 256)
			if err != nil {
				return v, Mail{}, fmt.Errorf("drawing the pickup code's QR code: %w", err)
			}
			m.QR, v.QR, v.QRAlt = png, true, t("msg.locker.qr_label")
		}
	}
	if n.Kind == notice.LockerSecondFactor {
		return v, m, nil
	}
	v.Rows = append(v.Rows, mailRow{Label: t("msg.locker.document"), Value: vars["document"]})
	v.Rows = append(v.Rows, mailRow{Label: t("msg.locker.locker"), Value: vars["locker"]})
	if n.Kind == notice.LockerExpired {
		v.Rows = append(v.Rows, mailRow{Label: t("msg.locker.compartment"), Value: d.Compartment})
	} else if vars["place"] != vars["locker"] {
		v.Rows = append(v.Rows, mailRow{Label: t("msg.locker.place"), Value: vars["place"]})
	}
	v.Rows = append(v.Rows, mailRow{Label: t("msg.locker.deadline"), Value: c.momentText(n, d.Deadline, false, true)})
	if d.SecondFactor && n.Kind != notice.LockerExpired {
		v.Lead += " " + t("msg.locker.second_factor")
	}
	if n.Kind == notice.LockerExpired {
		if page := c.lockersPage(n); page != "" {
			v.Actions = append(v.Actions, mailLink{t("msg.locker.page"), page})
		}
	}
	return v, m, nil
}
