package display

import (
	"context"
	"errors"
	"image"
	"strings"
	"time"

	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/queue"
)

// CodeAlphabet is the letters and digits of booking codes, as the server
// makes them (no O and 0, no I, 1 and L, no U), letters first as the keypad
// shows them. The keypad offers exactly these.
var CodeAlphabet = lettersFirst(queue.BookingCodeAlphabet)

// MaxCodeLength bounds what the keypad and the scanner may type: a code.
const MaxCodeLength = queue.BookingCodeLength

// minCodeLength is the shortest code OK accepts.
const minCodeLength = queue.BookingCodeLength

// lettersFirst orders an alphabet's letters before its digits.
func lettersFirst(alphabet string) string {
	var letters, digits []byte
	for i := 0; i < len(alphabet); i++ {
		if c := alphabet[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		} else {
			letters = append(letters, c)
		}
	}
	return string(letters) + string(digits)
}

// KioskConfig sets up a ticket kiosk.
type KioskConfig struct {
	Panel Panel
	// Languages are the language buttons, in order; default i18n.Languages.
	Languages []string
	// DefaultLang is the language the kiosk returns to when idle; default
	// Polish.
	DefaultLang string
	// Location is the office's time zone; default local.
	Location *time.Location
	// IdleTimeout returns the kiosk to its start screen in DefaultLang
	// when nobody touches it; default 40 s.
	IdleTimeout time.Duration
	// TicketShownFor is how long "take your ticket" stays; default 8 s.
	// A ticket shown on screen instead of printed stays IdleTimeout.
	TicketShownFor time.Duration
	// ActionTimeout bounds each call of KioskActions; default 30 s.
	ActionTimeout time.Duration
	// TechPIN opens the service screen after the technician gesture (tap
	// the four corners clockwise from the top left, each within 3 s);
	// empty disables the service screen.
	TechPIN string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Catalog holds the words; default i18n.Messages().
	Catalog *i18n.Catalog
	// Context is the device's lifetime: the actions a tap starts run on
	// their own goroutines and end with it; default context.Background().
	Context context.Context
}

// Outcome is what issuing a ticket or confirming a visit gave.
type Outcome struct {
	// Number is the ticket's number ("A123").
	Number string
	// Service is the service id.
	Service string
	// Printed says the ticket came out of the printer. When false the
	// kiosk shows the number and a QR code of ETicketURL instead.
	Printed bool
	// ETicketURL is the ticket's page for the resident's phone.
	ETicketURL string
	// Ahead is how many are expected to be called first.
	Ahead int
	// EstimatedWait is the expected wait; negative when unknown.
	EstimatedWait time.Duration
	// BookedFor is the booked time of a confirmed visit.
	BookedFor time.Time
}

// KioskActions is what the kiosk asks the device to do. The kiosk calls
// them on a goroutine of its own, never on the drawing thread, with a
// context bounded by KioskConfig.ActionTimeout. An error that is or wraps
// a *queue.Error is explained to the resident (a Refusal says why and when
// to come; NotFound on CheckIn means a wrong code); any other error shows
// a plain "please ask the staff".
type KioskActions interface {
	// Issue draws a ticket for service in lang, with priority for those
	// the law puts first, and prints it if the printer is ready.
	Issue(ctx context.Context, service, lang string, priority bool) (Outcome, error)
	// CheckIn confirms a booked visit by its code and issues its ticket.
	CheckIn(ctx context.Context, code, lang string) (Outcome, error)
}

// TechActions are the service screen's buttons.
type TechActions interface {
	TestPrint(ctx context.Context) error
	TestSound(ctx context.Context) error
	// Quit ends the program; the device decides how (cancel Run's context).
	Quit()
}

// PrinterStatus is the printer's state as the kiosk shows it.
type PrinterStatus struct {
	// Ready says a ticket can be printed now.
	Ready bool
	// Detail says what is wrong or what the printer is, for the service
	// screen ("paper out", "TM-T20III on /dev/usb/lp0").
	Detail string
}

type kioskMode int

