package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVHeader names the columns WriteCSV writes.
var CSVHeader = []string{
	"date", "group", "key", "issued", "kiosk", "phone", "booking", "assistant",
	"served", "no_shows", "cancelled", "called", "wait_mean_s", "wait_median_s", "wait_p90_s",
	"service_mean_s", "within_target_pct", "rating_good", "rating_neutral", "rating_bad",
}

// WriteCSV writes the report as one row per day (group "day"), per day and
// service ("service") and per day and counter ("counter"), then the same
// for the whole range with the date column "FROM..TO". Times are whole
// seconds; within_target_pct is empty when nothing was called.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	block := func(date string, total *Figures, services, counters []Group) {
		_ = cw.Write(row(date, "day", "all", total))
		for _, g := range services {
			_ = cw.Write(row(date, "service", g.Key, g.Figures))
		}
		for _, g := range counters {
			_ = cw.Write(row(date, "counter", g.Key, g.Figures))
		}
	}
	for _, d := range r.Days {
		block(d.Date, d.Total, d.Services, d.Counters)
	}
	block(r.Range.From+".."+r.Range.To, r.Total, r.Services, r.Counters)
	cw.Flush()
	return cw.Error()
}

func row(date, group, key string, f *Figures) []string {
	share := pctOf(f.WithinTargetShare())
	n := strconv.Itoa
	return []string{
		date, group, key, n(f.Issued),
		n(f.ByChannel["kiosk"]), n(f.ByChannel["phone"]), n(f.ByChannel["booking"]), n(f.ByChannel["assistant"]),
		n(f.Served), n(f.NoShows), n(f.Cancelled), n(f.Called()),
		secs(f.WaitMean()), secs(f.WaitMedian()), secs(f.WaitP90()), secs(f.ServiceMean()), share,
		n(f.Ratings["good"]), n(f.Ratings["neutral"]), n(f.Ratings["bad"]),
	}
}

// Tables names the CSV tables WriteTable writes, in the order the page
// offers them.
var Tables = []string{"days", "heatmap", "clerks", "bookings", "outcomes", "lockers"}

// WriteTable writes one of Tables: "days" is WriteCSV's; "heatmap" one row
// per weekday (1 Monday … 7 Sunday) and hour with tickets; "clerks" one row
// per actor; "bookings" the range's bookings overall ("all") and per
// service; "outcomes" one row per service and outcome, and one with an
// empty outcome counting the tickets finished with none; "lockers" one
// row per locker and day, then one per locker for the range (date
// "FROM..TO").
func WriteTable(w io.Writer, r *Report, table string) error {
	switch table {
	case "days":
		return WriteCSV(w, r)
	case "heatmap":
		return writeRows(w, heatRows(r.Heat))
	case "clerks":
		return writeRows(w, clerkRows(r.Clerks))
	case "bookings":
		return writeRows(w, bookingRows(r.Bookings))
	case "outcomes":
		return writeRows(w, outcomeRows(r.Outcomes))
	case "lockers":
		return writeRows(w, lockerRows(r.Range, r.Lockers))
	}
	return fmt.Errorf("statistics table %q: want one of %s", table, strings.Join(Tables, ", "))
}

func writeRows(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("writing statistics CSV: %w", err)
	}
	return nil
}

func secs(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// pctOf writes a share (0-1) as a percentage; empty when there is none
// (a negative share).
func pctOf(share float64) string {
	if share < 0 {
		return ""
	}
	return strconv.FormatFloat(100*share, 'f', 1, 64)
}

func heatRows(h *Heat) [][]string {
	rows := [][]string{{"weekday", "hour", "days", "arrivals", "arrivals_per_day", "called", "wait_median_s"}}
	for wd := range 7 {
		for hour := range 24 {
			if h.Arrivals[wd][hour] == 0 {
				continue
			}
			wait := ""
			if m := h.WaitMedian(wd, hour); m >= 0 {
				wait = secs(m)
			}
			rows = append(rows, []string{strconv.Itoa(wd + 1), strconv.Itoa(hour), strconv.Itoa(h.Days[wd]),
				strconv.Itoa(h.Arrivals[wd][hour]), strconv.FormatFloat(h.MeanArrivals(wd, hour), 'f', 2, 64),
				strconv.Itoa(len(h.Waits[wd][hour])), wait})
		}
	}
	return rows
}

func clerkRows(clerks []Clerk) [][]string {
	rows := [][]string{{"actor", "served", "no_shows", "service_mean_s", "rating_good", "rating_neutral", "rating_bad"}}
	for _, c := range clerks {
		n := strconv.Itoa
		rows = append(rows, []string{c.Actor, n(c.Served), n(c.NoShows), secs(c.ServiceMean()),
			n(c.Ratings["good"]), n(c.Ratings["neutral"]), n(c.Ratings["bad"])})
	}
	return rows
}

func bookingRows(r BookingReport) [][]string {
	rows := [][]string{{"service", "booked", "cancelled", "checked_in", "no_shows", "upcoming", "no_show_pct", "late_pct", "lateness_median_s", "lateness_p90_s"}}
	row := func(key string, b Bookings) []string {
		n := strconv.Itoa
		return []string{key, n(b.Booked), n(b.Cancelled), n(b.CheckedIn), n(b.NoShows), n(b.Upcoming),
			pctOf(b.NoShowRate()), pctOf(b.LateShare()), secs(b.LatenessMedian()), secs(b.LatenessP90())}
	}
	rows = append(rows, row("all", r.Total))
	for _, g := range r.Services {
		rows = append(rows, row(g.Service, g.Bookings))
	}
	return rows
}

func outcomeRows(services []ServiceOutcomes) [][]string {
	rows := [][]string{{"service", "outcome", "count", "finished", "share_pct"}}
	for _, s := range services {
		n := strconv.Itoa
		for _, o := range s.Outcomes {
			rows = append(rows, []string{s.Service, o.ID, n(o.Count), n(s.Finished), pctOf(s.Share(o))})
		}
		rows = append(rows, []string{s.Service, "", n(s.WithNone), n(s.Finished), pctOf(s.NoneShare())})
	}
	return rows
}

func lockerRows(rg Range, lockers []LockerReport) [][]string {
	rows := [][]string{{"date", "locker", "deposits", "pickups", "offline_pickups", "pickup_median_s", "pickup_p90_s", "expired", "retrieved"}}
	row := func(date, locker string, f LockerFigures) []string {
		n := strconv.Itoa
		return []string{date, locker, n(f.Deposits), n(f.Pickups), n(f.OfflinePickups),
			secs(f.PickupMedian()), secs(f.PickupP90()), n(f.Expired), n(f.Retrieved)}
	}
	for _, l := range lockers {
		for _, d := range l.Days {
			rows = append(rows, row(d.Date, l.Locker, d.LockerFigures))
		}
	}
	for _, l := range lockers {
		rows = append(rows, row(rg.From+".."+rg.To, l.Locker, l.Total))
	}
	return rows
}
