package server

import (
	"net/http"

	"github.com/numerek/numerek/api"
)

// routeMux is the server's mux, keeping the patterns registered on it so
// that a test can hold them against the API's document (api/openapi.yaml):
// a route without documentation fails there.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// serveDocument answers with the API's OpenAPI document, for integrators;
// it needs no token, as it holds nothing of any office.
func serveDocument(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(api.Document())
}
