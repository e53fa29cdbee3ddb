package stats

import (
	"encoding/csv"
	"io"
	"strconv"
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
	secs := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }
	share := ""
	if s := f.WithinTargetShare(); s >= 0 {
		share = strconv.FormatFloat(100*s, 'f', 1, 64)
	}
	n := strconv.Itoa
	return []string{
		date, group, key, n(f.Issued),
		n(f.ByChannel["kiosk"]), n(f.ByChannel["phone"]), n(f.ByChannel["booking"]), n(f.ByChannel["assistant"]),
		n(f.Served), n(f.NoShows), n(f.Cancelled), n(f.Called()),
		secs(f.WaitMean()), secs(f.WaitMedian()), secs(f.WaitP90()), secs(f.ServiceMean()), share,
		n(f.Ratings["good"]), n(f.Ratings["neutral"]), n(f.Ratings["bad"]),
	}
}
