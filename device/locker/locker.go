// Package locker is the document pickup locker's work behind its screen:
// it checks a typed or scanned code against the office's live deposits
// (the device's replica, so it works while the server is away), throttles
// guessing, pulses the compartment's lock through periph.io and follows
// its door sensor, and tells the server what the doors did.
//
// Every opening is journalled in the device's file (store.LockerEntry)
// before and after acting: "opening" before the lock is pulsed (from then
// on the code that asked is used and never opens again), "open" when the
// door is seen to open, "closed" when it closes, which is the pickup, the
// deposit stored or the document retrieved. A power cut in between leaves
// a true record, settled at the next start by what the door sensor reads.
// Reports go to the server from the journal's outbox, in order, retried
// until acknowledged; the journal's id makes a retry harmless.
//
// Faults are the doors': a lock pulsed whose door never opened, a door
// opened without a pulse (forced), a door left open past the locker's
// alarm time. Each is journalled and reported, shown in the device's
// health report until resolved, and a new one asks for a health report at
// once.
package locker

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/numerek/numerek/protocol"
	"github.com/numerek/numerek/queue"
	"github.com/numerek/numerek/store"
)

// Compartment is one compartment as wired: its lock's relay and its
// door's sensor.
type Compartment struct {
	ID   string
	Lock gpio.PinIO
	Door gpio.PinIO
	// DoorClosedLow: the sensor reads low while the door is closed (to
	// ground, with the pin's pull-up on); else high (pull-down on).
	DoorClosedLow bool
	// Pulse is how long the relay is held; default 500 ms.
	Pulse time.Duration
}

// The doors' defaults (Options.Poll, Settle and OpenWithin), which
// kioskctl locker follows too, so a door its check sees is one the locker
// would see.
const (
	DefaultPoll       = 500 * time.Millisecond
	DefaultSettle     = 20 * time.Millisecond
	DefaultOpenWithin = 5 * time.Second
)

// Office is the locker's copy of the office (device/replica's Follower):
// the live deposits, and whether the server can be reached.
type Office interface {
	Read(fn func(*queue.State)) bool
	Online() bool
}

// Server is what the locker asks of the server (protocol.Client).
type Server interface {
	LockerReport(ctx context.Context, locker string, r protocol.LockerReport) (protocol.LockerReportAnswer, error)
	SendLockerSecondFactor(ctx context.Context, locker, deposit string) (sentTo string, err error)
	CheckLockerSecondFactor(ctx context.Context, locker, deposit, code string) (bool, error)
}

// Options set up a Locker.
type Options struct {
	// ID is the locker's id in the office's configuration.
	ID           string
	Compartments []Compartment
	DB           *store.DeviceDB
	Office       Office
	Server       Server
	// Now is the server's clock (device/replica's Clock).
	Now func() time.Time
	// DoorAlarm is how long a door may stand open before it alarms (the
	// office's locker configuration); nil: queue.DefaultDoorAlarm.
	DoorAlarm func() time.Duration
	// OpenWithin is how long after the pulse a door must open before the
	// lock counts as failed; default 5 s.
	OpenWithin time.Duration
	// Poll bounds a wait for a door's edge: the sensor is read then
	// anyway, in case an edge was missed; default 500 ms.
	Poll time.Duration
	// Settle is how long a door's sensor must hold its level to count
	// (a reed switch bounces); default 20 ms.
	Settle time.Duration
	// ReportEvery is how often reports are tried again while the server
	// is away; default 5 s.
	ReportEvery time.Duration
	Log         *slog.Logger
	// OnDoors hears the doors after each change (the screen's view). It is
	// called without the locker's locks held.
	OnDoors func(Doors)
	// OnDoorClosed hears that a door opened for a code closed again (the
	// screen ends its "open" state).
	OnDoorClosed func(compartment string)
	// OnFault hears that a new fault began (the health report is sent at
	// once).
	OnFault func()
}

// Doors are the doors as the screen shows them.
type Doors struct {
	Open  []string // open now
	Alarm []string // open longer than the alarm time
}

