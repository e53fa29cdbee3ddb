package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/numerek/numerek/internal/faultproxy"
	"github.com/numerek/numerek/queue"
)

// A resident holds a ticket the kiosk printed, or one it showed on its
// screen when it could not print.
var handedOut = regexp.MustCompile(`msg="(?:ticket printed|ticket shown on the screen, not printed)" .*ticket=(\S+)`)

const issueTimeout = 1500 * time.Millisecond // kioskd's default [server] issue_timeout

// runKioskProxy is the second part: a ticket kioskd whose connection to
// the server goes through a faultproxy that answers late, black-holes
// and cuts silently, while residents tap for tickets.
func runKioskProxy(ctx context.Context, s settings, rep *report) error {
	dir := filepath.Join(s.work, s.store, "kiosk")
	clock := newOfficeClock("2026-11-23T09:00:00")
	storeURL, err := s.officeStore(ctx, "kiosk")
	if err != nil {
		return err
	}
	o, err := newOffice(filepath.Join(s.bin, "queue-server"), filepath.Join(dir, "server"), storeURL, s.echo, clock.now, map[string][]string{
		"kiosk": {"--role", "ticket", "--label", "kiosk"},
		"clerk": {"--role", "clerk", "--label", "anna"},
	})
	if err != nil {
		return err
	}
	if err := o.start(); err != nil {
		return err
	}
	defer func() { o.proc.kill() }()
	proxy, err := faultproxy.Listen("127.0.0.1:0", o.addr)
	if err != nil {
		return err
	}
	defer proxy.Close()
	config, err := writeDeviceConfig(filepath.Join(dir, "device"), "chaos-kiosk", "ticket", "http://"+proxy.Addr(), o.tokenFile("kiosk"),
		fmt.Sprintf("[printer]\nuri = \"emulator://%s?pace=off\"\n", filepath.Join(dir, "paper")))
	if err != nil {
		return err
	}
	kioskdBin := filepath.Join(s.bin, "kioskd")
	k, err := startKioskd(kioskdBin, config, "chaos-kiosk", nil, s.echo)
	if err != nil {
		return err
	}
	lives := []*kioskd{k}
	defer func() { lives[len(lives)-1].stop() }()
	if err := waitFor("the kiosk's leases", 20*time.Second, func() bool {
		ks, err := k.kiosk()
		return err == nil && ks.Leases["family"] > 0
	}); err != nil {
		return err
	}
	given := func() int {
		n := 0
		for _, l := range lives {
			for _, line := range l.lines() {
				if handedOut.MatchString(line) {
					n++
				}
			}
		}
		return n
	}
	// take is a resident taking a family ticket and leaving the screen.
	take := func(k *kioskd) error {
		before := given()
		if err := k.tap("service:family"); err != nil {
			return err
		}
		if err := waitFor("the ticket", 15*time.Second, func() bool { return given() > before }); err != nil {
			return fmt.Errorf("%w:\n%s", err, k.tail(15))
		}
		// The ticket screen follows the log line by a frame or so; the
		// next resident should not wait for it to time out.
		if waitFor("the ticket screen", 3*time.Second, func() bool { return k.offers("done") }) == nil {
			return k.tap("done")
		}
		return nil
	}

	mark := time.Now()
	step := func(what string) {
		fmt.Fprintf(s.out, "  kiosk: %s (%v)\n", what, time.Since(mark).Round(100*time.Millisecond))
		mark = time.Now()
	}
	step("started with its leases")
	// Online, as a sanity check of the set-up.
	if err := take(k); err != nil {
		return err
	}
	step("a ticket online")
	// The server answers after the kiosk stopped waiting.
	proxy.SetSlow(3*issueTimeout, 0)
	for range s.faults {
		if err := take(k); err != nil {
			return fmt.Errorf("slow: %w", err)
		}
	}
	step(fmt.Sprintf("%d tickets from a slow server", s.faults))
	// Killed while waiting for a slow answer, started again.
	if err := k.tap("service:family"); err != nil {
		return err
	}
	time.Sleep(issueTimeout / 3)
	k.kill()
	if k, err = startKioskd(kioskdBin, config, "chaos-kiosk", nil, s.echo); err != nil {
		return err
	}
	lives = append(lives, k)
	proxy.Set(faultproxy.Pass)
	// Ready once it has numbers to issue offline again: started before it
	// knows the server's (test) clock, it drops its leases as of another
	// day and asks for new ones.
	if err := waitFor("the restarted kiosk ready for residents", 30*time.Second, func() bool {
		ks, err := k.kiosk()
		return err == nil && ks.Leases["family"] > 0 && k.offers("service:family")
	}); err != nil {
		return fmt.Errorf("%w:\n%s", err, k.tail(15))
	}
	step("killed in a slow request and started again")
	// A black hole: the connection is held, nothing answers.
	proxy.Set(faultproxy.BlackHole)
	for range s.faults {
		if err := take(k); err != nil {
			return fmt.Errorf("black hole: %w", err)
		}
	}
	proxy.Set(faultproxy.Pass)
	step(fmt.Sprintf("%d tickets in a black hole", s.faults))
	handIns := func() error {
		return waitFor("the kiosk to hand in its tickets", 60*time.Second, func() bool {
			ks, err := k.kiosk()
			return err == nil && ks.Journal.PendingHandIns == 0
		})
	}
	if err := handIns(); err != nil {
		return err
	}
	step("tickets handed in")

	// Silent cuts: the stream dies with no FIN; a clerk calls meanwhile.
	if _, err := o.api(ctx, http.DefaultClient, "clerk", "POST", "/counters/1/open", "", nil); err != nil {
		return err
	}
	limit := staleLimit(s)
	rep.measured("stale")
	for i := range s.cuts {
		stale, err := silentCut(ctx, o, k, proxy, limit, 1)
		if err != nil {
			return err
		}
		step(fmt.Sprintf("silent cut %d", i+1))
		rep.worst("stale", stale.seconds, fmt.Sprintf("kiosk, silent cut %d: %s", i+1, stale))
	}
	// Whatever the kiosk holds reaches the server.
	if err := handIns(); err != nil {
		return err
	}
	kioskToken, err := o.tokenID(ctx, "kiosk")
	if err != nil {
		return err
	}
	k.stop()
	o.proc.stop()
	events, err := o.readLog(ctx)
	if err != nil {
		return err
	}
	printed := map[string]int{}
	for _, l := range lives {
		for _, line := range l.lines() {
			if m := handedOut.FindStringSubmatch(line); m != nil {
				printed[m[1]]++
			}
		}
	}
	judgeKiosk(events, kioskToken, printed, rep)
	online, offline := 0, 0
	for _, l := range lives {
		for _, line := range l.lines() {
			switch {
			case strings.Contains(line, `msg="ticket printed"`) && strings.Contains(line, "offline=true"):
				offline++
			case strings.Contains(line, `msg="ticket printed"`):
				online++
			}
		}
	}
	rep.note("kiosk: behind a fault proxy: %d tickets printed online, %d from the lease (slow server, black hole, a kill in a slow request), %d silent cuts",
		online, offline, s.cuts)
	return nil
}

