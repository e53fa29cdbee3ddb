package kiosk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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

// rig is a kiosk with its server, its printer (an emulated network
// printer) and its device file, all real.
type rig struct {
	t      *testing.T
	srv    *servertest.Server
	kiosk  *Kiosk
	emu    *emulator.Printer
	db     *store.DeviceDB
	follow *replica.Follower
	// startKiosk starts the kiosk's Run; newRig has.
	startKiosk func()
	stop       func()
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{})
	return newRigAt(t, srv, srv.URL, opts)
}

// newRigAt is a rig whose kiosk reaches srv at addr (through a proxy).
func newRigAt(t *testing.T, srv *servertest.Server, addr string, opts Options) *rig {
	t.Helper()
	return newRigOn(t, srv, addr, opts, filepath.Join(t.TempDir(), "device.db"))
}

// newRigOn is a rig whose kiosk starts on the device file at path, as
// an earlier run left it.
func newRigOn(t *testing.T, srv *servertest.Server, addr string, opts Options, path string) *rig {
	t.Helper()
	r := assembleRig(t, srv, addr, opts, path)
	r.startKiosk()
	r.waitFor("the office's state", func() bool {
		return r.follow.Online() && r.follow.Office() != nil && r.follow.Status().Snapshots > 0
	})
	return r
}

