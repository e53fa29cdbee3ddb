package web

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/stats"
)

// statsData is the office manager's statistics page.
type statsData struct {
	Offices  []*queue.Office
	OfficeID string
	From, To string
	Report   *stats.Report
	Charts   []string
	CSV      string
	Channels []queue.Channel
}

// statsQuery reads ?office, ?from and ?to (default: the last 7 days).
func (w *Web) statsQuery(r *http.Request, st *staffInfo) (*actor.Actor, stats.Range, string) {
	a := w.assistantOffice(r, st)
	if a == nil {
		return nil, stats.Range{}, "web.staff.not_your_office"
	}
	loc := a.Office().Location
	today := w.Clock().In(loc)
	rg := stats.Range{From: today.AddDate(0, 0, -6).Format(dayKey), To: today.Format(dayKey)}
	q := r.URL.Query()
	for _, f := range []struct {
		name string
		to   *string
	}{{"from", &rg.From}, {"to", &rg.To}} {
		if v := q.Get(f.name); v != "" {
			if _, err := time.Parse(dayKey, v); err != nil {
				return a, rg, "web.stats.bad_date"
			}
			*f.to = v
		}
	}
	if rg.From > rg.To {
		return a, rg, "web.stats.bad_range"
	}
	return a, rg, ""
}

func (w *Web) statsPage(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, rg, errID := w.statsQuery(r, st)
	if a == nil {
		w.problem(rw, r, http.StatusForbidden, errID)
		return
	}
	p := w.staffPage(rw, r, st, "web.stats.title")
	p.Office = a.Office()
	p.Wide = true
	d := statsData{OfficeID: a.Office().ID, From: rg.From, To: rg.To, Channels: stats.Channels}
	for _, x := range w.visibleOffices(st) {
		d.Offices = append(d.Offices, x.Office())
	}
	status := 0
	if errID != "" {
		p.Error = p.T(errID)
		status = http.StatusBadRequest
	} else if scan := w.Logs[a.Office().ID]; scan != nil {
		rep, err := stats.Compute(scan, a.Office(), rg, w.Clock())
		if err != nil {
			w.Logger.Error("computing statistics", "office", a.Office().ID, "err", err)
			p.Error = p.T("web.error.unavailable")
			status = http.StatusServiceUnavailable
		} else {
			d.Report = rep
			d.Charts = w.charts(p, rep)
			d.CSV = "/staff/stats.csv?" + url.Values{"office": {d.OfficeID}, "from": {rg.From}, "to": {rg.To}}.Encode()
		}
	}
	p.Data = d
	w.render(rw, status, "stats", p)
}

// channelColors are distinguishable for the common colour blindnesses and
// keep 3:1 against white.
var channelColors = map[queue.Channel]string{
	queue.ChannelKiosk: "#1f5fbf", queue.ChannelPhone: "#b35900", queue.ChannelBooking: "#16794c", queue.ChannelAssistant: "#7a3db8",
}

func (w *Web) charts(p *page, rep *stats.Report) []string {
	// Every day of a range up to two months gets its place, so quiet days
	// show as gaps; longer ranges show only the days with tickets.
	byDate := map[string]*stats.Figures{}
	var dates []string
	for _, d := range rep.Days {
		byDate[d.Date] = d.Total
		dates = append(dates, d.Date)
	}
	from, err1 := time.Parse(dayKey, rep.Range.From)
	to, err2 := time.Parse(dayKey, rep.Range.To)
	if err1 == nil && err2 == nil && to.Sub(from) <= 62*24*time.Hour {
		dates = nil
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			dates = append(dates, d.Format(dayKey))
		}
	}
	empty := &stats.Figures{}
	day := func(date string) *stats.Figures {
		if f := byDate[date]; f != nil {
			return f
		}
		return empty
	}
	var labels []string
	for _, d := range dates {
		t, _ := time.Parse(dayKey, d)
		labels = append(labels, t.Format("02.01"))
	}
	issued := stats.Chart{Title: p.T("web.stats.chart_issued"), Desc: p.T("web.stats.chart_issued_desc"), Labels: labels, Stacked: true, Counts: true}
	for _, ch := range stats.Channels {
		s := stats.Series{Name: p.T("web.channel." + string(ch)), Color: channelColors[ch]}
		for _, d := range dates {
			s.Values = append(s.Values, float64(day(d).ByChannel[ch]))
		}
		issued.Series = append(issued.Series, s)
	}
	waits := stats.Chart{Title: p.T("web.stats.chart_waits"), Desc: p.T("web.stats.chart_waits_desc"), Labels: labels,
		Unit: p.T("web.stats.unit_min"), Line: rep.TargetWait.Minutes(), LineLabel: p.T("web.stats.target", "min", fmt.Sprint(int(rep.TargetWait.Minutes())))}
	med := stats.Series{Name: p.T("web.stats.median"), Color: "#1f5fbf"}
	p90 := stats.Series{Name: p.T("web.stats.p90"), Color: "#b35900"}
	for _, d := range dates {
		med.Values = append(med.Values, day(d).WaitMedian().Minutes())
		p90.Values = append(p90.Values, day(d).WaitP90().Minutes())
	}
	waits.Series = []stats.Series{med, p90}
	return []string{issued.SVG(), waits.SVG()}
}

func (w *Web) statsCSV(rw http.ResponseWriter, r *http.Request, st *staffInfo) {
	a, rg, errID := w.statsQuery(r, st)
	if errID != "" {
		w.problem(rw, r, http.StatusBadRequest, errID)
		return
	}
	scan := w.Logs[a.Office().ID]
	if scan == nil {
		w.problem(rw, r, http.StatusNotFound, "web.error.not_found")
		return
	}
	rep, err := stats.Compute(scan, a.Office(), rg, w.Clock())
	if err != nil {
		w.Logger.Error("computing statistics", "office", a.Office().ID, "err", err)
		w.problem(rw, r, http.StatusServiceUnavailable, "web.error.unavailable")
		return
	}
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s_%s_%s.csv"`, a.Office().ID, rg.From, rg.To))
	rw.Header().Set("Cache-Control", "no-store")
	if err := stats.WriteCSV(rw, rep); err != nil {
		w.Logger.Error("writing statistics CSV", "err", err)
	}
}
