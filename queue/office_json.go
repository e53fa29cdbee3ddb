package queue

import (
	"encoding/json"
	"fmt"
	"time"
)

// officeJSON is an office's configuration as devices receive it.
type officeJSON struct {
	ID         string                  `json:"id"`
	Name       string                  `json:"name"`
	TimeZone   string                  `json:"time_zone"`
	Languages  []string                `json:"languages"`
	Hours      [7][]Interval           `json:"hours"`
	Exceptions map[string]DayException `json:"exceptions,omitempty"`
	Services   []Service               `json:"services"`
	Counters   []Counter               `json:"counters"`
	Rules      Rules                   `json:"rules"`
	Booking    BookingRules            `json:"booking"`
	Remote     RemoteRules             `json:"remote,omitzero"`
	Footer     string                  `json:"footer,omitempty"`
	Lockers    []Locker                `json:"lockers,omitempty"`
}

// MarshalJSON writes the office with its time zone by name.
func (o *Office) MarshalJSON() ([]byte, error) {
	tz := ""
	if o.Location != nil {
		tz = o.Location.String()
	}
	return json.Marshal(officeJSON{
		ID: o.ID, Name: o.Name, TimeZone: tz, Languages: o.Languages, Hours: o.Hours,
		Exceptions: o.Exceptions, Services: o.Services, Counters: o.Counters, Rules: o.Rules,
		Booking: o.Booking, Remote: o.Remote, Footer: o.Footer, Lockers: o.Lockers,
	})
}

// UnmarshalJSON reads what MarshalJSON writes and checks the result.
func (o *Office) UnmarshalJSON(b []byte) error {
	var w officeJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decoding office: %w", err)
	}
	loc, err := time.LoadLocation(w.TimeZone)
	if err != nil {
		return fmt.Errorf("decoding office %s: time zone %q: %w", w.ID, w.TimeZone, err)
	}
	*o = Office{
		ID: w.ID, Name: w.Name, Location: loc, Languages: w.Languages, Hours: w.Hours,
		Exceptions: w.Exceptions, Services: w.Services, Counters: w.Counters, Rules: w.Rules,
		Booking: w.Booking, Remote: w.Remote, Footer: w.Footer, Lockers: w.Lockers,
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("decoding office %s: %w", w.ID, err)
	}
	return nil
}