// assembleRig is a rig whose follower runs but whose kiosk's background
// work (Kiosk.Run) waits for startKiosk.
func assembleRig(t *testing.T, srv *servertest.Server, addr string, opts Options, path string) *rig {
	t.Helper()
	prof, err := profiles.Lookup(profiles.Default)
	if err != nil {
		t.Fatal(err)
	}
	emu, err := emulator.New(emulator.Config{Profile: prof})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tcp, err := emu.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := printer.Open(ctx, "tcp://"+tcp.Addr(), prof, printer.Options{StatusTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenDevice(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := replica.NewClock(0)
	client, err := protocol.NewClient(addr, srv.Office.ID, srv.Tokens["ticket"], protocol.ClientOptions{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	f := replica.NewFollower(client, db, clock, log, replica.FollowOptions{OfflineAfter: 300 * time.Millisecond, Backoff: protocol.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}})
	if opts.LeaseSize == 0 {
		opts.LeaseSize, opts.LeaseLow = 20, 10
	}
	opts.Log = log
	k := New(client, f, db, clock, p, opts)
	var running sync.WaitGroup
	running.Go(func() { f.Run(ctx) })
	r := &rig{t: t, srv: srv, kiosk: k, emu: emu, db: db, follow: f}
	r.startKiosk = func() { running.Go(func() { _ = k.Run(ctx) }) }
	r.stop = func() {
		cancel()
		running.Wait()
		p.Close()
		tcp.Close()
		db.Close()
	}
	t.Cleanup(r.stop)
	return r
}

func (r *rig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	waitfor.Until(r.t, what, 10*time.Second, cond)
}

// printed is what the emulated printer has printed, ticket by ticket.
func (r *rig) printed() []emulator.Ticket {
	r.emu.Flush()
	return r.emu.Tickets()
}

func (r *rig) issue(service, lang string) Result {
	r.t.Helper()
	res, err := r.kiosk.Issue(context.Background(), service, lang, false)
	if err != nil {
		r.t.Fatalf("issuing %s in %s: %v", service, lang, err)
	}
	return res
}

// A ticket issued online is journalled, printed in the resident's
// language with the QR code of its e-ticket, and the journal says so.
func TestIssuePrintsInTheResidentsLanguage(t *testing.T) {
	r := newRig(t, Options{})
	res := r.issue("family", "uk")
	if !res.Printed || res.Offline || !strings.HasPrefix(res.ETicketURL, "http://numerek.test/") || res.Entry.Phase != store.PhasePrinted {
		t.Fatalf("result %+v", res)
	}
	if _, ok := r.srv.Tickets()[res.Entry.TicketID]; !ok {
		t.Errorf("the server has no ticket %s", res.Entry.TicketID)
	}
	tickets := r.printed()
	if len(tickets) != 1 {
		t.Fatalf("printed %d tickets, want 1", len(tickets))
	}
	text := tickets[0].Text()
	for _, want := range []string{res.Number, "Сімейні допомоги"} {
		if !strings.Contains(text, want) {
			t.Errorf("printed ticket does not say %q:\n%s", want, text)
		}
	}
	if len(tickets[0].QRCodes) != 1 || tickets[0].QRCodes[0] != res.ETicketURL {
		t.Errorf("ticket QR codes %v, want the e-ticket %s", tickets[0].QRCodes, res.ETicketURL)
	}
}

// With the server gone the kiosk issues from its lease, prints, and hands
// the tickets in when the server is back: each once, in issue order.
func TestOfflineTicketsHandedInOnceInOrder(t *testing.T) {
	r := newRig(t, Options{IssueTimeout: 300 * time.Millisecond})
	// Both services it will issue offline: the kiosk leases one service
	// after another.
	r.waitFor("leases", func() bool {
		family, _ := r.db.LeaseLeft("family", "2026-11-23")
		documents, _ := r.db.LeaseLeft("documents", "2026-11-23")
		return family == 20 && documents == 20
	})
	online := r.issue("family", "pl")
	r.waitFor("the kiosk's copy to hold the online ticket", func() bool {
		var seen bool
		r.follow.Read(func(s *queue.State) { _, seen = s.Tickets[online.Entry.TicketID] })
		return seen
	})
	r.srv.Stop()
	var offline []Result
	for i := 0; i < 6; i++ {
		offline = append(offline, r.issue([]string{"family", "documents"}[i%2], "lt"))
	}
	for _, res := range offline {
		if !res.Offline || !res.Printed || res.Entry.HandIn != store.HandInPending {
			t.Fatalf("offline result %+v", res)
		}
	}
	// People ahead, as the printed ticket says: the online family ticket,
	// then each earlier offline ticket of the same service.
	for i, want := range []int{1, 0, 2, 1, 3, 2} {
		if got := offline[i].Ahead; got != want {
			t.Errorf("offline ticket %d (%s) has %d ahead, want %d", i, offline[i].Entry.Service, got, want)
		}
	}
	if len(r.printed()) != 7 {
		t.Errorf("printed %d tickets, want 7", len(r.printed()))
	}
	if n := r.follow.Status().Connects; n < 1 {
		t.Fatal("never connected")
	}
	r.srv.Restart()
	r.waitFor("the outbox to empty", func() bool {
		p, _ := r.db.PendingHandIns()
		return len(p) == 0
	})
	tickets := r.srv.Tickets()
	var got []*queue.Ticket
	for _, res := range offline {
		tk, ok := tickets[res.Entry.TicketID]
		if !ok {
			t.Fatalf("the server lacks %s", res.Entry.TicketID)
		}
		if !tk.Leased || tk.Lang != "lt" {
			t.Errorf("handed-in ticket %+v", tk)
		}
		got = append(got, &tk)
	}
	// Their place in line follows their issue order.
	sorted := append([]*queue.Ticket(nil), got...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].QueuedAt.Before(sorted[j].QueuedAt) })
	for i := range got {
		if sorted[i].ID != got[i].ID {
			t.Errorf("line order %s at %d, want %s", sorted[i].ID, i, got[i].ID)
		}
	}
	if tickets[online.Entry.TicketID].QueuedAt.After(got[0].QueuedAt) {
		t.Error("the ticket issued online before the break is queued after the offline ones")
	}
	entries, _ := r.db.Journal(0, 0)
	done := 0
	for _, e := range entries {
		if e.HandIn == store.HandInDone {
			done++
		}
	}
	if done != 6 {
		t.Errorf("%d entries handed in, want 6", done)
	}
}

// A ticket reads the printer's status twice, whether it is issued online
// or from the lease: before printing (can it print?) and after the cut
// (did it?). The emulator counts the requests (DLE EOT n, GS r).
func TestTicketReadsPrinterStatusTwice(t *testing.T) {
	r := newRig(t, Options{CheckEvery: time.Hour, IssueTimeout: 300 * time.Millisecond})
	r.waitFor("the kiosk's first idle look at the printer", func() bool { return r.emu.Stats().StatusRequests >= 4 })
	r.waitFor("a lease", func() bool {
		left, _ := r.db.LeaseLeft("family", "2026-11-23")
		return left > 0
	})
	before := r.emu.Stats().StatusRequests
	if res := r.issue("family", "pl"); !res.Printed {
		t.Fatalf("online ticket not printed: %+v", res)
	}
	if n := r.emu.Stats().StatusRequests - before; n != 2 {
		t.Errorf("online ticket: %d status requests, want 2", n)
	}
	r.srv.Stop()
	before = r.emu.Stats().StatusRequests
	if res := r.issue("family", "pl"); !res.Printed || !res.Offline {
		t.Fatalf("offline ticket: %+v", res)
	}
	if n := r.emu.Stats().StatusRequests - before; n != 2 {
		t.Errorf("offline ticket: %d status requests, want 2", n)
	}
}

// A printer out of paper, found before issuing: the ticket is issued,
// shown on screen with its e-ticket, nothing is printed, and staff see
// the fault until paper is loaded.
func TestPaperOutShowsTheTicketOnScreen(t *testing.T) {
	r := newRig(t, Options{CheckEvery: 200 * time.Millisecond})
	// The roll ends with the first ticket (which the printer then cannot
	// confirm: its paper sensor trips at the end of it).
	r.emu.LoadPaper(1)
	first := r.issue("care", "en")
	if first.Printed || first.Entry.Phase != store.PhaseShown || !strings.Contains(first.Entry.Detail, "paper out") {
		t.Errorf("the ticket the roll ran out on counts as printed: %+v", first)
	}
	if n := len(r.printed()); n != 1 {
		t.Fatalf("printed %d tickets, want 1", n)
	}
	r.waitFor("paper out", func() bool { return !r.kiosk.printerStatus().Ready() })
	second := r.issue("care", "en")
	if second.Printed || second.ETicketURL == "" || second.Entry.Phase != store.PhaseShown || !strings.Contains(second.Entry.Detail, "paper out") {
		t.Fatalf("second ticket %+v", second)
	}
	if n := len(r.printed()); n != 1 {
		t.Errorf("the printer printed %d tickets, want 1 (no phantom)", n)
	}
	if _, ok := r.srv.Tickets()[second.Entry.TicketID]; !ok {
		t.Error("the ticket shown on screen is not on the server")
	}
	fault := func() string {
		for _, f := range r.srv.View().Faults {
			if f.Device == "kiosk" {
				return f.Fault
			}
		}
		return ""
	}
	r.waitFor("the fault on the server", func() bool { return fault() == "paper-out" })
	r.emu.LoadPaper(0)
	r.waitFor("the fault to clear", func() bool { return fault() == "" })
	if third := r.issue("care", "en"); !third.Printed {
		t.Errorf("after new paper: %+v", third)
	}
}

// The office's refusal reaches the screen as a *queue.Error, and the
// journal keeps the request as refused.
func TestRefusalIsExplained(t *testing.T) {
	r := newRig(t, Options{})
	r.srv.Clock.Set(time.Date(2026, 11, 23, 15, 25, 0, 0, r.srv.Office.Location)) // past the cut-off
	_, err := r.kiosk.Issue(context.Background(), "documents", "pl", false)
	var qe *queue.Error
	if !errors.As(err, &qe) || qe.Refusal == nil || qe.Refusal.Reason != queue.ReasonCutOff {
		t.Fatalf("issue after the cut-off: %v", err)
	}
	entries, _ := r.db.Journal(0, 0)
	if len(entries) != 1 || entries[0].Phase != store.PhaseRefused {
		t.Errorf("journal %+v", entries)
	}
	if len(r.printed()) != 0 {
		t.Error("a refused ticket was printed")
	}
}

// A booked visit is confirmed by its code and printed with its time.
func TestCheckInPrintsTheBookedVisit(t *testing.T) {
	r := newRig(t, Options{})
	slot := time.Date(2026, 11, 23, 9, 15, 0, 0, r.srv.Office.Location)
	code := r.srv.Book("family", slot)
	res, err := r.kiosk.CheckIn(context.Background(), strings.ToLower(code), "pl")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Printed || !res.BookedFor.Equal(slot) || res.Service != "family" {
		t.Errorf("check-in %+v", res)
	}
	_, err = r.kiosk.CheckIn(context.Background(), "ZZZZ-ZZZZ", "pl")
	var qe *queue.Error
	if !errors.As(err, &qe) || qe.Kind != queue.NotFound {
		t.Errorf("a wrong code: %v", err)
	}
}

// A cancelled visit's code is refused as cancelled, not as unknown, so
// the screen can say so; nothing is printed.
func TestCheckInOfACancelledVisit(t *testing.T) {
	r := newRig(t, Options{})
	slot := time.Date(2026, 11, 23, 9, 15, 0, 0, r.srv.Office.Location)
	code := r.srv.Book("family", slot)
	r.srv.CancelBooking(code)
	_, err := r.kiosk.CheckIn(context.Background(), code, "uk")
	var qe *queue.Error
	if !errors.As(err, &qe) || qe.Refusal == nil || qe.Refusal.Reason != queue.ReasonCancelled {
		t.Fatalf("check-in of a cancelled visit: %v, want the refusal %q", err, queue.ReasonCancelled)
	}
	if len(r.printed()) != 0 {
		t.Error("a cancelled visit was printed")
	}
}

// Offline with no lease left: the kiosk says it cannot issue, and the
// journal holds no half-made ticket: one leased ticket to hand in, and a
// request that printed nothing is at most to be withdrawn.
func TestOfflineWithoutLease(t *testing.T) {
	r := newRig(t, Options{LeaseSize: 1, LeaseLow: 1, IssueTimeout: 300 * time.Millisecond})
	r.waitFor("a lease", func() bool { left, _ := r.db.LeaseLeft("child800", "2026-11-23"); return left == 1 })
	r.srv.Stop()
	if res := r.issue("child800", "pl"); !res.Offline {
		t.Fatalf("first offline ticket %+v", res)
	}
	if _, err := r.kiosk.Issue(context.Background(), "child800", "pl", false); !errors.Is(err, ErrNoNumbers) {
		t.Errorf("second offline ticket: %v, want ErrNoNumbers", err)
	}
	st, _ := r.db.Stats()
	if st.ByPhase[store.PhaseIssued] != 0 || st.ByHandIn[store.HandInPending] != 1 || st.PendingHandIns != 1+st.ByHandIn[store.HandInWithdraw] {
		t.Errorf("journal %+v", st)
	}
}

// lateServer is a front to srv whose answers to POST tickets, while slow
// is set, come only after the kiosk gave up waiting: the server issues the
// ticket, and the answer is lost. It notes the request ids it held back.
type lateServer struct {
	*httptest.Server
	slow atomic.Bool
	mu   sync.Mutex
	held []string
}

func newLateServer(t testing.TB, srv *servertest.Server) *lateServer {
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1 // the event stream
	l := &lateServer{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.slow.Load() || r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/tickets") {
			rp.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		var req protocol.IssueRequest
		_ = json.Unmarshal(body, &req)
		l.mu.Lock()
		l.held = append(l.held, req.RequestID)
		l.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r.WithContext(context.WithoutCancel(r.Context()))) // the server issues the ticket...
		<-r.Context().Done()                                                 // ...and answers once the kiosk has stopped waiting
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(l.Close) // after the rig's cleanup, which ends the event stream
	return l
}

func (l *lateServer) heldBack() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.held...)
}

