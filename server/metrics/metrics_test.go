package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/scrape"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/server/servertest"
)

// A scrape after a morning's start holds what the office's own view says:
// the tickets waiting (in all and per service), the one served, the
// commands decided and refused, the requests by route, and the device
// stream open while a hall holds it.
func TestScrapeTellsTheOfficeAsItIs(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	o := srv.Office
	services := []string{o.Services[0].ID, o.Services[0].ID, o.Services[1].ID, o.Services[1].ID, o.Services[1].ID}
	for i, svc := range services {
		srv.MustCall(srv.Tokens["ticket"], "POST", "/tickets", fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":"m-%d"}`, svc, i), http.StatusCreated)
	}
	c1 := srv.Tokens["counter1"]
	srv.MustCall(c1, "POST", "/counters/1/open", "", http.StatusOK)
	srv.MustCall(c1, "POST", "/counters/1/next", "", http.StatusOK)
	srv.MustCall(c1, "POST", "/counters/1/finish", "", http.StatusOK)
	srv.MustCall(c1, "POST", "/counters/1/next", "", http.StatusOK)
	// A counter that is closed cannot call: the office refuses.
	srv.MustCall(srv.Tokens["counter2"], "POST", "/counters/2/next", "", http.StatusConflict)
	// A made-up path must not become a label.
	get(t, srv.URL+"/made-up-path-7f3e", "")
	get(t, srv.URL+"/api/v1/made-up-path-7f3e", "")

	view := srv.View()
	page := mustScrape(t, srv)
	office := map[string]string{"office": o.ID}
	if got, _ := page.Sum("numerek_tickets_waiting", office); int(got) != len(view.Waiting) {
		t.Errorf("numerek_tickets_waiting = %v, the office's view has %d waiting", got, len(view.Waiting))
	}
	for _, sv := range view.Services {
		got, found := page.Sum("numerek_tickets_waiting", map[string]string{"office": o.ID, "service": sv.ID})
		if !found || int(got) != sv.Waiting {
			t.Errorf("numerek_tickets_waiting of %s = %v (found %v), the view has %d", sv.ID, got, found, sv.Waiting)
		}
	}
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"numerek_tickets_served_today", office, 1},
		{"numerek_commands_total", map[string]string{"office": o.ID, "command": "Issue", "outcome": "ok"}, float64(len(services))},
		{"numerek_commands_total", map[string]string{"office": o.ID, "command": "CallNext", "outcome": "ok"}, 2},
		{"numerek_commands_total", map[string]string{"office": o.ID, "command": "CallNext", "outcome": "refused"}, 1},
		{"numerek_commands_total", map[string]string{"office": o.ID, "command": "Finish", "outcome": "ok"}, 1},
		{"numerek_commands_total", map[string]string{"outcome": "failed"}, 0},
		{"numerek_http_requests_total", map[string]string{"route": "POST /api/v1/offices/{office}/tickets", "code": "201"}, float64(len(services))},
		{"numerek_http_requests_total", map[string]string{"route": "POST /api/v1/offices/{office}/counters/{counter}/{action}", "code": "409"}, 1},
		{"numerek_http_requests_total", map[string]string{"route": "none", "code": "404"}, 1},
		{"numerek_http_requests_total", map[string]string{"route": "/api/", "code": "404"}, 1},
		{"numerek_event_streams_open", map[string]string{"stream": "device"}, 0},
		{"numerek_devices_connected", nil, 0},
	}
	for _, tt := range tests {
		if got, _ := page.Sum(tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// Every batch that wrote events was timed: as many commits as there
	// were batches, at least one, at most one per command that changed
	// something (5 tickets, open, 2 calls, finish).
	if n, _ := page.Sum("numerek_store_commit_seconds", office); n < 1 || n > 9 {
		t.Errorf("numerek_store_commit_seconds counts %v commits, want 1 to 9", n)
	}
	if strings.Contains(page.Text, "made-up-path") {
		t.Error("a path a client made up became a label value")
	}
	for _, route := range page.LabelValues("numerek_http_requests_total", "route") {
		if route != "none" && !strings.HasPrefix(route, "/") && !strings.Contains(route, " /") {
			t.Errorf("route label %q is not a route pattern", route)
		}
		if strings.Contains(route, o.ID) {
			t.Errorf("route label %q names the office: a path, not the pattern", route)
		}
	}

	// A hall holding its stream open is a device connected and a device
	// stream open; when it goes, neither.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/offices/"+o.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Tokens["hall"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	gauges := func(want float64) func() bool {
		return func() bool {
			p := mustScrape(t, srv)
			streams, _ := p.Sum("numerek_event_streams_open", map[string]string{"stream": "device"})
			devices, _ := p.Sum("numerek_devices_connected", nil)
			return streams == want && devices == want
		}
	}
	waitfor.Until(t, "the hall's stream counted open", 5*time.Second, gauges(1))
	cancel()
	resp.Body.Close()
	waitfor.Until(t, "the hall's stream counted closed", 5*time.Second, gauges(0))
}

// /metrics is the whole server's: a metrics token or an admin of every
// office reads it; no token is 401, an office's token (a clerk's, its
// admin's) 403. A metrics token reads nothing else.
func TestMetricsAccess(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	tests := []struct {
		name, token, path string
		want              int
	}{
		{"no token", "", "/metrics", http.StatusUnauthorized},
		{"unknown token", "nmk_nothing", "/metrics", http.StatusUnauthorized},
		{"clerk", srv.Tokens["clerk"], "/metrics", http.StatusForbidden},
		{"the office's admin", srv.Tokens["admin"], "/metrics", http.StatusForbidden},
		{"a device", srv.Tokens["hall"], "/metrics", http.StatusForbidden},
		{"metrics token", srv.Tokens["metrics"], "/metrics", http.StatusOK},
		{"admin of every office", srv.Tokens["global-admin"], "/metrics", http.StatusOK},
		{"metrics token on the state", srv.Tokens["metrics"], "/api/v1/offices/" + srv.Office.ID + "/state", http.StatusForbidden},
		{"metrics token on the events", srv.Tokens["metrics"], "/api/v1/offices/" + srv.Office.ID + "/events", http.StatusForbidden},
		{"metrics token on the offices", srv.Tokens["metrics"], "/api/v1/offices", http.StatusForbidden},
		{"metrics token on whoami", srv.Tokens["metrics"], "/api/v1/whoami", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, header, body := get(t, srv.URL+tt.path, tt.token)
			if status != tt.want {
				t.Fatalf("GET %s: %d %s, want %d", tt.path, status, body, tt.want)
			}
			if status == http.StatusUnauthorized && header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if status == http.StatusOK && !strings.Contains(body, "numerek_tickets_waiting") {
				t.Errorf("GET /metrics: no numerek_tickets_waiting in\n%s", body)
			}
		})
	}
	// Nor may it act.
	status, data, err := srv.Call(srv.Tokens["metrics"], "POST", "/tickets", `{"service":"`+srv.Office.Services[0].ID+`","lang":"pl","request_id":"m-x"}`)
	if err != nil || status != http.StatusForbidden {
		t.Errorf("POST tickets with a metrics token: %d %s %v, want 403", status, data, err)
	}
}

func mustScrape(t *testing.T, srv *servertest.Server) *scrape.Page {
	t.Helper()
	page, err := scrape.Get(srv.URL+"/metrics", srv.Tokens["metrics"])
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func get(t *testing.T, url, token string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}