const (
	modeStart kioskMode = iota
	modeBusy
	modeTicket
	modeMessage
	modeCode
	modePIN
	modeTech
)

// Kiosk is the lobby ticket machine's touch screen. Its methods are safe
// for concurrent use.
type Kiosk struct {
	c       *core
	cfg     KioskConfig
	actions KioskActions
	tech    TechActions

	// State shown; guarded by c.mu.
	view     queue.View
	printer  PrinterStatus
	info     []string
	lang     string
	priority bool
	mode     kioskMode
	busyText string
	outcome  Outcome
	message  string
	isError  bool
	code     string
	pin      string
	techNote string
	qr       *qrImage
	calls    int // actions started, to drop an answer that comes too late

	lastTouch   time.Time
	shownAt     time.Time
	corners     []time.Time
	drawnMinute time.Time

	// buttons are the touch targets of the last frame, drawnMode its mode.
	buttons []button
	// drawScale is how many panel pixels a pixel of the last frame's
	// layout took (see layoutScale).
	drawScale float64
	drawnMode kioskMode
}

// button is a touch target: id says what it does ("service:family",
// "lang:en", "key:A", "ok"...).
type button struct {
	id      string
	r       rect
	enabled bool
}

// NewKiosk makes a kiosk screen that asks actions to issue tickets; tech
// may be nil when there is no service screen.
func NewKiosk(cfg KioskConfig, actions KioskActions, tech TechActions) *Kiosk {
	if len(cfg.Languages) == 0 {
		cfg.Languages = i18n.Languages
	}
	cfg.DefaultLang = langOr(cfg.DefaultLang)
	cfg.Location = orLocal(cfg.Location)
	cfg.Catalog = orCatalog(cfg.Catalog)
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 40 * time.Second
	}
	if cfg.TicketShownFor <= 0 {
		cfg.TicketShownFor = 8 * time.Second
	}
	if cfg.ActionTimeout <= 0 {
		cfg.ActionTimeout = 30 * time.Second
	}
	if cfg.Context == nil {
		cfg.Context = context.Background()
	}
	k := &Kiosk{cfg: cfg, actions: actions, tech: tech, printer: PrinterStatus{Ready: true}, lang: cfg.DefaultLang}
	k.c = newCore("kiosk", cfg.Panel, cfg.Now, k)
	return k
}

func (k *Kiosk) base() *core { return k.c }

// SetView shows the services of v: open ones with their waits, the others
// greyed with the reason.
func (k *Kiosk) SetView(v queue.View) {
	k.c.mu.Lock()
	defer k.c.mu.Unlock()
	k.view = v
	k.c.changed()
}

// SetOnline says whether the server can be reached (shown on the service
// screen; the device issues from its lease meanwhile).
func (k *Kiosk) SetOnline(online bool) {
	k.c.setOnline(online)
}

// SetPrinterStatus says whether the printer can print; when it cannot,
// the start screen warns that tickets will be shown on screen.
func (k *Kiosk) SetPrinterStatus(s PrinterStatus) {
	k.c.mu.Lock()
	defer k.c.mu.Unlock()
	if k.printer != s {
		k.printer = s
		k.c.changed()
	}
}

// SetDeviceInfo sets the lines the service screen shows (device id,
// version, address, office).
func (k *Kiosk) SetDeviceInfo(lines []string) {
	k.c.mu.Lock()
	defer k.c.mu.Unlock()
	k.info = append([]string(nil), lines...)
	k.c.changed()
}

// Lang is the language the resident has chosen.
func (k *Kiosk) Lang() string {
	k.c.mu.Lock()
	defer k.c.mu.Unlock()
	return k.lang
}

// Taps is how many taps the screen has been given since it started; a
// technician (or a test) compares it before and after touching the panel
// to tell a touch the program never saw from one it saw and ignored.
func (k *Kiosk) Taps() int64 { return k.c.taps.Load() }

func (k *Kiosk) tx() texts { return texts{k.cfg.Catalog, k.lang} }

