package device

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/numerek/numerek/device/replica"
)

// metrics are kioskd's Prometheus metrics, served on the status page's
// /metrics. Each run of a device makes its own registry (no global one),
// and no label carries personal data: modes, outcomes and fault codes.
type metrics struct {
	reg    *prometheus.Registry
	issued *prometheus.CounterVec
	prints *prometheus.CounterVec
	faults *prometheus.CounterVec
	said   prometheus.Counter
	frames prometheus.Counter
}

// newMetrics registers the device's metrics; the stream's are read from
// the follower when scraped.
func newMetrics(follower *replica.Follower) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kioskd_tickets_issued_total",
			Help: "Tickets this kiosk issued since kioskd started, online (by the server) or offline (from a lease).",
		}, []string{"mode"}),
		prints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kioskd_prints_total",
			Help: "Tickets sent to the printer, by outcome (ok, failed) and, for a failure, the printer's fault (paper-out, cover-open, ...; error: none known).",
		}, []string{"outcome", "reason"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kioskd_printer_faults_total",
			Help: "Times the printer came to a fault, by fault code.",
		}, []string{"fault"}),
		said: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kioskd_calls_said_total",
			Help: "Announcements of calls the hall's speaker said to their end.",
		}),
		frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kioskd_frames_drawn_total",
			Help: "Frames the screen drew (an unchanged screen draws none).",
		}),
	}
	m.reg.MustRegister(m.issued, m.prints, m.faults, m.said, m.frames,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kioskd_stream_connected",
			Help: "1 while the office's event stream is open, else 0.",
		}, func() float64 {
			if connected, _ := follower.Heard(); connected {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kioskd_stream_lag_seconds",
			Help: "Seconds since the event stream last delivered anything (an event or the server's heartbeat); -1 before the first.",
		}, func() float64 {
			_, at := follower.Heard()
			if at.IsZero() {
				return -1
			}
			return time.Since(at).Seconds()
		}),
	)
	for _, mode := range []string{"online", "offline"} {
		m.issued.WithLabelValues(mode)
	}
	m.prints.WithLabelValues("ok", "")
	return m
}

// handler serves the metrics in Prometheus' text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// kiosk is the kiosk's observer (kiosk.Options.Observer).
func (m *metrics) kiosk() kioskObserver { return kioskObserver{m} }

type kioskObserver struct{ m *metrics }

func (o kioskObserver) Issued(offline bool) {
	mode := "online"
	if offline {
		mode = "offline"
	}
	o.m.issued.WithLabelValues(mode).Inc()
}

func (o kioskObserver) Printed(failure string) {
	if failure == "" {
		o.m.prints.WithLabelValues("ok", "").Inc()
		return
	}
	o.m.prints.WithLabelValues("failed", failure).Inc()
}

func (o kioskObserver) Fault(code string) { o.m.faults.WithLabelValues(code).Inc() }
