package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/store"
)

// The nodes of these tests share one bbolt log in one process. The lease
// and the fencing are the test's own, playing pgstore's part: one holder
// at a time, an epoch raised by every take-over, and a log that refuses
// the appends of a node not holding the lease at the epoch it won.

var (
	errNotWriter = errors.New("this node does not hold the office's lease")
	errNoWriter  = errors.New("no node holds the office's lease")
)

type testLease struct {
	mu     sync.Mutex
	holder string
	epoch  uint64
	end    context.CancelFunc
	// moved is closed, and replaced, when the lease may be free to take.
	moved   chan struct{}
	barred  map[string]bool
	urls    map[string]string
	members []*member
}

func newTestLease() *testLease {
	return &testLease{moved: make(chan struct{}), barred: map[string]bool{}, urls: map[string]string{}}
}

func (l *testLease) changedLocked() {
	close(l.moved)
	l.moved = make(chan struct{})
}

// cut ends node's lease as losing its database would, and keeps it from
// leading again.
func (l *testLease) cut(node string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.barred[node] = true
	if l.holder == node {
		l.end()
		l.holder = ""
	}
	l.changedLocked()
}

// steal gives the lease to another without telling its holder: what the
// fencing is for, when a holder's clock or network lies to it.
func (l *testLease) steal(thief string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holder = thief
	l.epoch++
}

func (l *testLease) owner(ctx context.Context) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == "" {
		return "", errNoWriter
	}
	return l.urls[l.holder], nil
}

func (l *testLease) holds(node string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holder == node
}

// member is one node's view of the office: its claim on the lease and its
// fenced way into the shared log.
type member struct {
	*store.OfficeLog
	lease   *testLease
	name    string
	epoch   uint64 // guarded by lease.mu
	changed chan struct{}
	// deaf nodes are never signalled that the log changed.
	deaf bool
}