// The throttle's rules (see the contract of issue 15, "Codes").
const (
	// MaxWrongTries wrong secrets block a code at the locker.
	MaxWrongTries = 5
	// FreeUnknownTries unknown codes in a row pass without a wait; each
	// one after waits 2^(n-FreeUnknownTries) s, at most MaxWait.
	FreeUnknownTries = 3
	MaxWait          = 30 * time.Second
	// QuietReset: this long without an unknown code forgets the count.
	QuietReset = 10 * time.Minute
)

// The kinds of Outcome, as display.LockerOutcome names them.
const (
	KindOpen                = "open"
	KindWrong               = "wrong"
	KindWait                = "wait"
	KindBlocked             = "blocked"
	KindLockFailed          = "lock-failed"
	KindSecondFactor        = "second-factor"
	KindSecondFactorOffline = "second-factor-offline"
	KindError               = "error"
)

// Outcome is what the locker did with a code: display.LockerOutcome, field
// for field, so the device hands it to the screen as it is.
type Outcome struct {
	Kind        string
	Deposit     string
	Compartment string
	Clerk       bool          // a clerk's deposit or retrieval
	Wait        time.Duration // KindWait, or KindWrong when the next try must wait
	SentTo      string        // KindSecondFactor: the masked phone
	Detail      string        // for logs; never shown
}

// Locker checks codes and drives the compartments. Its methods are safe
// for concurrent use; codes are handled one at a time, as the one keypad
// gives them.
type Locker struct {
	opts  Options
	log   *slog.Logger
	comps map[string]*Compartment
	work  chan struct{}

	flowMu sync.Mutex // one code at a time

	mu       sync.Mutex
	doors    map[string]*door
	throttle store.LockerThrottle
	// second are the pickups waiting for their one-time code, by deposit.
	second map[string]match
	// failed are the openings whose lock failed, by deposit, for Retry.
	failed map[string]failedOpening
}

// door is what the locker knows of one compartment's door. Guarded by
// Locker.mu.
type door struct {
	open bool
	// gen counts the door's openings, so an alarm timer of an earlier
	// opening does nothing.
	gen   int
	alarm bool
	timer *time.Timer
	// expect is closed when the door opens after a pulse; nil when no
	// pulse waits.
	expect chan struct{}
	// entry is the journal entry the door is open (or being opened)
	// under; 0: none.
	entry uint64
	flow  store.LockerFlow
	// lockFailed: pulsed, never opened (until it next opens); forced:
	// opened without a pulse (until a clerk opens it); forcedNow: this
	// opening was forced.
	lockFailed, forced, forcedNow bool
}

// match is a live code a typed code's lookup found.
type match struct {
	deposit queue.Deposit
	which   string // "pickup" or "clerk"
	hash    queue.CodeHash
	flow    store.LockerFlow
}

type failedOpening struct {
	m     match
	entry uint64
}

