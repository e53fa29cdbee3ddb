package display

import (
	"cmp"
	"context"
	"image"
	"slices"
	"strings"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/queue"
)

// LockerActions is what the locker's screen asks the device to do. The
// screen calls them on a goroutine of its own, never on the drawing
// thread, with a context bounded by LockerOptions.ActionTimeout; what they
// return says what the screen shows next.
type LockerActions interface {
	// Code is a code typed or scanned; the outcome says what the screen shows next.
	Code(ctx context.Context, code string) LockerOutcome
	// SecondFactor is the one-time code the resident typed for deposit.
	SecondFactor(ctx context.Context, deposit, code string) LockerOutcome
	// Retry pulses the lock of a compartment that did not open again.
	Retry(ctx context.Context, deposit string) LockerOutcome
}

// The kinds of LockerOutcome.
const (
	// LockerOpen: the compartment's lock was pulsed and its door opened;
	// the screen shows it open until DoorClosed.
	LockerOpen = "open"
	// LockerWrong: no live code is this one, or its secret is wrong (after
	// SecondFactor: the one-time code is wrong; the resident may try again).
	// With a Wait the next try is taken only after it, and the screen
	// counts it down as for LockerWait.
	LockerWrong = "wrong"
	// LockerWait: too many unknown codes in a row; the next try is taken
	// after Wait.
	LockerWait = "wait"
	// LockerBlocked: the code was tried wrong too often; staff must issue a
	// new one.
	LockerBlocked = "blocked"
	// LockerLockFailed: the lock was pulsed and the door did not open; the
	// screen offers Retry and says staff were told.
	LockerLockFailed = "lock-failed"
	// LockerSecondFactor: the deposit also needs a one-time code, sent to
	// SentTo; the screen asks for it and calls SecondFactor.
	LockerSecondFactor = "second-factor"
	// LockerSecondFactorOffline: the deposit needs a one-time code and the
	// server cannot be reached to send one.
	LockerSecondFactorOffline = "second-factor-offline"
	// LockerError: anything else; the screen asks the resident to call
	// staff (Detail is for logs, never shown).
	LockerError = "error"
)

// LockerOutcome is what the device did with a code.
type LockerOutcome struct {
	Kind        string // "open", "wrong", "wait", "blocked", "lock-failed", "second-factor", "second-factor-offline", "error"
	Deposit     string
	Compartment string
	Clerk       bool          // a clerk's deposit or retrieval
	Wait        time.Duration // "wait"
	SentTo      string        // "second-factor": the masked phone
	Detail      string
}

// LockerView is what the screen draws besides the flow: set by the device on changes.
type LockerView struct {
	Name         string // the locker's name in the screen's language
	Compartments []queue.Compartment
	Open         []string // doors open now
	Alarm        []string // doors open too long
	Offline      bool
}

// LockerOptions set up a locker's screen.
type LockerOptions struct {
	Panel Panel
	// Actions is the device, which checks codes and drives the locks.
	Actions LockerActions
	// Languages are the language buttons, in order; default i18n.Languages.
	Languages []string
	// DefaultLang is the language the screen returns to when idle;
	// default Polish.
	DefaultLang string
	// Location is the office's time zone for the clock; default local.
	Location *time.Location
	// IdleTimeout returns the screen to "enter your code" in DefaultLang
	// when nobody touches it (not while a door is open); default 40 s.
	IdleTimeout time.Duration
	// ShownFor is how long a message (wrong code, thank you) stays
	// before the screen goes back to the keypad; default 8 s.
	ShownFor time.Duration
	// ActionTimeout bounds each call of Actions; default 30 s.
	ActionTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Catalog holds the words; default i18n.Messages().
	Catalog *i18n.Catalog
	// Context is the device's lifetime: the actions run on their own
	// goroutines and end with it; default context.Background().
	Context context.Context
}

// lockerMode is which of the locker's screens is up.
type lockerMode int

const (
	lockerEnter lockerMode = iota
	lockerChecking
	lockerOpen
	lockerThanks
	lockerWrong
	lockerWait
	lockerBlocked
	lockerLockFailed
	lockerSecondFactor
	lockerSecondFactorOffline
	lockerError
)