// A server that answers after the kiosk's timeout: the kiosk prints from
// its lease and hands that ticket in under the request id of the online
// request, so the server withdraws the ticket it issued late. Exactly one
// ticket counts, the printed one, and the office has one resident waiting.
func TestLateAnswerLeavesOnlyThePrintedTicket(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	front := newLateServer(t, srv)
	r := newRigAt(t, srv, front.URL, Options{IssueTimeout: 300 * time.Millisecond})
	r.waitFor("leases", func() bool { left, _ := r.db.LeaseLeft("family", "2026-11-23"); return left == 20 })
	front.slow.Store(true)
	res := r.issue("family", "pl")
	front.slow.Store(false)
	if !res.Offline || !res.Printed {
		t.Fatalf("with a late server: %+v", res)
	}
	held := front.heldBack()
	if len(held) != 1 || res.Entry.RequestID != held[0] {
		t.Errorf("the leased ticket's request %q, the online request(s) %v: want the same", res.Entry.RequestID, held)
	}
	r.waitFor("the outbox to empty", func() bool { p, _ := r.db.PendingHandIns(); return len(p) == 0 })
	r.assertOnlyPrinted(res)
}

// assertOnlyPrinted checks that the server has, of the family service,
// exactly one ticket that counts, the one printed, and that the printer
// printed that one alone.
func (r *rig) assertOnlyPrinted(res Result) {
	r.t.Helper()
	counting := map[string]queue.Ticket{}
	for id, tk := range r.srv.Tickets() {
		if tk.Service == "family" && tk.State != queue.Cancelled {
			counting[id] = tk
		}
	}
	if _, ok := counting[res.Entry.TicketID]; len(counting) != 1 || !ok {
		r.t.Errorf("family tickets that count %v, want only the printed %s", counting, res.Entry.TicketID)
	}
	for _, sv := range r.srv.View().Services {
		if sv.ID == "family" && sv.Waiting != 1 {
			r.t.Errorf("%d family tickets wait, want 1", sv.Waiting)
		}
	}
	printed := r.printed()
	if len(printed) != 1 || !strings.Contains(printed[0].Text(), res.Number) {
		r.t.Errorf("printed %d tickets, want the one %s", len(printed), res.Number)
	}
	entries, _ := r.db.Journal(0, 0)
	if len(entries) != 1 || entries[0].HandIn != store.HandInDone || entries[0].Number != res.Number {
		r.t.Errorf("journal %+v, want the one leased ticket, handed in", entries)
	}
}

