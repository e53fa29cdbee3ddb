package queue

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Office is one office's configuration: what it serves, where and when.
type Office struct {
	ID       string
	Name     string
	Location *time.Location
	// Languages the office offers residents; the first is its default.
	Languages []string
	Hours     WeekHours
	// Exceptions replace the weekly hours on given dates, keyed "2006-01-02":
	// holidays (no intervals) and shortened or extended days.
	Exceptions map[string]DayException
	Services   []Service
	Counters   []Counter
	Rules      Rules
	Booking    BookingRules
	// Push says how residents of phone tickets are told of their turn.
	Push PushRules
	// Remote limits tickets taken on a phone, away from the office.
	Remote RemoteRules
	// Footer is printed at the bottom of every paper ticket.
	Footer string
	// Lockers are the office's document pickup lockers.
	Lockers []Locker
}

// Service is a kind of matter residents come with; each has its own queue.
type Service struct {
	ID string `json:"id"`
	// Prefix is the letter before the ticket number (A in A123).
	Prefix string `json:"prefix"`
	// Names maps a language to the service's name in it.
	Names map[string]string `json:"names"`
	// ShortNames maps a language to a shorter name that screens show when
	// the full name does not fit its place even wrapped and at the smallest
	// type ("Św. wychowawcze 800+"); a language without one always shows
	// the full name.
	ShortNames map[string]string `json:"short_names,omitempty"`
	// Priority weighs the service against others when a counter serving
	// several picks the next ticket; 1 is normal.
	Priority float64 `json:"priority"`
	// DailyCap is the most tickets issued per day (at most 999, the
	// three-digit numbers); 0 means 999.
	DailyCap int `json:"daily_cap"`
	// CutOff stops issuing this long before closing, so that people are not
	// given tickets that cannot be served (seed 002).
	CutOff time.Duration `json:"cutoff_ns"`
	// Bookable services can be booked online for a time slot.
	Bookable bool `json:"bookable"`
	// ServiceTime is the expected time at the counter until real service
	// times are known.
	ServiceTime time.Duration `json:"service_time_ns"`
	// RemoteMaxWaiting caps this service's phone tickets waiting, below
	// the office's RemoteRules.MaxWaiting; 0 means only the office's cap.
	RemoteMaxWaiting int `json:"remote_max_waiting,omitempty"`
	// Outcomes are what a clerk may record as handled when finishing a
	// ticket of this service (NovoSGA's "services performed"); the
	// statistics count them. None: the console asks nothing.
	Outcomes []Outcome `json:"outcomes,omitempty"`
}

// Outcome is one thing a clerk handled for a resident ("ID card
// application", "certificate issued"). Its ID holds no commas or
// blanks (officeconfig checks it): a form sends ticked ids as one text.
type Outcome struct {
	ID string `json:"id"`
	// Names maps a language to the outcome's name in it.
	Names map[string]string `json:"names"`
}

// Name returns the service's name in lang, falling back to the office's
// default language and then to the id.
func (s Service) Name(lang string) string {
	if n := s.Names[lang]; n != "" {
		return n
	}
	if n := s.Names["pl"]; n != "" {
		return n
	}
	for _, n := range s.Names {
		return n
	}
	return s.ID
}

// Name returns the outcome's name in lang, falling back as Service.Name
// does.
func (o Outcome) Name(lang string) string {
	return Service{ID: o.ID, Names: o.Names}.Name(lang)
}

// Outcome finds one of the service's outcomes by its id.
func (s Service) Outcome(id string) (Outcome, bool) {
	for _, o := range s.Outcomes {
		if o.ID == id {
			return o, true
		}
	}
	return Outcome{}, false
}

// Counter is a service point: a desk, window or room with a number.
type Counter struct {
	Number int    `json:"number"`
	Name   string `json:"name"`
	// Weights maps a service id to how strongly this counter prefers it;
	// services absent or 0 are not served here.
	Weights map[string]float64 `json:"weights"`
}

// Serves reports whether the counter serves service.
func (c Counter) Serves(service string) bool { return c.Weights[service] > 0 }

