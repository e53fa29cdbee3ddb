package stats

import (
	"sort"
	"time"

	"github.com/numerek/numerek/queue"
)

// LockerFigures are one locker's deposits over a day or a range: the
// documents put in (stored) that day, those collected (and of them
// offline, reported by the locker later) with the time each waited from
// going in to its collection, those left past their deadline and those
// staff took back out. A deposit counts on the day of its own event: a
// document put in on Monday and collected on Wednesday is a deposit of
// Monday and a pickup of Wednesday.
type LockerFigures struct {
	Deposits, Pickups, OfflinePickups, Expired, Retrieved int
	// PickupTimes are the collected documents' times from stored to
	// picked up.
	PickupTimes []time.Duration
}

// PickupMedian and PickupP90 summarise how long documents waited for
// their residents; zero with none collected.
func (f LockerFigures) PickupMedian() time.Duration { return percentile(f.PickupTimes, 50) }
func (f LockerFigures) PickupP90() time.Duration    { return percentile(f.PickupTimes, 90) }

// empty reports whether nothing happened.
func (f LockerFigures) empty() bool {
	return f.Deposits+f.Pickups+f.Expired+f.Retrieved == 0
}

// LockerDay is one office-local day of a locker.
type LockerDay struct {
	Date string
	LockerFigures
}

// LockerReport is one locker's figures over the range: each day with
// something to count, in order, and the range's total.
type LockerReport struct {
	Locker string
	Days   []LockerDay
	Total  LockerFigures
}

// lockerDeposit is what the fold remembers of one deposit.
type lockerDeposit struct {
	locker string
	stored time.Time
}

// lockerDay is the office-local date of t.
func (b *builder) lockerDay(t time.Time) string { return t.In(b.location()).Format("2006-01-02") }

// lockerCount adds to a locker's figures of the day of at, and to its
// range's total, when the day is in the range.
func (b *builder) lockerCount(locker string, at time.Time, fn func(*LockerFigures)) {
	day := b.lockerDay(at)
	if !b.r.Contains(day) {
		return
	}
	days := b.lockers[locker]
	if days == nil {
		days = map[string]*LockerFigures{}
		b.lockers[locker] = days
	}
	f := days[day]
	if f == nil {
		f = &LockerFigures{}
		days[day] = f
	}
	fn(f)
}

// ownTime is the event's own time when it carries one (the locker's time of
// the door closing), else the time it was logged.
func ownTime(own time.Time, e queue.Event) time.Time {
	if own.IsZero() {
		return e.At
	}
	return own
}

func (b *builder) addLocker(e queue.Event) {
	switch ev := e.Body.(type) {
	case queue.DepositReserved:
		b.deposits[ev.Deposit.ID] = &lockerDeposit{locker: ev.Deposit.Locker}
	case queue.DepositStored:
		if d := b.deposits[ev.Deposit]; d != nil {
			d.stored = ownTime(ev.At, e)
			b.lockerCount(d.locker, d.stored, func(f *LockerFigures) { f.Deposits++ })
		}
	case queue.DepositPickedUp:
		if d := b.deposits[ev.Deposit]; d != nil {
			when := ownTime(ev.At, e)
			b.lockerCount(d.locker, when, func(f *LockerFigures) {
				f.Pickups++
				if ev.Offline {
					f.OfflinePickups++
				}
				if !d.stored.IsZero() {
					f.PickupTimes = append(f.PickupTimes, max(when.Sub(d.stored), 0))
				}
			})
			delete(b.deposits, ev.Deposit)
		}
	case queue.DepositExpired:
		if d := b.deposits[ev.Deposit]; d != nil {
			b.lockerCount(d.locker, e.At, func(f *LockerFigures) { f.Expired++ })
		}
	case queue.DepositRetrieved:
		if d := b.deposits[ev.Deposit]; d != nil {
			b.lockerCount(d.locker, ownTime(ev.At, e), func(f *LockerFigures) { f.Retrieved++ })
			delete(b.deposits, ev.Deposit)
		}
	case queue.DepositCancelled:
		delete(b.deposits, ev.Deposit)
	}
}

// lockerReports lists the lockers with anything in the range, by id.
func (b *builder) lockerReports() []LockerReport {
	ids := make([]string, 0, len(b.lockers))
	for id := range b.lockers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []LockerReport
	for _, id := range ids {
		rep := LockerReport{Locker: id}
		dates := make([]string, 0, len(b.lockers[id]))
		for d := range b.lockers[id] {
			dates = append(dates, d)
		}
		sort.Strings(dates)
		for _, d := range dates {
			f := b.lockers[id][d]
			if f.empty() {
				continue
			}
			rep.Days = append(rep.Days, LockerDay{Date: d, LockerFigures: *f})
			rep.Total.Deposits += f.Deposits
			rep.Total.Pickups += f.Pickups
			rep.Total.OfflinePickups += f.OfflinePickups
			rep.Total.Expired += f.Expired
			rep.Total.Retrieved += f.Retrieved
			rep.Total.PickupTimes = append(rep.Total.PickupTimes, f.PickupTimes...)
		}
		if len(rep.Days) > 0 {
			out = append(out, rep)
		}
	}
	return out
}
