// Package scrape reads a Prometheus /metrics page as Prometheus does, for
// tests: the families it exports, and the value of a series picked by
// some of its labels.
package scrape

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Page is one scrape: its families by name, and its text.
type Page struct {
	Families map[string]*dto.MetricFamily
	Text     string
}

// Get scrapes url with the bearer token (none if ""), and fails unless
// the answer is 200 in the text format.
func Get(url, token string) (*Page, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scraping %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping %s: %s: %s", url, resp.Status, body)
	}
	return Parse(string(body))
}

// Parse reads a page in Prometheus' text format.
func Parse(text string) (*Page, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, fmt.Errorf("reading the metrics: %w", err)
	}
	return &Page{Families: fams, Text: text}, nil
}

// Names lists the families' names, sorted.
func (p *Page) Names() []string {
	out := make([]string, 0, len(p.Families))
	for n := range p.Families {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Sum adds up the values of family name's series that have every label of
// labels (a counter's or a gauge's value, a histogram's count of
// observations); found is false when no series matches.
func (p *Page) Sum(name string, labels map[string]string) (sum float64, found bool) {
	f := p.Families[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if !has(m, labels) {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum, found
}

// LabelValues lists the values label takes in family name's series.
func (p *Page) LabelValues(name, label string) []string {
	var out []string
	for _, m := range p.Families[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

func has(m *dto.Metric, labels map[string]string) bool {
	for k, v := range labels {
		ok := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