// Rules are the office's call rules.
type Rules struct {
	// RecallLimit is how many times a ticket may be recalled; the next
	// recall marks it a no-show.
	RecallLimit int `json:"recall_limit"`
	// AllowCallSpecific lets a clerk call a chosen ticket out of order.
	AllowCallSpecific bool `json:"allow_call_specific"`
	// CounterWord is how announcements and screens name a counter
	// ("stanowisko", "okienko", "pokój").
	CounterWord string `json:"counter_word"`
	// AnnounceTicketLanguage also announces each call in the language the
	// ticket was taken in, after Polish.
	AnnounceTicketLanguage bool `json:"announce_ticket_language"`
	// TargetWait is the wait the office aims to serve residents within.
	TargetWait time.Duration `json:"target_wait_ns"`
}

// PushRules say when a phone ticket's resident is told of their turn
// beyond the call itself (Web Push, or SMS where allowed).
type PushRules struct {
	// NotifyWhenAhead sends "N people ahead of you" once, when that few
	// are left before the ticket; 0 sends none.
	NotifyWhenAhead int `json:"notify_when_ahead"`
	// SMSFallback sends an SMS, to a phone number the resident gave,
	// when no push reached them.
	SMSFallback bool `json:"sms_fallback"`
}

// RemoteRules keep phone tickets (taken away from the office, seed 000)
// from crowding out the residents who came: a cap on how many wait at
// once, and a confirmation that the resident is near before the ticket
// costs a clerk a call.
type RemoteRules struct {
	// MaxWaiting is the most phone tickets of the office waiting (or set
	// aside unconfirmed) at once; while it is reached only the kiosk
	// issues. 0 means no cap.
	MaxWaiting int `json:"max_waiting,omitempty"`
	// PresenceAhead asks a phone ticket's resident to confirm being here
	// or on the way once this many or fewer are ahead; an unconfirmed one
	// that reaches the front is set aside (ParkedAway) instead of called.
	// 0 turns the confirmation off.
	PresenceAhead int `json:"presence_ahead,omitempty"`
	// PresenceTimeout is how long a ticket set aside unconfirmed is kept
	// before it ends.
	PresenceTimeout time.Duration `json:"presence_timeout_ns,omitempty"`
}

// BookingRules say how online bookings work.
type BookingRules struct {
	SlotLength time.Duration `json:"slot_length_ns"`
	// PerSlot caps one service's visits in one slot; 0 leaves it to the
	// counters: a slot takes as many visits as there are counters serving
	// their matters (Office.Room).
	PerSlot int `json:"per_slot"`
	// Days lists the weekdays that take bookings; empty means every open day.
	Days []time.Weekday `json:"days"`
	// Ahead is how far in advance a visit can be booked.
	Ahead time.Duration `json:"ahead_ns"`
	// CheckInBefore and CheckInGrace bound when a booking can be confirmed at
	// the kiosk, around the slot's start.
	CheckInBefore time.Duration `json:"checkin_before_ns"`
	CheckInGrace  time.Duration `json:"checkin_grace_ns"`
	// Retention is how long personal data of a booking is kept after the
	// visit.
	Retention time.Duration `json:"retention_ns"`
	// ConfirmContact: a booking only holds its slot for HoldFor until the
	// resident confirms their e-mail or phone with a short code.
	ConfirmContact bool          `json:"confirm_contact"`
	HoldFor        time.Duration `json:"hold_ns"`
	// PerContactPerDay is how many active bookings one contact may have
	// for one service on one day (0: one).
	PerContactPerDay int `json:"per_contact_per_day"`
	// PhoneCountry is the calling code ("48") a 9-digit phone number is
	// taken to have when contacts are compared (empty: 48, Poland).
	PhoneCountry string `json:"phone_country"`
}

