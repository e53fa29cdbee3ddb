package apitest_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/numerek/numerek/api"
	"github.com/numerek/numerek/api/apitest"
)

// The checker finds what a server could get wrong: a field missing, a
// status the operation does not list, a success on a route the document
// does not name, a request accepted that the document refuses, a stream
// message that is not an event.
func TestCheckFindsMismatches(t *testing.T) {
	c, err := apitest.New()
	if err != nil {
		t.Fatal(err)
	}
	jsonHeader := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	streamHeader := http.Header{"Content-Type": {"text/event-stream"}}
	const office = "/api/v1/offices/o"
	event := `{"seq":5,"at":"2026-11-23T09:00:00+01:00","actor":"counter:1","type":"CounterOpened","data":{"counter":1}}`
	tests := []struct {
		name         string
		method, path string
		reqBody      string
		status       int
		header       http.Header
		body         string
		problem      string // "" when all is as documented
	}{
		{"as documented", "GET", "/healthz", "", 200, jsonHeader, `{"status":"ok","offices":1}`, ""},
		{"a field missing", "GET", "/healthz", "", 200, jsonHeader, `{"status":"ok"}`, "offices"},
		{"a field unknown", "GET", "/healthz", "", 200, jsonHeader, `{"status":"ok","offices":1,"uptime":3}`, "uptime"},
		{"a status not listed", "GET", "/healthz", "", 500, jsonHeader, `{"error":"x"}`, "500"},
		{"an error as documented", "GET", office + "/state", "", 404, jsonHeader, `{"error":"no office \"o\"","field":"office"}`, ""},
		{"an error without its text", "GET", office + "/state", "", 404, jsonHeader, `{"field":"office"}`, "error"},
		{"an undocumented route refused", "GET", "/api/v2/nothing", "", 404, jsonHeader, `{"error":"no route"}`, ""},
		{"an undocumented route answered", "GET", "/api/v2/nothing", "", 200, jsonHeader, `{}`, "no such route"},
		{"an undocumented refusal in text", "GET", "/api/v2/nothing", "", 404, http.Header{"Content-Type": {"text/plain"}}, "404 page not found", "not JSON"},
		{"a request accepted as documented", "POST", office + "/faults", `{"fault":"paper-out"}`, 204, http.Header{}, "", ""},
		{"a request accepted against the document", "POST", office + "/faults", `{"fault":"paper-out","colour":"red"}`, 204, http.Header{}, "", "request accepted but not as documented"},
		{"a request refused may be anything", "POST", office + "/faults", `{"colour":"red"}`, 400, jsonHeader, `{"error":"colour: unknown field","field":"colour"}`, ""},
		{"a stream as documented", "GET", office + "/events", "", 200, streamHeader, "retry: 2000\n\n: heartbeat\n\nid: 5\nevent: CounterOpened\ndata: " + event + "\n\n", ""},
		{"a stream message not an event", "GET", office + "/events", "", 200, streamHeader, "id: 5\nevent: CounterOpened\ndata: {\"seq\":5}\n\n", "not a Event"},
		{"a stream message under another name", "GET", office + "/events", "", 200, streamHeader, "id: 6\nevent: CounterOpened\ndata: " + event + "\n\n", "carries seq 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.reqBody))
			r.Header.Set("Authorization", "Bearer nmk_test")
			problems := c.Check(apitest.Exchange{Request: r, RequestBody: []byte(tt.reqBody), Status: tt.status, Header: tt.header, Body: []byte(tt.body)})
			got := strings.Join(problems, "\n")
			switch {
			case tt.problem == "" && len(problems) > 0:
				t.Errorf("found %s", got)
			case tt.problem != "" && !strings.Contains(got, tt.problem):
				t.Errorf("found %q, want a problem saying %q", got, tt.problem)
			}
		})
	}
}

// A document that is not valid OpenAPI is reported as such.
func TestValidateDocumentFindsABrokenDocument(t *testing.T) {
	broken := bytes.Replace(api.Document(), []byte("openapi: 3.1.0\ninfo:\n  title: Numerek API\n"), []byte("openapi: 3.1.0\ninfo:\n  titel: Numerek API\n"), 1)
	if bytes.Equal(broken, api.Document()) {
		t.Fatal("the document's head changed; update this test")
	}
	c, err := apitest.NewFrom(broken)
	if err != nil {
		t.Fatal(err)
	}
	if problems := c.ValidateDocument(); len(problems) == 0 {
		t.Error("a document whose info has no title passed")
	}
}
