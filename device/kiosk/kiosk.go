// Package kiosk is the ticket kiosk's work behind its touch screen: it
// issues a ticket through the server, or from the kiosk's own number lease
// when the server cannot be reached in time, journals it on disk before
// printing, prints it in the resident's language, and hands tickets issued
// offline in when the server is back. It watches the printer, shows staff
// its faults, and keeps the leases topped up.
//
// The journal (store.DeviceDB) makes a power cut harmless: a request is
// journalled with its request id before it is sent, a ticket with its
// number before a byte goes to the printer, and each later step is one
// synced write. After a restart every ticket that may be in a resident's
// hand is known, none is handed in twice (the request id makes handing in
// idempotent), and none is lost: a leased ticket whose printing was cut
// short is still handed in, since a resident may hold it.
//
// Each request ends with one ticket on the server, the one printed, or
// none. When the server answers too late, the leased ticket printed
// instead takes the request's place in the journal, in one write, and is
// handed in under the request's id, so the server withdraws the ticket it
// issued for it, which nobody holds; a request whose answer was journalled
// can never take a leased number. A request for which nothing was printed
// (no answer and no lease, or the kiosk stopped while asking) is withdrawn
// at the server through the outbox.
//
// When the printer cannot print (checked before issuing), the ticket is
// still issued, as a kiosk ticket, and shown on the screen with the QR
// code of its e-ticket page instead, so nobody gets a number that was
// never printed and nobody leaves without one; the journal marks it shown,
// and the printer's fault is reported to the server for staff to see.
package kiosk

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/numerek/numerek/device/replica"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/ticketfmt"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// Options set up a Kiosk.
type Options struct {
	// IssueTimeout bounds asking the server for a ticket; default 1.5 s.
	IssueTimeout time.Duration
	// LeaseSize numbers are asked for when fewer than LeaseLow are left
	// for a service; LeaseSize 0 turns offline issuing off.
	LeaseSize, LeaseLow int
	// PaperMM narrows tickets to 58 mm paper on an 80 mm printer.
	PaperMM int
	// Logo is printed at the top of each ticket.
	Logo image.Image
	// CheckEvery is how often the printer is checked while idle, and the
	// leases and the outbox looked after; default 10 s.
	CheckEvery time.Duration
	// AfterJournal, when set, is called once a ticket is journalled and
	// before it is printed: tests stop the process there.
	AfterJournal func(store.JournalEntry)
	Catalog      *i18n.Catalog
	Log          *slog.Logger
	// Observer, when set, hears what the kiosk did, for its metrics.
	Observer Observer
}

// Observer hears each ticket the kiosk issued and printed and each fault
// its printer came to. It is called on the issuing goroutine and the
// printer's checks: it must only count.
type Observer interface {
	// Issued: a ticket was issued, offline from a lease or online.
	Issued(offline bool)
	// Printed: the ticket came out of the printer (failure "") or did not
	// (failure is the printer's fault code, "paper-out", or "error").
	Printed(failure string)
	// Fault: the printer came to a fault (its code), from none or another.
	Fault(code string)
}

// Kiosk issues and prints tickets. Its methods are safe for concurrent
// use; tickets are issued one at a time.
type Kiosk struct {
	opts     Options
	client   *protocol.Client
	follower *replica.Follower
	db       *store.DeviceDB
	clock    *replica.Clock
	printer  *printer.Printer
	log      *slog.Logger

	issueMu sync.Mutex // one ticket at a time
	work    chan struct{}

	// recovery settles, once, what a stopped kiosk left open in the
	// journal, before the first request of this run is journalled.
	recovery    sync.Once
	recoveryErr error

	mu          sync.Mutex
	status      printer.Status
	statusErr   error
	checkedAt   time.Time
	fault       Fault // the printer's fault now
	faultSent   Fault // the fault the server was last told
	faultKnown  bool  // faultSent is what the server has
	unreachable time.Time
	lastIssued  time.Time
	// lastTicket was the last ticket printed, at lastPrinted (server clock).
	lastTicket  string
	lastPrinted time.Time
	onStatus    func(printer.Status)
	// name is what the server calls this kiosk; assisted the assistant's
	// tickets already journalled (see assistant.go).
	name     string
	assisted map[string]bool
}

