package officeconfig

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/clientaddr"
)

// Config is the whole configuration file.
type Config struct {
	Server  Server
	Backup  Backup
	Offices []*queue.Office
	// Messages is how residents are sent e-mail and SMS; its zero value
	// (no [messages]) sends nothing.
	Messages Messages
	// Devices is where alerts about the offices' devices go.
	Devices Devices
}

// Backup is when and where the server copies its data files by itself:
// one copy a day, the newest Keep kept. No Dir: no scheduled copies.
type Backup struct {
	Dir  string
	Keep int
	// At is the time of day of the copy, in the first office's time zone,
	// as the time since midnight.
	At time.Duration
}

// Server holds settings that are not an office's.
type Server struct {
	// PublicURL is the address residents' phones reach the server at; ticket
	// QR codes and booking links point there.
	PublicURL string
	// TrustedProxies are the reverse proxies whose Forwarded and
	// X-Forwarded-For headers are believed (server/clientaddr).
	TrustedProxies []netip.Prefix
	// HTTPS is how the server serves HTTPS itself; its zero value: it
	// does not (it serves plain HTTP, or sits behind a proxy).
	HTTPS HTTPS
	// HallVoices is a folder of the office's recorded voice packs (one
	// folder per language, as kioskctl voice-check checks them) that the
	// hall web page says calls with, over the built-in packs; empty: the
	// built-in packs only.
	HallVoices string
}

// HTTPS is the server's own HTTPS: a certificate from an ACME authority
// (Let's Encrypt) for ACMEHosts, or the certificate files CertFile and
// KeyFile; never both.
type HTTPS struct {
	// Listen is the HTTPS listener's address; default ":443".
	Listen string
	// ACMEHosts are the public host names to get a certificate for.
	ACMEHosts []string
	// ACMEDirectory is the ACME authority's directory URL; "" is Let's
	// Encrypt's.
	ACMEDirectory string
	// ACMEEmail is the contact the authority writes to about the
	// certificates; may be "".
	ACMEEmail string
	// ACMECAFile holds the CA certificates (PEM) the ACME authority's own
	// HTTPS is checked against, for a private authority; "": the
	// system's.
	ACMECAFile string
	// CertFile and KeyFile are PEM files of a certificate (with its
	// chain) and its key, read again when they change on disk.
	CertFile, KeyFile string
	// HSTS sends Strict-Transport-Security on HTTPS answers; default true.
	HSTS bool
}

// Enabled reports whether the server serves HTTPS itself.
func (h HTTPS) Enabled() bool { return len(h.ACMEHosts) > 0 || h.CertFile != "" }

// DefaultNotifyWhenAhead is [office.push] notify_when_ahead when unset.
const DefaultNotifyWhenAhead = 3

// file mirrors the TOML layout.
type file struct {
	Server struct {
		PublicURL      string   `toml:"public_url"`
		TrustedProxies []string `toml:"trusted_proxies"`
		HTTPSListen    string   `toml:"https_listen"`
		ACMEHosts      []string `toml:"acme_hosts"`
		ACMEDirectory  string   `toml:"acme_directory"`
		ACMEEmail      string   `toml:"acme_email"`
		ACMECAFile     string   `toml:"acme_ca_file"`
		CertFile       string   `toml:"cert_file"`
		KeyFile        string   `toml:"key_file"`
		HSTS           *bool    `toml:"hsts"`
		HallVoices     string   `toml:"hall_voices"`
	} `toml:"server"`
	Backup struct {
		Dir  string `toml:"dir"`
		Keep *int   `toml:"keep"`
		At   string `toml:"at"`
	} `toml:"backup"`
	Messages messagesFile `toml:"messages"`
	Devices  devicesFile  `toml:"devices"`
	Office   []officeFile `toml:"office"`
}