// judgeKiosk compares what the kiosk handed out with what the server
// kept for it.
func judgeKiosk(events []queue.Event, kioskToken string, printed map[string]int, rep *report) {
	rep.measured("lost", "duplicated", "repeated", "phantom")
	// A ticket the server withdrew (the kiosk printed from its lease
	// instead, or nothing) is one nobody can be called for: it counts
	// neither as a phantom nor as a second ticket for its request.
	withdrawn := map[string]bool{}
	for _, e := range events {
		if b, ok := e.Body.(queue.RequestWithdrawn); ok && b.Ticket != "" {
			withdrawn[b.Ticket] = true
		}
	}
	onServer := map[string]int{}
	byRequest := map[string][]string{}
	for _, e := range events {
		b, ok := e.Body.(queue.TicketIssued)
		if !ok || !strings.HasPrefix(b.RequestID, kioskToken+"/") || withdrawn[b.Ticket.ID] {
			continue
		}
		onServer[b.Ticket.Number]++
		byRequest[b.RequestID] = append(byRequest[b.RequestID], b.Ticket.Number)
	}
	for n, c := range printed {
		if c > 1 {
			rep.add("repeated", float64(c-1), fmt.Sprintf("the kiosk handed out %s %d times", n, c))
		}
		if onServer[n] == 0 {
			rep.add("lost", 1, fmt.Sprintf("the kiosk handed out %s; the server never got it", n))
		}
	}
	for n, c := range onServer {
		if c > 1 {
			rep.add("repeated", float64(c-1), fmt.Sprintf("the server issued %s %d times to the kiosk", n, c))
		}
		if printed[n] == 0 {
			rep.add("phantom", 1, fmt.Sprintf("%s waits on the server; the kiosk never printed it", n))
		}
	}
	for r, ns := range byRequest {
		if len(ns) > 1 {
			rep.add("duplicated", float64(len(ns)-1), fmt.Sprintf("kiosk request %s has tickets %v", r, ns))
		}
	}
}

// staleLimit is how long a silent cut is watched: long enough to tell
// under 10 s from over in the short run, to see how long it really
// takes in the full one.
func staleLimit(s settings) time.Duration {
	if s.cuts <= 1 {
		return 15 * time.Second
	}
	return 90 * time.Second
}

// staleness is how long a screen went on showing an old state as current.
type staleness struct {
	seconds float64
	how     string
}

func (s staleness) String() string {
	return fmt.Sprintf("%.1fs online without the call made at the cut, %s", s.seconds, s.how)
}

// silentCut cuts dev's connections silently while a clerk at counter
// calls, and measures how long dev goes on saying it is online without
// showing the call: until it says it is offline, or shows the call.
func silentCut(ctx context.Context, o *office, dev *kioskd, proxy *faultproxy.Proxy, limit time.Duration, counter int) (staleness, error) {
	var v queue.View
	if _, err := o.api(ctx, http.DefaultClient, "clerk", "GET", "/state", "", &v); err != nil {
		return staleness{}, err
	}
	if err := waitFor(dev.name+" following the server", 60*time.Second, func() bool {
		p, err := dev.page()
		return err == nil && p.Follow.Online && p.Follow.Seq >= v.Seq
	}); err != nil {
		return staleness{}, err
	}
	proxy.CutNow()
	if _, err := o.api(ctx, http.DefaultClient, "clerk", "POST", fmt.Sprintf("/counters/%d/next", counter), "", nil); err != nil {
		return staleness{}, err
	}
	if _, err := o.api(ctx, http.DefaultClient, "clerk", "GET", "/state", "", &v); err != nil {
		return staleness{}, err
	}
	called := time.Now()
	for time.Since(called) < limit {
		p, err := dev.page()
		if err == nil && !p.Follow.Online {
			return staleness{time.Since(called).Seconds(), "then said it was offline"}, nil
		}
		if err == nil && p.Follow.Seq >= v.Seq {
			return staleness{time.Since(called).Seconds(), "then showed the call"}, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return staleness{limit.Seconds(), fmt.Sprintf("still showing the old state as current when the run stopped watching after %v", limit)}, nil
}
