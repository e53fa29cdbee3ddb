package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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
	// Heat is the weekday × hour maps (arrivals, waits) and their table.
	Heat heatData
	// Tables are the CSV downloads, one per table of the page.
	Tables []csvLink
	// PublicURL is the office's public queue page; Embed the iframe an
	// office's website pastes to show it.
	PublicURL, Embed string
}

type csvLink struct {
	Label, Href string
}

// statsQuery reads ?office, ?from and ?to (default: the last 7 days).
func (w *Web) statsQuery(r *http.Request, st *staffInfo) (*actor.Actor, stats.Range, string) {
	if id := r.FormValue("office"); id != "" && !st.sees(id) {
		return nil, stats.Range{}, "web.staff.not_your_office"
	}
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
	d.PublicURL = w.links.URL("/o/" + url.PathEscape(a.Office().ID) + "/queue")
	d.Embed = fmt.Sprintf(`<iframe src="%s?lang=%s" title="%s" width="100%%" height="480" style="border:0"></iframe>`,
		d.PublicURL, p.Lang, html.EscapeString(p.T("web.stats.public_title")+" · "+a.Office().Name))
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
			d.Heat = heatOf(p, rep.Heat)
			d.CSV = "/staff/stats.csv?" + url.Values{"office": {d.OfficeID}, "from": {rg.From}, "to": {rg.To}}.Encode()
			for _, table := range stats.Tables {
				d.Tables = append(d.Tables, csvLink{Label: p.T("web.stats.table." + table),
					Href: "/staff/stats.csv?" + url.Values{"office": {d.OfficeID}, "from": {rg.From}, "to": {rg.To}, "table": {table}}.Encode()})
			}
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
	if a == nil {
		w.problem(rw, r, http.StatusForbidden, errID)
		return
	}
	if errID != "" {
		w.problem(rw, r, http.StatusBadRequest, errID)
		return
	}
	table := r.URL.Query().Get("table")
	if table == "" {
		table = "days"
	}
	if !slices.Contains(stats.Tables, table) {
		w.problem(rw, r, http.StatusBadRequest, "web.stats.bad_table", "tables", strings.Join(stats.Tables, ", "))
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
	name := fmt.Sprintf("%s_%s_%s.csv", a.Office().ID, rg.From, rg.To)
	if table != "days" {
		name = fmt.Sprintf("%s_%s_%s_%s.csv", a.Office().ID, table, rg.From, rg.To)
	}
	rw.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rw.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	rw.Header().Set("Cache-Control", "no-store")
	if err := stats.WriteTable(rw, rep, table); err != nil {
		w.Logger.Error("writing statistics CSV", "err", err)
	}
}

// heatData is the heat maps of a range and the same figures as a table.
type heatData struct {
	Arrivals, Waits string
	Hours           []int
	Rows            []heatRow
}

type heatRow struct {
	Day   string
	Cells []heatCell
}

// heatCell is one weekday's hour: mean arrivals and median wait in
// minutes, as written in the table ("–" for no wait).
type heatCell struct {
	Arrivals, Wait string
}

// heatOf draws the weekday × hour maps over the weekdays the office issued
// tickets on and the hours it issued them in.
func heatOf(p *page, h *stats.Heat) heatData {
	var d heatData
	d.Hours = h.Hours()
	if len(d.Hours) == 0 {
		return d
	}
	arrivals := stats.HeatMap{Title: p.T("web.stats.heat_arrivals"), Desc: p.T("web.stats.heat_arrivals_desc"), Decimals: 1}
	waits := stats.HeatMap{Title: p.T("web.stats.heat_waits"), Desc: p.T("web.stats.heat_waits_desc")}
	for _, hour := range d.Hours {
		arrivals.Cols = append(arrivals.Cols, strconv.Itoa(hour))
	}
	waits.Cols = arrivals.Cols
	for wd := range 7 {
		if h.Days[wd] == 0 {
			continue
		}
		// Monday first: weekday keys count from Sunday (0).
		name := p.T("weekday." + strconv.Itoa((wd+1)%7))
		row := heatRow{Day: name}
		var a, wt []float64
		for _, hour := range d.Hours {
			mean := h.MeanArrivals(wd, hour)
			a = append(a, mean)
			cell := heatCell{Arrivals: strconv.FormatFloat(mean, 'f', 1, 64), Wait: "–"}
			if m := h.WaitMedian(wd, hour); m >= 0 {
				wt = append(wt, m.Minutes())
				cell.Wait = strconv.Itoa(int(m.Round(time.Minute) / time.Minute))
			} else {
				wt = append(wt, -1)
			}
			row.Cells = append(row.Cells, cell)
		}
		arrivals.Rows = append(arrivals.Rows, p.T("web.stats.day_short."+strconv.Itoa((wd+1)%7)))
		waits.Rows = arrivals.Rows
		arrivals.Values = append(arrivals.Values, a)
		waits.Values = append(waits.Values, wt)
		d.Rows = append(d.Rows, row)
	}
	d.Arrivals, d.Waits = arrivals.SVG(), waits.SVG()
	return d
}

// ClerkName says who an actor of the log is: a clerk's login, a counter's
// buttons, or the actor as logged.
func (p *page) ClerkName(c stats.Clerk) string {
	if c.IsClerk() {
		return c.Name()
	}
	if n, ok := strings.CutPrefix(c.Actor, "counter:"); ok {
		return p.T("web.stats.counter_device", "n", n)
	}
	return c.Actor
}

// OutcomeName names one of a service's outcomes in the page's language,
// or gives its id when the configuration no longer has it.
func (p *page) OutcomeName(service, id string) string {
	if p.Office != nil {
		if s, ok := p.Office.Service(service); ok {
			for _, o := range s.Outcomes {
				if o.ID == id {
					if n := o.Names[p.Lang]; n != "" {
						return n
					}
					if n := o.Names["pl"]; n != "" {
						return n
					}
				}
			}
		}
	}
	return id
}

// bookingRow is one row of the bookings table.
type bookingRow struct {
	Label    string
	Bookings stats.Bookings
}

// BookingRow pairs a row's label with its figures for the template.
func (p *page) BookingRow(label string, b stats.Bookings) bookingRow {
	return bookingRow{Label: label, Bookings: b}
}

// StatsLockerName names a locker of the page's office in the page's
// language, or gives its id when the configuration no longer has it.
func (p *page) StatsLockerName(id string) string {
	if p.Office != nil {
		for _, l := range p.Office.Lockers {
			if l.ID == id {
				for _, lang := range []string{p.Lang, "pl", "en"} {
					if n := l.Names[lang]; n != "" {
						return n
					}
				}
			}
		}
	}
	return id
}

// lockerStatsRow is one row of a locker's table: a day or the range.
type lockerStatsRow struct {
	Label   string
	Figures stats.LockerFigures
	lang    string
}

// Hours writes a time to collection in hours with one decimal, as the
// page's language writes numbers (a decimal comma but in English).
func (r lockerStatsRow) Hours(d time.Duration) string {
	s := strconv.FormatFloat(d.Hours(), 'f', 1, 64)
	if r.lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// StatsLockerRow pairs a row's label with its figures for the template.
func (p *page) StatsLockerRow(label string, f stats.LockerFigures) lockerStatsRow {
	return lockerStatsRow{Label: label, Figures: f, lang: p.Lang}
}
