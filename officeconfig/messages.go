package officeconfig

import (
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Messages is how the server reaches residents outside its pages: e-mail
// over SMTP and SMS through a gateway, with a reminder the day before a
// booked visit. Email and SMS are nil when not configured.
type Messages struct {
	Email *Email
	SMS   *SMS
	// ReminderAt is the time of day, in each office's time zone, when the
	// reminders for the next day's visits go out (time since midnight).
	ReminderAt time.Duration
	// GiveUpAfter is how long a message is retried before it is marked
	// failed; KeepSent is how long a delivered message is kept (for the
	// staff's list) before it is purged with its contact.
	GiveUpAfter time.Duration
	KeepSent    time.Duration
	// Offices are what messages say about each office, by office id.
	Offices map[string]OfficeMessages
}

// Enabled reports whether any channel is configured.
func (m Messages) Enabled() bool { return m.Email != nil || m.SMS != nil }

// The TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
	TLSNone     = "none"
)

// Email is the SMTP server messages are handed to.
type Email struct {
	Host     string
	Port     int
	Username string
	Password string
	// From is the sender, e.g. "Urząd Miasta <kolejka@example.pl>".
	From string
	// TLS is starttls (required), tls (implicit, port 465) or none (a
	// local relay only).
	TLS string
}

// The SMS drivers.
const (
	SMSDriverSMSAPI  = "smsapi"
	SMSDriverWebhook = "webhook"
)

// SMSAPIURL is SMSAPI.pl's documented address for sending.
const SMSAPIURL = "https://api.smsapi.pl/sms.do"

// SMS is the gateway text messages go through.
type SMS struct {
	Driver string
	// URL is the webhook's address, or SMSAPI's (SMSAPIURL unless set).
	URL string
	// Token is SMSAPI's OAuth token, or the webhook's shared secret
	// (sent as a bearer token and used for the body's HMAC signature).
	Token string
	// Sender is the sender name residents see (SMSAPI's "from", a name
	// registered with the gateway); empty uses the account's default.
	Sender string
	// CountryCode is prefixed to national numbers (9 digits in Poland).
	CountryCode string
}

// OfficeMessages is what messages say about one office.
type OfficeMessages struct {
	Address string
	MapURL  string
	// Bring is what to bring to a visit: service id -> language -> text.
	Bring map[string]map[string]string
}

type messagesFile struct {
	ReminderAt       string `toml:"reminder_at"`
	GiveUpAfterHours *int   `toml:"give_up_after_hours"`
	KeepSentHours    *int   `toml:"keep_sent_hours"`
	Email            *struct {
		Host         string `toml:"host"`
		Port         int    `toml:"port"`
		Username     string `toml:"username"`
		Password     string `toml:"password"`
		PasswordFile string `toml:"password_file"`
		From         string `toml:"from"`
		TLS          string `toml:"tls"`
	} `toml:"email"`
	SMS *struct {
		Driver      string `toml:"driver"`
		URL         string `toml:"url"`
		Token       string `toml:"token"`
		TokenFile   string `toml:"token_file"`
		Sender      string `toml:"sender"`
		CountryCode string `toml:"country_code"`
	} `toml:"sms"`
}