type officeFile struct {
	ID                     string   `toml:"id"`
	Name                   string   `toml:"name"`
	TimeZone               string   `toml:"time_zone"`
	Languages              []string `toml:"languages"`
	Footer                 string   `toml:"footer"`
	CounterWord            string   `toml:"counter_word"`
	RecallLimit            *int     `toml:"recall_limit"`
	AllowCallSpecific      bool     `toml:"allow_call_specific"`
	AnnounceTicketLanguage bool     `toml:"announce_ticket_language"`
	TargetWaitMinutes      int      `toml:"target_wait_minutes"`
	// Address and MapURL are where the office is, for residents' messages.
	Address   string              `toml:"address"`
	MapURL    string              `toml:"map_url"`
	Hours     map[string][]string `toml:"hours"`
	Exception []struct {
		Date string `toml:"date"`
		// Name is the day's name; Names gives it per language
		// (names = {pl = "...", en = "..."}), and either may be left out.
		Name  string            `toml:"name"`
		Names map[string]string `toml:"names"`
		Hours []string          `toml:"hours"`
	} `toml:"exception"`
	Remote  remoteFile `toml:"remote"`
	Booking struct {
		SlotMinutes          int      `toml:"slot_minutes"`
		PerSlot              int      `toml:"per_slot"`
		Days                 []string `toml:"days"`
		AheadDays            int      `toml:"ahead_days"`
		CheckInBeforeMinutes int      `toml:"checkin_before_minutes"`
		CheckInGraceMinutes  int      `toml:"checkin_grace_minutes"`
		RetentionDays        int      `toml:"retention_days"`
		// ConfirmContact is on unless set to false.
		ConfirmContact   *bool  `toml:"confirm_contact"`
		HoldMinutes      int    `toml:"hold_minutes"`
		PerContactPerDay int    `toml:"per_contact_per_day"`
		PhoneCountry     string `toml:"phone_country"`
	} `toml:"booking"`
	// Devices overrides [devices] for this office.
	Devices devicesFile `toml:"devices"`
	Push    struct {
		NotifyWhenAhead *int `toml:"notify_when_ahead"`
		SMSFallback     bool `toml:"sms_fallback"`
	} `toml:"push"`
	Service []struct {
		ID             string            `toml:"id"`
		Prefix         string            `toml:"prefix"`
		Name           map[string]string `toml:"name"`
		ShortName      map[string]string `toml:"short_name"`
		Priority       *float64          `toml:"priority"`
		DailyCap       int               `toml:"daily_cap"`
		CutoffMinutes  int               `toml:"cutoff_minutes"`
		Bookable       bool              `toml:"bookable"`
		ServiceMinutes float64           `toml:"service_minutes"`
		// RemoteMaxWaiting caps this service's phone tickets waiting.
		RemoteMaxWaiting int `toml:"remote_max_waiting"`
		// Bring is what to bring to a visit, per language, for messages.
		Bring map[string]string `toml:"bring"`
		// Outcome lists what a clerk may record as handled at finish.
		Outcome []struct {
			ID   string            `toml:"id"`
			Name map[string]string `toml:"name"`
		} `toml:"outcome"`
	} `toml:"service"`
	Counter []struct {
		Number   int                `toml:"number"`
		Name     string             `toml:"name"`
		Services map[string]float64 `toml:"services"`
	} `toml:"counter"`
	// Locker lists the office's document pickup lockers.
	Locker []lockerFile `toml:"locker"`
}

// remoteFile is [office.remote]: limits on phone tickets. A key left out
// takes its default (see the defaults below and docs/phone-tickets.md).
type remoteFile struct {
	MaxWaiting      *int   `toml:"max_waiting"`
	PresenceAhead   *int   `toml:"presence_ahead"`
	PresenceTimeout string `toml:"presence_timeout"`
}

// The defaults of [office.remote]: a cap well below a morning's rush of
// phone tickets, the confirmation asked three places from the front, and
// ten minutes to answer once set aside.
const (
	DefaultRemoteMaxWaiting      = 20
	DefaultRemotePresenceAhead   = 3
	DefaultRemotePresenceTimeout = 10 * time.Minute
)

// convert turns [office.remote] into the office's rules.
func (rf remoteFile) convert(add func(path, format string, args ...any)) queue.RemoteRules {
	r := queue.RemoteRules{
		MaxWaiting: DefaultRemoteMaxWaiting, PresenceAhead: DefaultRemotePresenceAhead,
		PresenceTimeout: DefaultRemotePresenceTimeout,
	}
	if rf.MaxWaiting != nil {
		r.MaxWaiting = *rf.MaxWaiting
	}
	if rf.PresenceAhead != nil {
		r.PresenceAhead = *rf.PresenceAhead
	}
	if rf.PresenceTimeout != "" {
		d, err := time.ParseDuration(rf.PresenceTimeout)
		if err != nil {
			add("remote.presence_timeout", "%q is not a duration like \"10m\"", rf.PresenceTimeout)
		} else {
			r.PresenceTimeout = d
		}
	}
	return r
}

// Error is one problem in a configuration file.
type Error struct {
	File string
	Line int
	// Path names the setting, e.g. office[0].service[2].prefix.
	Path    string
	Message string
}

