package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek"
	"github.com/numerek/numerek/internal/scrape"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// dashboard is the part of deploy/grafana/numerek.json the tests read.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource *struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		GridPos *struct{ H, W, X, Y int } `json:"gridPos"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

const dashboardFile = "../../deploy/grafana/numerek.json"

// A kiosk whose printer runs out of paper, and a queue server with the
// outbox on, scraped as Prometheus scrapes them: kioskd's /metrics on its
// status page counts the tickets issued, those printed and those not for
// want of paper, as its journal has them, and the fault; the
// server's counts the tickets waiting as the office's view has them and
// the kiosk connected. Every query of the Grafana dashboard names only
// metrics these two export, and (where Prometheus is installed) a real
// Prometheus run on deploy/prometheus/prometheus.yml scrapes both and
// answers every query.
func TestMetricsOfServerAndKioskAndTheDashboard(t *testing.T) {
	t.Parallel()
	needDisplay(t)
	o := startOfficeWith(t, "--config", configWithOutbox(t))
	secret, err := exec.Command(o.bin, "token", "--data", o.data, "--role", "metrics", "--label", "prometheus").Output()
	if err != nil {
		t.Fatalf("queue-server token --role metrics: %v", err)
	}
	metricsToken := strings.TrimSpace(string(secret))
	paper := t.TempDir()
	// A roll of three tickets: the first comes out, and the printer
	// reports the roll's end at the latest after the third.
	emu := emulatorWithRoll(t, paper, 3)
	kiosk := startDeviceWith(t, o, "kiosk", "ticket", "kiosk", smallPanel+fmt.Sprintf("[printer]\nuri = \"tcp://%s\"\ncheck_every = \"1s\"\n", emu.addr), noFrames)
	issued, printed := 0, 0
	settled := func() (int, int) {
		j := kiosk.kiosk().Journal
		return j.ByPhase[store.PhasePrinted] + j.ByPhase[store.PhaseShown], j.ByPhase[store.PhasePrinted]
	}
	for printed == 0 || issued == printed {
		if issued == 5 {
			t.Fatalf("%d tickets, %d printed: the roll of three did not run out", issued, printed)
		}
		kiosk.tap("service:care")
		kiosk.waitTarget("done", 10*time.Second)
		kiosk.tap("done")
		issued++
		waitUntil(t, "the ticket settled", 10*time.Second, func() bool {
			var n int
			n, printed = settled()
			return n == issued
		})
	}

	device, err := scrape.Get("http://"+kiosk.status+"/metrics", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kioskd_tickets_issued_total", map[string]string{"mode": "online"}, float64(issued)},
		{"kioskd_tickets_issued_total", map[string]string{"mode": "offline"}, 0},
		{"kioskd_prints_total", map[string]string{"outcome": "ok"}, float64(printed)},
		{"kioskd_prints_total", map[string]string{"outcome": "failed", "reason": "paper-out"}, float64(issued - printed)},
		{"kioskd_stream_connected", nil, 1},
	} {
		if got, _ := device.Sum(c.name, c.labels); got != c.want {
			t.Errorf("kioskd: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if printed < 1 {
		t.Errorf("no ticket printed of %d (the journal says)", issued)
	}
	if n, _ := device.Sum("kioskd_printer_faults_total", map[string]string{"fault": "paper-out"}); n < 1 {
		t.Errorf("kioskd: the paper-out fault counted %v times", n)
	}
	// The server's heartbeat comes every 3 s.
	if lag, _ := device.Sum("kioskd_stream_lag_seconds", nil); lag < 0 || lag > 8 {
		t.Errorf("kioskd: stream lag %v s on a healthy stream", lag)
	}
	if n, _ := device.Sum("kioskd_frames_drawn_total", nil); n < 2 {
		t.Errorf("kioskd: %v frames drawn after two residents", n)
	}

	var server *scrape.Page
	waitUntil(t, "the metrics token taken (the token file is reread each second)", 5*time.Second, func() bool {
		server, err = scrape.Get(o.url()+"/metrics", metricsToken)
		return err == nil
	})
	var view queue.View
	o.api(o.tokens["clerk"], "GET", "/state", "", &view)
	if got, _ := server.Sum("numerek_tickets_waiting", nil); int(got) != len(view.Waiting) || int(got) != issued {
		t.Errorf("server: numerek_tickets_waiting = %v, the office's view has %d waiting, want %d", got, len(view.Waiting), issued)
	}
	if got, _ := server.Sum("numerek_devices_connected", nil); got != 1 {
		t.Errorf("server: numerek_devices_connected = %v with the kiosk following", got)
	}
	if got, found := server.Sum("numerek_messages", map[string]string{"state": "pending"}); !found || got != 0 {
		t.Errorf("server: numerek_messages{state=pending} = %v (found %v), want 0", got, found)
	}

	exprs := dashboardExprs(t)
	for _, e := range exprs {
		names, err := scrape.MetricNames(e.expr)
		if err != nil {
			t.Errorf("panel %q: %v", e.panel, err)
			continue
		}
		if len(names) == 0 {
			t.Errorf("panel %q: %s selects no metric", e.panel, e.expr)
		}
		for _, n := range names {
			if !server.Exports(n) && !device.Exports(n) {
				t.Errorf("panel %q: %s: neither queue-server nor kioskd exports %s", e.panel, e.expr, n)
			}
		}
	}

	prometheusAnswers(t, o.addr, kiosk.status, metricsToken, exprs, len(view.Waiting))
}

// configWithOutbox is the example office with [messages] on (an SMTP
// server nobody listens on: no message is sent here), so the server has
// its outbox and exports numerek_messages.
func configWithOutbox(t *testing.T) string {
	t.Helper()
	data, err := numerek.ExampleOffices.ReadFile(numerek.DefaultOfficeFile)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "office.toml")
	cfg := string(data) + "\n[messages]\n[messages.email]\nhost = \"127.0.0.1\"\nport = 1\ntls = \"none\"\nfrom = \"Kolejka <kolejka@example.pl>\"\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type panelExpr struct{ panel, expr string }

// dashboardExprs reads the dashboard and checks its shape as Grafana
// needs it: a title and uid, each panel an id of its own, a type, a place
// and, unless a row, the Prometheus data source and queries with refIds.
func dashboardExprs(t *testing.T) []panelExpr {
	t.Helper()
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: title %q, uid %q, %d panels", dashboardFile, d.Title, d.UID, len(d.Panels))
	}
	ids := map[int]bool{}
	var out []panelExpr
	for _, p := range d.Panels {
		if ids[p.ID] || p.Type == "" || p.Title == "" || p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("%s: panel %d %q: a repeated id, or no type, title or place", dashboardFile, p.ID, p.Title)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || len(p.Targets) == 0 {
			t.Errorf("%s: panel %q has no Prometheus data source or no query", dashboardFile, p.Title)
		}
		refs := map[string]bool{}
		for _, q := range p.Targets {
			if q.RefID == "" || refs[q.RefID] || q.Expr == "" {
				t.Errorf("%s: panel %q: a query without a refId of its own or an expr", dashboardFile, p.Title)
			}
			refs[q.RefID] = true
			out = append(out, panelExpr{p.Title, q.Expr})
		}
	}
	return out
}

// prometheusAnswers runs Prometheus on deploy/prometheus/prometheus.yml
// (its targets and token file those of this test, scraping each second)
// and waits until it has scraped both and counts the tickets waiting as
// the office does; then every query of the dashboard must be one
// Prometheus takes ($__rate_interval a minute, every office).
func prometheusAnswers(t *testing.T, serverAddr, kioskAddr, token string, exprs []panelExpr, waiting int) {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Log("prometheus is not installed (scripts/install-deps.sh installs it): the dashboard's queries are not run")
		return
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "numerek.token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../deploy/prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer(
		"scrape_interval: 15s", "scrape_interval: 1s",
		"/etc/prometheus/numerek.token", tokenFile,
		"127.0.0.1:8080", serverAddr,
		"127.0.0.1:7070", kioskAddr,
	).Replace(string(data))
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("promtool", "check", "config", cfgFile).CombinedOutput(); err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()
	start(t, "prometheus", nil, bin, "--config.file", cfgFile, "--storage.tsdb.path", filepath.Join(dir, "data"),
		"--web.listen-address", listen, "--web.enable-remote-write-receiver")
	query := func(expr string) (status string, values []float64, err error) {
		resp, err := http.Get("http://" + listen + "/api/v1/query?query=" + url.QueryEscape(expr))
		if err != nil {
			return "", nil, err
		}
		defer resp.Body.Close()
		var ans struct {
			Status string `json:"status"`
			Error  string `json:"error"`
			Data   struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
			return "", nil, err
		}
		if ans.Status != "success" {
			return ans.Status, nil, fmt.Errorf("%s", ans.Error)
		}
		for _, r := range ans.Data.Result {
			var v float64
			if s, ok := r.Value[1].(string); ok {
				fmt.Sscan(s, &v)
			}
			values = append(values, v)
		}
		return ans.Status, values, nil
	}
	var up, w []float64
	var upErr, wErr error
	if !waitfor.Within(30*time.Second, func() bool {
		_, up, upErr = query(`sum(up{job=~"queue-server|kioskd"})`)
		_, w, wErr = query(`sum(numerek_tickets_waiting)`)
		return upErr == nil && wErr == nil && len(up) == 1 && up[0] == 2 && len(w) == 1 && int(w[0]) == waiting
	}) {
		t.Fatalf("Prometheus after 30 s: targets up %v (%v), tickets waiting %v (%v), want 2 and %d", up, upErr, w, wErr, waiting)
	}
	for _, e := range exprs {
		expr := strings.NewReplacer("$__rate_interval", "1m", "$office", ".*").Replace(e.expr)
		if _, _, err := query(expr); err != nil {
			t.Errorf("panel %q: Prometheus refuses %s: %v", e.panel, expr, err)
		}
	}
}
