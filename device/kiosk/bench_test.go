package kiosk

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/emulator"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/servertest"
	"github.com/numerek/numerek/store"
)

// firstByte is a network printer's line: it passes bytes to the emulator
// and notes when the first byte of a job's ticket (anything but the status
// requests DLE EOT n that come before it) arrives after each arm.
type firstByte struct {
	mu    sync.Mutex
	armed bool
	at    time.Time
	got   chan time.Time
}

func (f *firstByte) arm() {
	f.mu.Lock()
	f.armed, f.at = true, time.Time{}
	f.mu.Unlock()
}

// watch reads the host's bytes; status requests are three bytes each.
func (f *firstByte) see(p []byte, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.armed {
		return
	}
	for i := 0; i < len(p); {
		if p[i] == 0x10 && i+2 < len(p) && p[i+1] == 0x04 {
			i += 3
			continue
		}
		f.armed = false
		f.got <- now
		return
	}
}

// proxy puts a firstByte in front of the emulated printer at upstream.
func proxy(b *testing.B, upstream string, f *firstByte) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				return
			}
			go func() { io.Copy(c, up); c.Close() }()
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						f.see(buf[:n], time.Now())
						up.Write(buf[:n])
					}
					if err != nil {
						up.Close()
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkTapToFirstByte measures a resident's tap (Issue called) to the
// first byte of the ticket written to the printer's line, with everything
// real on the way: the printer's status read over TCP, the request
// journalled and synced, the server's answer (its own group commit and
// sync), the ticket journalled and synced, laid out and encoded. "online"
// asks the server; "offline" issues from the lease after the server is
// gone; "late" asks a server that issues the ticket but answers only after
// the kiosk's issue timeout (the default 1.5 s), so the kiosk prints from
// its lease, and then checks that no phantom is left: every online ticket
// the server issued too late is withdrawn once the leased ones are handed
// in ("phantoms", which must be 0). The work is done once, whatever b.N.
func BenchmarkTapToFirstByte(b *testing.B) {
	for _, mode := range []string{"online", "offline", "late"} {
		b.Run(mode, func(b *testing.B) {
			srv := servertest.Start(b, servertest.Options{})
			addr := srv.URL
			var late *lateServer
			if mode == "late" {
				late = newLateServer(b, srv)
				addr = late.URL
			}
			prof, _ := profiles.Lookup(profiles.Default)
			emu, err := emulator.New(emulator.Config{Profile: prof})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tcp, err := emu.ListenTCP(ctx, "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer tcp.Close()
			fb := &firstByte{got: make(chan time.Time, 1)}
			p, err := printer.Open(ctx, "tcp://"+proxy(b, tcp.Addr(), fb)+"?pace=off", prof, printer.Options{StatusTimeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			db, err := store.OpenDevice(filepath.Join(b.TempDir(), "device.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			clock := replica.NewClock(0)
			client, _ := protocol.NewClient(addr, srv.Office.ID, srv.Tokens["ticket"], protocol.ClientOptions{Clock: clock})
			log := slog.New(slog.DiscardHandler)
			f := replica.NewFollower(client, db, clock, log, replica.FollowOptions{})
			rounds := 100
			if mode == "late" {
				rounds = 20 // each waits out the issue timeout
			}
			k := New(client, f, db, clock, p, Options{LeaseSize: 50, LeaseLow: 50, CheckEvery: time.Hour, Log: log})
			done := make(chan struct{}, 2)
			go func() { f.Run(ctx); done <- struct{}{} }()
			go func() { k.Run(ctx); done <- struct{}{} }()
			defer func() { cancel(); <-done; <-done }()
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				left := 0
				for _, svc := range []string{"family", "maintenance", "child800", "good-start", "care"} {
					n, _ := db.LeaseLeft(svc, "2026-11-23")
					left += n
				}
				if f.Online() && left == 250 {
					break
				}
				if time.Now().After(deadline) {
					b.Fatal("the kiosk did not get its leases")
				}
			}
			// Counters open, so a hundred tickets fit in the day.
			for n := 1; n <= 6; n++ {
				srv.MustCall(srv.Tokens["clerk"], "POST", fmt.Sprintf("/counters/%d/open", n), "", 200)
			}
			switch mode {
			case "offline":
				srv.Stop()
			case "late":
				late.slow.Store(true)
			}
			services := []string{"family", "maintenance", "child800", "good-start", "care"}
			var lat []time.Duration
			for i := range rounds {
				fb.arm()
				t0 := time.Now()
				res, err := k.Issue(ctx, services[i%len(services)], "pl", false)
				if err != nil || !res.Printed || res.Offline != (mode != "online") {
					b.Fatalf("round %d: %+v %v", i, res, err)
				}
				select {
				case at := <-fb.got:
					lat = append(lat, at.Sub(t0))
				case <-time.After(5 * time.Second):
					b.Fatalf("round %d: no ticket byte reached the printer", i)
				}
			}
			slices.Sort(lat)
			q := func(p float64) float64 {
				return float64(lat[int(math.Ceil(p*float64(len(lat))))-1]) / float64(time.Millisecond)
			}
			if mode == "late" {
				// What the lease path adds to the wait for the answer.
				b.ReportMetric(q(0.99)-float64(k.opts.IssueTimeout/time.Millisecond), "over-timeout-p99-ms")
				b.ReportMetric(float64(phantoms(b, srv, db, rounds)), "phantoms")
			}
			for range b.N {
			}
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		})
	}
}

// phantoms waits for the kiosk's outbox to empty and counts the tickets
// the server issued online that still count (not withdrawn): after
// leased tickets printed for late answers, there must be none, and the
// rounds printed must all wait.
func phantoms(b *testing.B, srv *servertest.Server, db *store.DeviceDB, rounds int) int {
	waitfor.Until(b, "the kiosk's outbox to empty", 20*time.Second, func() bool {
		p, _ := db.PendingHandIns()
		return len(p) == 0
	})
	n, waiting := 0, 0
	for _, t := range srv.Tickets() {
		if !t.Leased && t.State != queue.Cancelled {
			n++
		}
		if t.State == queue.Waiting {
			waiting++
		}
	}
	if waiting != rounds {
		b.Errorf("%d tickets wait, want the %d printed", waiting, rounds)
	}
	return n
}
