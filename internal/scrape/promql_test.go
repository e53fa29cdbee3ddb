package scrape

import (
	"slices"
	"testing"
)

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`numerek_devices_connected`, []string{"numerek_devices_connected"}},
		{`sum by (route, code) (rate(numerek_http_requests_total{code=~"5.."}[$__rate_interval]))`, []string{"numerek_http_requests_total"}},
		{`histogram_quantile(0.99, sum by (le, office) (rate(numerek_store_commit_seconds_bucket{office=~"$office"}[5m])))`, []string{"numerek_store_commit_seconds_bucket"}},
		{`sum without (instance) (a_total) / on (office) group_left (name) b_info`, []string{"a_total", "b_info"}},
		{`rate(x_total[5m] offset 1h) * 60 > bool 0 or vector(0)`, []string{"x_total"}},
		{`label_replace(up, "dst", "$1", "src", "(.*)")`, []string{"up"}},
		{`sum(kioskd_prints_total{reason="paper-out \"x\""})`, []string{"kioskd_prints_total"}},
		{`1e3 * 2`, nil},
	}
	for _, tt := range tests {
		got, err := MetricNames(tt.expr)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("MetricNames(%s) = %q, %v; want %q", tt.expr, got, err, tt.want)
		}
	}
	for _, bad := range []string{`sum(x`, `x)`, `x{a="b"`, `rate(x[5m)`, `x{a="b}`} {
		if got, err := MetricNames(bad); err == nil {
			t.Errorf("MetricNames(%s) = %q, want an error", bad, got)
		}
	}
}

// FuzzMetricNames: any text gives names or an error, never a panic, and
// every name given is a name.
func FuzzMetricNames(f *testing.F) {
	for _, s := range []string{`sum by (a) (rate(x_total{b="c"}[5m]))`, `x{`, `"`, `by (`, `a offset 5m`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		names, err := MetricNames(expr)
		if err != nil {
			return
		}
		for _, n := range names {
			if n == "" || !isNameStart(n[0]) {
				t.Fatalf("MetricNames(%q) gave %q", expr, n)
			}
		}
	})
}
