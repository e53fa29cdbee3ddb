// Package apitest holds the queue server's tests to the API's OpenAPI
// document (api/openapi.yaml), so that the document cannot drift from
// what the server does: Monitor wraps a server's handler and checks every
// request under /api/ (and /healthz) and its answer against the document
// with libopenapi-validator, reporting each mismatch on the test.
//
// Every answer is checked: its status must be one the operation lists,
// its headers and body must match that status's schema. A request is
// checked when the server accepted it (2xx): a request the server takes
// must be one the document allows, while one it refuses may well be
// outside the document (that is what the tests of bad input send). The
// event stream's messages are checked against the Event and Snapshot
// schemas, which OpenAPI tools cannot do for text/event-stream. Answers
// to paths or methods the document does not name must be the server's
// JSON 400, 404 or 405.
package apitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	pathpkg "path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/numerek/numerek/api"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
)

// Checker checks exchanges against the document. It is safe for
// concurrent use.
type Checker struct {
	// Model is the document's model, for tests that walk its paths.
	Model *v3.Document

	mu      sync.Mutex // the validator is not documented as safe for concurrent use
	v       validator.Validator
	schemas schema_validation.SchemaValidator
	named   map[string]*base.Schema
}

// New parses the API's document and builds its validator.
func New() (*Checker, error) { return NewFrom(api.Document()) }

// NewFrom builds a Checker of another document, for tests of the checker.
func NewFrom(document []byte) (*Checker, error) {
	doc, err := libopenapi.NewDocument(document)
	if err != nil {
		return nil, fmt.Errorf("reading api/openapi.yaml: %w", err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("building the model of api/openapi.yaml: %w", err)
	}
	opts := []config.Option{config.WithFormatAssertions()}
	v, errs := validator.NewValidator(doc, opts...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("building the validator of api/openapi.yaml: %w", errors.Join(errs...))
	}
	c := &Checker{Model: &model.Model, v: v, schemas: schema_validation.NewSchemaValidator(opts...), named: map[string]*base.Schema{}}
	for _, name := range []string{"ErrorResponse", "Event", "Snapshot"} {
		proxy := model.Model.Components.Schemas.GetOrZero(name)
		if proxy == nil {
			return nil, fmt.Errorf("api/openapi.yaml: no schema %s", name)
		}
		s, err := proxy.BuildSchema()
		if err != nil {
			return nil, fmt.Errorf("api/openapi.yaml: schema %s: %w", name, err)
		}
		c.named[name] = s
	}
	return c, nil
}

// shared is built once: every server a test run starts checks against the
// same immutable document.
var shared = sync.OnceValues(New)

// Shared returns the process's Checker, built on first use.
func Shared() (*Checker, error) { return shared() }

// ValidateDocument reports what is wrong with the document itself, as an
// OpenAPI 3.1 document.
func (c *Checker) ValidateDocument() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, errs := c.v.ValidateDocument()
	return describe(errs)
}

// Exchange is one request and its answer as the server saw them.
type Exchange struct {
	Request *http.Request
	// RequestBody is what the server read of the request's body.
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Check returns what in the exchange the document does not allow; nil
// when all is as documented or the path is not the API's.
func (c *Checker) Check(x Exchange) []string {
	path := x.Request.URL.Path
	if !(path == "/healthz" || path == "/api" || strings.HasPrefix(path, "/api/")) || x.Request.Method == http.MethodHead {
		return nil
	}
	where := fmt.Sprintf("%s %s -> %d", x.Request.Method, x.Request.URL.RequestURI(), x.Status)
	body := x.Body
	stream := strings.HasPrefix(x.Header.Get("Content-Type"), "text/event-stream")
	if stream {
		// The validator has no schema for a stream's text; its messages are
		// checked below.
		body = nil
	}
	resp := &http.Response{StatusCode: x.Status, Header: x.Header, Body: io.NopCloser(bytes.NewReader(body)), Request: x.Request}
	c.mu.Lock()
	_, errs := c.v.ValidateHttpResponse(x.Request, resp)
	c.mu.Unlock()
	var out []string
	if routeMissing(errs) || !clean(path) {
		// The server refuses a path with an empty, "." or ".." segment
		// rather than route it, where the validator would clean it.
		out = c.checkUndocumented(x)
	} else {
		out = describe(errs)
	}
	if stream {
		out = append(out, c.checkStream(x.Body)...)
	}
	if x.Status >= 200 && x.Status < 300 {
		req := x.Request.Clone(x.Request.Context())
		req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
		req.ContentLength = int64(len(x.RequestBody))
		if len(x.RequestBody) > 0 && req.Header.Get("Content-Type") == "" {
			// The server reads a body as JSON whatever it is labelled
			// (docs/api.md); the document says application/json.
			req.Header.Set("Content-Type", "application/json")
		}
		c.mu.Lock()
		_, errs := c.v.ValidateHttpRequestSync(req)
		c.mu.Unlock()
		for _, e := range describe(errs) {
			out = append(out, "request accepted but not as documented: "+e)
		}
	}
	for i := range out {
		out[i] = where + ": " + out[i]
	}
	return out
}

// clean reports whether path has no empty, "." or ".." segment (a trailing
// slash aside).
func clean(p string) bool {
	return p == "/" || pathpkg.Clean(p) == strings.TrimSuffix(p, "/")
}

// routeMissing reports whether the validator found no operation for the
// request.
func routeMissing(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if e.IsPathMissingError() || e.IsOperationMissingError() {
			return true
		}
	}
	return false
}