// parseMessages reads [messages] and the offices' parts of it, adding
// what is wrong to errs.
func parseMessages(name string, f file, idx lineIndex, errs Errors) (Messages, Errors) {
	add := func(path, format string, args ...any) {
		errs = append(errs, Error{File: name, Line: idx.line(path), Path: path, Message: fmt.Sprintf(format, args...)})
	}
	mf := f.Messages
	m := Messages{ReminderAt: 16 * time.Hour, GiveUpAfter: 24 * time.Hour, KeepSent: 48 * time.Hour, Offices: map[string]OfficeMessages{}}
	if mf.ReminderAt != "" {
		t, err := time.Parse("15:04", mf.ReminderAt)
		if err != nil {
			add("messages.reminder_at", "%q is not a time of day like \"16:00\"", mf.ReminderAt)
		}
		m.ReminderAt = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	}
	if h := mf.GiveUpAfterHours; h != nil {
		if *h < 1 {
			add("messages.give_up_after_hours", "%d: give a message at least 1 hour", *h)
		}
		m.GiveUpAfter = time.Duration(*h) * time.Hour
	}
	if h := mf.KeepSentHours; h != nil {
		if *h < 1 {
			add("messages.keep_sent_hours", "%d: keep a sent message at least 1 hour", *h)
		}
		m.KeepSent = time.Duration(*h) * time.Hour
	}
	dir := filepath.Dir(name)
	secret := func(path, inline, fromFile string) string {
		if fromFile == "" {
			return inline
		}
		if inline != "" {
			add(path, "give the secret or its file, not both")
		}
		p := fromFile
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			add(path+"_file", "cannot read %s: %v", p, err)
			return ""
		}
		return strings.TrimSpace(string(data))
	}
	if e := mf.Email; e != nil {
		em := &Email{Host: e.Host, Port: e.Port, Username: e.Username, From: e.From, TLS: e.TLS}
		em.Password = secret("messages.email.password", e.Password, e.PasswordFile)
		if em.TLS == "" {
			em.TLS = TLSStartTLS
		}
		switch em.TLS {
		case TLSStartTLS, TLSImplicit, TLSNone:
		default:
			add("messages.email.tls", "%q is not starttls, tls or none", e.TLS)
		}
		if em.Port == 0 {
			em.Port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[em.TLS]
		}
		if em.Host == "" {
			add("messages.email", "host: missing: the SMTP server's name")
		}
		if em.Port < 1 || em.Port > 65535 {
			add("messages.email.port", "%d is not a port", em.Port)
		}
		if a, err := mail.ParseAddress(em.From); em.From == "" || err != nil || !strings.Contains(a.Address, "@") {
			add("messages.email.from", "%q is not an address like \"Urząd <kolejka@example.pl>\"", em.From)
		}
		if em.Username != "" && em.Password == "" && e.PasswordFile == "" {
			add("messages.email.username", "a username needs a password or password_file")
		}
		m.Email = em
	}
	if s := mf.SMS; s != nil {
		sm := &SMS{Driver: s.Driver, URL: s.URL, Sender: s.Sender, CountryCode: s.CountryCode}
		sm.Token = secret("messages.sms.token", s.Token, s.TokenFile)
		if sm.CountryCode == "" {
			sm.CountryCode = "48"
		}
		switch sm.Driver {
		case SMSDriverSMSAPI:
			if sm.URL == "" {
				sm.URL = SMSAPIURL
			}
			if sm.Token == "" && s.TokenFile == "" {
				add("messages.sms.driver", "smsapi needs token or token_file (an OAuth token from SMSAPI's panel)")
			}
			if len(sm.Sender) > 11 {
				add("messages.sms.sender", "%q: a sender name has at most 11 characters", sm.Sender)
			}
		case SMSDriverWebhook:
			if sm.URL == "" {
				add("messages.sms.driver", "webhook needs url")
			}
		default:
			add("messages.sms.driver", "%q is not smsapi or webhook", s.Driver)
		}
		if u, err := url.Parse(sm.URL); sm.URL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
			add("messages.sms.url", "%q is not an http(s) address", sm.URL)
		}
		for _, c := range sm.CountryCode {
			if c < '0' || c > '9' {
				add("messages.sms.country_code", "%q: digits only, e.g. \"48\"", sm.CountryCode)
				break
			}
		}
		m.SMS = sm
	}
	for i, of := range f.Office {
		om := OfficeMessages{Address: of.Address, MapURL: of.MapURL, Bring: map[string]map[string]string{}}
		if u, err := url.Parse(of.MapURL); of.MapURL != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http")) {
			add(fmt.Sprintf("office[%d].map_url", i), "%q is not an http(s) address", of.MapURL)
		}
		for j, s := range of.Service {
			for lang := range s.Bring {
				switch lang {
				case "pl", "en", "lt", "ru", "uk":
				default:
					add(fmt.Sprintf("office[%d].service[%d].bring", i, j), "%q is not one of pl, en, lt, ru, uk", lang)
				}
			}
			if len(s.Bring) > 0 {
				om.Bring[s.ID] = s.Bring
			}
		}
		m.Offices[of.ID] = om
	}
	return m, errs
}
