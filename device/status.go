package device

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/numerek/numerek/device/replica"
)

// Status is what the status page says: enough for a technician (or a
// monitoring script on the machine) to see that the device works.
type Status struct {
	Role        string               `json:"role"`
	Name        string               `json:"name"`
	Version     string               `json:"version"`
	Office      string               `json:"office"`
	Server      string               `json:"server"`
	Follow      replica.FollowStatus `json:"follow"`
	OfficeTime  time.Time            `json:"office_time"`
	ClockKnown  bool                 `json:"clock_known"`
	ClockOffset string               `json:"clock_offset"`
	RoleStatus  any                  `json:"role_status,omitempty"`
	// Health is the last health report, as the server has it (or was
	// not given it).
	Health HealthStatus `json:"health"`
	// Pairing is set while the device pairs: it has no role yet.
	Pairing *PairingStatus `json:"pairing,omitempty"`
}

// PairingStatus is a pairing device's part of the status page.
type PairingStatus struct {
	// State is "unpaired, code XXXX-XXXX", or what the device waits for.
	State       string `json:"state"`
	Code        string `json:"code,omitempty"`
	Fingerprint string `json:"fingerprint"`
	Unreachable bool   `json:"unreachable,omitempty"`
	Problem     string `json:"problem,omitempty"`
}

func (d *dev) statusNow(ctx context.Context) Status {
	st := Status{
		Role: string(d.cfg.Role), Name: d.cfg.Name, Version: d.opts.Version,
		Office: d.cfg.Server.Office, Server: d.cfg.Server.URL, Follow: d.follower.Status(),
		OfficeTime: d.clock.Now(), ClockKnown: d.clock.Known(), ClockOffset: d.clock.Offset().Round(time.Millisecond).String(),
	}
	if d.status != nil {
		st.RoleStatus = d.status()
	}
	st.Health = d.health.status(ctx)
	return st
}

// serveStatus serves the status page on addr (this machine only) until
// ctx ends: GET /status is JSON, GET /status.txt the health report as a
// technician reads it, GET /healthz says ok while the server can be
// reached, GET /metrics is for Prometheus.
func (d *dev) serveStatus(ctx context.Context, addr string) error {
	return serveStatus(addr, d.log, d.spawn, d.statusPage())
}

// serveStatus serves a status page's routes on addr, in a goroutine
// spawned with spawn that ends with its context.
func serveStatus(addr string, log *slog.Logger, spawn func(string, func(context.Context) error), routes http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	srv := &http.Server{Handler: routes, ReadHeaderTimeout: 5 * time.Second}
	spawn("status page", func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			srv.Close()
		}()
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			return err
		}
		return nil
	})
	log.Info("status page", "listen", ln.Addr().String())
	return nil
}

// statusPage is the status page's routes.
func (d *dev) statusPage() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", jsonStatus(func(r *http.Request) any { return d.statusNow(r.Context()) }))
	mux.HandleFunc("GET /status.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, HealthText(d.health.status(r.Context())))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !d.follower.Online() {
			http.Error(w, "offline: the queue server cannot be reached", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	if d.metrics != nil {
		mux.Handle("GET /metrics", d.metrics.handler())
	}
	return mux
}

// jsonStatus serves page as indented JSON.
func jsonStatus(page func(*http.Request) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(page(r))
	}
}
