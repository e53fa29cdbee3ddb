package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/numerek/numerek/protocol"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 16 << 10

// badRequest is a client error that names the field at fault.
type badRequest struct {
	field string
	msg   string
	// status is 400 unless set (408 for a body too slow to arrive).
	status int
}

func (e *badRequest) Error() string { return e.msg }

func (e *badRequest) httpStatus() int {
	if e.status != 0 {
		return e.status
	}
	return http.StatusBadRequest
}

// decodeJSON reads exactly one JSON object into v, refusing unknown fields,
// wrong types and oversize bodies with a message that says where. The body
// is JSON whatever the Content-Type says, so `curl -d '{...}'` works; the
// API takes bearer tokens only, so a cross-site form cannot use it.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return &badRequest{msg: "body: more than one JSON value"}
	}
	return nil
}

func describeJSONError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &netErr) && netErr.Timeout():
		// The server's read timeout ended a body sent too slowly.
		return &badRequest{msg: "body: not received in time; send the whole request at once", status: http.StatusRequestTimeout}
	case errors.Is(err, io.EOF):
		return &badRequest{msg: "body: empty; send a JSON object"}
	case errors.As(err, &tooBig):
		return &badRequest{msg: fmt.Sprintf("body: larger than %d bytes", tooBig.Limit)}
	case errors.As(err, &syn):
		return &badRequest{msg: fmt.Sprintf("body: malformed JSON at byte %d: %v", syn.Offset, syn)}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return &badRequest{msg: fmt.Sprintf("body: must be a JSON object, not %s", typ.Value)}
		}
		return &badRequest{field: field, msg: fmt.Sprintf("%s: must be %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &badRequest{field: name, msg: fmt.Sprintf("%s: unknown field", name)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &badRequest{msg: "body: JSON ends too early"}
	}
	return &badRequest{msg: "body: " + err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int64", "uint64", "float64":
		return "a number"
	case "struct":
		return "an object"
	}
	return "a " + k
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, e protocol.ErrorResponse) {
	writeJSON(w, status, e)
}