// checkShortNames reports short names that could not stand in for the
// full name: in a language the office does not offer, empty, or no shorter.
func checkShortNames(langs []string, s Service, path string, add report) {
	keys := make([]string, 0, len(s.ShortNames))
	for lang := range s.ShortNames {
		keys = append(keys, lang)
	}
	sort.Strings(keys)
	for _, lang := range keys {
		short, p := s.ShortNames[lang], path+"."+lang
		full := s.Names[lang]
		switch {
		case !slices.Contains(langs, lang):
			add(p, "%q is not one of the office's languages (%s)", lang, strings.Join(langs, ", "))
		case strings.TrimSpace(short) == "":
			add(p, "is empty: leave it out to show the full name")
		case full == "":
			add(p, "there is no name in %q to shorten", lang)
		case utf8.RuneCountInString(short) >= utf8.RuneCountInString(full):
			add(p, "%q is not shorter than the name %q", short, full)
		}
	}
}

// Service returns the service with the given id.
func (o *Office) Service(id string) (Service, bool) {
	for _, s := range o.Services {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}

// Counter returns the counter with the given number.
func (o *Office) Counter(n int) (Counter, bool) {
	for _, c := range o.Counters {
		if c.Number == n {
			return c, true
		}
	}
	return Counter{}, false
}

// DefaultLanguage is the office's first language.
func (o *Office) DefaultLanguage() string {
	if len(o.Languages) > 0 {
		return o.Languages[0]
	}
	return "pl"
}

// ConfigError is one problem in an office's configuration; Path names the
// setting in the form the config file uses ("service[2].prefix").
type ConfigError struct {
	Path    string
	Message string
}

func (e ConfigError) Error() string { return e.Path + ": " + e.Message }

// ConfigErrors are all problems found in a configuration.
type ConfigErrors []ConfigError

func (es ConfigErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// report adds one problem, at the setting path names, to a configuration's
// list.
type report func(path, format string, args ...any)

// Validate checks the office's configuration and lists every problem, in
// the order of the checks below: the office's name and locale, its hours
// and exceptions, its services, its counters, the services no counter
// serves, and the call and booking rules.
func (o *Office) Validate() error {
	var errs ConfigErrors
	add := func(path, format string, args ...any) {
		errs = append(errs, ConfigError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	o.checkIdentity(add)
	o.checkLocale(add)
	o.checkHours(add)
	o.checkExceptions(add)
	o.checkServices(add)
	o.checkCounters(add)
	o.checkEveryServiceServed(add)
	o.checkRules(add)
	o.checkBooking(add)
	o.checkLockers(add)
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func (o *Office) checkIdentity(add report) {
	if !validID(o.ID) {
		add("id", "%q must be 1-40 lowercase letters, digits or dashes", o.ID)
	}
	if strings.TrimSpace(o.Name) == "" {
		add("name", "is empty")
	}
}

func (o *Office) checkLocale(add report) {
	if o.Location == nil {
		add("time_zone", "is not set")
	}
	if len(o.Languages) == 0 {
		add("languages", "no language given")
	}
}

func (o *Office) checkHours(add report) {
	for d, ivs := range o.Hours {
		if err := checkIntervals(ivs); err != "" {
			add("hours."+weekdayKey(time.Weekday(d)), "%s", err)
		}
	}
}

// checkExceptions checks the exceptions by date, so that the problems come
// in the same order every time.
func (o *Office) checkExceptions(add report) {
	dates := make([]string, 0, len(o.Exceptions))
	for d := range o.Exceptions {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	for _, d := range dates {
		o.checkException(d, o.Exceptions[d], add)
	}
}

func (o *Office) checkException(date string, ex DayException, add report) {
	p := "exception[" + date + "]"
	if _, err := time.Parse("2006-01-02", date); err != nil {
		add(p+".date", "%q is not YYYY-MM-DD", date)
	}
	if err := checkIntervals(ex.Hours); err != "" {
		add(p+".hours", "%s", err)
	}
	langs := make([]string, 0, len(ex.Names))
	for lang := range ex.Names {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		switch {
		case !slices.Contains(o.Languages, lang):
			add(p+".names."+lang, "%q is not one of the office's languages (%s)", lang, strings.Join(o.Languages, ", "))
		case strings.TrimSpace(ex.Names[lang]) == "":
			add(p+".names."+lang, "empty name")
		}
	}
}

// checkServices checks each service on its own and that no two share an
// id or a prefix; a clash names the last service before it that used the
// same one.
func (o *Office) checkServices(add report) {
	if len(o.Services) == 0 {
		add("service", "no service defined")
	}
	ids, prefixes := map[string]int{}, map[string]int{}
	for i, s := range o.Services {
		p := fmt.Sprintf("service[%d]", i)
		checkServiceID(p, s.ID, ids, add)
		ids[s.ID] = i
		checkPrefix(p, s.Prefix, prefixes, add)
		prefixes[s.Prefix] = i
		o.checkServiceNames(p, s, add)
		checkServiceSettings(p, s, add)
		o.checkOutcomes(p, s, add)
	}
}

// checkOutcomes checks that each outcome has an id of its own (which a
// form can carry: no commas) and a name in every office language.
func (o *Office) checkOutcomes(p string, s Service, add report) {
	used := map[string]int{}
	for i, oc := range s.Outcomes {
		op := fmt.Sprintf("%s.outcome[%d]", p, i)
		if !validID(oc.ID) {
			add(op+".id", "%q must be 1-40 lowercase letters, digits or dashes", oc.ID)
		} else if j, dup := used[oc.ID]; dup {
			add(op+".id", "%q is already used by outcome[%d]", oc.ID, j)
		}
		used[oc.ID] = i
		for _, lang := range o.Languages {
			if oc.Names[lang] == "" {
				add(op+".name", "no name in %q, one of the office's languages", lang)
			}
		}
	}
}

func checkServiceID(p, id string, used map[string]int, add report) {
	if !validID(id) {
		add(p+".id", "%q must be 1-40 lowercase letters, digits or dashes", id)
	} else if j, dup := used[id]; dup {
		add(p+".id", "%q is already used by service[%d]", id, j)
	}
}

func checkPrefix(p, prefix string, used map[string]int, add report) {
	if len(prefix) != 1 || prefix[0] < 'A' || prefix[0] > 'Z' {
		add(p+".prefix", "%q must be one capital letter A-Z", prefix)
	} else if j, dup := used[prefix]; dup {
		add(p+".prefix", "%q is already used by service[%d]: ticket numbers would clash", prefix, j)
	}
}

// checkServiceNames checks that the service has a name in every language
// the office offers, and short names that can stand in for it.
func (o *Office) checkServiceNames(p string, s Service, add report) {
	if len(s.Names) == 0 {
		add(p+".name", "no name given")
	}
	for _, lang := range o.Languages {
		if s.Names[lang] == "" {
			add(p+".name", "no name in %q, one of the office's languages", lang)
		}
	}
	checkShortNames(o.Languages, s, p+".short_name", add)
}

func checkServiceSettings(p string, s Service, add report) {
	if s.Priority <= 0 {
		add(p+".priority", "%v must be above 0", s.Priority)
	}
	if s.DailyCap < 0 || s.DailyCap > MaxNumber {
		add(p+".daily_cap", "%d must be between 0 (no cap) and %d", s.DailyCap, MaxNumber)
	}
	if s.CutOff < 0 {
		add(p+".cutoff_minutes", "must not be negative")
	}
	if s.ServiceTime <= 0 {
		add(p+".service_minutes", "must be above 0")
	}
}

// checkCounters checks each counter's number, unique like a service's
// id, and the services it serves.
func (o *Office) checkCounters(add report) {
	if len(o.Counters) == 0 {
		add("counter", "no counter defined")
	}
	numbers := map[int]int{}
	for i, c := range o.Counters {
		p := fmt.Sprintf("counter[%d]", i)
		checkCounterNumber(p, c.Number, numbers, add)
		numbers[c.Number] = i
		o.checkCounterServices(p, c, add)
	}
}

func checkCounterNumber(p string, n int, used map[int]int, add report) {
	if n < 1 || n > 999 {
		add(p+".number", "%d must be 1-999", n)
	} else if j, dup := used[n]; dup {
		add(p+".number", "%d is already used by counter[%d]", n, j)
	}
}

// checkCounterServices checks the counter's weights, in order of service
// id so that the problems come in the same order every time: each names a
// service of the office, none is negative, and one at least is above 0.
func (o *Office) checkCounterServices(p string, c Counter, add report) {
	ids := make([]string, 0, len(c.Weights))
	for id := range c.Weights {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	served := 0
	for _, id := range ids {
		w := c.Weights[id]
		if _, ok := o.Service(id); !ok {
			add(p+".services."+id, "no service %q is defined", id)
		}
		if w < 0 {
			add(p+".services."+id, "weight %v must not be negative", w)
		}
		if w > 0 {
			served++
		}
	}
	if served == 0 {
		add(p+".services", "counter %d serves no service", c.Number)
	}
}

// checkEveryServiceServed reports services no counter serves, leaving out
// those whose id is already reported as bad.
func (o *Office) checkEveryServiceServed(add report) {
	for i, s := range o.Services {
		if !o.served(s.ID) && validID(s.ID) {
			add(fmt.Sprintf("service[%d]", i), "service %q is served by no counter", s.ID)
		}
	}
}

// served reports whether any counter serves service.
func (o *Office) served(service string) bool {
	for _, c := range o.Counters {
		if c.Serves(service) {
			return true
		}
	}
	return false
}

func (o *Office) checkRules(add report) {
	if o.Rules.RecallLimit < 0 {
		add("rules.recall_limit", "must not be negative")
	}
	rr := o.Remote
	if rr.MaxWaiting < 0 {
		add("remote.max_waiting", "must not be negative (0 means no cap)")
	}
	if rr.PresenceAhead < 0 {
		add("remote.presence_ahead", "must not be negative (0 turns the confirmation off)")
	}
	if rr.PresenceAhead > 0 && rr.PresenceTimeout < time.Minute {
		add("remote.presence_timeout", "must be at least 1m while presence_ahead is on")
	}
	for i, s := range o.Services {
		if s.RemoteMaxWaiting < 0 {
			add(fmt.Sprintf("service[%d].remote_max_waiting", i), "must not be negative (0 means the office's cap only)")
		}
	}
}

// checkBooking checks the booking rules, which only matter when a service
// can be booked.
func (o *Office) checkBooking(add report) {
	if !o.hasBookable() {
		return
	}
	b := o.Booking
	if b.SlotLength < 5*time.Minute {
		add("booking.slot_minutes", "must be at least 5")
	}
	if b.PerSlot < 0 {
		add("booking.per_slot", "must be 0 (as many as the counters serving it) or more")
	}
	if b.Ahead < 24*time.Hour {
		add("booking.ahead_days", "must be at least 1")
	}
	if b.Retention <= 0 {
		add("booking.retention_days", "must be at least 1: personal data must be purged")
	}
	if b.CheckInBefore < 0 || b.CheckInGrace < 0 {
		add("booking", "check-in times must not be negative")
	}
	if b.ConfirmContact && b.HoldFor < time.Minute {
		add("booking.hold_minutes", "must be at least 1 when confirm_contact is on")
	}
	if b.PerContactPerDay < 0 {
		add("booking.per_contact_per_day", "must not be negative")
	}
	if strings.Trim(b.PhoneCountry, "0123456789") != "" || len(b.PhoneCountry) > 3 {
		add("booking.phone_country", "%q is not a country calling code: give 1-3 digits, e.g. \"48\"", b.PhoneCountry)
	}
}

func (o *Office) hasBookable() bool {
	for _, s := range o.Services {
		if s.Bookable {
			return true
		}
	}
	return false
}

func validID(id string) bool {
	if id == "" || len(id) > 40 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func checkIntervals(ivs []Interval) string {
	for i, iv := range ivs {
		if iv.Open < 0 || iv.Close > 24*60 || iv.Open >= iv.Close {
			return fmt.Sprintf("interval %s is not a valid opening interval", iv)
		}
		if i > 0 && iv.Open < ivs[i-1].Close {
			return fmt.Sprintf("interval %s overlaps or precedes %s", iv, ivs[i-1])
		}
	}
	return ""
}