// New sets the pins up (locks shut, doors read) and settles what a
// previous run left open in the journal by what the doors read now.
func New(opts Options) (*Locker, error) {
	if opts.OpenWithin <= 0 {
		opts.OpenWithin = DefaultOpenWithin
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Settle <= 0 {
		opts.Settle = DefaultSettle
	}
	if opts.ReportEvery <= 0 {
		opts.ReportEvery = 5 * time.Second
	}
	if opts.DoorAlarm == nil {
		opts.DoorAlarm = func() time.Duration { return queue.DefaultDoorAlarm }
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	l := &Locker{
		opts: opts, log: opts.Log, comps: map[string]*Compartment{}, work: make(chan struct{}, 1),
		doors: map[string]*door{}, second: map[string]match{}, failed: map[string]failedOpening{},
	}
	for i := range opts.Compartments {
		c := &opts.Compartments[i]
		if err := c.Setup(); err != nil {
			return nil, err
		}
		l.comps[c.ID] = c
		l.doors[c.ID] = &door{open: c.DoorOpen()}
	}
	th, err := opts.DB.LockerThrottle()
	if err != nil {
		return nil, err
	}
	l.throttle = th
	if err := l.recover(); err != nil {
		return nil, err
	}
	return l, nil
}

// recover settles the openings a stopped locker left live: a door found
// open stays under its entry (its closing ends the flow); a door found
// closed either closed while the device was stopped (it had opened: the
// flow is done) or may never have been pulsed (interrupted; the code
// stays used, staff can issue a new one).
func (l *Locker) recover() error {
	entries, err := l.opts.DB.LockerEntries(0, 0)
	if err != nil {
		return err
	}
	now := l.opts.Now()
	for _, e := range entries {
		if !e.Phase.Live() {
			continue
		}
		d := l.doors[e.Compartment]
		switch {
		case d != nil && d.open:
			d.entry, d.flow = e.Key, e.Flow
			_, err = l.opts.DB.UpdateLockerEntry(e.Key, func(e *store.LockerEntry) error {
				if e.Phase == store.LockerOpening {
					e.Note = "the door was found open after a restart"
				}
				e.Phase = store.LockerOpen
				return nil
			})
			l.log.Warn("a compartment opened before a restart is still open; its closing ends the "+string(e.Flow), "compartment", e.Compartment, "deposit", e.Deposit)
		case e.Phase == store.LockerOpen:
			_, err = l.opts.DB.UpdateLockerEntry(e.Key, func(e *store.LockerEntry) error {
				e.Phase, e.At, e.Note = store.LockerClosed, now, "the door closed while the device was stopped"
				e.Report, e.Reported = reportOf(e.Flow), store.LockerReportPending
				return nil
			})
			l.log.Warn("a compartment's door closed while the device was stopped; the "+string(e.Flow)+" is done", "compartment", e.Compartment, "deposit", e.Deposit)
		default:
			_, err = l.opts.DB.UpdateLockerEntry(e.Key, func(e *store.LockerEntry) error {
				e.Phase, e.Note = store.LockerInterrupted, "the device stopped before the door was seen to open; the code stays used"
				return nil
			})
			l.log.Warn("the device stopped while opening a compartment; its door is closed and the code stays used (staff can issue a new one)", "compartment", e.Compartment, "deposit", e.Deposit)
		}
		if err != nil {
			return err
		}
	}
	for id, d := range l.doors {
		if d.open {
			l.startAlarm(id, d)
		}
	}
	return nil
}

// reportOf is the report a flow ends with when its door closes.
func reportOf(f store.LockerFlow) string {
	switch f {
	case store.LockerFlowPickup:
		return protocol.LockerReportPickedUp
	case store.LockerFlowDeposit:
		return protocol.LockerReportStored
	case store.LockerFlowRetrieval:
		return protocol.LockerReportRetrieved
	}
	return ""
}

// Run watches the doors and sends the reports until ctx ends.
func (l *Locker) Run(ctx context.Context) error {
	if n, err := l.opts.DB.PruneLockerJournal(time.Now().Add(-90 * 24 * time.Hour)); err != nil {
		l.log.Error("pruning the locker's journal", "err", err)
	} else if n > 0 {
		l.log.Info("pruned the locker's journal", "entries", n)
	}
	var wg sync.WaitGroup
	for _, c := range l.comps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.watchDoor(ctx, c)
		}()
	}
	l.sendReports(ctx)
	wg.Wait()
	l.mu.Lock()
	for _, d := range l.doors {
		if d.timer != nil {
			d.timer.Stop()
		}
	}
	l.mu.Unlock()
	return nil
}

// watchDoor follows one door's sensor.
func (l *Locker) watchDoor(ctx context.Context, c *Compartment) {
	c.WatchDoor(ctx, l.opts.Poll, l.opts.Settle, func(open bool) { l.doorMoved(c.ID, open) })
}

// after is what to tell once the locker's lock is released.
type after struct {
	doors  bool
	closed string
	fault  bool
	report bool
}

func (l *Locker) tell(a after) {
	if a.doors && l.opts.OnDoors != nil {
		l.opts.OnDoors(l.Doors())
	}
	if a.closed != "" && l.opts.OnDoorClosed != nil {
		l.opts.OnDoorClosed(a.closed)
	}
	if a.fault && l.opts.OnFault != nil {
		l.opts.OnFault()
	}
	if a.report {
		l.wake()
	}
}