func (e Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Path == "" {
		return loc + ": " + e.Message
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Path, e.Message)
}

// Errors are all problems found in a file.
type Errors []Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Load reads and checks the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse reads and checks a configuration; name is used in error messages.
func Parse(name string, data []byte) (*Config, error) {
	var f file
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		line, key, msg := DecodeProblem(err)
		if key != "" && !strings.Contains(msg, key) {
			msg = key + ": " + msg
		}
		return nil, Errors{{File: name, Line: line, Message: msg}}
	}
	idx := indexLines(string(data))
	var errs Errors
	for _, k := range md.Undecoded() {
		errs = append(errs, Error{File: name, Line: idx.keyLine(k), Path: k.String(), Message: "unknown setting"})
	}
	cfg := &Config{}
	var serverErrs []Error
	cfg.Server, serverErrs = convertServer(name, idx, f)
	errs = append(errs, serverErrs...)
	if b := f.Backup; b.Dir != "" || b.Keep != nil || b.At != "" {
		cfg.Backup = Backup{Dir: b.Dir, Keep: 7, At: 2 * time.Hour}
		if b.Dir == "" {
			errs = append(errs, Error{File: name, Line: idx.line("backup"), Path: "backup.dir", Message: "missing: the directory the daily copies go to"})
		}
		if b.Keep != nil {
			if *b.Keep < 1 {
				errs = append(errs, Error{File: name, Line: idx.line("backup.keep"), Path: "backup.keep", Message: fmt.Sprintf("%d: keep at least 1 copy", *b.Keep)})
			}
			cfg.Backup.Keep = *b.Keep
		}
		if b.At != "" {
			t, err := time.Parse("15:04", b.At)
			if err != nil {
				errs = append(errs, Error{File: name, Line: idx.line("backup.at"), Path: "backup.at", Message: fmt.Sprintf("%q is not a time of day like \"02:30\"", b.At)})
			}
			cfg.Backup.At = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
		}
	}
	cfg.Messages, errs = parseMessages(name, f, idx, errs)
	cfg.Devices, errs = parseDevices(name, f, idx, errs)
	if len(f.Office) == 0 {
		errs = append(errs, Error{File: name, Message: "no [[office]] defined"})
	}
	seen := map[string]int{}
	for i, of := range f.Office {
		prefix := fmt.Sprintf("office[%d]", i)
		o, convErrs := convert(of)
		for _, ce := range convErrs {
			p := prefix + "." + ce.Path
			errs = append(errs, Error{File: name, Line: idx.line(p), Path: p, Message: ce.Message})
		}
		if o == nil {
			continue
		}
		if err := o.Validate(); err != nil {
			var ve queue.ConfigErrors
			errors.As(err, &ve)
			for _, ce := range ve {
				p := prefix + "." + ce.Path
				errs = append(errs, Error{File: name, Line: idx.line(exceptionPath(p, of)), Path: p, Message: ce.Message})
			}
		}
		if j, dup := seen[o.ID]; dup {
			errs = append(errs, Error{File: name, Line: idx.line(prefix + ".id"), Path: prefix + ".id", Message: fmt.Sprintf("%q is already used by office[%d]", o.ID, j)})
		}
		seen[o.ID] = i
		cfg.Offices = append(cfg.Offices, o)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return cfg, nil
}

