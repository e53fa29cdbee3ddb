// Package lockers tells residents and staff what happens to documents in
// an office's pickup lockers ("urzędomat"). One watcher per office follows
// its events: a document stored (or a pickup code replaced) sends the
// resident the ready notice with the pickup code, after which the plain
// code is forgotten; a reminder goes once, the locker's RemindBefore ahead
// of the deadline; a timer sends ExpireDeposits when a deadline passes,
// and each expired deposit alerts the office's admins. It also makes and
// checks the one-time codes of the second factor (SecondFactor, the
// server's LockerSecondFactor), and purges the deposits' personal data
// (web.db) past their time.
//
// Names, contacts and codes are personal data: nothing here logs them.
package lockers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/numerek/numerek/internal/periodic"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/server/actor"
	"github.com/numerek/numerek/server/notice"
	"github.com/numerek/numerek/store"
)

// Staff is where an office's admins are told of documents not collected
// in time: their contacts (e-mail, phone or a webhook) and the language.
type Staff struct {
	To   []string
	Lang string
}

// Config is what the service needs.
type Config struct {
	// DB holds the deposits' personal side (name, contact, plain codes).
	DB *store.WebDB
	// Notices takes what residents are told; nil tells them nothing (and
	// the second factor cannot be sent).
	Notices notice.Sender
	// Alerts takes what an office's admins are told, to where Staff
	// says; either nil alerts no one.
	Alerts notice.Sender
	Staff  func(office string) Staff
	Clock  func() time.Time
	Logger *slog.Logger
	// Rand makes the one-time codes; nil is crypto/rand.
	Rand io.Reader
	// Tick is the longest the timer waits before it looks at the
	// deadlines again, whatever it expects (a clock set forward, a
	// deposit it missed); 0 is a minute.
	Tick time.Duration
}

// Service watches the offices' lockers.
type Service struct {
	cfg     Config
	offices map[string]*actor.Actor
	order   []*actor.Actor
	// wake asks the timer to look again now (an event changed what is
	// due); one slot, so a burst wakes it once.
	wake chan struct{}

	// sweeping lets one sweep run at a time (the timer's, a test's).
	sweeping sync.Mutex

	mu sync.Mutex
	// factors are the second factor's one-time codes in flight, by
	// office and deposit.
	factors map[factorKey]*oneTime
}

// New makes the service for offices; Run starts it.
func New(cfg Config, offices []*actor.Actor) *Service {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tick <= 0 {
		cfg.Tick = time.Minute
	}
	s := &Service{cfg: cfg, offices: map[string]*actor.Actor{}, order: offices,
		wake: make(chan struct{}, 1), factors: map[factorKey]*oneTime{}}
	for _, a := range offices {
		s.offices[a.Office().ID] = a
	}
	return s
}

// Run watches every office, keeps the deadlines and purges until ctx
// ends; purgeEvery is how often personal data past its time goes (the
// bookings' sweep).
func (s *Service) Run(ctx context.Context, purgeEvery time.Duration) {
	var wg sync.WaitGroup
	for _, a := range s.order {
		wg.Add(1)
		go func() { defer wg.Done(); s.watch(ctx, a) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.purgeLoop(ctx, purgeEvery) }()
	s.timer(ctx)
	wg.Wait()
}

// poke asks the timer to look at the deposits again.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// timer sweeps now and then whenever something is due, it is woken, or a
// Tick passed.
func (s *Service) timer(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
		next := s.Sweep(ctx)
		wait := s.cfg.Tick
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(s.cfg.Clock()), 0))
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// Sweep does what is due now in every office (ready notices not yet
// sent, reminders, expiries) and says when something is due next (zero:
// nothing waits).
func (s *Service) Sweep(ctx context.Context) time.Time {
	s.sweeping.Lock()
	defer s.sweeping.Unlock()
	var next time.Time
	for _, a := range s.order {
		n, err := s.sweepOffice(ctx, a)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Error("looking after an office's lockers", "office", a.Office().ID, "err", err)
			}
			// Again soon: a failed write should not wait for the next tick.
			n = s.cfg.Clock().Add(min(s.cfg.Tick, 10*time.Second))
		}
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	s.forgetStaleFactors()
	return next
}

