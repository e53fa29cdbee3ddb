package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/protocol/sse"
	"github.com/numerek/numerek/queue"
)

// officeClock is the office-local wall time the server is started at:
// a Monday morning, moved on by the time the run has taken and by whole
// office days when the run says the night has passed.
type officeClock struct {
	mu    sync.Mutex
	start time.Time // office-local wall time, held in UTC
	since time.Time
	days  int
}

func newOfficeClock(wall string) *officeClock {
	t, err := time.Parse("2006-01-02T15:04:05", wall)
	if err != nil {
		panic(err) // a constant of this program
	}
	return &officeClock{start: t, since: time.Now()}
}

func (c *officeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.start.Add(time.Since(c.since))
	for range c.days {
		t = t.AddDate(0, 0, 1)
		for t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
			t = t.AddDate(0, 0, 1)
		}
	}
	return t
}

// nextDay moves the clock to the same time of the next working day.
func (c *officeClock) nextDay() {
	c.mu.Lock()
	c.days++
	c.mu.Unlock()
}

// outcome is what a kiosk made of one ticket request in the end.
type outcome struct {
	request string
	service string
	// ticket and number are set when the server acknowledged a ticket.
	ticket, number string
	// nothing: the server answered 204, no ticket to print.
	nothing bool
	// refused: the server said why not (closed, cut-off), with no ticket.
	refused  string
	attempts int
}

// serverLoad is the traffic on the server across its kills.
type serverLoad struct {
	o        *office
	services []string

	mu       sync.Mutex
	requests []outcome
	calls    []ackedCall
	subs     []*subscriber
	issued   atomic.Int64
	called   atomic.Int64
	retries  atomic.Int64
}

type ackedCall struct {
	ticket  string
	counter int
}