func (l *Locker) wake() {
	select {
	case l.work <- struct{}{}:
	default:
	}
}

// doorMoved records that a door is open or closed now; nothing when it
// was so already.
func (l *Locker) doorMoved(id string, open bool) {
	var a after
	defer func() { l.tell(a) }()
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.doors[id]
	if d.open == open {
		return
	}
	d.open, a.doors = open, true
	now := l.opts.Now()
	if open {
		d.gen++
		d.lockFailed = false
		l.startAlarm(id, d)
		switch {
		case d.expect != nil:
			// The pulse opened it: journalled here, before the opener
			// hears of it, so a quick close cannot be journalled first.
			if _, err := l.opts.DB.UpdateLockerEntry(d.entry, func(e *store.LockerEntry) error {
				e.Phase = store.LockerOpen
				return nil
			}); err != nil {
				l.log.Error("journalling an opened door", "compartment", id, "err", err)
			}
			close(d.expect)
			d.expect = nil
			l.log.Info("compartment opened", "compartment", id, "flow", d.flow)
		default:
			d.forced, d.forcedNow = true, true
			a.fault, a.report = true, true
			l.note(id, "", protocol.LockerReportDoorForced, now)
			l.log.Warn("a compartment's door opened without its lock being pulsed: forced", "compartment", id)
		}
		return
	}
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.entry != 0 {
		key, flow := d.entry, d.flow
		d.entry = 0
		e, err := l.opts.DB.UpdateLockerEntry(key, func(e *store.LockerEntry) error {
			e.Phase, e.At = store.LockerClosed, now
			e.Report, e.Reported = reportOf(e.Flow), store.LockerReportPending
			return nil
		})
		if err != nil {
			l.log.Error("journalling a closed door", "compartment", id, "err", err)
		}
		a.closed, a.report = id, true
		l.log.Info("compartment closed", "compartment", id, "flow", flow, "deposit", e.Deposit, "offline", e.Offline)
	}
	if d.alarm || d.forcedNow {
		l.note(id, "", protocol.LockerReportDoorClosed, now)
		a.report = true
		l.log.Info("a compartment's door closed again", "compartment", id, "after_alarm", d.alarm, "after_forced", d.forcedNow)
	}
	d.alarm, d.forcedNow = false, false
}

// note journals a fault (or its end) with its report. l.mu is held.
func (l *Locker) note(compartment, deposit, report string, at time.Time) {
	_, err := l.opts.DB.BeginLockerEntry(store.LockerEntry{
		Flow: store.LockerFlowFault, Phase: store.LockerNoted, Compartment: compartment, Deposit: deposit,
		At: at, Report: report, Reported: store.LockerReportPending,
	})
	if err != nil {
		l.log.Error("journalling a door's fault", "compartment", compartment, "fault", report, "err", err)
	}
}

// startAlarm arms the door-left-open alarm of an opening. l.mu is held.
func (l *Locker) startAlarm(id string, d *door) {
	if d.timer != nil {
		d.timer.Stop()
	}
	gen := d.gen
	d.timer = time.AfterFunc(l.opts.DoorAlarm(), func() { l.alarmed(id, gen) })
}

// alarmed: the door has stood open for the alarm time.
func (l *Locker) alarmed(id string, gen int) {
	var a after
	defer func() { l.tell(a) }()
	l.mu.Lock()
	defer l.mu.Unlock()
	d := l.doors[id]
	if !d.open || d.gen != gen || d.alarm {
		return
	}
	d.alarm = true
	a.doors, a.fault, a.report = true, true, true
	l.note(id, "", protocol.LockerReportDoorLeftOpen, l.opts.Now())
	l.log.Warn("a compartment's door is left open", "compartment", id)
}

// Doors are the doors open now and those alarming, by compartment.
func (l *Locker) Doors() Doors {
	h := l.doorsHealth()
	return Doors{Open: h.DoorsOpen, Alarm: h.DoorsAlarm}
}

// ids are the compartments' ids in the office's order. l.mu is held or
// not needed (comps does not change).
func (l *Locker) ids() []string {
	ids := make([]string, 0, len(l.comps))
	for _, c := range l.opts.Compartments {
		ids = append(ids, c.ID)
	}
	return ids
}