// A kiosk stopped hard (kill -9, a power cut) at any point of a request
// the server answered too late leaves its journal so that, once started
// again, the server ends with the ticket printed or none: a request still
// waiting for its answer printed nothing and is withdrawn; a leased
// number taken for it is handed in under its request id and replaces the
// server's ticket.
func TestStoppedKioskLeavesNoPhantom(t *testing.T) {
	cases := []struct {
		name string
		// leased: the kiosk had taken a leased number for the request.
		leased bool
	}{
		{"stopped waiting for the answer", false},
		{"stopped after taking a leased number", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := servertest.Start(t, servertest.Options{})
			path := filepath.Join(t.TempDir(), "device.db")
			db, err := store.OpenDevice(path)
			if err != nil {
				t.Fatal(err)
			}
			var lease protocol.LeaseResponse
			if err := json.Unmarshal(srv.MustCall(srv.Tokens["ticket"], "POST", "/leases", `{"service":"family","count":5}`, http.StatusCreated), &lease); err != nil {
				t.Fatal(err)
			}
			if err := db.AddLease(lease.Lease); err != nil {
				t.Fatal(err)
			}
			e, err := db.BeginRequest(store.JournalEntry{Source: store.SourceServer, Service: "family", Lang: "pl", IssuedAt: srv.Clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			// The request reached the server, whose answer never came back.
			online := srv.MustCall(srv.Tokens["ticket"], "POST", "/tickets", fmt.Sprintf(`{"service":"family","lang":"pl","request_id":%q}`, e.RequestID), http.StatusCreated)
			var leased store.JournalEntry
			if c.leased {
				if leased, err = db.LeaseForRequest(e.Key, "2026-11-23", "A"); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()

			var resp protocol.TicketResponse
			if err := json.Unmarshal(online, &resp); err != nil {
				t.Fatal(err)
			}
			r := newRigOn(t, srv, srv.URL, Options{}, path)
			// Wait for the thing itself: an empty outbox alone can be seen
			// before the restarted kiosk has even put the withdrawal in it.
			r.waitFor("the server's ticket nobody holds withdrawn and the outbox empty", func() bool {
				p, _ := r.db.PendingHandIns()
				return len(p) == 0 && r.srv.Tickets()[resp.Ticket.ID].State == queue.Cancelled
			})
			waiting := 0
			for _, sv := range r.srv.View().Services {
				waiting += sv.Waiting
			}
			want := 0
			if c.leased {
				want = 1
				if tk := r.srv.Tickets()[leased.TicketID]; tk.State != queue.Waiting || !tk.Leased {
					t.Errorf("the leased ticket on the server: %+v", tk)
				}
			}
			if waiting != want {
				t.Errorf("%d tickets wait, want %d", waiting, want)
			}
			if n := len(r.printed()); n != 0 {
				t.Errorf("the restarted kiosk printed %d tickets", n)
			}
		})
	}
}

// A resident may tap before the kiosk's background work has begun (a
// busy device just started): the request in flight is not taken for one
// a power cut left behind, so the server is not told to withdraw it. Here
// Run starts while the ticket request is on its way, and the server hears
// the request only after Run has asked for its first lease. Before the
// fix the server answered 409 "withdrawn by its device" (seen once on CI);
// had its answer come first, the printed ticket would have been withdrawn.
func TestATapBeforeTheKiosksBackgroundWorkIsNotWithdrawn(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	upstream, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(upstream)
	leaseAsked := make(chan struct{})
	var asked sync.Once
	var r *rig
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch path := req.URL.Path; {
		case req.Method == "POST" && strings.HasSuffix(path, "/tickets"):
			r.startKiosk()
			select {
			case <-leaseAsked:
			case <-time.After(10 * time.Second):
				t.Error("the kiosk's Run asked for no lease within 10 s")
			}
		case req.Method == "POST" && strings.HasSuffix(path, "/leases"):
			asked.Do(func() { close(leaseAsked) })
		}
		forward.ServeHTTP(w, req)
	}))
	t.Cleanup(front.Close)
	r = assembleRig(t, srv, front.URL, Options{IssueTimeout: 20 * time.Second}, filepath.Join(t.TempDir(), "device.db"))
	r.waitFor("the office's state", func() bool { return r.follow.Online() && r.follow.Office() != nil })

	res := r.issue("family", "pl")
	if !res.Printed || res.Offline {
		t.Fatalf("the first ticket: %+v", res)
	}
	r.waitFor("the kiosk's leases", func() bool {
		n, err := r.db.LeaseLeft("family", "2026-11-23")
		return err == nil && n > 0
	})
	if p, err := r.db.PendingHandIns(); err != nil || len(p) != 0 {
		t.Errorf("the outbox holds %+v (%v), want nothing", p, err)
	}
	if tk := r.srv.Tickets()[res.Entry.TicketID]; tk.State != queue.Waiting {
		t.Errorf("the printed ticket on the server: %+v", tk)
	}
	if e, err := r.db.Entry(res.Entry.Key); err != nil || e.Phase != store.PhasePrinted || e.HandIn != store.HandInNone {
		t.Errorf("the journal has the ticket as %+v (%v), want printed with nothing to hand in", e, err)
	}
}