// runServerKills is the first part: the server killed with SIGKILL under
// kiosks, counters and stream subscribers, again and again.
func runServerKills(ctx context.Context, s settings, rep *report) error {
	data := filepath.Join(s.work, s.store, "server")
	clock := newOfficeClock("2026-11-23T08:00:00")
	tokens := map[string][]string{
		"kiosk-1": {"--role", "ticket", "--label", "kiosk-1"},
		"kiosk-2": {"--role", "ticket", "--label", "kiosk-2"},
		"kiosk-3": {"--role", "ticket", "--label", "kiosk-3"},
		"clerk":   {"--role", "clerk", "--label", "anna"},
		"hall":    {"--role", "hall", "--label", "hall"},
	}
	storeURL, err := s.officeStore(ctx, "server")
	if err != nil {
		return err
	}
	o, err := newOffice(filepath.Join(s.bin, "queue-server"), data, storeURL, s.echo, clock.now, tokens)
	if err != nil {
		return err
	}
	if err := o.start(); err != nil {
		return err
	}
	defer func() { o.proc.kill() }()
	if err := o.writing(30 * time.Second); err != nil {
		return err
	}
	load := &serverLoad{o: o, services: []string{"family", "maintenance", "child800", "good-start", "care", "documents"}}
	kioskIDs := map[string]bool{}
	for _, k := range []string{"kiosk-1", "kiosk-2", "kiosk-3"} {
		id, err := o.tokenID(ctx, k)
		if err != nil {
			return err
		}
		kioskIDs[id] = true
	}

	stop := make(chan struct{})
	var workers sync.WaitGroup
	for i, k := range []string{"kiosk-1", "kiosk-2", "kiosk-3"} {
		workers.Add(1)
		go func() { defer workers.Done(); load.kiosk(ctx, k, i, stop) }()
	}
	for n := 1; n <= 6; n++ {
		workers.Add(1)
		go func() { defer workers.Done(); load.counter(ctx, n, stop) }()
	}
	subCtx, stopSubs := context.WithCancel(ctx)
	defer stopSubs()
	var subsDone sync.WaitGroup
	for i := range 3 {
		sub := &subscriber{name: fmt.Sprintf("subscriber-%d", i+1), o: o}
		load.subs = append(load.subs, sub)
		subsDone.Add(1)
		go func() { defer subsDone.Done(); sub.follow(subCtx) }()
	}

	dayAt := map[int]bool{}
	for d := 1; d <= s.days; d++ {
		dayAt[s.cycles*d/(s.days+1)] = true
	}
	minUp := 100 * time.Millisecond
	// recovered is how long each kill kept the office from writing: to
	// the next life ready on bbolt, to it holding the lease on
	// PostgreSQL, which the killed node held for its TTL still.
	var recovered []time.Duration
	waitingKills := 0
	for cycle := 1; cycle <= s.cycles; cycle++ {
		if ctx.Err() != nil {
			break
		}
		up := minUp + time.Duration(s.rng.Int64N(int64(s.maxUp-minUp)+1))
		select {
		case <-time.After(up):
		case <-ctx.Done():
		}
		// Now and then, and at every change of day, a request the server
		// stores just before the kill whose answer the kiosk never gets.
		probe := dayAt[cycle] || cycle%10 == 0
		var lost outcome
		if probe {
			lost = load.unanswered(ctx, cycle)
		}
		killed := time.Now()
		o.proc.kill()
		if dayAt[cycle] {
			clock.nextDay()
		}
		time.Sleep(time.Duration(s.rng.Int64N(int64(200 * time.Millisecond))))
		if err := o.start(); err != nil {
			close(stop)
			return fmt.Errorf("restart after kill %d: %w", cycle, err)
		}
		if o.store != "" && cycle%5 == 0 {
			// Killed again while it waits for the lease its former life
			// holds: the next life waits for the same lease.
			time.Sleep(time.Duration(s.rng.Int64N(int64(300 * time.Millisecond))))
			o.proc.kill()
			waitingKills++
			if err := o.start(); err != nil {
				close(stop)
				return fmt.Errorf("restart after kill %d (of a node waiting for the lease): %w", cycle, err)
			}
		}
		// A life's time is counted from when it writes: on PostgreSQL the
		// kills would otherwise mostly end lives still waiting for the
		// lease, and the load would hardly reach the log.
		if err := o.writing(30 * time.Second); err != nil {
			close(stop)
			return fmt.Errorf("after kill %d: %w", cycle, err)
		}
		recovered = append(recovered, time.Since(killed))
		if lost.request != "" {
			load.retry(ctx, lost)
		}
		if cycle%20 == 0 {
			fmt.Fprintf(s.out, "  %d/%d kills, %d tickets, %d calls\n", cycle, s.cycles, load.issued.Load(), load.called.Load())
		}
	}
	// The last life of the server: let the kiosks finish what they asked,
	// the subscribers catch up, then stop it and read its log from disk.
	time.Sleep(300 * time.Millisecond)
	close(stop)
	workers.Wait()
	var v queue.View
	if _, err := o.api(ctx, http.DefaultClient, "clerk", "GET", "/state", "", &v); err != nil {
		return fmt.Errorf("reading the state after the last restart: %w", err)
	}
	behind := 0
	_ = waitFor("the subscribers to catch up", 10*time.Second, func() bool {
		behind = 0
		for _, sub := range load.subs {
			if sub.last.Load() < v.Seq {
				behind++
			}
		}
		return behind == 0
	})
	stopSubs()
	subsDone.Wait()
	// Tickets acknowledged today must be there for their residents.
	missingNow := 0
	for _, r := range load.requests {
		if r.ticket == "" || !strings.HasPrefix(r.ticket, v.Day) {
			continue
		}
		var tv protocol.TicketResponse
		if _, err := o.api(ctx, http.DefaultClient, "clerk", "GET", "/tickets/"+r.ticket, "", &tv); err != nil {
			missingNow++
		}
	}
	o.proc.stop()

	events, err := o.readLog(ctx)
	if err != nil {
		return err
	}
	load.judge(events, kioskIDs, rep)
	if missingNow > 0 {
		rep.add("lost", float64(missingNow), fmt.Sprintf("%d tickets acknowledged today are unknown to the server after its last restart", missingNow))
	}
	gaps, repeats := 0, 0
	for _, sub := range load.subs {
		gaps += int(sub.gaps.Load())
		repeats += int(sub.repeats.Load())
	}
	rep.add("stream", float64(gaps), fmt.Sprintf("%d events skipped by subscribers", gaps))
	rep.add("stream", float64(repeats), fmt.Sprintf("%d events sent twice to subscribers", repeats))
	rep.add("stream", float64(behind), fmt.Sprintf("%d subscribers never caught up with seq %d", behind, v.Seq))
	days := map[string]bool{}
	for _, e := range events {
		if d, ok := e.Body.(queue.DayRolledOver); ok {
			days[d.Day] = true
		}
	}
	acked := 0
	for _, r := range load.requests {
		if r.ticket != "" {
			acked++
		}
	}
	slices.Sort(recovered)
	if len(recovered) > 0 {
		rep.note("server: writing again %.1f s after a kill (median), %.1f s at worst; %s",
			recovered[len(recovered)/2].Seconds(), recovered[len(recovered)-1].Seconds(), recoveryWhy(o.store != ""))
	}
	if waitingKills > 0 {
		rep.note("server: %d of its lives killed again while waiting for the lease", waitingKills)
	}
	rep.note("server: %d SIGKILLs, %d office days, %d ticket requests (%d acknowledged, %d retried after a failure), %d calls acknowledged, %d events, %d stream subscribers",
		s.cycles+waitingKills, len(days), len(load.requests), acked, load.retries.Load(), len(load.calls), len(events), len(load.subs))
	return nil
}

