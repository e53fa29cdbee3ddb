package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/numerek/numerek/store/pgstore"
)

// fleetLeaseName is the lease of the fleet among the nodes sharing a
// database: the one that holds it runs the devices' health and alerts,
// their remote actions and updates, whose state it keeps in memory (as
// an office's actor does its queue). Office ids cannot begin with "~".
const fleetLeaseName = "~fleet"

// fleetDuty is this node's part in running the fleet: whether it runs it
// now, and the lease that says so. A node alone on bbolt always does.
type fleetDuty struct {
	lease  *pgstore.Office
	active atomic.Bool
}

// fleetDuty is the fleet's duty of a node on the shared database; nil on
// bbolt.
func (n *nodeStores) fleetDuty() *fleetDuty {
	if n == nil {
		return nil
	}
	lease := n.db.Office(fleetLeaseName, n.node, pgstore.OfficeOptions{})
	n.offices = append(n.offices, lease) // released on shutdown with the offices
	return &fleetDuty{lease: lease}
}

// Active says whether this node runs the fleet now.
func (d *fleetDuty) Active() bool { return d == nil || d.active.Load() }

// run waits for the fleet's lease and, holding it, calls take (which
// reads the fleet's state as the last holder left it) and then runs until
// the lease ends; then waits again, until ctx ends.
func (d *fleetDuty) run(ctx context.Context, take func(context.Context) error, runFleet func(context.Context), logger *slog.Logger) {
	for ctx.Err() == nil {
		lease, err := d.lease.Lead(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("asking for the fleet's lease", "err", err)
				select {
				case <-time.After(time.Second):
				case <-ctx.Done():
				}
			}
			continue
		}
		if err := take(lease); err != nil {
			logger.Error("reading the fleet's state to run it", "err", err)
			_ = d.lease.Release(ctx)
			continue
		}
		d.active.Store(true)
		logger.Info("running the fleet: the devices' health, remote actions and updates")
		runFleet(lease)
		d.active.Store(false)
		if ctx.Err() == nil {
			logger.Warn("no longer running the fleet: its lease ended")
		}
	}
}

// fleetPaths are the requests only the node running the fleet answers:
// a device's health report and action results, the fleet's API and the
// staff's device pages.
var fleetPaths = []string{"/api/v1/devices/", "/api/v1/fleet", "/api/v1/bundles", "/api/v1/rollouts", "/staff/fleet", "/staff/devices"}

func isFleetPath(p string) bool {
	for _, prefix := range fleetPaths {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// fleetGate answers the fleet's requests with 503 on a node that does
// not run the fleet now (a balancer sends them to the one that does: its
// /healthz/fleet answers 200), so no report or click is taken by a node
// that would not act on it.
func (d *fleetDuty) gate(next http.Handler) http.Handler {
	if d == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz/fleet" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			if !d.Active() {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte("another node runs the fleet\n"))
				return
			}
			_, _ = w.Write([]byte("this node runs the fleet\n"))
			return
		}
		if isFleetPath(r.URL.Path) && !d.Active() {
			w.Header().Set("Retry-After", "2")
			http.Error(w, "this node does not run the devices' fleet now: another node does (see /healthz/fleet); try again", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}