// Fault is a device trouble as staff see it.
type Fault struct {
	Code   string `json:"fault"`
	Detail string `json:"detail,omitempty"`
}

// New returns a kiosk. follower supplies the office and its state; the
// kiosk's background work runs in Run.
func New(client *protocol.Client, follower *replica.Follower, db *store.DeviceDB, clock *replica.Clock, p *printer.Printer, opts Options) *Kiosk {
	if opts.IssueTimeout <= 0 {
		opts.IssueTimeout = 1500 * time.Millisecond
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = 10 * time.Second
	}
	if opts.Catalog == nil {
		opts.Catalog = i18n.Messages()
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Kiosk{
		opts: opts, client: client, follower: follower, db: db, clock: clock, printer: p, log: opts.Log,
		work: make(chan struct{}, 1), assisted: map[string]bool{},
	}
}

// OnPrinterStatus sets a function told of every printer status read (the
// screen's warning); call it before Run.
func (k *Kiosk) OnPrinterStatus(fn func(printer.Status)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.onStatus = fn
}

// Result is a ticket issued at the kiosk.
type Result struct {
	Entry   store.JournalEntry
	Number  string
	Service string
	// Printed says the ticket came out of the printer; otherwise it is
	// to be shown on the screen (with the QR code of ETicketURL, when the
	// server gave one).
	Printed    bool
	ETicketURL string
	Ahead      int
	// EstimatedWait is negative when unknown.
	EstimatedWait time.Duration
	BookedFor     time.Time
	// Offline: the ticket came from the kiosk's lease.
	Offline bool
}

// ErrNotReady means the kiosk has not yet learnt its office from the
// server (first start without a network).
var ErrNotReady = errors.New("the kiosk does not know its office yet")

// ErrNoNumbers means the server cannot be reached and the kiosk's lease
// of the service is used up.
var ErrNoNumbers = errors.New("the server cannot be reached and no leased number is left")

// Issue draws a ticket for service in lang and prints it if the printer
// is ready. An error that wraps a *queue.Error is the office's refusal.
func (k *Kiosk) Issue(ctx context.Context, service, lang string, priority bool) (Result, error) {
	k.issueMu.Lock()
	defer k.issueMu.Unlock()
	if err := k.settleLeftovers(); err != nil {
		return Result{}, err
	}
	o := k.follower.Office()
	if o == nil {
		return Result{}, ErrNotReady
	}
	svc, ok := o.Service(service)
	if !ok {
		return Result{}, fmt.Errorf("issuing a ticket: no service %q in office %s", service, o.ID)
	}
	lang = i18n.Normalize(lang)
	now := k.issueTime()

	var asked *store.JournalEntry
	if !k.skipServer() {
		e, err := k.db.BeginRequest(store.JournalEntry{Source: store.SourceServer, Service: service, Lang: lang, Priority: priority, IssuedAt: now})
		if err != nil {
			return Result{}, err
		}
		rctx, cancel := context.WithTimeout(ctx, k.opts.IssueTimeout)
		resp, _, err := k.client.Issue(rctx, protocol.IssueRequest{Service: service, Lang: lang, Priority: priority, RequestID: e.RequestID})
		cancel()
		switch {
		case err == nil:
			t := resp.Ticket
			e, err = k.db.UpdateEntry(e.Key, func(e *store.JournalEntry) error {
				e.Phase, e.Number, e.TicketID, e.ETicketURL = store.PhaseIssued, t.Number, t.ID, resp.ETicketURL
				e.IssuedAt = t.IssuedAt
				return nil
			})
			if err != nil {
				return Result{}, err
			}
			return k.deliver(ctx, o, e, Result{Ahead: t.Ahead, EstimatedWait: seconds(t.EstimatedWaitS)})
		case !protocol.Unreachable(err):
			k.settle(e, store.PhaseRefused, err)
			return Result{}, err
		}
		k.markUnreachable(e, err)
		asked = &e
	}
	return k.issueOffline(ctx, o, svc, lang, priority, now, asked)
}

// issueOffline issues from the lease, after checking with the kiosk's
// copy of the state that the service takes tickets now. asked is the
// request the server did not answer in time, if the kiosk asked: the
// leased ticket takes its place in the journal and keeps its request id,
// so that whatever the server issued for the request is withdrawn when
// the leased ticket is handed in; if no ticket is printed for it, the
// request is withdrawn at the server instead. Either way the server ends
// with the ticket printed, or none.
func (k *Kiosk) issueOffline(ctx context.Context, o *queue.Office, svc queue.Service, lang string, priority bool, now time.Time, asked *store.JournalEntry) (res Result, err error) {
	if asked != nil {
		defer func() {
			if err != nil {
				k.withdraw(*asked, err)
			}
		}()
	}
	var refused error
	var ahead int
	wait := time.Duration(-1)
	k.follower.Read(func(s *queue.State) {
		if refused = s.CanIssue(now, svc.ID); refused != nil {
			return
		}
		ahead = s.AheadOfNew(svc.ID)
		wait = s.WaitForNew(now, svc.ID)
	})
	if refused != nil {
		return Result{}, refused
	}
	if k.opts.LeaseSize == 0 {
		return Result{}, ErrNoNumbers
	}
	// Tickets issued offline but not handed in yet wait too.
	if pending, err := k.db.PendingHandIns(); err == nil {
		for _, p := range pending {
			if p.Service == svc.ID && p.HandIn == store.HandInPending {
				ahead++
			}
		}
	}
	var e store.JournalEntry
	if asked != nil {
		e, err = k.db.LeaseForRequest(asked.Key, o.LocalDate(now), svc.Prefix)
	} else {
		e, err = k.db.IssueFromLease(store.JournalEntry{Service: svc.ID, Lang: lang, Priority: priority, IssuedAt: now}, o.LocalDate(now), svc.Prefix)
	}
	if errors.Is(err, store.ErrNoLease) {
		k.log.Error("cannot issue: the server is unreachable and the lease is used up", "service", svc.ID)
		return Result{}, ErrNoNumbers
	}
	if err != nil {
		return Result{}, err
	}
	k.log.Warn("issued offline from the lease", "ticket", e.Number, "request", e.RequestID)
	k.wake()
	return k.deliver(ctx, o, e, Result{Ahead: ahead, EstimatedWait: wait, Offline: true})
}

// CheckIn confirms a booked visit by its code and prints its ticket. It
// needs the server: codes cannot be checked offline.
func (k *Kiosk) CheckIn(ctx context.Context, code, lang string) (Result, error) {
	k.issueMu.Lock()
	defer k.issueMu.Unlock()
	if err := k.settleLeftovers(); err != nil {
		return Result{}, err
	}
	o := k.follower.Office()
	if o == nil {
		return Result{}, ErrNotReady
	}
	lang = i18n.Normalize(lang)
	e, err := k.db.BeginRequest(store.JournalEntry{Source: store.SourceCheckIn, Lang: lang, IssuedAt: k.issueTime()})
	if err != nil {
		return Result{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, 4*k.opts.IssueTimeout)
	resp, err := k.client.CheckIn(rctx, protocol.CheckInRequest{Code: code, Lang: lang, RequestID: e.RequestID})
	cancel()
	if err != nil {
		phase := store.PhaseRefused
		if protocol.Unreachable(err) {
			phase = store.PhaseUnanswered
			k.markUnreachable(e, err)
		}
		k.settle(e, phase, err)
		return Result{}, err
	}
	t := resp.Ticket
	e, err = k.db.UpdateEntry(e.Key, func(e *store.JournalEntry) error {
		e.Phase, e.Service, e.Number, e.TicketID, e.ETicketURL = store.PhaseIssued, t.Service, t.Number, t.ID, resp.ETicketURL
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return k.deliver(ctx, o, e, Result{Ahead: t.Ahead, EstimatedWait: seconds(t.EstimatedWaitS), BookedFor: t.BookedFor})
}

// deliver prints a journalled ticket, or settles it as shown on screen.
// Print reads the printer's status before (can it print?) and after the
// cut (did it?): the kiosk reads it nowhere else for a ticket.
func (k *Kiosk) deliver(ctx context.Context, o *queue.Office, e store.JournalEntry, res Result) (Result, error) {
	if k.opts.AfterJournal != nil {
		k.opts.AfterJournal(e)
	}
	res.Entry, res.Number, res.Service, res.ETicketURL = e, e.Number, e.Service, e.ETicketURL
	phase, detail := store.PhaseShown, ""
	st, err := k.printer.Print(ctx, k.compose(o, e, res))
	k.setStatus(st, err)
	if obs := k.opts.Observer; obs != nil {
		obs.Issued(res.Offline)
		obs.Printed(k.printFailure(err))
	}
	if err == nil {
		phase, res.Printed = store.PhasePrinted, true
		k.mu.Lock()
		k.lastTicket, k.lastPrinted = e.Number, k.clock.Now()
		k.mu.Unlock()
		k.log.Info("ticket printed", "ticket", e.Number, "lang", e.Lang, "service", e.Service, "ahead", res.Ahead,
			"wait", res.EstimatedWait, "issued", e.IssuedAt.Format(time.RFC3339Nano), "offline", res.Offline)
	} else {
		detail = err.Error()
	}
	if phase == store.PhaseShown {
		k.log.Warn("ticket shown on the screen, not printed", "ticket", e.Number, "lang", e.Lang, "why", detail)
	}
	e, err = k.db.UpdateEntry(e.Key, func(e *store.JournalEntry) error {
		e.Phase, e.Detail = phase, detail
		return nil
	})
	if err != nil {
		// The ticket is issued and in the resident's hand or on the screen;
		// the journal still has it as issued, which a restart settles.
		k.log.Error("journalling a delivered ticket", "ticket", res.Number, "err", err)
	}
	res.Entry = e
	return res, nil
}

// printFailure names why a ticket was not printed, as a fault staff see
// ("paper-out"), or "error" when the printer had no fault to show; ""
// when it was printed.
func (k *Kiosk) printFailure(err error) string {
	if err == nil {
		return ""
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fault.Code != "" {
		return k.fault.Code
	}
	return "error"
}

// compose lays out the paper ticket in the resident's language.
func (k *Kiosk) compose(o *queue.Office, e store.JournalEntry, res Result) printer.Ticket {
	svc, _ := o.Service(e.Service)
	in := ticketfmt.Input{
		Lang: e.Lang, OfficeName: o.Name, ServiceName: svc.Name(e.Lang), Number: e.Number,
		Ahead: res.Ahead, IssuedAt: e.IssuedAt.In(o.Location), EstimatedWait: res.EstimatedWait,
		ETicketURL: e.ETicketURL, Footer: o.Footer, Priority: e.Priority, Logo: k.opts.Logo, PaperMM: k.opts.PaperMM,
	}
	if !res.BookedFor.IsZero() {
		in.EstimatedWait = -1
	}
	return ticketfmt.Compose(k.opts.Catalog, in)
}

// settle ends a request that gave no ticket.
func (k *Kiosk) settle(e store.JournalEntry, phase store.Phase, cause error) {
	if _, err := k.db.UpdateEntry(e.Key, func(e *store.JournalEntry) error {
		e.Phase, e.Detail = phase, cause.Error()
		return nil
	}); err != nil {
		k.log.Error("journalling a request's end", "request", e.RequestID, "err", err)
	}
}

// withdraw ends a request the server did not answer in time and for which
// nothing was printed: it goes to the outbox, to tell the server to
// withdraw the ticket it may have issued, which nobody holds.
func (k *Kiosk) withdraw(e store.JournalEntry, cause error) {
	if _, err := k.db.UpdateEntry(e.Key, func(e *store.JournalEntry) error {
		if e.Phase != store.PhaseRequested {
			return nil // a leased ticket took its place
		}
		e.Phase, e.Detail, e.HandIn = store.PhaseUnanswered, cause.Error(), store.HandInWithdraw
		return nil
	}); err != nil {
		k.log.Error("journalling a request's end", "request", e.RequestID, "err", err)
	}
	k.wake()
}

// issueTime is the office's time now, later than every ticket issued
// before, so tickets issued offline keep their order on the server.
func (k *Kiosk) issueTime() time.Time {
	now := k.clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if !now.After(k.lastIssued) {
		now = k.lastIssued.Add(time.Millisecond)
	}
	k.lastIssued = now
	return now
}

// unreachableFor is how long, after a request found the server
// unreachable, the kiosk goes straight to its lease while the event
// stream is down too: a resident should not wait out a timeout per ticket.
const unreachableFor = 30 * time.Second

func (k *Kiosk) markUnreachable(e store.JournalEntry, err error) {
	k.log.Warn("the server did not answer in time; issuing from the lease", "request", e.RequestID, "err", err)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.unreachable = time.Now()
}

func (k *Kiosk) skipServer() bool {
	k.mu.Lock()
	recent := !k.unreachable.IsZero() && time.Since(k.unreachable) < unreachableFor
	k.mu.Unlock()
	return recent && !k.follower.Online()
}

func seconds(s int64) time.Duration {
	if s < 0 {
		return -1
	}
	return time.Duration(s) * time.Second
}

func (k *Kiosk) wake() {
	select {
	case k.work <- struct{}{}:
	default:
	}
}

// TestPrint prints the printer's test page (the service screen's button).
func (k *Kiosk) TestPrint(ctx context.Context) error {
	_, st, err := k.printer.PrintTestPage(ctx, k.clock.Now())
	k.setStatus(st, err)
	return err
}

// Stats is what the kiosk tells the status page.
type Stats struct {
	Printer      string             `json:"printer"`
	PrinterReady bool               `json:"printer_ready"`
	PrinterRead  time.Time          `json:"printer_read,omitzero"`
	Fault        Fault              `json:"fault"`
	Journal      store.JournalStats `json:"journal"`
	Leases       map[string]int     `json:"leases_left"`
}

// PrinterHealth is the printer as the kiosk last read it, and the last
// ticket it printed.
type PrinterHealth struct {
	printer.Health
	// Read is when the status was read (device clock): the full status
	// every CheckEvery while idle, the paper after each ticket.
	Read        time.Time
	LastTicket  string
	LastPrinted time.Time // server clock
}

// PrinterHealth says how the printer is, without asking it: the kiosk
// reads it often enough (Options.CheckEvery), and a ticket must not wait
// for a report.
func (k *Kiosk) PrinterHealth() PrinterHealth {
	k.mu.Lock()
	defer k.mu.Unlock()
	return PrinterHealth{Health: k.status.Health(k.statusErr), Read: k.checkedAt, LastTicket: k.lastTicket, LastPrinted: k.lastPrinted}
}

// Stats reports the printer, the journal and the numbers left.
func (k *Kiosk) Stats() (Stats, error) {
	k.mu.Lock()
	st, stErr, read, fault := k.status, k.statusErr, k.checkedAt, k.fault
	k.mu.Unlock()
	js, err := k.db.Stats()
	if err != nil {
		return Stats{}, err
	}
	out := Stats{Printer: describe(st, stErr), PrinterReady: st.Ready(), PrinterRead: read, Fault: fault, Journal: js, Leases: map[string]int{}}
	leases, err := k.db.Leases()
	if err != nil {
		return Stats{}, err
	}
	day := ""
	if o := k.follower.Office(); o != nil {
		day = o.LocalDate(k.clock.Now())
	}
	for _, l := range leases {
		if l.Day == day {
			out.Leases[l.Service] += l.Left()
		}
	}
	return out, nil
}

// describe says a printer's trouble for the service screen and staff.
func describe(st printer.Status, err error) string {
	msg := st.String()
	if err != nil && !strings.Contains(err.Error(), msg) {
		msg += " (" + err.Error() + ")"
	}
	return msg
}