// recoveryWhy says what the time to write again after a kill is made of.
func recoveryWhy(pg bool) string {
	if pg {
		return "the restarted node, another process under the same --node name, waits for the lease its killed life held to expire (TTL 3 s)"
	}
	return "the restart and the reading of the log"
}

// kiosk asks for tickets as a kiosk does: each request has its own id and
// is retried with the same id until the server answers it.
func (l *serverLoad) kiosk(ctx context.Context, token string, k int, stop <-chan struct{}) {
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		r := outcome{request: fmt.Sprintf("%s-%06d", token, i), service: l.services[(k+i)%len(l.services)]}
		body := fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":%q}`, r.service, r.request)
		if !l.ask(ctx, client, token, body, &r) {
			return
		}
		l.mu.Lock()
		l.requests = append(l.requests, r)
		l.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

// unanswered sends a ticket request whose answer is lost on the way, as
// when the server dies between storing a ticket and answering.
func (l *serverLoad) unanswered(ctx context.Context, cycle int) outcome {
	r := outcome{request: fmt.Sprintf("lost-answer-%04d", cycle), service: "family", attempts: 1}
	body := fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":%q}`, r.service, r.request)
	client := &http.Client{Timeout: 5 * time.Second}
	status, _ := l.o.api(ctx, client, "kiosk-3", "POST", "/tickets", body, nil)
	if status != http.StatusCreated {
		return outcome{} // not stored (refused, or the server is busy): nothing to retry
	}
	return r
}

// retry asks again for a request whose answer was lost, after the
// restart, until the server answers.
func (l *serverLoad) retry(ctx context.Context, r outcome) {
	body := fmt.Sprintf(`{"service":%q,"lang":"pl","request_id":%q}`, r.service, r.request)
	client := &http.Client{Timeout: 5 * time.Second}
	l.ask(ctx, client, "kiosk-3", body, &r)
	l.mu.Lock()
	l.requests = append(l.requests, r)
	l.mu.Unlock()
}

// counter calls the next resident again and again (each call finishes
// the one before), opening the counter when it is closed.
func (l *serverLoad) counter(ctx context.Context, n int, stop <-chan struct{}) {
	client := &http.Client{Timeout: 5 * time.Second}
	path := fmt.Sprintf("/counters/%d/", n)
	for {
		select {
		case <-stop:
			return
		default:
		}
		if ctx.Err() != nil {
			return
		}
		var tr protocol.TicketResponse
		status, _ := l.o.api(ctx, client, "clerk", "POST", path+"next", "", &tr)
		switch {
		case status == http.StatusOK && tr.Ticket.ID != "":
			l.mu.Lock()
			l.calls = append(l.calls, ackedCall{ticket: tr.Ticket.ID, counter: n})
			l.mu.Unlock()
			l.called.Add(1)
		case status >= 400 && status < 500:
			_, _ = l.o.api(ctx, client, "clerk", "POST", path+"open", "", nil)
		case status == 0 || status >= 500:
			time.Sleep(20 * time.Millisecond)
			continue
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// judge compares what the kiosks and counters were told with the log the
// server kept.
func (l *serverLoad) judge(events []queue.Event, kioskIDs map[string]bool, rep *report) {
	rep.measured("lost", "duplicated", "repeated", "phantom", "retry", "calls-lost", "stream")
	issued := map[string]queue.Ticket{}
	byRequest := map[string][]string{}
	numbers := map[string]int{}
	called := map[ackedCall]bool{}
	for _, e := range events {
		switch b := e.Body.(type) {
		case queue.TicketIssued:
			issued[b.Ticket.ID] = b.Ticket
			numbers[b.Ticket.Day+" "+b.Ticket.Number]++
			if b.RequestID != "" {
				byRequest[b.RequestID] = append(byRequest[b.RequestID], b.Ticket.ID)
			}
		case queue.TicketCalled:
			called[ackedCall{b.Ticket, b.Counter}] = true
		}
	}
	for _, r := range l.requests {
		if r.ticket != "" {
			if _, ok := issued[r.ticket]; !ok {
				rep.add("lost", 1, fmt.Sprintf("%s acknowledged as %s, not in the log", r.request, r.ticket))
			}
		}
	}
	for dn, n := range numbers {
		if n > 1 {
			rep.add("repeated", float64(n-1), fmt.Sprintf("%s issued %d times", dn, n))
		}
	}
	asked := map[string]outcome{}
	for _, r := range l.requests {
		asked[r.request] = r
	}
	for scoped, ids := range byRequest {
		token, id, ok := cutLast(scoped, "/")
		if !ok || !kioskIDs[token] {
			continue
		}
		if len(ids) > 1 {
			rep.add("duplicated", float64(len(ids)-1), fmt.Sprintf("request %s has tickets %v", id, ids))
		}
		r, known := asked[id]
		for _, t := range ids {
			if known && r.ticket == t {
				continue
			}
			why := "the kiosk never heard of it"
			switch {
			case !known:
				why = "the request was still unanswered when the run ended"
			case r.nothing:
				why = fmt.Sprintf("its retry (attempt %d) was answered 204, nothing to print", r.attempts)
			case r.refused != "":
				why = "its retry was refused: " + r.refused
			case r.ticket != "":
				why = "the kiosk was given " + r.ticket
			}
			// A stored request whose retry gets no ticket leaves one on
			// the server nobody holds: a phantom of its own cause.
			key := "phantom"
			if known && (r.nothing || r.refused != "") {
				key = "retry"
			}
			rep.add(key, 1, fmt.Sprintf("%s (%s) for request %s: %s", issued[t].Number, t, id, why))
		}
	}
	for _, c := range l.calls {
		if !called[c] {
			rep.add("calls-lost", 1, fmt.Sprintf("call of %s to counter %d acknowledged, not in the log", c.ticket, c.counter))
		}
	}
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", false
	}
	return s[:i], s[i+len(sep):], true
}

// subscriber follows the office's event stream as a screen does,
// resuming from the last event it had after every break, and counts
// events skipped or sent twice.
type subscriber struct {
	name    string
	o       *office
	last    atomic.Uint64
	gaps    atomic.Int64
	repeats atomic.Int64
}

func (s *subscriber) follow(ctx context.Context) {
	client := &http.Client{}
	for ctx.Err() == nil {
		err := s.once(ctx, client)
		if err != nil && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func (s *subscriber) once(ctx context.Context, client *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, "GET", s.o.url()+"/api/v1/offices/"+officeID+"/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.o.tokens["hall"])
	if last := s.last.Load(); last > 0 {
		req.Header.Set("Last-Event-ID", fmt.Sprint(last))
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: events: %s", s.name, resp.Status)
	}
	return sse.Read(resp.Body, func(m sse.Message) error {
		seq, err := m.Seq()
		if err != nil {
			return err
		}
		if m.Event == protocol.SnapshotEvent {
			// A whole state: the screen is complete again at seq.
			var snap protocol.Snapshot
			if err := json.Unmarshal(m.Data, &snap); err != nil {
				return err
			}
			if snap.Seq >= s.last.Load() {
				s.last.Store(snap.Seq)
			}
			return nil
		}
		last := s.last.Load()
		switch {
		case seq <= last:
			s.repeats.Add(1)
		case seq > last+1 && last > 0:
			s.gaps.Add(int64(seq - last - 1))
			s.last.Store(seq)
		default:
			s.last.Store(seq)
		}
		return nil
	})
}

// ask sends one ticket request, again with the same id while the server
// is down or dies answering, until it answers, and notes the answer in r.
// It is false when ctx ended first.
func (l *serverLoad) ask(ctx context.Context, client *http.Client, token, body string, r *outcome) bool {
	for ctx.Err() == nil {
		r.attempts++
		var tr protocol.TicketResponse
		status, err := l.o.api(ctx, client, token, "POST", "/tickets", body, &tr)
		switch {
		case status == http.StatusOK || status == http.StatusCreated:
			r.ticket, r.number = tr.Ticket.ID, tr.Ticket.Number
			l.issued.Add(1)
		case status == http.StatusNoContent:
			r.nothing = true
		case status >= 400 && status < 500:
			r.refused = err.Error()
		default:
			l.retries.Add(1)
			time.Sleep(20 * time.Millisecond)
			continue
		}
		return true
	}
	return false
}
