package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/numerek/numerek/server/actor"
)

// raw makes a request without following redirects and returns the answer
// with its body read.
func (e *env) raw(role, method, path, body string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if role != "" {
		secret, ok := e.tokens[role]
		if !ok {
			secret = role
		}
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

// Every answer under /api/ is JSON with an "error" that says what is
// wrong: no HTML redirects for unclean paths (which would send a POST to
// another route), no plain-text 404 or 405.
func TestEveryAPIAnswerIsJSON(t *testing.T) {
	e := newEnv(t, actor.Options{})
	o := "/api/v1/offices/" + e.office.ID
	tests := []struct {
		method, path string
		status       int
		allow        string
		says         string
	}{
		{"GET", "/api/v1//offices", 400, "", "segment"},
		{"GET", "/api/v1/../v1/offices", 400, "", "segment"},
		{"GET", "/api/v1/./offices", 400, "", "segment"},
		{"POST", "/api/v1/offices/czestochowa/../" + e.office.ID + "/tickets", 400, "", "segment"},
		{"POST", o + "//tickets", 400, "", "segment"},
		{"GET", "/api", 404, "", "no route"},
		{"GET", "/api/v2/nothing", 404, "", "no route"},
		{"GET", o + "/tickets", 405, "POST", "method not allowed"},
		{"DELETE", "/api/v1/offices", 405, "GET, HEAD", "method not allowed"},
		{"PUT", "/api/v1/whoami", 405, "GET, HEAD", "method not allowed"},
		{"GET", o + "/counters/1/next", 405, "POST", "method not allowed"},
		{"POST", "/healthz", 405, "GET, HEAD", "method not allowed"},
	}
	for _, tt := range tests {
		seq := e.seq()
		resp, data := e.raw("admin", tt.method, tt.path, `{"service":"documents","lang":"pl","request_id":"unclean"}`)
		var body map[string]any
		if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || json.Unmarshal(data, &body) != nil {
			t.Errorf("%s %s: %d %s %q, want %d in JSON", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), data, tt.status)
			continue
		}
		if msg := fmt.Sprint(body["error"]); !strings.Contains(msg, tt.says) {
			t.Errorf("%s %s: error %q does not say %q", tt.method, tt.path, msg, tt.says)
		}
		if got := resp.Header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow %q, want %q", tt.method, tt.path, got, tt.allow)
		}
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Errorf("%s %s: redirected to %s", tt.method, tt.path, loc)
		}
		if e.seq() != seq {
			t.Errorf("%s %s changed the office", tt.method, tt.path)
		}
	}
}

// The documented throttle of wrong tokens holds: ten, then 429 for a
// minute, and the 429 says when to come back.
func TestWrongTokensRetryAfterAMinute(t *testing.T) {
	e := newEnv(t, actor.Options{})
	for i := range 10 {
		e.must(http.StatusUnauthorized, fmt.Sprintf("nmk_guess%d", i), "GET", e.path("/state"), "")
	}
	resp, data := e.raw("nmk_guess-more", "GET", "/api/v1/offices/"+e.office.ID+"/state", "")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("the eleventh wrong token: %d %q, want a JSON 429", resp.StatusCode, data)
	}
	secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || secs < 55 || secs > 60 {
		t.Errorf("Retry-After %q, want about a minute", resp.Header.Get("Retry-After"))
	}
	// Refused tries do not push the minute further.
	resp, _ = e.raw("nmk_guess-again", "GET", "/api/v1/offices/"+e.office.ID+"/state", "")
	if again, _ := strconv.Atoi(resp.Header.Get("Retry-After")); resp.StatusCode != http.StatusTooManyRequests || again > secs {
		t.Errorf("a refused try: %d, Retry-After %d after %d", resp.StatusCode, again, secs)
	}
}