// liveDeposits copies the office's live deposits out of its state.
func liveDeposits(ctx context.Context, a *actor.Actor) ([]queue.Deposit, error) {
	var out []queue.Deposit
	err := a.Query(ctx, func(st *queue.State) {
		for _, d := range st.Deposits {
			out = append(out, *d)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading office %s's deposits: %w", a.Office().ID, err)
	}
	return out, nil
}

// lockerOf is the office's locker id, zero if it has none such.
func lockerOf(o *queue.Office, id string) (queue.Locker, bool) {
	for _, l := range o.Lockers {
		if l.ID == id {
			return l, true
		}
	}
	return queue.Locker{}, false
}

// sweepOffice does what is due in one office and says when its next
// reminder or deadline comes.
func (s *Service) sweepOffice(ctx context.Context, a *actor.Actor) (time.Time, error) {
	o := a.Office()
	if len(o.Lockers) == 0 {
		return time.Time{}, nil
	}
	deposits, err := liveDeposits(ctx, a)
	if err != nil {
		return time.Time{}, err
	}
	now := s.cfg.Clock()
	var next time.Time
	due := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	expire := false
	var errs []error
	for _, d := range deposits {
		if d.State != queue.DepositStateStored && d.State != queue.DepositStateExpired {
			continue
		}
		rec, found, err := s.cfg.DB.LockerDeposit(o.ID, d.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading deposit %s of office %s: %w", d.ID, o.ID, err))
			continue
		}
		// A new pickup code for an expired document is not sent: its
		// deadline has passed, and staff take it back out.
		if found && rec.PickupCode != "" && d.State == queue.DepositStateStored {
			if err := s.sendReady(ctx, o, d, rec); err != nil {
				errs = append(errs, err)
			}
		}
		if d.State != queue.DepositStateStored || d.Deadline.IsZero() {
			continue
		}
		if !now.Before(d.Deadline) {
			expire = true
			continue
		}
		due(d.Deadline)
		if l, ok := lockerOf(o, d.Locker); ok && l.RemindBefore > 0 && found && rec.RemindedAt.IsZero() {
			at := d.Deadline.Add(-l.RemindBefore)
			switch {
			case !at.After(d.StoredAt):
				// The ready notice went out within the reminder's time:
				// a reminder now would only repeat it.
			case now.Before(at):
				due(at)
			default:
				if err := s.sendReminder(ctx, o, d, rec); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if expire {
		r := a.Do(ctx, "lockers", queue.ExpireDeposits{})
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("expiring office %s's deposits past their deadline: %w", o.ID, r.Err))
		}
		// The alert goes from here, not from the events' watcher: the
		// first sweep of a server started after a deadline can expire a
		// deposit before the watcher has subscribed to the office's events.
		for _, b := range r.Decision.Events {
			if ex, ok := b.(queue.DepositExpired); ok {
				s.alertExpired(ctx, a, ex.Deposit)
			}
		}
	}
	return next, errors.Join(errs...)
}

// depositNotice is what every notice of deposit d says of it.
func depositNotice(d queue.Deposit) *notice.LockerDeposit {
	return &notice.LockerDeposit{Deposit: d.ID, Locker: d.Locker, Compartment: d.Compartment, Document: d.Document,
		Deadline: d.Deadline, SecondFactor: d.SecondFactor}
}

// sendReady hands the ready notice with the pickup code in rec to the
// outbox, then forgets the plain code (unless staff replaced it again
// meanwhile: that one is sent next).
func (s *Service) sendReady(ctx context.Context, o *queue.Office, d queue.Deposit, rec store.LockerDeposit) error {
	if s.cfg.Notices == nil {
		return nil
	}
	code := rec.PickupCode
	n := notice.Notice{
		Kind: notice.LockerReady, Office: o.ID, Lang: rec.Lang, Name: rec.Name, Contact: rec.Contact,
		Code: code, Locker: depositNotice(d),
		// The outbox keeps only a hash of a key: the code in it makes a
		// replaced code a new message and a repeated one the same.
		Key: "locker-ready/" + o.ID + "/" + d.ID + "/" + code,
	}
	if err := s.cfg.Notices.Send(ctx, n); err != nil {
		return fmt.Errorf("handing on deposit %s's ready notice (office %s): %w", d.ID, o.ID, err)
	}
	_, _, err := s.cfg.DB.UpdateLockerDeposit(o.ID, d.ID, func(r *store.LockerDeposit) {
		if r.PickupCode == code {
			r.PickupCode = ""
		}
	})
	if err != nil {
		return fmt.Errorf("forgetting deposit %s's sent pickup code (office %s): %w", d.ID, o.ID, err)
	}
	s.cfg.Logger.Info("a resident is told their document is in the locker", "office", o.ID, "deposit", d.ID, "locker", d.Locker)
	return nil
}

// sendReminder reminds the resident of the deadline, once: it marks the
// deposit reminded after the outbox took the notice (whose key keeps a
// second from going should the mark fail).
func (s *Service) sendReminder(ctx context.Context, o *queue.Office, d queue.Deposit, rec store.LockerDeposit) error {
	if s.cfg.Notices == nil {
		return nil
	}
	n := notice.Notice{
		Kind: notice.LockerReminder, Office: o.ID, Lang: rec.Lang, Name: rec.Name, Contact: rec.Contact,
		Locker: depositNotice(d), Key: "locker-reminder/" + o.ID + "/" + d.ID + "/" + d.Deadline.UTC().Format(time.RFC3339),
	}
	if err := s.cfg.Notices.Send(ctx, n); err != nil {
		return fmt.Errorf("handing on deposit %s's reminder (office %s): %w", d.ID, o.ID, err)
	}
	now := s.cfg.Clock()
	if _, _, err := s.cfg.DB.UpdateLockerDeposit(o.ID, d.ID, func(r *store.LockerDeposit) { r.RemindedAt = now }); err != nil {
		return fmt.Errorf("marking deposit %s reminded (office %s): %w", d.ID, o.ID, err)
	}
	s.cfg.Logger.Info("a resident is reminded of their document's deadline", "office", o.ID, "deposit", d.ID, "locker", d.Locker)
	return nil
}

// alertExpired tells the office's admins that deposit was not
// collected by its deadline.
func (s *Service) alertExpired(ctx context.Context, a *actor.Actor, deposit string) {
	if s.cfg.Alerts == nil || s.cfg.Staff == nil {
		return
	}
	o := a.Office()
	var d queue.Deposit
	found := false
	if err := a.Query(ctx, func(st *queue.State) {
		if p := st.Deposits[deposit]; p != nil {
			d, found = *p, true
		}
	}); err != nil || !found {
		return
	}
	staff := s.cfg.Staff(o.ID)
	if len(staff.To) == 0 {
		s.cfg.Logger.Warn("a document was not collected in time and no admin is configured to be told ([devices] alert_to)", "office", o.ID, "deposit", d.ID, "locker", d.Locker)
		return
	}
	for _, to := range staff.To {
		n := notice.Notice{Kind: notice.LockerExpired, Office: o.ID, Lang: staff.Lang, Contact: to, Locker: depositNotice(d),
			Key: "locker-expired/" + o.ID + "/" + d.ID + "/" + to}
		if err := s.cfg.Alerts.Send(ctx, n); err != nil {
			s.cfg.Logger.Error("handing on an alert of a document not collected", "office", o.ID, "deposit", d.ID, "err", err)
		}
	}
}

// purgeLoop purges the deposits' personal data past its time at once and
// then every period until ctx ends.
func (s *Service) purgeLoop(ctx context.Context, every time.Duration) {
	periodic.Run(ctx, every, func() {
		if n, err := s.cfg.DB.PurgeLockerDeposits(s.cfg.Clock()); err != nil {
			s.cfg.Logger.Error("purging the personal data of locker deposits", "err", err)
		} else if n > 0 {
			s.cfg.Logger.Info("purged the personal data of past locker deposits", "deposits", n)
		}
	})
}
