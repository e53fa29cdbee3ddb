package server

import (
	"net/http"
)

// Meter is what the server counts for metrics (a *metrics.Set): each
// request answered, by the route pattern that took it, and each event
// stream while it is open; its Handler serves GET /metrics.
type Meter interface {
	Request(route string, status int)
	StreamOpened(kind string) (closed func())
	Handler() http.Handler
}

// The kinds of event streams StreamOpened counts: the device API's
// (GET /api/v1/offices/{office}/events) and the web pages' (the
// e-ticket's, the clerk console's).
const (
	DeviceStream = "device"
	PageStream   = "page"
)

// StreamOpened counts an event stream of kind (DeviceStream, PageStream)
// as open until closed is called; without metrics it counts nothing.
func (s *Server) StreamOpened(kind string) (closed func()) {
	if s.metrics == nil {
		return func() {}
	}
	return s.metrics.StreamOpened(kind)
}

// serveMetrics answers GET /metrics for a metrics token or a global
// admin's: the numbers are the whole server's, so an office's token may
// not read them, and a request is never let in by its address alone.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	p, ok := s.authenticateAny(w, r)
	if !ok {
		return
	}
	if !p.MayReadMetrics() {
		forbid(w, "the metrics are the whole server's: use a metrics token (queue-server token --role metrics) or an admin token of every office")
		return
	}
	s.metricsPage.ServeHTTP(w, r)
}