func (k *Kiosk) update(now time.Time, in *input) {
	if k.lastTouch.IsZero() {
		k.lastTouch = now
	}
	if !minuteOf(now).Equal(k.drawnMinute) {
		k.c.dirty = true
	}
	for _, p := range in.taps {
		k.lastTouch = now
		if k.corner(p, now) {
			continue
		}
		if k.tap(p, now) {
			// The buttons changed with the screen; later taps of this frame
			// were aimed at the old one.
			break
		}
	}
	if len(in.chars) > 0 || in.enter || in.backspace || in.escape {
		k.lastTouch = now
		k.keys(in, now)
	}
	k.timeouts(now)
}

// timeouts returns to the start screen when the resident has gone.
func (k *Kiosk) timeouts(now time.Time) {
	switch {
	case k.mode == modeBusy:
	case k.mode == modeTicket && k.outcome.Printed && !now.Before(k.shownAt.Add(k.cfg.TicketShownFor)):
		k.reset()
	case !now.Before(k.lastTouch.Add(k.cfg.IdleTimeout)):
		if k.mode != modeStart || k.lang != k.cfg.DefaultLang || k.priority {
			k.reset()
		}
	}
}

func (k *Kiosk) nextChange(now time.Time) time.Time {
	var ticket, idle time.Time
	if k.mode == modeTicket && k.outcome.Printed {
		ticket = k.shownAt.Add(k.cfg.TicketShownFor)
	}
	if k.mode != modeBusy && (k.mode != modeStart || k.lang != k.cfg.DefaultLang || k.priority) {
		idle = k.lastTouch.Add(k.cfg.IdleTimeout)
	}
	var corner time.Time
	if n := len(k.corners); n > 0 {
		corner = k.corners[n-1].Add(cornerWindow)
	}
	return earliest(nextMinute(now), ticket, idle, corner)
}

// reset is the start screen in the default language.
func (k *Kiosk) reset() {
	k.mode = modeStart
	k.lang = k.cfg.DefaultLang
	k.priority = false
	k.code, k.pin, k.message, k.techNote = "", "", "", ""
	k.qr = nil
	k.calls++ // an answer still on its way is no longer wanted
	k.c.dirty = true
}

// cornerWindow is how long the technician has between corner taps.
const cornerWindow = 3 * time.Second

// corner follows the technician gesture: the four corners clockwise from
// the top left. It reports whether p was a corner tap.
func (k *Kiosk) corner(p image.Point, now time.Time) bool {
	if k.cfg.TechPIN == "" || k.mode == modeTech || k.mode == modePIN {
		return false
	}
	W, H := k.c.panel.Logical()
	size := int(15 * k.c.panel.PxPerMM())
	which := -1
	switch {
	case p.X < size && p.Y < size:
		which = 0
	case p.X >= W-size && p.Y < size:
		which = 1
	case p.X >= W-size && p.Y >= H-size:
		which = 2
	case p.X < size && p.Y >= H-size:
		which = 3
	}
	if which < 0 {
		k.corners = k.corners[:0]
		return false
	}
	if n := len(k.corners); n > 0 && now.Sub(k.corners[n-1]) > cornerWindow {
		k.corners = k.corners[:0]
	}
	if which != len(k.corners) {
		k.corners = k.corners[:0]
		if which != 0 {
			return true
		}
	}
	k.corners = append(k.corners, now)
	if len(k.corners) == 4 {
		k.corners = k.corners[:0]
		k.mode = modePIN
		k.pin = ""
		k.message = ""
		k.c.dirty = true
	}
	return true
}

func (k *Kiosk) tap(p image.Point, now time.Time) bool {
	if k.drawScale > 0 {
		p = image.Pt(int(float64(p.X)/k.drawScale), int(float64(p.Y)/k.drawScale))
	}
	for _, b := range k.buttons {
		if b.enabled && b.r.contains(p) {
			k.press(b.id, now)
			k.c.dirty = true
			return true
		}
	}
	return false
}

