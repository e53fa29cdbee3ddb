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
	// Footer is printed at the bottom of every paper ticket.
	Footer string
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

// BookingRules say how online bookings work.
type BookingRules struct {
	SlotLength time.Duration `json:"slot_length_ns"`
	PerSlot    int           `json:"per_slot"`
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
}

// checkShortNames reports short names that could not stand in for the
// full name: in a language the office does not offer, empty, or no shorter.
func checkShortNames(langs []string, s Service, path string, add func(path, format string, args ...any)) {
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

// Validate checks the office's configuration and lists every problem.
func (o *Office) Validate() error {
	var errs ConfigErrors
	add := func(path, format string, args ...any) {
		errs = append(errs, ConfigError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if !validID(o.ID) {
		add("id", "%q must be 1-40 lowercase letters, digits or dashes", o.ID)
	}
	if strings.TrimSpace(o.Name) == "" {
		add("name", "is empty")
	}
	if o.Location == nil {
		add("time_zone", "is not set")
	}
	if len(o.Languages) == 0 {
		add("languages", "no language given")
	}
	for d, ivs := range o.Hours {
		if err := checkIntervals(ivs); err != "" {
			add("hours."+weekdayKey(time.Weekday(d)), "%s", err)
		}
	}
	dates := make([]string, 0, len(o.Exceptions))
	for d := range o.Exceptions {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	for _, d := range dates {
		if _, err := time.Parse("2006-01-02", d); err != nil {
			add("exception["+d+"].date", "%q is not YYYY-MM-DD", d)
		}
		if err := checkIntervals(o.Exceptions[d].Hours); err != "" {
			add("exception["+d+"].hours", "%s", err)
		}
		names := o.Exceptions[d].Names
		langs := make([]string, 0, len(names))
		for lang := range names {
			langs = append(langs, lang)
		}
		sort.Strings(langs)
		for _, lang := range langs {
			switch {
			case !slices.Contains(o.Languages, lang):
				add("exception["+d+"].names."+lang, "%q is not one of the office's languages (%s)", lang, strings.Join(o.Languages, ", "))
			case strings.TrimSpace(names[lang]) == "":
				add("exception["+d+"].names."+lang, "empty name")
			}
		}
	}
	if len(o.Services) == 0 {
		add("service", "no service defined")
	}
	ids, prefixes := map[string]int{}, map[string]int{}
	for i, s := range o.Services {
		p := fmt.Sprintf("service[%d]", i)
		if !validID(s.ID) {
			add(p+".id", "%q must be 1-40 lowercase letters, digits or dashes", s.ID)
		} else if j, dup := ids[s.ID]; dup {
			add(p+".id", "%q is already used by service[%d]", s.ID, j)
		}
		ids[s.ID] = i
		if len(s.Prefix) != 1 || s.Prefix[0] < 'A' || s.Prefix[0] > 'Z' {
			add(p+".prefix", "%q must be one capital letter A-Z", s.Prefix)
		} else if j, dup := prefixes[s.Prefix]; dup {
			add(p+".prefix", "%q is already used by service[%d]: ticket numbers would clash", s.Prefix, j)
		}
		prefixes[s.Prefix] = i
		if len(s.Names) == 0 {
			add(p+".name", "no name given")
		}
		for _, lang := range o.Languages {
			if s.Names[lang] == "" {
				add(p+".name", "no name in %q, one of the office's languages", lang)
			}
		}
		checkShortNames(o.Languages, s, p+".short_name", add)
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
	if len(o.Counters) == 0 {
		add("counter", "no counter defined")
	}
	numbers := map[int]int{}
	for i, c := range o.Counters {
		p := fmt.Sprintf("counter[%d]", i)
		if c.Number < 1 || c.Number > 999 {
			add(p+".number", "%d must be 1-999", c.Number)
		} else if j, dup := numbers[c.Number]; dup {
			add(p+".number", "%d is already used by counter[%d]", c.Number, j)
		}
		numbers[c.Number] = i
		served := 0
		keys := make([]string, 0, len(c.Weights))
		for k := range c.Weights {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, id := range keys {
			w := c.Weights[id]
			if _, ok := ids[id]; !ok {
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
	for i, s := range o.Services {
		servedBy := 0
		for _, c := range o.Counters {
			if c.Serves(s.ID) {
				servedBy++
			}
		}
		if servedBy == 0 && validID(s.ID) {
			add(fmt.Sprintf("service[%d]", i), "service %q is served by no counter", s.ID)
		}
	}
	if o.Rules.RecallLimit < 0 {
		add("rules.recall_limit", "must not be negative")
	}
	if o.hasBookable() {
		b := o.Booking
		if b.SlotLength < 5*time.Minute {
			add("booking.slot_minutes", "must be at least 5")
		}
		if b.PerSlot < 1 {
			add("booking.per_slot", "must be at least 1")
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
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
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
