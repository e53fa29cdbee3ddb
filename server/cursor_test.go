package server

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/server/actor"
)

// A cursor that is not an event id is refused naming where it came from:
// the Last-Event-ID header or the "after" query parameter.
func TestBadCursorNamesItsField(t *testing.T) {
	e := newEnv(t, actor.Options{})
	tests := []struct {
		query, header, field string
	}{
		{"?after=x", "", "after"},
		{"", "x", "Last-Event-ID"},
		{"?after=1", "x", "Last-Event-ID"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest("GET", e.path("/events"+tt.query), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.tokens["hall"])
		if tt.header != "" {
			req.Header.Set("Last-Event-ID", tt.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body protocol.ErrorResponse
		err = decodeJSONResponse(resp, &body)
		if resp.StatusCode != http.StatusBadRequest || err != nil || body.Field != tt.field {
			t.Errorf("events%s with Last-Event-ID %q: %d %+v (%v), want 400 naming %s", tt.query, tt.header, resp.StatusCode, body, err, tt.field)
		}
	}
}

func decodeJSONResponse(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}