// Health is the locker's part of the health report.
func (l *Locker) Health() *protocol.LockerHealth {
	pending, err := l.opts.DB.PendingLockerReports()
	if err != nil {
		l.log.Error("counting the locker's pending reports", "err", err)
	}
	h := l.doorsHealth()
	h.Pending = len(pending)
	return h
}

// doorsHealth is the doors' part of the health report.
func (l *Locker) doorsHealth() *protocol.LockerHealth {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := &protocol.LockerHealth{}
	for _, id := range l.ids() {
		d := l.doors[id]
		for _, part := range []struct {
			on   bool
			list *[]string
		}{{d.open, &h.DoorsOpen}, {d.alarm, &h.DoorsAlarm}, {d.lockFailed, &h.LocksFailed}, {d.forced, &h.DoorsForced}} {
			if part.on {
				*part.list = append(*part.list, id)
			}
		}
	}
	return h
}

// Code handles a typed or scanned code: the outcome says what the screen
// shows next.
func (l *Locker) Code(ctx context.Context, typed string) Outcome {
	l.flowMu.Lock()
	defer l.flowMu.Unlock()
	now := l.opts.Now()
	if wait := l.waitLeft(now); wait > 0 {
		return Outcome{Kind: KindWait, Wait: wait}
	}
	code, ok := queue.NormalizeLockerCode(typed)
	if !ok {
		return Outcome{Kind: KindWrong, Detail: "not a locker code"}
	}
	m, found, problem := l.find(code[:queue.LockerCodeLookup], now)
	if !found {
		return l.unknown(now)
	}
	key := codeKey(m)
	l.mu.Lock()
	wrong := l.throttle.Wrong[key]
	l.mu.Unlock()
	if wrong >= MaxWrongTries {
		return Outcome{Kind: KindBlocked, Deposit: m.deposit.ID, Detail: "the code was tried wrong too often"}
	}
	if !m.hash.Matches(code) {
		return l.wrongSecret(m, key)
	}
	l.rightCode(key)
	if problem != "" {
		return Outcome{Kind: KindError, Deposit: m.deposit.ID, Compartment: m.deposit.Compartment, Clerk: m.which == "clerk", Detail: problem}
	}
	if l.used(m) {
		return Outcome{Kind: KindError, Deposit: m.deposit.ID, Compartment: m.deposit.Compartment, Clerk: m.which == "clerk", Detail: "the code was used already"}
	}
	if m.flow == store.LockerFlowPickup && m.deposit.SecondFactor {
		return l.askSecondFactor(ctx, m)
	}
	return l.open(ctx, m, 0)
}

// find looks for the live code whose lookup is lookup; problem says why a
// code found cannot open now (a clerk code past its time, a pickup past
// its deadline).
func (l *Locker) find(lookup string, now time.Time) (m match, found bool, problem string) {
	l.opts.Office.Read(func(s *queue.State) {
		for _, d := range s.LiveDeposits(l.opts.ID) {
			switch {
			case d.PickupCode.Lookup == lookup && len(d.PickupCode.Hash) > 0 && d.State != queue.DepositStateReserved:
				m, found = match{deposit: *d, which: "pickup", hash: d.PickupCode, flow: store.LockerFlowPickup}, true
				if d.State == queue.DepositStateExpired || (!d.Deadline.IsZero() && !now.Before(d.Deadline)) {
					problem = "the pickup code is past its deadline"
				}
			case d.ClerkCode.Lookup == lookup && len(d.ClerkCode.Hash) > 0:
				m, found = match{deposit: *d, which: "clerk", hash: d.ClerkCode, flow: store.LockerFlowRetrieval}, true
				if d.State == queue.DepositStateReserved {
					m.flow = store.LockerFlowDeposit
				}
				if !now.Before(d.ClerkCodeUntil) {
					problem = "the clerk code is past its time"
				}
			default:
				continue
			}
			return
		}
	})
	return m, found, problem
}

// codeKey names one issued code for the throttle.
func codeKey(m match) string {
	return m.deposit.ID + "/" + m.which + "/" + hex.EncodeToString(m.hash.Salt)
}