// checkUndocumented checks the answer to a path or method the document
// does not name: the server's JSON refusal, never a success.
func (c *Checker) checkUndocumented(x Exchange) []string {
	switch x.Status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
	default:
		return []string{"the document names no such route, yet the server answered it"}
	}
	if ct := x.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return []string{fmt.Sprintf("an undocumented route's refusal is %q, not JSON", ct)}
	}
	if x.Status == http.StatusMethodNotAllowed && x.Header.Get("Allow") == "" {
		return []string{"405 without Allow"}
	}
	return c.checkSchema("ErrorResponse", x.Body)
}

// checkStream checks each message of an event stream: a snapshot or an
// event, its id the seq it carries and its name the event's type.
func (c *Checker) checkStream(body []byte) []string {
	var out []string
	err := sse.Read(bytes.NewReader(body), func(m sse.Message) error {
		var head struct {
			Seq  uint64 `json:"seq"`
			Type string `json:"type"`
		}
		schema, wantType := "Event", m.Event
		switch m.Event {
		case "snapshot":
			schema, wantType = "Snapshot", ""
		case protocol.ActionEvent, protocol.SettingsEvent, protocol.RevokedEvent:
			// A device's control events carry no id and no seq.
			control := map[string]string{protocol.ActionEvent: "DeviceAction", protocol.SettingsEvent: "DeviceSettings", protocol.RevokedEvent: "Revoked"}[m.Event]
			for _, p := range c.checkSchema(control, m.Data) {
				out = append(out, fmt.Sprintf("stream control event %s: %s", m.Event, p))
			}
			if m.ID != "" {
				out = append(out, fmt.Sprintf("stream control event %s carries id %q", m.Event, m.ID))
			}
			return nil
		}
		if problems := c.checkSchema(schema, m.Data); len(problems) > 0 {
			for _, p := range problems {
				out = append(out, fmt.Sprintf("stream message %s %s: %s", m.ID, m.Event, p))
			}
			return nil
		}
		if err := json.Unmarshal(m.Data, &head); err != nil {
			out = append(out, fmt.Sprintf("stream message %s: %v", m.ID, err))
			return nil
		}
		if m.ID != strconv.FormatUint(head.Seq, 10) || head.Type != wantType {
			out = append(out, fmt.Sprintf("stream message id %q event %q carries seq %d type %q", m.ID, m.Event, head.Seq, head.Type))
		}
		return nil
	})
	if err != nil {
		out = append(out, err.Error())
	}
	return out
}

// checkSchema checks a JSON body against one of the document's schemas.
func (c *Checker) checkSchema(name string, body []byte) []string {
	c.mu.Lock()
	ok, errs := c.schemas.ValidateSchemaBytes(c.named[name], body)
	c.mu.Unlock()
	if ok {
		return nil
	}
	out := describe(errs)
	for i := range out {
		out[i] = fmt.Sprintf("not a %s (%.200s): %s", name, body, out[i])
	}
	return out
}

// describe puts the validator's findings in one line each, with the
// schema failures that make them.
func describe(errs []*verrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		var b strings.Builder
		b.WriteString(e.Message)
		if e.Reason != "" && e.Reason != e.Message {
			b.WriteString(": " + e.Reason)
		}
		for _, f := range e.SchemaValidationErrors {
			b.WriteString("; ")
			if f.FieldPath != "" {
				b.WriteString(f.FieldPath + ": ")
			}
			b.WriteString(f.Reason)
		}
		out = append(out, b.String())
	}
	return out
}

// Monitor checks every exchange of the handlers it wraps and reports what
// does not match the document on its test, when the test ends: the
// handlers of streams end only as the test's server closes.
type Monitor struct {
	checker *Checker
	wg      sync.WaitGroup

	mu       sync.Mutex
	problems []string
}

// NewMonitor returns a Monitor for t. Make it before the server whose
// handler it wraps, so that the server is closed before it reports.
func NewMonitor(t testing.TB) *Monitor {
	t.Helper()
	c, err := Shared()
	if err != nil {
		t.Fatal(err)
	}
	m := &Monitor{checker: c}
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { m.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("apitest: requests still running 10 s after the test; their answers are not checked")
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, p := range m.problems {
			t.Errorf("api/openapi.yaml: %s", p)
		}
	})
	return m
}

// Wrap returns h with every exchange checked.
func (m *Monitor) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.wg.Add(1)
		defer m.wg.Done()
		in := &teeBody{ReadCloser: r.Body}
		r.Body = in
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		header := rec.header
		if header == nil {
			header = w.Header().Clone()
		}
		problems := m.checker.Check(Exchange{Request: r, RequestBody: in.buf.Bytes(), Status: status, Header: header, Body: rec.body.Bytes()})
		if len(problems) > 0 {
			m.mu.Lock()
			m.problems = append(m.problems, problems...)
			m.mu.Unlock()
		}
	})
}

// teeBody keeps what the handler reads of a request's body.
type teeBody struct {
	io.ReadCloser
	buf bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.buf.Write(p[:n])
	return n, err
}

// maxKept bounds the answer a recorder keeps (a long stream's); what
// comes after is passed on unchecked.
const maxKept = 16 << 20

// recorder keeps an answer's status, headers and body as they pass.
type recorder struct {
	http.ResponseWriter
	status int
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.header = r.ResponseWriter.Header().Clone()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if r.body.Len()+len(p) <= maxKept {
		r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}

// Flush lets event streams through.
func (r *recorder) Flush() {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (the stream's
// write deadlines).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
