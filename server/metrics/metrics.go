// Package metrics is queue-server's Prometheus metrics: the requests it
// answered (by route pattern and status code), the event streams open,
// the commands each office's actor decided and how long its group
// commits took, and, read only when Prometheus scrapes, each office's
// tickets waiting and served today, the outbox's messages and the
// devices connected. Everything is registered on a registry the caller
// makes (no global default registry), and nothing carries personal data:
// labels are route patterns, status codes, office, service and command
// names, message channels and states.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server"
	"github.com/numerek/numerek/server/actor"
)

// NoRoute is the route label of a request no route took.
const NoRoute = "none"

// Set is queue-server's metrics on one registry.
type Set struct {
	reg      *prometheus.Registry
	log      *slog.Logger
	requests *prometheus.CounterVec
	streams  *prometheus.GaugeVec
	commands *prometheus.CounterVec
	commit   *prometheus.HistogramVec
}

// New registers the server's instruments on reg. It panics if reg already
// holds them: that is a program wired wrong, not a condition to handle.
func New(reg *prometheus.Registry, log *slog.Logger) *Set {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Set{
		reg: reg, log: log,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "numerek_http_requests_total",
			Help: "HTTP requests answered, by the route pattern that took them (\"none\": no route) and status code.",
		}, []string{"route", "code"}),
		streams: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "numerek_event_streams_open",
			Help: "Event streams open now: device (the device API's) and page (e-ticket and console pages).",
		}, []string{"stream"}),
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "numerek_commands_total",
			Help: "Commands an office's actor decided, by command and outcome (ok, refused by the office, failed to store).",
		}, []string{"office", "command", "outcome"}),
		commit: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "numerek_store_commit_seconds",
			Help: "How long one group commit of an office's events took to be written and synced to disk.",
			// An SSD syncs in about a millisecond, an SD card in tens.
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 13),
		}, []string{"office"}),
	}
	reg.MustRegister(s.requests, s.streams, s.commands, s.commit)
	for _, k := range []string{server.DeviceStream, server.PageStream} {
		s.streams.WithLabelValues(k)
	}
	return s
}

var _ server.Meter = (*Set)(nil)

// Handler serves the registry's metrics in Prometheus' text format. It
// does not authenticate: the server does before it.
func (s *Set) Handler() http.Handler {
	return promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{
		ErrorLog:      slogLogger{s.log},
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// Request counts one answered request. route is the mux pattern that
// took it ("" when none did), so the label's values are the server's
// routes, never the paths clients made up.
func (s *Set) Request(route string, status int) {
	if route == "" {
		route = NoRoute
	}
	s.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// StreamOpened counts a stream of kind as open until closed is called.
func (s *Set) StreamOpened(kind string) (closed func()) {
	g := s.streams.WithLabelValues(kind)
	g.Inc()
	return g.Dec
}

// Office is the observer of one office's actor (actor.Options.Observer).
func (s *Set) Office(id string) actor.Observer {
	return &officeObserver{set: s, office: id, commit: s.commit.WithLabelValues(id), kinds: map[reflect.Type]*outcomes{}}
}

// officeObserver counts one office's commands. It is called only from
// the office's actor goroutine, so its cache of counters needs no lock;
// after a command kind's first sight, counting it allocates nothing.
type officeObserver struct {
	set    *Set
	office string
	commit prometheus.Observer
	kinds  map[reflect.Type]*outcomes
}

// outcomes are one command kind's counters.
type outcomes struct{ ok, refused, failed prometheus.Counter }

func (o *officeObserver) Committed(_ int, took time.Duration) { o.commit.Observe(took.Seconds()) }

func (o *officeObserver) Command(cmd queue.Command, err error) {
	t := reflect.TypeOf(cmd)
	c := o.kinds[t]
	if c == nil {
		name := t.Name()
		if t.Kind() == reflect.Pointer {
			name = t.Elem().Name()
		}
		v := o.set.commands
		c = &outcomes{
			ok:      v.WithLabelValues(o.office, name, "ok"),
			refused: v.WithLabelValues(o.office, name, "refused"),
			failed:  v.WithLabelValues(o.office, name, "failed"),
		}
		o.kinds[t] = c
	}
	switch {
	case err == nil:
		c.ok.Inc()
	case isRefusal(err):
		c.refused.Inc()
	default:
		c.failed.Inc()
	}
}

// isRefusal reports whether err is the office's answer (a *queue.Error:
// closed, no such ticket, bad input) rather than a failure to store.
func isRefusal(err error) bool {
	_, ok := errors.AsType[*queue.Error](err)
	return ok
}

// scrapeTimeout bounds what one scrape waits for an office's actor or the
// outbox's file: a busy office answers late rather than stall Prometheus.
const scrapeTimeout = 2 * time.Second

// Watch registers what is read from srv when Prometheus scrapes: each
// office's tickets, from its actor's state (not updated per event), and
// the devices holding their event stream open, from its fleet hub.
func (s *Set) Watch(srv *server.Server) {
	var offices []*actor.Actor
	for _, id := range srv.OfficeIDs() {
		offices = append(offices, srv.Office(id))
	}
	s.reg.MustRegister(&officeCollector{offices: offices, log: s.log})
	s.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "numerek_devices_connected",
		Help: "Devices holding their event stream open now.",
	}, func() float64 { return float64(srv.Fleet().Connected()) }))
}

var (
	waitingDesc = prometheus.NewDesc("numerek_tickets_waiting",
		"Tickets waiting in line now, by office and service.", []string{"office", "service"}, nil)
	servedDesc = prometheus.NewDesc("numerek_tickets_served_today",
		"Tickets served to the end today (the office's day), by office and service.", []string{"office", "service"}, nil)
)

// officeCollector reads each office's lines when scraped.
type officeCollector struct {
	offices []*actor.Actor
	log     *slog.Logger
}

func (c *officeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- waitingDesc
	ch <- servedDesc
}

func (c *officeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, a := range c.offices {
		o := a.Office()
		waiting, served := map[string]int{}, map[string]int{}
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		err := a.Query(ctx, func(s *queue.State) {
			for _, t := range s.Tickets {
				switch {
				case t.State == queue.Waiting:
					waiting[t.Service]++
				case t.State == queue.Done && t.Day == s.Day:
					served[t.Service]++
				}
			}
		})
		cancel()
		if err != nil {
			c.log.Warn("metrics: reading an office's lines", "office", o.ID, "err", err)
			continue
		}
		for _, svc := range o.Services {
			ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(waiting[svc.ID]), o.ID, svc.ID)
			ch <- prometheus.MustNewConstMetric(servedDesc, prometheus.GaugeValue, float64(served[svc.ID]), o.ID, svc.ID)
		}
	}
}

// slogLogger lets promhttp report errors of a scrape in the server's log.
type slogLogger struct{ log *slog.Logger }

func (l slogLogger) Println(v ...any) {
	l.log.Warn("metrics: serving a scrape", "err", fmt.Sprint(v...))
}