// waitLeft is how long the next try must wait, after unknown codes.
func (l *Locker) waitLeft(now time.Time) time.Duration {
	l.mu.Lock()
	t := l.throttle
	l.mu.Unlock()
	if t.Unknown < FreeUnknownTries || now.Sub(t.LastUnknown) >= QuietReset {
		return 0
	}
	wait := time.Second << min(t.Unknown-FreeUnknownTries, 5)
	left := min(t.LastUnknown.Add(min(wait, MaxWait)).Sub(now), MaxWait)
	return max(left, 0)
}

// unknown counts a code that matched no live code against the locker.
func (l *Locker) unknown(now time.Time) Outcome {
	l.mu.Lock()
	if now.Sub(l.throttle.LastUnknown) >= QuietReset {
		l.throttle.Unknown = 0
	}
	l.throttle.Unknown++
	l.throttle.LastUnknown = now
	n := l.throttle.Unknown
	l.saveThrottle()
	l.mu.Unlock()
	l.log.Info("an unknown locker code", "in_a_row", n)
	return Outcome{Kind: KindWrong, Wait: l.waitLeft(now), Detail: "no live code has this lookup"}
}

// wrongSecret counts a wrong secret against the code whose lookup it has.
func (l *Locker) wrongSecret(m match, key string) Outcome {
	l.mu.Lock()
	if l.throttle.Wrong == nil {
		l.throttle.Wrong = map[string]int{}
	}
	l.throttle.Wrong[key]++
	n := l.throttle.Wrong[key]
	l.saveThrottle()
	l.mu.Unlock()
	l.log.Info("a wrong locker code", "deposit", m.deposit.ID, "code", m.which, "wrong_tries", n)
	if n >= MaxWrongTries {
		l.log.Warn("a locker code is blocked after too many wrong tries; staff can issue a new one", "deposit", m.deposit.ID, "code", m.which)
		return Outcome{Kind: KindBlocked, Deposit: m.deposit.ID, Detail: "the code was tried wrong too often"}
	}
	return Outcome{Kind: KindWrong, Detail: "the secret is wrong"}
}

// rightCode resets the locker's count of unknown codes and the code's
// wrong tries.
func (l *Locker) rightCode(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.throttle.Unknown == 0 && l.throttle.Wrong[key] == 0 {
		return
	}
	l.throttle.Unknown = 0
	delete(l.throttle.Wrong, key)
	l.saveThrottle()
}

// saveThrottle keeps the throttle on disk. l.mu is held.
func (l *Locker) saveThrottle() {
	if err := l.opts.DB.SaveLockerThrottle(l.throttle); err != nil {
		l.log.Error("saving the locker's throttle", "err", err)
	}
}

// used reports whether the journal has opened (or begun to open) for the
// code of m: a code never opens twice. An opening whose lock failed does
// not use its code.
func (l *Locker) used(m match) bool {
	entries, err := l.opts.DB.LockerEntries(0, 0)
	if err != nil {
		l.log.Error("reading the locker's journal", "err", err)
		return true // better a resident sent to staff than a door opened twice
	}
	for _, e := range entries {
		if e.Flow != store.LockerFlowFault && e.Deposit == m.deposit.ID && e.Code == m.which && bytes.Equal(e.CodeSalt, m.hash.Salt) && e.Phase != store.LockerLockFailed {
			return true
		}
	}
	return false
}

