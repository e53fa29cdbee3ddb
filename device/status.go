package device

import (
	"context"
	"encoding/json"
	"errors"
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

func (d *dev) statusNow() Status {
	st := Status{
		Role: string(d.cfg.Role), Name: d.cfg.Name, Version: d.opts.Version,
		Office: d.cfg.Server.Office, Server: d.cfg.Server.URL, Follow: d.follower.Status(),
		OfficeTime: d.clock.Now(), ClockKnown: d.clock.Known(), ClockOffset: d.clock.Offset().Round(time.Millisecond).String(),
	}
	if d.status != nil {
		st.RoleStatus = d.status()
	}
	return st
}

// serveStatus serves the status page on addr (this machine only) until
// ctx ends: GET /status is JSON, GET /healthz says ok while the server
// can be reached, GET /metrics is for Prometheus.
func (d *dev) serveStatus(ctx context.Context, addr string) error {
	return serveStatus(addr, d.log, d.spawn, d.metrics.handler(), func() any { return d.statusNow() }, func() error {
		if !d.follower.Online() {
			return errors.New("offline: the queue server cannot be reached")
		}
		return nil
	})
}

// serveStatus serves page as GET /status, healthy as GET /healthz and,
// when not nil, metrics as GET /metrics on addr, in a goroutine spawned
// with spawn that ends with its context.
func serveStatus(addr string, log *slog.Logger, spawn func(string, func(context.Context) error), metrics http.Handler, page func() any, healthy func() error) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(page())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := healthy(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
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
