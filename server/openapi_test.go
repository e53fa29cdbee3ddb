package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/numerek/numerek/api"
	"github.com/numerek/numerek/api/apitest"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
)

// wildcard is a path segment that names a value: {office} in the document
// and in the mux alike.
var wildcard = regexp.MustCompile(`\{[^/}]+\}`)

// documentedOperations lists the document's operations as "METHOD path".
func documentedOperations(t *testing.T) []string {
	t.Helper()
	c, err := apitest.Shared()
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range c.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	if len(ops) == 0 {
		t.Fatal("the document has no operations")
	}
	return ops
}

// Every route the server registers is in the API's document and every
// operation of the document is a route of the server, so a route added
// without its documentation (or documentation of a route that went) fails
// here. The counter's moves share one route; each is its own operation
// in the document.
func TestEveryRouteIsDocumented(t *testing.T) {
	e := newEnv(t, actor.Options{})
	ops := documentedOperations(t)
	normal := func(path string) string { return wildcard.ReplaceAllString(path, "*") }
	documented := map[string]bool{}
	for _, op := range ops {
		documented[normal(op)] = true
	}

	var routes []string
	for _, p := range e.srv.mux.patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok {
			continue // the JSON 404 and 405 of what no route takes
		}
		if path != "/healthz" && !strings.HasPrefix(path, "/api/") {
			t.Errorf("route %q is outside the API", p)
		}
		routes = append(routes, p)
		if strings.HasSuffix(path, "/{action}") {
			for _, a := range queue.CounterActions() {
				action := a.Name
				op := method + " " + normal(strings.TrimSuffix(path, "{action}")+action)
				if !documented[op] {
					t.Errorf("counter action %q (%s) is not in api/openapi.yaml", action, op)
				}
			}
			continue
		}
		if !documented[normal(p)] {
			t.Errorf("route %q is not in api/openapi.yaml", p)
		}
	}

	// The other way: each operation reaches a route of its own, not the
	// JSON 404 of what no route takes.
	values := strings.NewReplacer("{office}", e.office.ID, "{ticket}", "A001", "{counter}", "5")
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		r := httptest.NewRequest(method, values.Replace(path), nil)
		_, pattern := e.srv.mux.Handler(r)
		if !slices.Contains(routes, pattern) {
			t.Errorf("%s: no route of the server takes it (the mux gives %q)", op, pattern)
			continue
		}
		if strings.HasSuffix(pattern, "/{action}") {
			action := path[strings.LastIndex(path, "/")+1:]
			if _, err := queue.CounterActionNamed(action); err != nil {
				t.Errorf("%s: the server has no counter action %q", op, action)
			}
		}
	}
}

// The server hands out its document, without a token, for integrators.
func TestServesItsDocument(t *testing.T) {
	e := newEnv(t, actor.Options{})
	req, err := http.NewRequest("GET", e.url+"/api/v1/openapi.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") || !bytes.Equal(got.Bytes(), api.Document()) {
		t.Errorf("GET /api/v1/openapi.yaml: %d %s, %d bytes; want 200, the document as YAML", resp.StatusCode, resp.Header.Get("Content-Type"), got.Len())
	}
}