// Once the server's answer is journalled, the request can never take a
// leased number too: the ticket printed online is the only one.
func TestAnsweredRequestTakesNoLeasedNumber(t *testing.T) {
	r := newRig(t, Options{})
	r.waitFor("leases", func() bool { left, _ := r.db.LeaseLeft("family", "2026-11-23"); return left == 20 })
	res := r.issue("family", "pl")
	if res.Offline {
		t.Fatalf("online issue %+v", res)
	}
	if _, err := r.db.LeaseForRequest(res.Entry.Key, "2026-11-23", "A"); !errors.Is(err, store.ErrAnswered) {
		t.Errorf("a leased number for an answered request: %v, want ErrAnswered", err)
	}
	if left, _ := r.db.LeaseLeft("family", "2026-11-23"); left != 20 {
		t.Errorf("%d leased numbers left, want 20", left)
	}
}

// The hall assistant issues a ticket for a resident and sends it to this
// kiosk: the kiosk prints it once, in the resident's language, and not a
// ticket sent to another kiosk.
func TestPrintsWhatTheAssistantSends(t *testing.T) {
	r := newRig(t, Options{})
	send := func(device, service, lang, request string) queue.TicketView {
		t.Helper()
		res := r.srv.Actor().Do(context.Background(), "clerk:anna", queue.Issue{
			Service: service, Lang: lang, Channel: queue.ChannelAssistant, Device: device, RequestID: request,
		})
		if res.Err != nil || res.Ticket == nil {
			t.Fatalf("issuing for the assistant: %v", res.Err)
		}
		return *res.Ticket
	}
	mine := send("kiosk", "care", "ru", "assistant/1")
	send("kiosk-upstairs", "care", "pl", "assistant/2")
	r.waitFor("the assistant's ticket printed", func() bool { return len(r.printed()) == 1 })
	text := r.printed()[0].Text()
	for _, want := range []string{mine.Number, "Пособия по уходу"} {
		if !strings.Contains(text, want) {
			t.Errorf("printed ticket lacks %q:\n%s", want, text)
		}
	}
	// The journal says printed once the printer has confirmed it.
	var entries []store.JournalEntry
	r.waitFor("the journal to say printed", func() bool {
		var err error
		entries, err = r.db.Journal(0, 0)
		return err == nil && len(entries) == 1 && entries[0].Phase == store.PhasePrinted
	})
	if entries[0].Source != store.SourceAssistant || entries[0].TicketID != mine.ID {
		t.Errorf("journal %+v", entries)
	}
	// Later ticks do not print it again, nor the other kiosk's ticket.
	time.Sleep(2500 * time.Millisecond)
	if n := len(r.printed()); n != 1 {
		t.Errorf("%d tickets printed, want the one sent here", n)
	}
}

