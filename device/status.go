package device

import (
	"context"
	"encoding/json"
	"fmt"
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
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(d.statusNow())
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !d.follower.Online() {
			http.Error(w, "offline: the queue server cannot be reached", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", d.metrics.handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	d.spawn("status page", func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			srv.Close()
		}()
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			return err
		}
		return nil
	})
	d.log.Info("status page", "listen", ln.Addr().String())
	return nil
}