// press does what button id does.
func (k *Kiosk) press(id string, now time.Time) {
	kind, arg, _ := strings.Cut(id, ":")
	switch kind {
	case "lang":
		k.lang = arg
	case "priority":
		k.priority = !k.priority
	case "service":
		k.issue(arg)
	case "closed":
		for _, s := range k.view.Services {
			if s.ID == arg && s.Refusal != nil {
				k.show(localize.Refusal(k.cfg.Catalog, k.lang, s.Refusal, k.cfg.Location, now), false)
			}
		}
	case "confirm":
		k.mode, k.code, k.message = modeCode, "", ""
	case "key":
		if k.mode == modePIN {
			if len(k.pin) < 12 {
				k.pin += arg
			}
		} else if len(k.code) < MaxCodeLength {
			k.code += arg
		}
		k.message = ""
	case "backspace":
		if k.mode == modePIN {
			k.pin = trimLast(k.pin)
		} else {
			k.code = trimLast(k.code)
		}
	case "ok":
		switch k.mode {
		case modeCode:
			k.checkIn()
		case modePIN:
			k.enterPIN()
		case modeMessage:
			k.afterMessage()
		}
	case "cancel", "done":
		k.reset()
	case "tech":
		k.techAction(arg)
	}
}

func trimLast(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	return string(r[:len(r)-1])
}

// keys takes typed input: a barcode scanner types the booking code and
// Enter; a keyboard may also type the PIN.
func (k *Kiosk) keys(in *input, now time.Time) {
	switch k.mode {
	case modeStart, modeMessage, modeTicket:
		// A scanned code from the start screen confirms a visit at once.
		if len(in.chars) > 0 {
			k.mode, k.code, k.message = modeCode, "", ""
		}
	}
	switch k.mode {
	case modeCode:
		for _, r := range in.chars {
			r = toCodeRune(r)
			if strings.ContainsRune(CodeAlphabet, r) && len(k.code) < MaxCodeLength {
				k.code += string(r)
				k.message = ""
			}
		}
		if in.backspace {
			k.code = trimLast(k.code)
		}
		if in.enter {
			k.checkIn()
		}
		if in.escape {
			k.reset()
		}
	case modePIN:
		for _, r := range in.chars {
			if r >= '0' && r <= '9' && len(k.pin) < 12 {
				k.pin += string(r)
			}
		}
		if in.backspace {
			k.pin = trimLast(k.pin)
		}
		if in.enter {
			k.enterPIN()
		}
		if in.escape {
			k.reset()
		}
	}
	k.c.dirty = true
}

// toCodeRune upper-cases a typed letter; scanners may send lower case.
func toCodeRune(r rune) rune {
	if r >= 'a' && r <= 'z' {
		return r - 'a' + 'A'
	}
	return r
}

func (k *Kiosk) show(msg string, isError bool) {
	k.mode, k.message, k.isError = modeMessage, msg, isError
}

// afterMessage leaves a message: a wrong code goes back to the keypad.
func (k *Kiosk) afterMessage() {
	if k.code != "" {
		k.mode = modeCode
		k.message = ""
		return
	}
	k.reset()
}

func (k *Kiosk) issue(service string) {
	if k.actions == nil {
		return
	}
	lang, priority := k.lang, k.priority
	k.startAction(k.tx().T("kiosk.printing"), func(ctx context.Context) (Outcome, error) {
		return k.actions.Issue(ctx, service, lang, priority)
	}, false)
}

func (k *Kiosk) checkIn() {
	if len(k.code) < minCodeLength {
		k.message = k.tx().T("kiosk.code_short", "n", minCodeLength)
		return
	}
	if k.actions == nil {
		return
	}
	code, lang := k.code, k.lang
	k.startAction(k.tx().T("kiosk.checking"), func(ctx context.Context) (Outcome, error) {
		return k.actions.CheckIn(ctx, code, lang)
	}, true)
}