func (m *member) Lead(ctx context.Context) (context.Context, error) {
	l := m.lease
	for {
		l.mu.Lock()
		if l.holder == "" && !l.barred[m.name] {
			l.holder = m.name
			l.epoch++
			m.epoch = l.epoch
			lease, end := context.WithCancel(context.Background())
			l.end = end
			l.changedLocked()
			l.mu.Unlock()
			return lease, nil
		}
		moved := l.moved
		l.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Append is fenced: it holds the lease's lock, so no take-over happens
// between the check and the write, as pgstore's row lock does.
func (m *member) Append(events []queue.Event) error {
	l := m.lease
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder != m.name || l.epoch != m.epoch {
		return errNotWriter
	}
	if err := m.OfficeLog.Append(events); err != nil {
		return err
	}
	for _, other := range l.members {
		if !other.deaf {
			select {
			case other.changed <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

type node struct {
	name     string
	actor    *actor.Actor
	member   *member
	url      string
	requests atomic.Int64 // forwarded commands this node's Handler was sent
}

type sharedOffice struct {
	t      testing.TB
	o      *queue.Office
	log    *store.OfficeLog
	lease  *testLease
	secret []byte
	now    time.Time
}

func testOffice() *queue.Office {
	o := &queue.Office{ID: "urzad", Name: "Urząd", Location: time.UTC, Languages: []string{"pl"}}
	for d := range o.Hours {
		o.Hours[d] = []queue.Interval{{Open: 0, Close: 24 * 60}}
	}
	for i, id := range []string{"meldunek", "paszport"} {
		o.Services = append(o.Services, queue.Service{ID: id, Prefix: string(rune('A' + i)),
			Names: map[string]string{"pl": id}, Priority: 1, ServiceTime: 5 * time.Minute})
	}
	for n := 1; n <= 4; n++ {
		o.Counters = append(o.Counters, queue.Counter{Number: n, Name: fmt.Sprint(n),
			Weights: map[string]float64{"meldunek": 1, "paszport": 1}})
	}
	return o
}

func newOffice(t testing.TB) *sharedOffice {
	o := testOffice()
	log, err := store.OpenOfficeLog(filepath.Join(t.TempDir(), o.ID+".db"), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return &sharedOffice{t: t, o: o, log: log, lease: newTestLease(), secret: []byte("s3cret-of-the-cluster"),
		now: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
}

type nodeOptions struct {
	deaf      bool
	pollEvery time.Duration
}

// start runs a node of the office: its actor, and its Handler behind a
// real HTTP server the other nodes forward to.
func (f *sharedOffice) start(name string, opts nodeOptions) *node {
	t := f.t
	m := &member{OfficeLog: f.log, lease: f.lease, name: name, changed: make(chan struct{}, 1), deaf: opts.deaf}
	f.lease.mu.Lock()
	f.lease.members = append(f.lease.members, m)
	f.lease.mu.Unlock()
	fwd := &Forwarder{Office: f.o.ID, Owner: f.lease.owner, Secret: f.secret}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := actor.New(f.o, m, func() time.Time { return f.now }, logger,
		actor.Options{Cluster: Office(m, m.changed, fwd), PollEvery: opts.pollEvery})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{name: name, actor: a, member: m}
	h := Handler([]*actor.Actor{a}, f.secret, logger)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.requests.Add(1)
		h.ServeHTTP(w, r)
	}))
	n.url = srv.URL
	f.lease.mu.Lock()
	f.lease.urls[name] = srv.URL
	f.lease.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return n
}

func (f *sharedOffice) startLeader(name string) *node {
	n := f.start(name, nodeOptions{})
	waitfor.Until(f.t, name+" leading", 10*time.Second, n.actor.Leading)
	return n
}

func (n *node) do(t testing.TB, cmd queue.Command) actor.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return n.actor.Do(ctx, "test", cmd)
}

func (n *node) mustDo(t testing.TB, cmd queue.Command) actor.Result {
	t.Helper()
	r := n.do(t, cmd)
	if r.Err != nil {
		t.Fatalf("%s: %T: %v", n.name, cmd, r.Err)
	}
	return r
}

func (n *node) hasTicket(t *testing.T, id string) bool {
	t.Helper()
	var ok bool
	if err := n.actor.Query(context.Background(), func(s *queue.State) { ok = s.Tickets[id] != nil }); err != nil {
		t.Fatal(err)
	}
	return ok
}

var issue = queue.Issue{Service: "meldunek", Lang: "pl", Channel: queue.ChannelKiosk}

func TestFollowerForwardsAndReadsItsOwnWrites(t *testing.T) {
	f := newOffice(t)
	leader := f.startLeader("a")
	// The follower hears of no change and reads the log only every hour:
	// what it knows of its own command it knows because it waited.
	follower := f.start("b", nodeOptions{deaf: true, pollEvery: time.Hour})
	if follower.actor.Leading() {
		t.Fatal("the follower leads while another node holds the lease")
	}
	for i := range 5 {
		r := follower.mustDo(t, issue)
		if r.Ticket == nil || r.Ticket.ID != r.Decision.Ticket {
			t.Fatalf("issue %d answered ticket view %+v for %q", i, r.Ticket, r.Decision.Ticket)
		}
		if got := follower.actor.Seq(); got < r.Seq {
			t.Errorf("answered at seq %d while the replica is at %d", r.Seq, got)
		}
		if !follower.hasTicket(t, r.Decision.Ticket) {
			t.Errorf("ticket %s is not in the follower's replica right after it was issued there", r.Decision.Ticket)
		}
		if !leader.hasTicket(t, r.Decision.Ticket) {
			t.Errorf("ticket %s is not in the leader's state", r.Decision.Ticket)
		}
	}
	if n := leader.requests.Load(); n != 5 {
		t.Errorf("the leader's handler was sent %d commands, want the follower's 5", n)
	}
	if n := follower.requests.Load(); n != 0 {
		t.Errorf("the follower's handler was sent %d commands", n)
	}
	// A refusal reaches the follower's caller as the writer's own error.
	r := follower.do(t, queue.CallNext{Counter: 9})
	want := leader.do(t, queue.CallNext{Counter: 9})
	got, ok := errors.AsType[*queue.Error](r.Err)
	if !ok || want.Err == nil {
		t.Fatalf("a call at no counter gave %v at the follower, %v at the leader", r.Err, want.Err)
	}
	if wantErr := want.Err.(*queue.Error); got.Kind != wantErr.Kind || got.Code != wantErr.Code || got.Message != wantErr.Message || fmt.Sprint(got.Params) != fmt.Sprint(wantErr.Params) {
		t.Errorf("the follower's error %+v is not the leader's %+v", got, wantErr)
	}
}

func TestFollowerHubPublishesTheLeadersEventsInOrder(t *testing.T) {
	f := newOffice(t)
	leader := f.startLeader("a")
	follower := f.start("b", nodeOptions{})
	sub, from := follower.actor.Hub().Subscribe()
	defer follower.actor.Hub().Unsubscribe(sub)
	leader.mustDo(t, queue.SetCounter{Counter: 1, Status: queue.CounterOpenStatus})
	for i := range 30 {
		on := leader
		if i%3 == 0 {
			on = follower
		}
		on.mustDo(t, issue)
		if i%2 == 1 {
			on.mustDo(t, queue.CallNext{Counter: 1})
		}
	}
	last := leader.actor.Seq()
	waitfor.Until(t, "the follower's hub to reach the leader's seq", 10*time.Second, func() bool {
		return follower.actor.Hub().Last() == last
	})
	logged, err := f.log.Events(from, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(logged) == 0 || uint64(len(logged)) != last-from {
		t.Fatalf("the log holds %d events after %d, the leader is at %d", len(logged), from, last)
	}
	for _, want := range logged {
		got, open := <-sub.C
		if !open {
			t.Fatalf("the follower's hub dropped its subscriber before event %d", want.Seq)
		}
		if got.Seq != want.Seq || got.Body.Kind() != want.Body.Kind() {
			t.Fatalf("the follower published %d %s where the log has %d %s", got.Seq, got.Body.Kind(), want.Seq, want.Body.Kind())
		}
	}
	// A client resuming on the follower gets the same events as on the leader.
	fromFollower, ok1 := follower.actor.Hub().Since(from)
	fromLeader, ok2 := leader.actor.Hub().Since(from)
	if !ok1 || !ok2 || len(fromFollower) != len(fromLeader) {
		t.Errorf("resuming after %d: %d events on the follower (%v), %d on the leader (%v)", from, len(fromFollower), ok1, len(fromLeader), ok2)
	}
}

func TestLeaseHandOverContinuesTheLog(t *testing.T) {
	f := newOffice(t)
	a := f.startLeader("a")
	b := f.start("b", nodeOptions{})
	var numbers []string
	for i := range 10 {
		on := a
		if i%2 == 1 {
			on = b
		}
		numbers = append(numbers, on.mustDo(t, issue).Ticket.Number)
	}
	before := a.actor.Seq()
	f.lease.cut("a")
	waitfor.Until(t, "b leading", 10*time.Second, b.actor.Leading)
	if a.actor.Leading() || !f.lease.holds("b") {
		t.Error("a still leads after its lease ended, or b leads without the lease")
	}
	if b.actor.Seq() != before {
		t.Errorf("b took over at seq %d, the log ended at %d", b.actor.Seq(), before)
	}
	for i := range 10 {
		on := b
		if i%2 == 1 {
			on = a // forwarded to the new writer
		}
		r := on.mustDo(t, issue)
		numbers = append(numbers, r.Ticket.Number)
		if i == 0 && r.Seq != before+1 {
			t.Errorf("the first event after the hand-over is %d, want %d", r.Seq, before+1)
		}
	}
	seen := map[string]bool{}
	for _, n := range numbers {
		if seen[n] {
			t.Errorf("number %s was given twice in %v", n, numbers)
		}
		seen[n] = true
	}
	events, err := f.log.Events(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("the log's event %d has seq %d", i+1, e.Seq)
		}
	}
	waitfor.Until(t, "a's replica to follow b", 10*time.Second, func() bool { return a.actor.Seq() == b.actor.Seq() })
}

func TestLeaderWhoseLeaseEndedStopsAcknowledging(t *testing.T) {
	f := newOffice(t)
	a := f.startLeader("a")
	a.mustDo(t, issue)
	last := a.actor.Seq()
	f.lease.cut("a")
	waitfor.Until(t, "a to stop leading", 10*time.Second, func() bool { return !a.actor.Leading() })
	// Nobody leads now: a command waits for a writer, and is never
	// acknowledged by a.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if r := a.actor.Do(ctx, "test", issue); r.Err == nil || !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Errorf("with no writer a command came to %+v, want the caller's deadline", r)
	}
	// Another node's command, sent straight to a, is turned away.
	fwd := &Forwarder{Office: f.o.ID, Secret: f.secret, Owner: func(context.Context) (string, error) { return a.url, nil }}
	if res, again, err := fwd.try(context.Background(), mustForwardBody(t, issue)); !again || res.Err != nil {
		t.Errorf("a command sent to a node that no longer leads came to %+v (%v), want 421 and another try", res, err)
	}
	if got, _ := f.log.LastSeq(); got != last {
		t.Errorf("the log moved from %d to %d with no writer", last, got)
	}
}

func TestFencingRefusesALeaderThatDoesNotKnowItLost(t *testing.T) {
	f := newOffice(t)
	a := f.startLeader("a")
	a.mustDo(t, issue)
	last := a.actor.Seq()
	// a's lease context still runs, but the lease is another's.
	f.lease.steal("z")
	r := a.do(t, issue)
	if r.Err == nil || !errors.Is(r.Err, errNotWriter) {
		t.Errorf("a's append against the fence came to %+v, want errNotWriter", r)
	}
	if a.actor.Seq() != last {
		t.Errorf("a published seq %d, the log is at %d", a.actor.Seq(), last)
	}
	if a.hasTicket(t, r.Decision.Ticket) && r.Decision.Ticket != "" {
		t.Errorf("a keeps the refused ticket %s in its state", r.Decision.Ticket)
	}
	if got, _ := f.log.LastSeq(); got != last {
		t.Errorf("the log moved from %d to %d", last, got)
	}
}

func mustForwardBody(t *testing.T, cmd queue.Command) []byte {
	t.Helper()
	data, err := queue.MarshalCommand(cmd)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(fmt.Sprintf(`{"actor":"test","command":%s}`, data))
}

func TestNothingAcknowledgedIsLostAcrossAHandOver(t *testing.T) {
	f := newOffice(t)
	a := f.startLeader("a")
	b := f.start("b", nodeOptions{})
	var (
		mu     sync.Mutex
		issued []string
		wg     sync.WaitGroup
	)
	stop := make(chan struct{})
	for c := range 8 {
		on := a
		if c%2 == 1 {
			on = b
		}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Refusals happen while the lease moves (a batch the
				// fence turned away); only what was acknowledged counts.
				if r := on.do(t, issue); r.Err == nil {
					mu.Lock()
					issued = append(issued, r.Decision.Ticket)
					mu.Unlock()
				}
			}
		})
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(issued) }
	waitfor.Until(t, "tickets issued before the hand-over", 20*time.Second, func() bool { return count() >= 40 })
	f.lease.cut("a")
	waitfor.Until(t, "b leading", 10*time.Second, b.actor.Leading)
	before := count()
	waitfor.Until(t, "tickets issued after the hand-over", 20*time.Second, func() bool { return count() >= before+40 })
	close(stop)
	wg.Wait()

	events, err := f.log.Events(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	inLog := map[string]bool{}
	numbers := map[string]bool{}
	for i, e := range events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("the log's event %d has seq %d", i+1, e.Seq)
		}
		if ti, ok := e.Body.(queue.TicketIssued); ok {
			if numbers[ti.Ticket.Number] {
				t.Errorf("number %s given twice", ti.Ticket.Number)
			}
			numbers[ti.Ticket.Number] = true
			inLog[ti.Ticket.ID] = true
		}
	}
	for _, id := range issued {
		if !inLog[id] {
			t.Errorf("ticket %s was acknowledged but is not in the log", id)
		}
	}
}