// secondFactorLength is the one-time code's length (six digits).
const secondFactorLength = 6

// Locker is the touch screen of a document pickup locker: a keypad of the
// code alphabet (a scanner may type the code and Enter instead), what
// happened with the code, and the compartment to go to, shown on a picture
// of the locker's grid. Its methods are safe for concurrent use.
type Locker struct {
	c    *core
	opts LockerOptions

	// State shown; guarded by c.mu.
	view LockerView
	lang string
	mode lockerMode
	// code is what has been typed of a locker code, otp of a one-time code.
	code, otp string
	// message is a line under the typed code ("a code has 8 characters").
	message string
	// out is the outcome the screen shows: which deposit and compartment.
	out       LockerOutcome
	waitUntil time.Time
	// shownAt is when the screen up was first drawn (zero until the turn
	// that draws it): a message stays ShownFor on the panel however long
	// the loop took to show it.
	shownAt time.Time
	calls   int // actions started, to drop an answer that comes too late

	lastTouch time.Time

	// What the last frame showed: its touch targets, how far it was
	// scaled (see layoutScale), its mode and time-driven parts.
	buttons     []button
	drawScale   float64
	drawnMinute time.Time
	drawnWait   int
	// drawn is what the last frame showed, for tests that follow a flow.
	drawn lockerShown
}

// lockerShown is what a frame of the locker's screen showed.
type lockerShown struct {
	mode        lockerMode
	alarm       bool
	compartment string
	lang        string
}

// NewLocker makes a locker's screen; SetView gives it the locker's
// compartments, DoorClosed ends an "open" state.
func NewLocker(opts LockerOptions) *Locker {
	if len(opts.Languages) == 0 {
		opts.Languages = i18n.Languages
	}
	opts.DefaultLang = langOr(opts.DefaultLang)
	opts.Location = orLocal(opts.Location)
	opts.Catalog = orCatalog(opts.Catalog)
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 40 * time.Second
	}
	if opts.ShownFor <= 0 {
		opts.ShownFor = 8 * time.Second
	}
	if opts.ActionTimeout <= 0 {
		opts.ActionTimeout = 30 * time.Second
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	l := &Locker{opts: opts, lang: opts.DefaultLang}
	l.c = newCore("locker", opts.Panel, opts.Now, l)
	return l
}

func (l *Locker) base() *core { return l.c }

// SetView shows v: the locker's name and compartments, which doors are
// open and which alarm, and whether the server can be reached.
func (l *Locker) SetView(v LockerView) {
	v.Compartments = slices.Clone(v.Compartments)
	v.Open, v.Alarm = slices.Clone(v.Open), slices.Clone(v.Alarm)
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	l.view = v
	l.c.online = !v.Offline
	l.c.changed()
}

// DoorClosed tells the screen compartment's door closed: an "open" state
// for it ends with a thank-you.
func (l *Locker) DoorClosed(compartment string) {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	if l.mode == lockerOpen && l.out.Compartment == compartment {
		l.mode, l.shownAt = lockerThanks, time.Time{}
		l.c.changed()
	}
}

// Lang is the language the resident has chosen.
func (l *Locker) Lang() string {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return l.lang
}

// Taps is how many taps the screen has been given since it started (see
// Kiosk.Taps).
func (l *Locker) Taps() int64 { return l.c.taps.Load() }

// Targets returns the touch targets of the frame last drawn (see
// Kiosk.Targets).
func (l *Locker) Targets() []Target {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	return targetsOf(l.buttons, l.drawScale)
}

func (l *Locker) tx() texts { return texts{l.opts.Catalog, l.lang} }

func (l *Locker) update(now time.Time, in *input) {
	if l.lastTouch.IsZero() {
		l.lastTouch = now
	}
	if l.shownAt.IsZero() {
		// The screen set since the last turn is drawn in this one; set
		// here, not in draw, so that nextChange, asked between the two,
		// wakes the loop when its time is up.
		l.shownAt = now
	}
	if !minuteOf(now).Equal(l.drawnMinute) || l.waitLeft(now) != l.drawnWait {
		l.c.dirty = true
	}
	for _, p := range in.taps {
		l.lastTouch = now
		if l.tap(p) {
			// The buttons changed with the screen; later taps of this frame
			// were aimed at the old one.
			break
		}
	}
	if len(in.chars) > 0 || in.enter || in.backspace || in.escape {
		l.lastTouch = now
		l.keys(in)
	}
	l.timeouts(now)
}