// convertServer reads and checks the [server] section.
func convertServer(name string, idx lineIndex, f file) (Server, []Error) {
	fs := f.Server
	var errs []Error
	add := func(key, format string, args ...any) {
		errs = append(errs, Error{File: name, Line: idx.line("server." + key), Path: "server." + key, Message: fmt.Sprintf(format, args...)})
	}
	s := Server{PublicURL: strings.TrimRight(fs.PublicURL, "/"), HallVoices: fs.HallVoices}
	if s.HallVoices != "" && !filepath.IsAbs(s.HallVoices) {
		add("hall_voices", "%q is not an absolute path: give the folder of the voice packs from / (e.g. /etc/numerek/voices)", s.HallVoices)
	}
	if trusted, err := clientaddr.ParseTrusted(fs.TrustedProxies); err != nil {
		add("trusted_proxies", "%v", err)
	} else {
		s.TrustedProxies = trusted
	}
	s.HTTPS = HTTPS{
		Listen: fs.HTTPSListen, ACMEHosts: fs.ACMEHosts, ACMEDirectory: fs.ACMEDirectory,
		ACMEEmail: fs.ACMEEmail, ACMECAFile: fs.ACMECAFile, CertFile: fs.CertFile, KeyFile: fs.KeyFile, HSTS: true,
	}
	if fs.HSTS != nil {
		s.HTTPS.HSTS = *fs.HSTS
	}
	if s.HTTPS.Listen == "" {
		s.HTTPS.Listen = ":443"
	} else if _, _, err := net.SplitHostPort(s.HTTPS.Listen); err != nil {
		add("https_listen", "%q is not an address like \":443\" or \"192.0.2.1:8443\"", s.HTTPS.Listen)
	}
	for i, h := range fs.ACMEHosts {
		if why := badHostName(h); why != "" {
			add("acme_hosts", "[%d] %q: %s", i, h, why)
		}
	}
	acme := len(fs.ACMEHosts) > 0
	switch {
	case acme && (fs.CertFile != "" || fs.KeyFile != ""):
		add("cert_file", "give either acme_hosts (a certificate by ACME) or cert_file and key_file, not both")
	case (fs.CertFile == "") != (fs.KeyFile == ""):
		add("cert_file", "cert_file and key_file go together: the certificate and its private key")
	}
	for _, k := range []struct {
		key string
		set bool
	}{{"acme_directory", fs.ACMEDirectory != ""}, {"acme_email", fs.ACMEEmail != ""}, {"acme_ca_file", fs.ACMECAFile != ""}} {
		if k.set && !acme {
			add(k.key, "has no effect without acme_hosts")
		}
	}
	if d := fs.ACMEDirectory; d != "" {
		if u, err := url.Parse(d); err != nil || u.Scheme != "https" || u.Host == "" {
			add("acme_directory", "%q is not an https:// URL of an ACME directory", d)
		}
	}
	if e := fs.ACMEEmail; e != "" {
		if _, err := mail.ParseAddress(e); err != nil || strings.ContainsAny(e, "<> ") {
			add("acme_email", "%q is not an e-mail address", e)
		}
	}
	return s, errs
}

// badHostName says what is wrong with h as a public DNS name for a
// certificate, or "" when nothing is.
func badHostName(h string) string {
	switch {
	case h == "":
		return "empty"
	case strings.Contains(h, "://") || strings.ContainsAny(h, "/:"):
		return "give the host name alone, without scheme, port or path"
	case net.ParseIP(h) != nil:
		return "an address cannot get an ACME certificate; give a host name"
	case !strings.Contains(h, "."):
		return "not a public host name (it has no dot)"
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "not a valid host name"
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "not a valid host name (lowercase letters, digits, '-' and '.')"
			}
		}
	}
	return ""
}