// lateSnapshot sends the event stream's headers at once but its first
// bytes a while later, as a loaded server does: the kiosk is online before
// it has the office's state.
type lateSnapshot struct {
	http.ResponseWriter
	delay time.Duration
	wrote bool
}

func (l *lateSnapshot) WriteHeader(code int) {
	l.ResponseWriter.WriteHeader(code)
	l.Flush()
}

func (l *lateSnapshot) Write(b []byte) (int, error) {
	if !l.wrote {
		l.wrote = true
		time.Sleep(l.delay)
	}
	return l.ResponseWriter.Write(b)
}

func (l *lateSnapshot) Flush() { l.ResponseWriter.(http.Flusher).Flush() }

// A kiosk that is online before the office's state comes (the case on a
// loaded device just started) still leases numbers as soon as the state
// does, not a whole check period later: the network may fail in between.
func TestLeasesComeAsSoonAsTheStateDoes(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	target, _ := url.Parse(srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1 // the event stream
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			w = &lateSnapshot{ResponseWriter: w, delay: 1500 * time.Millisecond}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	r := newRigAt(t, srv, front.URL, Options{CheckEvery: time.Hour})
	var open []string
	r.follow.Read(func(s *queue.State) {
		for _, svc := range srv.Office.Services {
			if s.CanIssue(srv.Clock.Now(), svc.ID) == nil {
				open = append(open, svc.ID)
			}
		}
	})
	if len(open) == 0 {
		t.Fatal("no service of the test office is open now")
	}
	r.waitFor("a lease for every open service", func() bool {
		st, err := r.kiosk.Stats()
		if err != nil {
			t.Fatal(err)
		}
		for _, svc := range open {
			if st.Leases[svc] == 0 {
				return false
			}
		}
		return true
	})
}