// waitLeft is how many whole seconds a throttled resident still waits,
// rounded up, or 0.
func (l *Locker) waitLeft(now time.Time) int {
	if l.mode != lockerWait || !now.Before(l.waitUntil) {
		return 0
	}
	return int((l.waitUntil.Sub(now) + time.Second - 1) / time.Second)
}

// timeouts moves on from a screen whose time is up: a message after
// ShownFor, the wait when it ends, anything but an open door or a check
// under way when the resident has gone.
func (l *Locker) timeouts(now time.Time) {
	switch l.mode {
	case lockerOpen, lockerChecking:
		return
	case lockerWait:
		if !now.Before(l.waitUntil) {
			l.toKeypad()
		}
		return
	case lockerThanks, lockerWrong:
		if !l.shownAt.IsZero() && !now.Before(l.shownAt.Add(l.opts.ShownFor)) {
			if l.mode == lockerWrong {
				// The same resident tries again, in the language chosen.
				l.toKeypad()
			} else {
				l.reset()
			}
			return
		}
	}
	if !now.Before(l.lastTouch.Add(l.opts.IdleTimeout)) && (l.mode != lockerEnter || l.lang != l.opts.DefaultLang || l.code != "") {
		l.reset()
	}
}

func (l *Locker) nextChange(now time.Time) time.Time {
	var shown, wait, idle time.Time
	switch l.mode {
	case lockerOpen, lockerChecking:
	case lockerWait:
		if left := l.waitLeft(now); left > 0 {
			wait = l.waitUntil.Add(-time.Duration(left-1) * time.Second)
		}
	default:
		if (l.mode == lockerThanks || l.mode == lockerWrong) && !l.shownAt.IsZero() {
			shown = l.shownAt.Add(l.opts.ShownFor)
		}
		if l.mode != lockerEnter || l.lang != l.opts.DefaultLang || l.code != "" {
			idle = l.lastTouch.Add(l.opts.IdleTimeout)
		}
	}
	return earliest(nextMinute(now), shown, wait, idle)
}

// reset is "enter your code" in the default language.
func (l *Locker) reset() {
	l.lang = l.opts.DefaultLang
	l.toKeypad()
}

// toKeypad is "enter your code" in the language chosen.
func (l *Locker) toKeypad() {
	l.mode = lockerEnter
	l.code, l.otp, l.message = "", "", ""
	l.out = LockerOutcome{}
	l.calls++ // an answer still on its way is no longer wanted
	l.c.dirty = true
}

func (l *Locker) tap(p image.Point) bool {
	if l.drawScale > 0 {
		p = image.Pt(int(float64(p.X)/l.drawScale), int(float64(p.Y)/l.drawScale))
	}
	for _, b := range l.buttons {
		if b.enabled && b.r.contains(p) {
			l.press(b.id)
			l.c.dirty = true
			return true
		}
	}
	return false
}

// press does what button id does.
func (l *Locker) press(id string) {
	kind, arg, _ := strings.Cut(id, ":")
	switch kind {
	case "lang":
		l.lang = arg
	case "key":
		l.typeRune([]rune(arg)[0])
	case "backspace":
		if l.mode == lockerSecondFactor {
			l.otp = trimLast(l.otp)
		} else {
			l.code = trimLast(l.code)
		}
	case "ok":
		l.submit()
	case "retry":
		l.retry()
	case "cancel":
		l.toKeypad()
	case "done":
		l.reset()
	}
}

// typeRune adds r to the code being typed, if it may be in it.
func (l *Locker) typeRune(r rune) {
	if l.mode == lockerSecondFactor {
		if r >= '0' && r <= '9' && len(l.otp) < secondFactorLength {
			l.otp += string(r)
			l.message = ""
		}
		return
	}
	r = toCodeRune(r)
	if strings.ContainsRune(CodeAlphabet, r) && len(l.code) < queue.LockerCodeLength {
		l.code += string(r)
		l.message = ""
	}
}