// askSecondFactor has the server send the resident a one-time code.
func (l *Locker) askSecondFactor(ctx context.Context, m match) Outcome {
	base := Outcome{Deposit: m.deposit.ID, Compartment: m.deposit.Compartment}
	if !l.opts.Office.Online() {
		base.Kind = KindSecondFactorOffline
		return base
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	sentTo, err := l.opts.Server.SendLockerSecondFactor(rctx, l.opts.ID, m.deposit.ID)
	cancel()
	switch {
	case protocol.Unreachable(err):
		base.Kind, base.Detail = KindSecondFactorOffline, err.Error()
		return base
	case err != nil:
		base.Kind, base.Detail = KindError, err.Error()
		l.log.Error("asking the server to send a second factor", "deposit", m.deposit.ID, "err", err)
		return base
	}
	l.mu.Lock()
	l.second[m.deposit.ID] = m
	l.mu.Unlock()
	base.Kind, base.SentTo = KindSecondFactor, sentTo
	return base
}

// SecondFactor checks the one-time code the resident typed for deposit
// and opens its compartment when the server says it is right.
func (l *Locker) SecondFactor(ctx context.Context, deposit, code string) Outcome {
	l.flowMu.Lock()
	defer l.flowMu.Unlock()
	l.mu.Lock()
	m, ok := l.second[deposit]
	l.mu.Unlock()
	base := Outcome{Deposit: deposit, Compartment: m.deposit.Compartment}
	if !ok {
		base.Kind, base.Detail = KindError, "no pickup waits for a second factor"
		return base
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	right, err := l.opts.Server.CheckLockerSecondFactor(rctx, l.opts.ID, deposit, code)
	cancel()
	switch {
	case protocol.Unreachable(err):
		base.Kind, base.Detail = KindSecondFactorOffline, err.Error()
		return base
	case err != nil:
		base.Kind, base.Detail = KindError, err.Error()
		return base
	case !right:
		base.Kind = KindWrong
		return base
	}
	l.mu.Lock()
	delete(l.second, deposit)
	l.mu.Unlock()
	if l.used(m) {
		base.Kind, base.Detail = KindError, "the code was used already"
		return base
	}
	return l.open(ctx, m, 0)
}

// Retry pulses again the lock of deposit's compartment, which did not
// open.
func (l *Locker) Retry(ctx context.Context, deposit string) Outcome {
	l.flowMu.Lock()
	defer l.flowMu.Unlock()
	l.mu.Lock()
	f, ok := l.failed[deposit]
	l.mu.Unlock()
	if !ok {
		return Outcome{Kind: KindError, Deposit: deposit, Detail: "no failed opening of this deposit to retry"}
	}
	return l.open(ctx, f.m, f.entry)
}

// open journals the opening, pulses the lock and waits for the door. An
// entry of an earlier opening whose lock failed is reused (retry).
func (l *Locker) open(ctx context.Context, m match, retry uint64) Outcome {
	dep := m.deposit
	out := Outcome{Deposit: dep.ID, Compartment: dep.Compartment, Clerk: m.which == "clerk"}
	c := l.comps[dep.Compartment]
	if c == nil {
		out.Kind, out.Detail = KindError, fmt.Sprintf("compartment %s is not wired to this locker", dep.Compartment)
		l.log.Error("a code opened a compartment this device's configuration does not wire", "compartment", dep.Compartment, "deposit", dep.ID)
		return out
	}
	offline := !l.opts.Office.Online()
	var e store.LockerEntry
	var err error
	if retry != 0 {
		e, err = l.opts.DB.UpdateLockerEntry(retry, func(e *store.LockerEntry) error {
			e.Phase, e.Offline = store.LockerOpening, offline
			return nil
		})
	} else {
		e, err = l.opts.DB.BeginLockerEntry(store.LockerEntry{
			Flow: m.flow, Phase: store.LockerOpening, Deposit: dep.ID, Compartment: c.ID,
			Code: m.which, CodeSalt: m.hash.Salt, Offline: offline,
		})
	}
	if err != nil {
		// Nothing is pulsed that the journal does not know of.
		out.Kind, out.Detail = KindError, err.Error()
		l.log.Error("journalling an opening", "compartment", c.ID, "err", err)
		return out
	}
	opened := make(chan struct{})
	l.mu.Lock()
	d := l.doors[c.ID]
	alreadyOpen := d.open
	d.entry, d.flow = e.Key, m.flow
	if !alreadyOpen {
		d.expect = opened
	}
	delete(l.failed, dep.ID)
	l.mu.Unlock()
	if alreadyOpen {
		// Open already (left open, forced): nothing to pulse.
		if _, err := l.opts.DB.UpdateLockerEntry(e.Key, func(e *store.LockerEntry) error {
			e.Phase, e.Note = store.LockerOpen, "the door was open already"
			return nil
		}); err != nil {
			l.log.Error("journalling an opened door", "compartment", c.ID, "err", err)
		}
		close(opened)
	} else {
		l.log.Info("pulsing a compartment's lock", "compartment", c.ID, "flow", m.flow, "deposit", dep.ID, "offline", offline)
		if err := c.PulseLock(ctx); err != nil {
			l.log.Error("pulsing a lock", "compartment", c.ID, "err", err)
		}
	}
	timer := time.NewTimer(l.opts.OpenWithin)
	defer timer.Stop()
	select {
	case <-opened:
	case <-timer.C:
	case <-ctx.Done():
	}
	l.mu.Lock()
	select {
	case <-opened:
		if out.Clerk {
			d.forced = false // opened properly by staff
		}
		l.mu.Unlock()
		out.Kind = KindOpen
		return out
	default:
	}
	d.expect, d.entry = nil, 0
	newFault := !d.lockFailed
	d.lockFailed = true
	l.failed[dep.ID] = failedOpening{m: m, entry: e.Key}
	if _, err := l.opts.DB.UpdateLockerEntry(e.Key, func(e *store.LockerEntry) error {
		e.Phase = store.LockerLockFailed
		return nil
	}); err != nil {
		l.log.Error("journalling a failed lock", "compartment", c.ID, "err", err)
	}
	l.note(c.ID, dep.ID, protocol.LockerReportLockFailed, l.opts.Now())
	l.mu.Unlock()
	l.log.Warn("a compartment's lock was pulsed and its door did not open", "compartment", c.ID, "deposit", dep.ID, "within", l.opts.OpenWithin)
	l.tell(after{fault: newFault, report: true})
	out.Kind, out.Detail = KindLockFailed, "the door did not open"
	return out
}

// sendReports sends the journal's outbox, in order, whenever there is
// something new and every ReportEvery, until ctx ends.
func (l *Locker) sendReports(ctx context.Context) {
	tick := time.NewTicker(l.opts.ReportEvery)
	defer tick.Stop()
	waiting := false
	for {
		if l.pushReports(ctx) {
			if waiting {
				l.log.Info("the locker's reports reach the server again")
			}
			waiting = false
		} else {
			waiting = true
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-l.work:
		}
	}
}

// pushReports sends the outbox; it says false when the server could not
// be reached (the rest waits).
func (l *Locker) pushReports(ctx context.Context) bool {
	pending, err := l.opts.DB.PendingLockerReports()
	if err != nil {
		l.log.Error("reading the locker's outbox", "err", err)
		return true
	}
	for _, e := range pending {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ans, err := l.opts.Server.LockerReport(rctx, l.opts.ID, protocol.LockerReport{
			ID: e.ID, Kind: e.Report, Deposit: e.Deposit, Compartment: e.Compartment, At: e.At, Offline: e.Offline,
		})
		cancel()
		if protocol.Unreachable(err) || ctx.Err() != nil {
			l.log.Debug("the locker's reports wait for the server", "pending", len(pending), "err", err)
			return false
		}
		state, note := store.LockerReportDone, ""
		if err != nil {
			state, note = store.LockerReportRejected, err.Error()
			var ae *protocol.APIError
			if errors.As(err, &ae) && ae.Status == 401 {
				return false // a token being replaced: try again later
			}
			l.log.Error("the server refused a locker report; staff must check the compartment", "report", e.Report, "compartment", e.Compartment, "deposit", e.Deposit, "err", err)
		} else {
			l.log.Info("reported", "report", e.Report, "compartment", e.Compartment, "deposit", e.Deposit, "applied", ans.Applied, "offline", e.Offline)
		}
		if _, err := l.opts.DB.UpdateLockerEntry(e.Key, func(e *store.LockerEntry) error {
			e.Reported = state
			if note != "" {
				e.Note = note
			}
			return nil
		}); err != nil {
			l.log.Error("journalling a report sent", "err", err)
			return true
		}
	}
	return true
}

// Compartments lists the wired compartments' ids in the configuration's
// order.
func (l *Locker) Compartments() []string { return slices.Clone(l.ids()) }
