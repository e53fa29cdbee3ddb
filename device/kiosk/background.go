package kiosk

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// Run settles what a previous run left open in the journal (unless a
// ticket already has, see settleLeftovers), then looks after the printer,
// the faults, the leases and the outbox until ctx ends.
func (k *Kiosk) Run(ctx context.Context) error {
	if err := k.settleLeftovers(); err != nil {
		return err
	}
	k.loadAssisted()
	if n, err := k.db.Prune(time.Now().Add(-30 * 24 * time.Hour)); err != nil {
		k.log.Error("pruning the journal", "err", err)
	} else if n > 0 {
		k.log.Info("pruned the journal", "entries", n)
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var lastCheck time.Time
	wasOnline, again := false, false
	for {
		online := k.follower.Online()
		due := time.Since(lastCheck) >= k.opts.CheckEvery
		if due || (online && !wasOnline) || again {
			if due {
				lastCheck = time.Now()
				k.checkIdlePrinter(ctx)
			}
			// Only while online: offline, coming back online looks anyway.
			again = !k.lookAfterServer(ctx) && online
		}
		wasOnline = online
		k.printForAssistant(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-k.work:
			k.lookAfterServer(ctx)
		}
	}
}

// lookAfterServer does what needs the server, if it can be reached. It
// says false when the office's state had not come yet, so the loop looks
// again at the next tick rather than a whole check period later: a kiosk
// that has just started must hold its lease before the network fails.
func (k *Kiosk) lookAfterServer(ctx context.Context) bool {
	if k.skipServer() {
		return true
	}
	k.pushOutbox(ctx)
	k.reportFault(ctx)
	return k.keepLeases(ctx)
}

// settleLeftovers settles what a stopped kiosk left open in the journal,
// once, whichever comes first: Run, or a resident's ticket. A tap may
// come before Run's goroutine has begun (a busy device just started), and
// a request journalled before the settling would be taken for one a power
// cut left: withdrawn at the server, perhaps after its ticket printed.
func (k *Kiosk) settleLeftovers() error {
	k.recovery.Do(func() { k.recoveryErr = k.recover() })
	return k.recoveryErr
}

// recover settles the journal entries a stopped kiosk left open.
func (k *Kiosk) recover() error {
	changed, err := k.db.Recover()
	if err != nil {
		return err
	}
	for _, e := range changed {
		switch {
		case e.Phase == store.PhaseInterrupted && e.HandIn == store.HandInPending:
			k.log.Warn("a ticket issued offline was journalled but its printing was cut short; a resident may hold it, so it will be handed in",
				"ticket", e.Number, "issued", e.IssuedAt, "request", e.RequestID)
		case e.Phase == store.PhaseInterrupted:
			k.log.Warn("a ticket was journalled but its printing was cut short; a resident may hold it", "ticket", e.Number, "issued", e.IssuedAt)
		case e.Phase == store.PhaseUnanswered && e.HandIn == store.HandInWithdraw:
			k.log.Warn("a ticket request was cut short before the server answered and nothing was printed for it; the server will withdraw what it issued for it",
				"request", e.RequestID)
		case e.Phase == store.PhaseUnanswered:
			k.log.Warn("a request was cut short before the server answered", "request", e.RequestID, "source", e.Source)
		}
	}
	if entries, err := k.db.Journal(0, 0); err == nil && len(entries) > 0 {
		k.mu.Lock()
		k.lastIssued = entries[len(entries)-1].IssuedAt
		k.mu.Unlock()
	}
	return nil
}

// pushOutbox hands in the tickets issued offline and withdraws the
// requests nothing was printed for, in the order they were made; it stops
// at the first that cannot reach the server.
func (k *Kiosk) pushOutbox(ctx context.Context) {
	pending, err := k.db.PendingHandIns()
	if err != nil {
		k.log.Error("reading the outbox", "err", err)
		return
	}
	for _, e := range pending {
		if e.HandIn == store.HandInWithdraw {
			if !k.withdrawAtServer(ctx, e) {
				k.log.Info("the outbox waits for the server", "entries", len(pending))
				return
			}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := k.client.HandIn(rctx, protocol.LeasedTicketRequest{
			RequestID: e.RequestID, Service: e.Service, Number: e.LeaseNumber, IssuedAt: e.IssuedAt, Lang: e.Lang, Priority: e.Priority,
		})
		cancel()
		if protocol.Unreachable(err) {
			k.log.Info("the outbox waits for the server", "tickets", len(pending), "err", err)
			return
		}
		state, note := store.HandInDone, ""
		switch {
		case err != nil:
			state, note = store.HandInRejected, err.Error()
			k.log.Error("the server refused a ticket issued offline; staff must place it by hand", "ticket", e.Number, "issued", e.IssuedAt, "err", err)
		case res.Expired:
			state, note = store.HandInExpired, "its day had ended; kept for statistics"
			k.log.Warn("a ticket issued offline was handed in after its day ended", "ticket", e.Number, "issued", e.IssuedAt)
		default:
			k.log.Info("handed in a ticket issued offline", "ticket", e.Number, "issued", e.IssuedAt, "again", !res.Created)
		}
		if _, err := k.db.UpdateEntry(e.Key, func(e *store.JournalEntry) error {
			e.HandIn, e.HandInNote = state, note
			if res.Ticket.Ticket.ID != "" {
				e.TicketID = res.Ticket.Ticket.ID
			}
			return nil
		}); err != nil {
			k.log.Error("journalling a hand-in", "ticket", e.Number, "err", err)
			return
		}
	}
}

// withdrawAtServer tells the server that nothing was printed for the
// request of e, so that it withdraws the ticket it may have issued; it
// says false when the server could not be reached.
func (k *Kiosk) withdrawAtServer(ctx context.Context, e store.JournalEntry) bool {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	t, err := k.client.Withdraw(rctx, e.RequestID)
	cancel()
	if protocol.Unreachable(err) {
		return false
	}
	state, note := store.HandInWithdrawn, ""
	switch {
	case err != nil:
		state, note = store.HandInRejected, err.Error()
		k.log.Error("the server refused to withdraw a request nothing was printed for", "request", e.RequestID, "err", err)
	case t == nil:
		note = "the server had issued no ticket for it"
	case t.State == queue.Cancelled:
		note = "the server withdrew ticket " + t.Number + ", which nobody held"
		k.log.Warn("the server's ticket for a request whose answer came too late was withdrawn; nobody held it", "ticket", t.Number, "request", e.RequestID)
	default:
		note = "the server's ticket " + t.Number + " stays: it is " + string(t.State)
		k.log.Warn("the server's ticket for a request whose answer came too late was already taken up at a counter", "ticket", t.Number, "state", t.State, "request", e.RequestID)
	}
	if _, err := k.db.UpdateEntry(e.Key, func(e *store.JournalEntry) error {
		e.HandIn, e.HandInNote = state, note
		return nil
	}); err != nil {
		k.log.Error("journalling a withdrawal", "request", e.RequestID, "err", err)
		return false
	}
	return true
}

// keepLeases asks for numbers for every service open now whose lease for
// today runs low, and forgets the leases of past days. It says false when
// it could not look because the office's state for today has not come.
func (k *Kiosk) keepLeases(ctx context.Context) bool {
	if k.opts.LeaseSize == 0 {
		return true
	}
	o := k.follower.Office()
	if o == nil {
		return false
	}
	now := k.clock.Now()
	day := o.LocalDate(now)
	if n, err := k.db.DropLeasesBefore(day); err != nil {
		k.log.Error("dropping old leases", "err", err)
	} else if n > 0 {
		k.log.Info("dropped the leases of past days", "leases", n)
	}
	var open []string
	today := false
	if !k.follower.Read(func(s *queue.State) {
		if s.Day != day {
			return // the stream has not brought the new day yet
		}
		today = true
		for _, svc := range o.Services {
			if s.CanIssue(now, svc.ID) == nil {
				open = append(open, svc.ID)
			}
		}
	}) || !today {
		return false
	}
	for _, svc := range open {
		left, err := k.db.LeaseLeft(svc, day)
		if err != nil || left >= k.opts.LeaseLow {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		l, err := k.client.Lease(rctx, svc, k.opts.LeaseSize)
		cancel()
		if err != nil {
			k.log.Warn("asking for a number lease", "service", svc, "err", err)
			if protocol.Unreachable(err) {
				return true // asked again when the server is back
			}
			continue
		}
		if err := k.db.AddLease(l); err != nil {
			k.log.Error("keeping a number lease", "service", svc, "err", err)
			continue
		}
		k.log.Info("leased numbers for offline issuing", "service", svc, "first", l.First, "last", l.Last, "day", l.Day)
	}
	return true
}

// checkIdlePrinter reads the status between tickets, so the screen and
// staff learn of a fault before the next resident does.
func (k *Kiosk) checkIdlePrinter(ctx context.Context) {
	if !k.issueMu.TryLock() {
		return // a ticket is on its way; it reads the status itself
	}
	defer k.issueMu.Unlock()
	st, err := k.printer.Status(ctx)
	k.setStatus(st, err)
}

func (k *Kiosk) printerStatus() printer.Status {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.status
}

// setStatus records what the printer said and the fault it means.
func (k *Kiosk) setStatus(st printer.Status, err error) {
	var se *printer.StatusError
	if errors.As(err, &se) {
		st = se.Status
	}
	f := faultOf(st, err)
	k.mu.Lock()
	k.status, k.statusErr, k.checkedAt = st, err, time.Now()
	changed := f != k.fault
	k.fault = f
	notify := k.onStatus
	k.mu.Unlock()
	if changed {
		if f.Code == "" {
			k.log.Info("printer ready again")
		} else {
			k.log.Warn("printer fault", "fault", f.Code, "detail", f.Detail)
			if k.opts.Observer != nil {
				k.opts.Observer.Fault(f.Code)
			}
		}
		k.wake()
	}
	if notify != nil {
		notify(st)
	}
}

// faultOf names a printer status as a fault staff see; "" is none.
func faultOf(st printer.Status, err error) Fault {
	codes := []struct {
		c    printer.Condition
		code string
	}{
		{printer.Disconnected, "printer-disconnected"},
		{printer.NotAnswering, "printer-not-answering"},
		{printer.PaperOut, "paper-out"},
		{printer.CoverOpen, "cover-open"},
		{printer.CutterError, "cutter-error"},
		{printer.MechanicalError, "printer-error"},
		{printer.UnrecoverableError, "printer-error"},
		{printer.HeadOverheat, "printer-overheated"},
		{printer.Offline, "printer-offline"},
		{printer.PaperNearEnd, "paper-near-end"},
	}
	for _, c := range codes {
		if st.Has(c.c) {
			return Fault{Code: c.code, Detail: describe(st, err)}
		}
	}
	if err != nil && !st.Ready() {
		return Fault{Code: "printer-error", Detail: describe(st, err)}
	}
	return Fault{}
}

// reportFault tells the server the printer's fault when it changed.
func (k *Kiosk) reportFault(ctx context.Context) {
	k.mu.Lock()
	f, sent, known := k.fault, k.faultSent, k.faultKnown
	k.mu.Unlock()
	// The first report is sent even when all is well: the server may still
	// show a fault from before a restart.
	if known && f == sent {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := k.client.ReportFault(rctx, f.Code, f.Detail)
	cancel()
	if err != nil {
		level := slog.LevelWarn
		if protocol.Unreachable(err) {
			level = slog.LevelDebug // the outbox says the server is away
		}
		k.log.Log(ctx, level, "reporting the printer's fault", "fault", f.Code, "err", err)
		return
	}
	k.mu.Lock()
	k.faultSent, k.faultKnown = f, true
	k.mu.Unlock()
}