// keys takes typed input: a barcode scanner types the code (ABCD-EFGH,
// any case) and Enter.
func (l *Locker) keys(in *input) {
	switch l.mode {
	case lockerOpen, lockerChecking, lockerWait:
		// A door is open or a code is being checked: what is typed now
		// was meant for no screen.
		return
	case lockerEnter, lockerSecondFactor:
	default:
		// A code scanned over a message starts afresh.
		if len(in.chars) > 0 {
			l.toKeypad()
		}
	}
	for _, r := range in.chars {
		l.typeRune(r)
	}
	if in.backspace {
		l.press("backspace")
	}
	if in.enter {
		l.submit()
	}
	if in.escape {
		l.toKeypad()
	}
	l.c.dirty = true
}

// submit sends what has been typed: the code, or the one-time code.
func (l *Locker) submit() {
	switch l.mode {
	case lockerEnter:
		if len(l.code) < queue.LockerCodeLength {
			l.message = l.tx().T("locker.code_short", "n", queue.LockerCodeLength)
			return
		}
		code := l.code
		l.start(func(ctx context.Context) LockerOutcome { return l.opts.Actions.Code(ctx, code) })
	case lockerSecondFactor:
		if len(l.otp) < secondFactorLength {
			l.message = l.tx().T("locker.otp_short", "n", secondFactorLength)
			return
		}
		deposit, otp := l.out.Deposit, l.otp
		l.start(func(ctx context.Context) LockerOutcome { return l.opts.Actions.SecondFactor(ctx, deposit, otp) })
	default:
		l.toKeypad()
	}
}

func (l *Locker) retry() {
	if l.mode != lockerLockFailed {
		return
	}
	deposit := l.out.Deposit
	l.start(func(ctx context.Context) LockerOutcome { return l.opts.Actions.Retry(ctx, deposit) })
}

// start runs do on its own goroutine, showing "checking" meanwhile, and
// shows its outcome when it returns, unless the screen moved on.
func (l *Locker) start(do func(context.Context) LockerOutcome) {
	if l.opts.Actions == nil {
		return
	}
	l.calls++
	call, from := l.calls, l.mode
	l.mode = lockerChecking
	go func() {
		ctx, cancel := context.WithTimeout(l.opts.Context, l.opts.ActionTimeout)
		defer cancel()
		out := do(ctx)
		l.c.mu.Lock()
		defer l.c.mu.Unlock()
		if call != l.calls {
			return
		}
		l.show(out, from)
		l.c.changed()
	}()
}

// show moves to the screen out calls for; from is the screen the code was
// typed on.
func (l *Locker) show(out LockerOutcome, from lockerMode) {
	now := l.c.now()
	l.lastTouch, l.shownAt = now, time.Time{}
	// An answer about the same deposit may leave out what is known.
	if out.Deposit == "" || out.Deposit == l.out.Deposit {
		out.Deposit = cmp.Or(out.Deposit, l.out.Deposit)
		out.Compartment = cmp.Or(out.Compartment, l.out.Compartment)
		out.SentTo = cmp.Or(out.SentTo, l.out.SentTo)
	}
	l.out = out
	l.code, l.message = "", ""
	switch out.Kind {
	case LockerOpen:
		l.mode, l.otp = lockerOpen, ""
	case LockerWrong:
		if from == lockerSecondFactor {
			l.mode, l.otp, l.message = lockerSecondFactor, "", l.tx().T("locker.otp_wrong")
			return
		}
		l.mode = lockerWrong
		if out.Wait > 0 {
			l.mode, l.waitUntil = lockerWait, now.Add(out.Wait)
		}
	case LockerWait:
		l.mode, l.waitUntil = lockerWait, now.Add(out.Wait)
	case LockerBlocked:
		l.mode = lockerBlocked
	case LockerLockFailed:
		l.mode = lockerLockFailed
	case LockerSecondFactor:
		l.mode, l.otp = lockerSecondFactor, ""
	case LockerSecondFactorOffline:
		l.mode = lockerSecondFactorOffline
	default:
		l.mode = lockerError
	}
}

func (l *Locker) addButton(id string, r rect, enabled bool) {
	l.buttons = append(l.buttons, button{id: id, r: r, enabled: enabled})
}