// startAction runs do on its own goroutine, showing busy meanwhile, and
// shows its outcome when it returns, unless the kiosk moved on.
func (k *Kiosk) startAction(busy string, do func(context.Context) (Outcome, error), checkIn bool) {
	k.calls++
	call := k.calls
	k.mode, k.busyText = modeBusy, busy
	go func() {
		ctx, cancel := context.WithTimeout(k.cfg.Context, k.cfg.ActionTimeout)
		defer cancel()
		out, err := do(ctx)
		k.c.mu.Lock()
		defer k.c.mu.Unlock()
		if call != k.calls {
			return
		}
		k.finish(out, err, checkIn)
		k.c.changed()
	}()
}

func (k *Kiosk) finish(out Outcome, err error, checkIn bool) {
	now := k.c.now()
	k.lastTouch = now
	if err != nil {
		var qe *queue.Error
		switch {
		case errors.As(err, &qe) && qe.Refusal != nil:
			k.show(localize.Refusal(k.cfg.Catalog, k.lang, qe.Refusal, k.cfg.Location, now), false)
		case checkIn && errors.As(err, &qe) && (qe.Kind == queue.NotFound || qe.Kind == queue.Conflict || qe.Kind == queue.Invalid):
			k.show(k.tx().T("kiosk.code_wrong", "code", k.code), true)
		default:
			k.code = ""
			k.show(k.tx().T("kiosk.error"), true)
		}
		return
	}
	k.code = ""
	k.mode, k.outcome, k.shownAt = modeTicket, out, now
	k.qr = nil
	if !out.Printed && out.ETicketURL != "" {
		k.qr = newQR(out.ETicketURL)
	}
}

func (k *Kiosk) enterPIN() {
	if k.pin == k.cfg.TechPIN {
		k.mode, k.pin, k.techNote = modeTech, "", ""
		return
	}
	k.pin = ""
	k.message = k.tx().T("tech.pin_wrong")
}

func (k *Kiosk) techAction(what string) {
	if k.tech == nil {
		return
	}
	if what == "quit" {
		go k.tech.Quit()
		return
	}
	var do func(context.Context) error
	switch what {
	case "print":
		do = k.tech.TestPrint
	case "sound":
		do = k.tech.TestSound
	default:
		return
	}
	k.techNote = k.tx().T("tech.running")
	go func() {
		ctx, cancel := context.WithTimeout(k.cfg.Context, k.cfg.ActionTimeout)
		defer cancel()
		err := do(ctx)
		k.c.mu.Lock()
		defer k.c.mu.Unlock()
		if err != nil {
			k.techNote = k.tx().T("tech.failed", "error", err.Error())
		} else {
			k.techNote = k.tx().T("tech.done")
		}
		k.c.changed()
	}()
}

// The size the kiosk's screens are laid out for, in either orientation.
const layoutLong, layoutShort = 1920.0, 1080.0

// layoutScale is how far the kiosk's layout, made for a full-HD panel, is
// scaled to fill dst: a 7-inch 800x480 touchscreen shows the same screens
// as a 21.5-inch one, smaller, with every key of the keypad, and a 4K
// panel shows them larger rather than tiny.
func layoutScale(dst *canvas) float64 {
	b := dst.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	if h > w {
		return min(w/layoutShort, h/layoutLong)
	}
	return min(w/layoutLong, h/layoutShort)
}

func (k *Kiosk) draw(dst *canvas, now time.Time) {
	k.drawnMinute = minuteOf(now)
	k.drawnMode = k.mode
	k.buttons = k.buttons[:0]
	k.drawScale = layoutScale(dst)
	dst = dst.scaled(k.drawScale)
	W, H := dst.size()
	dst.Fill(colPaper)
	switch k.mode {
	case modeStart:
		k.drawStart(dst, W, H, now)
	case modeBusy:
		k.drawBusy(dst, W, H, now)
	case modeTicket:
		k.drawTicket(dst, W, H, now)
	case modeMessage:
		k.drawMessage(dst, W, H, now)
	case modeCode, modePIN:
		k.drawKeypad(dst, W, H, now)
	case modeTech:
		k.drawTech(dst, W, H, now)
	}
}
