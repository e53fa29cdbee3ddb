package officeconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/numerek/numerek/queue"
)

// lockerFile is [[office.locker]]: a document pickup locker, its
// compartments and the document types it takes (docs/lockers.md). Which
// pins drive each compartment is the device's file, not this one.
type lockerFile struct {
	ID           string            `toml:"id"`
	Name         map[string]string `toml:"name"`
	Place        map[string]string `toml:"place"`
	Deadline     string            `toml:"deadline"`
	RemindBefore string            `toml:"remind_before"`
	DoorAlarm    string            `toml:"door_alarm"`
	Compartment  []struct {
		ID         string `toml:"id"`
		Size       string `toml:"size"`
		Accessible bool   `toml:"accessible"`
	} `toml:"compartment"`
	Document []struct {
		ID           string            `toml:"id"`
		Name         map[string]string `toml:"name"`
		SecondFactor bool              `toml:"second_factor"`
	} `toml:"document"`
}

// convertLockers turns the file's lockers into the office's, reporting
// times that cannot be read; queue's Validate checks the rest.
func convertLockers(lfs []lockerFile, add func(path, format string, args ...any)) []queue.Locker {
	var out []queue.Locker
	for i, lf := range lfs {
		p := fmt.Sprintf("locker[%d]", i)
		l := queue.Locker{ID: lf.ID, Names: lf.Name, Place: lf.Place}
		l.Deadline = lockerDuration(lf.Deadline, p+".deadline", add)
		l.RemindBefore = lockerDuration(lf.RemindBefore, p+".remind_before", add)
		l.DoorAlarm = lockerDuration(lf.DoorAlarm, p+".door_alarm", add)
		for _, c := range lf.Compartment {
			l.Compartments = append(l.Compartments, queue.Compartment{ID: c.ID, Size: strings.ToUpper(c.Size), Accessible: c.Accessible})
		}
		for _, d := range lf.Document {
			l.Documents = append(l.Documents, queue.LockerDocument{ID: d.ID, Names: d.Name, SecondFactor: d.SecondFactor})
		}
		out = append(out, l)
	}
	return out
}

// lockerDuration reads a duration like "48h", "90s" or "7d" (whole days,
// as offices count a deadline); "" is 0.
func lockerDuration(s, path string, add func(path, format string, args ...any)) time.Duration {
	d, err := ParseDays(s)
	if err != nil {
		add(path, "%q is not a duration like \"7d\", \"48h\" or \"60s\"", s)
	}
	return d
}

// ParseDays reads a Go duration ("48h", "90s") or a whole number of days
// ("7d"); "" is 0.
func ParseDays(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}