// exceptionPath turns queue's exception[DATE] into the file's exception[i].
func exceptionPath(p string, of officeFile) string {
	i := strings.Index(p, "exception[")
	if i < 0 {
		return p
	}
	rest := p[i+len("exception["):]
	date, tail, _ := strings.Cut(rest, "]")
	for j, ex := range of.Exception {
		if ex.Date == date {
			return p[:i] + fmt.Sprintf("exception[%d]", j) + tail
		}
	}
	return p
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// convert turns the file's form of an office into queue.Office, reporting
// what cannot be read at all (bad times, unknown days, unknown zones).
func convert(of officeFile) (*queue.Office, queue.ConfigErrors) {
	var errs queue.ConfigErrors
	add := func(path, format string, args ...any) {
		errs = append(errs, queue.ConfigError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	o := &queue.Office{
		ID: of.ID, Name: of.Name, Languages: of.Languages, Footer: of.Footer,
		Exceptions: map[string]queue.DayException{},
		Rules: queue.Rules{
			RecallLimit: 2, AllowCallSpecific: of.AllowCallSpecific, CounterWord: of.CounterWord,
			AnnounceTicketLanguage: of.AnnounceTicketLanguage,
			TargetWait:             time.Duration(of.TargetWaitMinutes) * time.Minute,
		},
	}
	if of.RecallLimit != nil {
		o.Rules.RecallLimit = *of.RecallLimit
	}
	o.Remote = of.Remote.convert(add)
	if o.Rules.CounterWord == "" {
		o.Rules.CounterWord = "stanowisko"
	}
	if o.Rules.TargetWait == 0 {
		o.Rules.TargetWait = 20 * time.Minute
	}
	for _, l := range of.Languages {
		switch l {
		case "pl", "en", "lt", "ru", "uk":
		default:
			add("languages", "%q is not one of pl, en, lt, ru, uk", l)
		}
	}
	if of.TimeZone == "" {
		add("time_zone", "missing (e.g. \"Europe/Warsaw\")")
	} else if loc, err := time.LoadLocation(of.TimeZone); err != nil {
		add("time_zone", "%q is not a known time zone", of.TimeZone)
	} else {
		o.Location = loc
	}
	for day, ivs := range of.Hours {
		wd, ok := weekdays[day]
		if !ok {
			add("hours."+day, "%q is not a day: use mon, tue, wed, thu, fri, sat, sun", day)
			continue
		}
		parsed, perr := parseIntervals(ivs)
		if perr != nil {
			add("hours."+day, "%v", perr)
			continue
		}
		o.Hours[wd] = parsed
	}
	for i, ex := range of.Exception {
		p := fmt.Sprintf("exception[%d]", i)
		if _, err := time.Parse("2006-01-02", ex.Date); err != nil {
			add(p+".date", "%q is not YYYY-MM-DD", ex.Date)
			continue
		}
		if _, dup := o.Exceptions[ex.Date]; dup {
			add(p+".date", "%s is given twice", ex.Date)
		}
		parsed, perr := parseIntervals(ex.Hours)
		if perr != nil {
			add(p+".hours", "%v", perr)
			continue
		}
		name := ex.Name
		for _, lang := range append(slices.Clone(of.Languages), "pl") {
			if name == "" {
				name = ex.Names[lang]
			}
		}
		o.Exceptions[ex.Date] = queue.DayException{Name: name, Names: ex.Names, Hours: parsed}
	}
	b := of.Booking
	o.Booking = queue.BookingRules{
		SlotLength: time.Duration(b.SlotMinutes) * time.Minute, PerSlot: b.PerSlot,
		Ahead:            time.Duration(b.AheadDays) * 24 * time.Hour,
		CheckInBefore:    time.Duration(b.CheckInBeforeMinutes) * time.Minute,
		CheckInGrace:     time.Duration(b.CheckInGraceMinutes) * time.Minute,
		Retention:        time.Duration(b.RetentionDays) * 24 * time.Hour,
		ConfirmContact:   b.ConfirmContact == nil || *b.ConfirmContact,
		HoldFor:          time.Duration(cmp.Or(b.HoldMinutes, 15)) * time.Minute,
		PerContactPerDay: cmp.Or(b.PerContactPerDay, 1),
		PhoneCountry:     strings.TrimPrefix(cmp.Or(b.PhoneCountry, "48"), "+"),
	}
	o.Push = queue.PushRules{NotifyWhenAhead: DefaultNotifyWhenAhead, SMSFallback: of.Push.SMSFallback}
	if n := of.Push.NotifyWhenAhead; n != nil {
		o.Push.NotifyWhenAhead = *n
		if *n < 0 {
			add("push.notify_when_ahead", "must be 0 (off) or more, not %d", *n)
		}
	}
	for _, d := range b.Days {
		wd, ok := weekdays[d]
		if !ok {
			add("booking.days", "%q is not a day: use mon, tue, wed, thu, fri, sat, sun", d)
			continue
		}
		o.Booking.Days = append(o.Booking.Days, wd)
	}
	for _, s := range of.Service {
		prio := 1.0
		if s.Priority != nil {
			prio = *s.Priority
		}
		var outcomes []queue.Outcome
		for _, oc := range s.Outcome {
			outcomes = append(outcomes, queue.Outcome{ID: oc.ID, Names: oc.Name})
		}
		o.Services = append(o.Services, queue.Service{
			ID: s.ID, Prefix: s.Prefix, Names: s.Name, ShortNames: s.ShortName, Priority: prio, DailyCap: s.DailyCap,
			CutOff: time.Duration(s.CutoffMinutes) * time.Minute, Bookable: s.Bookable,
			ServiceTime:      time.Duration(s.ServiceMinutes * float64(time.Minute)),
			RemoteMaxWaiting: s.RemoteMaxWaiting, Outcomes: outcomes,
		})
	}
	for _, c := range of.Counter {
		name := c.Name
		if name == "" {
			name = fmt.Sprintf("%d", c.Number)
		}
		o.Counters = append(o.Counters, queue.Counter{Number: c.Number, Name: name, Weights: c.Services})
	}
	o.Lockers = convertLockers(of.Locker, add)
	if len(errs) > 0 {
		return nil, errs
	}
	return o, nil
}

func parseIntervals(ss []string) ([]queue.Interval, error) {
	out := make([]queue.Interval, 0, len(ss))
	for _, s := range ss {
		iv, err := queue.ParseInterval(s)
		if err != nil {
			return nil, err
		}
		out = append(out, iv)
	}
	return out, nil
}
