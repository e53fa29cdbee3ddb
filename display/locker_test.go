package display

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/internal/waitfor"
	"github.com/numerek/numerek/queue"
)

// lockerFixture is a locker of 17 compartments in four columns: six
// small, three medium, two large, six small; the lower ones reachable from
// a wheelchair.
func lockerFixture() LockerView {
	var comps []queue.Compartment
	add := func(size string, from, to int, accessible ...int) {
		for n := from; n <= to; n++ {
			comps = append(comps, queue.Compartment{ID: fmt.Sprint(n), Size: size, Accessible: slices.Contains(accessible, n)})
		}
	}
	add("S", 1, 6, 5, 6)
	add("M", 7, 9, 8, 9)
	add("L", 10, 11, 11)
	add("S", 12, 17, 16, 17)
	return LockerView{Name: "Urzędomat, parter, przy wejściu B", Compartments: comps}
}

// lockerStates are every state of the locker's screen in lang, named
// prefix-<state>; each step sets the screen as the device's outcome
// would.
func lockerStates(l *Locker, lang, prefix string) []step {
	fixture := lockerFixture()
	set := func(mode lockerMode) {
		l.toKeypad()
		l.lang, l.view = lang, fixture
		l.mode = mode
	}
	outcome := func(out LockerOutcome, from lockerMode) func() {
		return func() { set(from); l.show(out, from) }
	}
	open := LockerOutcome{Kind: LockerOpen, Deposit: "d-7", Compartment: "7"}
	clerk := open
	clerk.Clerk = true
	secondFactor := LockerOutcome{Kind: LockerSecondFactor, Deposit: "d-8", Compartment: "8", SentTo: "+48 *** *** 789"}
	return []step{
		{prefix + "-enter", func() { set(lockerEnter) }},
		{prefix + "-enter-typed", func() { set(lockerEnter); l.code = "K7M2X" }},
		{prefix + "-enter-short", func() { set(lockerEnter); l.code = "K7M2X"; l.submit() }},
		{prefix + "-enter-alarm", func() { set(lockerEnter); l.view.Alarm = []string{"12", "14"} }},
		{prefix + "-enter-offline", func() { set(lockerEnter); l.view.Offline = true }},
		{prefix + "-checking", func() { set(lockerChecking) }},
		{prefix + "-open", outcome(open, lockerEnter)},
		{prefix + "-clerk", outcome(clerk, lockerEnter)},
		{prefix + "-alarm", func() { outcome(open, lockerEnter)(); l.view.Alarm = []string{"7"}; l.view.Open = []string{"7"} }},
		{prefix + "-thanks", func() { outcome(open, lockerEnter)(); l.mode = lockerThanks }},
		{prefix + "-wrong", outcome(LockerOutcome{Kind: LockerWrong}, lockerEnter)},
		{prefix + "-wait", outcome(LockerOutcome{Kind: LockerWait, Wait: 16 * time.Second}, lockerEnter)},
		{prefix + "-blocked", outcome(LockerOutcome{Kind: LockerBlocked, Deposit: "d-7"}, lockerEnter)},
		{prefix + "-lock-failed", outcome(LockerOutcome{Kind: LockerLockFailed, Deposit: "d-7", Compartment: "7"}, lockerEnter)},
		{prefix + "-second-factor", func() { outcome(secondFactor, lockerEnter)(); l.otp = "12" }},
		{prefix + "-second-factor-wrong", func() {
			outcome(secondFactor, lockerEnter)()
			l.show(LockerOutcome{Kind: LockerWrong}, lockerSecondFactor)
		}},
		{prefix + "-second-factor-no-phone", func() { outcome(LockerOutcome{Kind: LockerSecondFactor, Deposit: "d-8"}, lockerEnter)() }},
		{prefix + "-second-factor-offline", outcome(LockerOutcome{Kind: LockerSecondFactorOffline, Deposit: "d-8"}, lockerEnter)},
		{prefix + "-error", outcome(LockerOutcome{Kind: LockerError, Detail: "journal: disk full"}, lockerEnter)},
	}
}

// lockerStateNames are the states lockerStates sets, in order.
func lockerStateNames() []string {
	var out []string
	for _, st := range lockerStates(NewLocker(LockerOptions{Panel: LandscapeHD}), "pl", "") {
		out = append(out, strings.TrimPrefix(st.name, "-"))
	}
	return out
}

// lockerPortraitStates are the states also shot on a portrait panel.
var lockerPortraitStates = []string{"enter", "open", "second-factor"}

// lockerShots: every state of the locker's screen in Polish and
// Ukrainian on a landscape panel, the main ones in Polish on a portrait
// one.
func lockerShots(dir string) error {
	orient := displaytest.Param("orientation")
	now := at("10:12")
	l := NewLocker(LockerOptions{Panel: panelFor(orient), Location: warsaw, Now: func() time.Time { return now }, Actions: &lockerRecorder{}})
	var steps []step
	for _, lang := range []string{"pl", "uk"} {
		for _, st := range lockerStates(l, lang, "locker-"+orient+"-"+lang) {
			if orient == "portrait" && (lang != "pl" || !slices.Contains(lockerPortraitStates, strings.TrimPrefix(st.name, "locker-portrait-pl-"))) {
				continue
			}
			steps = append(steps, st)
		}
	}
	return runShots(l, dir, steps, func() shotMeta {
		return shotMeta{PxPerMM: l.c.panel.PxPerMM(), Buttons: buttonsMeta(l.buttons, l.drawScale)}
	})
}

func TestLockerScreens(t *testing.T) {
	t.Parallel() // windows on X servers of their own (displaytest.Run)
	for _, orient := range []string{"landscape", "portrait"} {
		t.Run(orient, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			displaytest.Run(t, "locker-shots", dir, 3*time.Minute, "orientation="+orient)
			for _, lang := range []string{"pl", "uk"} {
				states := lockerStateNames()
				if orient == "portrait" {
					if lang != "pl" {
						continue
					}
					states = lockerPortraitStates
				}
				for _, state := range states {
					name := "locker-" + orient + "-" + lang + "-" + state
					img := compareGolden(t, dir, name)
					var meta shotMeta
					readJSON(t, filepath.Join(dir, name+".json"), &meta)
					minPx := 15 * meta.PxPerMM
					ids := map[string][4]float64{}
					for _, b := range meta.Buttons {
						ids[b.ID] = b.Rect
						if b.Rect[2] < minPx || b.Rect[3] < minPx {
							t.Errorf("%s: button %s is %.0fx%.0f px, under 15 mm (%.0f px)", name, b.ID, b.Rect[2], b.Rect[3], minPx)
						}
					}
					checkLockerState(t, name, state, ids)
					// The compartment on screen is marked on the locker's
					// picture: amber while open, red when it alarms.
					switch state {
					case "open", "clerk", "lock-failed":
						if lockerMarked(img, colAmber) < 0.005 {
							t.Errorf("%s: compartment 7 is not marked amber on the locker's picture", name)
						}
					case "alarm":
						if lockerMarked(img, colRed) < 0.005 {
							t.Errorf("%s: compartment 7 is not marked red on the locker's picture", name)
						}
					}
				}
			}
		})
	}
}

// checkLockerState checks the buttons a state offers.
func checkLockerState(t *testing.T, name, state string, ids map[string][4]float64) {
	t.Helper()
	has := func(id string) bool { _, ok := ids[id]; return ok }
	switch {
	case strings.HasPrefix(state, "enter"):
		for _, r := range CodeAlphabet {
			if !has("key:" + string(r)) {
				t.Errorf("%s: keypad lacks %c", name, r)
			}
		}
		for _, r := range "01IOLU" {
			if has("key:" + string(r)) {
				t.Errorf("%s: keypad offers %c, which codes never use", name, r)
			}
		}
		for _, lang := range i18n.Languages {
			if !has("lang:" + lang) {
				t.Errorf("%s: no button for %s", name, lang)
			}
		}
	case strings.HasPrefix(state, "second-factor") && state != "second-factor-offline":
		for _, r := range "0123456789" {
			if !has("key:" + string(r)) {
				t.Errorf("%s: one-time code keypad lacks %c", name, r)
			}
		}
		if has("key:A") {
			t.Errorf("%s: one-time code keypad offers letters", name)
		}
	case state == "lock-failed":
		if !has("retry") {
			t.Errorf("%s: no button to try the lock again", name)
		}
	case state == "open" || state == "clerk" || state == "alarm" || state == "checking" || state == "wait":
		// Nothing to tap: the door must be closed, the check or the wait
		// must end.
		if len(ids) > 0 {
			t.Errorf("%s: offers buttons %v", name, ids)
		}
	}
}

// lockerMarked is the share of a frame's part where the locker's picture
// is (the right half of a landscape frame, the lower half of a portrait
// one) in colour c.
func lockerMarked(img image.Image, c color.Color) float64 {
	b := img.Bounds()
	w, h := float64(b.Dx()), float64(b.Dy())
	if h > w {
		return share(img, [4]float64{0, h / 2, w, h / 2}, c)
	}
	return share(img, [4]float64{w / 2, 0, w / 2, h}, c)
}

// TestLockerTextFits: every state of the locker's screen, in every
// language and both orientations, draws each text whole, inside the
// screen and its tile, over no other text.
func TestLockerTextFits(t *testing.T) {
	for _, panel := range []Panel{LandscapeHD, {Width: 1920, Height: 1080, Rotation: 90}, {Width: 1280, Height: 800, WidthMM: 217}} {
		for _, lang := range i18n.Languages {
			t.Run(fmt.Sprintf("%dx%d-%d-%s", panel.Width, panel.Height, panel.Rotation, lang), func(t *testing.T) {
				now := at("10:12")
				l := NewLocker(LockerOptions{Panel: panel, Location: warsaw, Now: func() time.Time { return now }, Actions: &lockerRecorder{}})
				w, h := panel.Logical()
				img := ebiten.NewImage(w, h)
				defer img.Deallocate()
				for _, st := range lockerStates(l, lang, lang) {
					f := checkLayout(t, l, img, st)
					for _, tx := range f.Texts {
						if strings.Contains(tx.Text, "{") || strings.Contains(tx.Text, "locker.") {
							t.Errorf("%s: %q is not filled in", st.name, tx.Text)
						}
					}
				}
			})
		}
	}
}

// lockerRecorder is LockerActions that records its calls and answers each
// code from a table.
type lockerRecorder struct {
	mu      sync.Mutex
	calls   []string
	answers map[string]LockerOutcome
}

func (r *lockerRecorder) answer(call string) LockerOutcome {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
	if out, ok := r.answers[call]; ok {
		return out
	}
	return LockerOutcome{Kind: LockerWrong}
}

func (r *lockerRecorder) Code(_ context.Context, code string) LockerOutcome {
	return r.answer("code " + code)
}

func (r *lockerRecorder) SecondFactor(_ context.Context, deposit, code string) LockerOutcome {
	return r.answer("second-factor " + deposit + " " + code)
}

func (r *lockerRecorder) Retry(_ context.Context, deposit string) LockerOutcome {
	return r.answer("retry " + deposit)
}

func (r *lockerRecorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// lockerFlowResult is what a driven locker reports to the parent test.
type lockerFlowResult struct {
	Calls []string
	// Seen are the screens shown, in order, as "mode compartment lang".
	Seen []string
}

// lockerWatch records the screens a driven locker shows, in order, as
// "mode compartment lang", each when it was drawn: a screen shown for a
// moment is seen even when a loaded machine lets the script look only
// after it has gone.
type lockerWatch struct {
	mu   sync.Mutex
	seen []string
	// next is where the script's next wait starts looking.
	next int
	l    *Locker
}

func (w *lockerWatch) add(shown string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.seen); n == 0 || w.seen[n-1] != shown {
		w.seen = append(w.seen, shown)
	}
}

// state says how the screen's loop goes, for a failure's message.
func (w *lockerWatch) state() string {
	if w.l == nil {
		return ""
	}
	loop := LoopOf(w.l)
	w.l.c.mu.Lock()
	defer w.l.c.mu.Unlock()
	return fmt.Sprintf("now %s, mode %s, dirty %v, loop turned %s, drew %s", time.Now().Format("15:04:05.000"),
		lockerModeName(w.l.mode, false), w.l.c.dirty, loop.LastTurn.Format("15:04:05.000"), loop.LastFrame.Format("15:04:05.000"))
}

func (w *lockerWatch) screens() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

// until waits until the screen mode (as lockerModeName) has been drawn
// since the last wait.
func (w *lockerWatch) until(mode string) error {
	// Generous, like the driver's waits: a loaded machine can take seconds
	// a frame, and a passing flow never waits it out.
	held := waitfor.Within(30*time.Second, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for i := w.next; i < len(w.seen); i++ {
			if strings.Fields(w.seen[i])[0] == mode {
				w.next = i + 1
				return true
			}
		}
		return false
	})
	if !held {
		return fmt.Errorf("waited 30s for the %s screen; screens shown %q; %s", mode, w.screens(), w.state())
	}
	return nil
}

// runLocker runs l in a window with script beside it, and returns the
// screens it showed.
func runLocker(l *Locker, script func(d *driver, w *lockerWatch) error) ([]string, error) {
	// A flow of many taps: on a loaded machine each can take seconds.
	d := &driver{c: l.c, buttons: func() []button { return l.buttons }, scale: 0.5, timeout: 5 * time.Minute}
	w := &lockerWatch{l: l}
	err := d.run(l, false, func(*image.RGBA) {
		l.c.mu.Lock()
		shown := fmt.Sprintf("%s %s %s", lockerModeName(l.drawn.mode, l.drawn.alarm), l.drawn.compartment, l.drawn.lang)
		l.c.mu.Unlock()
		w.add(shown)
	}, func(d *driver) error { return script(d, w) })
	return w.screens(), err
}

// lockerModeName names a screen of the locker for the flows' records.
func lockerModeName(m lockerMode, alarmed bool) string {
	names := map[lockerMode]string{
		lockerEnter: "enter", lockerChecking: "checking", lockerOpen: "open", lockerThanks: "thanks",
		lockerWrong: "wrong", lockerWait: "wait", lockerBlocked: "blocked", lockerLockFailed: "lock-failed",
		lockerSecondFactor: "second-factor", lockerSecondFactorOffline: "second-factor-offline", lockerError: "error",
	}
	if m == lockerOpen && alarmed {
		return "alarm"
	}
	return names[m]
}

// tapAll taps the buttons ids one after another.
func tapAll(d *driver, ids ...string) error {
	for _, id := range ids {
		if err := d.tap(id); err != nil {
			return err
		}
	}
	return nil
}

// lockerTapsFlow: in English, a code tapped with a typo corrected that is
// wrong, "try again", the right code typed, the one-time code from the
// SMS tapped, compartment 8 open, its door closed, and back to Polish by
// itself.
func lockerTapsFlow(dir string) error {
	rec := &lockerRecorder{answers: map[string]LockerOutcome{
		"code K7M2X9P5":            {Kind: LockerSecondFactor, Deposit: "d-8", Compartment: "8", SentTo: "+48 *** *** 789"},
		"second-factor d-8 123456": {Kind: LockerOpen, Deposit: "d-8", Compartment: "8"},
	}}
	l := NewLocker(LockerOptions{Panel: LandscapeHD, Location: warsaw, Actions: rec, ShownFor: 1500 * time.Millisecond})
	l.SetView(lockerFixture())
	var res lockerFlowResult
	var err error
	res.Seen, err = runLocker(l, func(d *driver, w *lockerWatch) error {
		if err := tapAll(d, "lang:en", "key:K", "key:7", "key:M", "key:2", "key:X", "key:9", "key:P", "key:Z", "backspace", "key:4", "ok"); err != nil {
			return err
		}
		if err := w.until("wrong"); err != nil {
			return err
		}
		if err := tapAll(d, "cancel"); err != nil {
			return err
		}
		if err := w.until("enter"); err != nil {
			return err
		}
		// The right code from a keyboard this time.
		if err := d.win.Type("K7M2X9P5\n"); err != nil {
			return err
		}
		if err := w.until("second-factor"); err != nil {
			return err
		}
		if err := tapAll(d, "key:1", "key:2", "key:3", "key:4", "key:5", "key:6", "ok"); err != nil {
			return err
		}
		if err := w.until("open"); err != nil {
			return err
		}
		l.DoorClosed("8")
		if err := w.until("thanks"); err != nil {
			return err
		}
		// No input from here: the screen must wake itself to go back.
		return w.until("enter")
	})
	res.Calls = rec.snapshot()
	return errors.Join(err, writeJSON(filepath.Join(dir, "result.json"), res))
}

// lockerScannerFlow: a scanner types a code with its dash in lower case
// and Enter; the lock fails and "try again" opens it; the door is left
// open until it alarms, then closed; a scanned code over the thank-you is
// throttled, the screen takes codes again by itself after the wait, and a
// blocked code says so.
func lockerScannerFlow(dir string) error {
	rec := &lockerRecorder{answers: map[string]LockerOutcome{
		"code K7M2X9P5": {Kind: LockerLockFailed, Deposit: "d-7", Compartment: "7"},
		"retry d-7":     {Kind: LockerOpen, Deposit: "d-7", Compartment: "7"},
		"code ABCDEFGH": {Kind: LockerWait, Wait: 2 * time.Second},
		"code HGFEDCBA": {Kind: LockerBlocked, Deposit: "d-9"},
	}}
	l := NewLocker(LockerOptions{Panel: LandscapeHD, Location: warsaw, Actions: rec})
	fixture := lockerFixture()
	l.SetView(fixture)
	var res lockerFlowResult
	var err error
	res.Seen, err = runLocker(l, func(d *driver, w *lockerWatch) error {
		if err := d.win.Type("k7m2-x9p5\n"); err != nil {
			return err
		}
		if err := w.until("lock-failed"); err != nil {
			return err
		}
		if err := tapAll(d, "retry"); err != nil {
			return err
		}
		if err := w.until("open"); err != nil {
			return err
		}
		// Typing while the door is open is meant for no screen.
		if err := d.win.Type("zz\n"); err != nil {
			return err
		}
		alarm := fixture
		alarm.Open, alarm.Alarm = []string{"7"}, []string{"7"}
		l.SetView(alarm)
		if err := w.until("alarm"); err != nil {
			return err
		}
		l.SetView(fixture)
		l.DoorClosed("7")
		if err := w.until("thanks"); err != nil {
			return err
		}
		if err := d.win.Type("abcd-efgh\n"); err != nil {
			return err
		}
		if err := w.until("wait"); err != nil {
			return err
		}
		if err := w.until("enter"); err != nil {
			return err
		}
		if err := d.win.Type("HGFEDCBA\n"); err != nil {
			return err
		}
		return w.until("blocked")
	})
	res.Calls = rec.snapshot()
	return errors.Join(err, writeJSON(filepath.Join(dir, "result.json"), res))
}

// subsequence says whether want appears in got in order, maybe with other
// elements between.
func subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

func TestLockerFlows(t *testing.T) {
	t.Parallel() // windows on X servers of their own (displaytest.Run)
	tests := []struct {
		scenario string
		calls    []string
		seen     []string
	}{
		{"locker-taps",
			[]string{"code K7M2X9P4", "code K7M2X9P5", "second-factor d-8 123456"},
			[]string{"enter  pl", "enter  en", "wrong  en", "enter  en", "second-factor 8 en", "open 8 en", "thanks 8 en", "enter  pl"}},
		{"locker-scanner",
			[]string{"code K7M2X9P5", "retry d-7", "code ABCDEFGH", "code HGFEDCBA"},
			[]string{"enter  pl", "lock-failed 7 pl", "open 7 pl", "alarm 7 pl", "thanks 7 pl", "wait  pl", "enter  pl", "blocked  pl"}},
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			displaytest.Run(t, tc.scenario, dir, 6*time.Minute)
			var res lockerFlowResult
			readJSON(t, filepath.Join(dir, "result.json"), &res)
			if !slices.Equal(res.Calls, tc.calls) {
				t.Errorf("actions called %q, want %q", res.Calls, tc.calls)
			}
			if !subsequence(res.Seen, tc.seen) {
				t.Errorf("screens shown %q, want in order %q", res.Seen, tc.seen)
			}
		})
	}
}

// TestLockerCodeShown: the code being typed shows as the resident's
// message has it, in two halves, the rest to type as blanks.
func TestLockerCodeShown(t *testing.T) {
	for _, tc := range []struct{ typed, want string }{
		{"", "____-____"},
		{"K7M", "K7M_-____"},
		{"K7M2X", "K7M2-X___"},
		{"K7M2X9P5", "K7M2-X9P5"},
	} {
		if got := codeShown(tc.typed); got != tc.want {
			t.Errorf("codeShown(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
}

// lockerAt is a locker on a clock the test moves, with rec as its device.
func lockerAt(now *time.Time, rec *lockerRecorder) *Locker {
	l := NewLocker(LockerOptions{Panel: LandscapeHD, Location: warsaw, Actions: rec, Now: func() time.Time { return *now },
		IdleTimeout: 40 * time.Second, ShownFor: 8 * time.Second})
	l.view = lockerFixture()
	return l
}

// turn runs one turn of l's loop at now with in as Run does: update, ask
// when the loop must next wake, and draw the frame. It returns when the
// loop would next wake by itself.
func turn(l *Locker, img *ebiten.Image, now time.Time, in *input) time.Time {
	l.c.mu.Lock()
	defer l.c.mu.Unlock()
	if in == nil {
		in = &input{}
	}
	l.update(now, in)
	next := l.nextChange(now)
	l.draw(newCanvas(img, nil), now)
	return next
}

// TestLockerTimeouts: each screen stays as long as it should and goes
// back to the keypad by itself; an open door's screen never does.
func TestLockerTimeouts(t *testing.T) {
	img := ebiten.NewImage(1920, 1080)
	defer img.Deallocate()
	tests := []struct {
		name  string
		set   func(l *Locker)
		after time.Duration
		want  lockerMode
		lang  string
	}{
		{"wrong stays", func(l *Locker) { l.show(LockerOutcome{Kind: LockerWrong}, lockerEnter) }, 7 * time.Second, lockerWrong, "en"},
		{"wrong back to the keypad in the language chosen", func(l *Locker) { l.show(LockerOutcome{Kind: LockerWrong}, lockerEnter) }, 8 * time.Second, lockerEnter, "en"},
		{"thanks back to the keypad in Polish", func(l *Locker) {
			l.show(LockerOutcome{Kind: LockerOpen, Compartment: "7"}, lockerEnter)
			l.c.mu.Unlock()
			l.DoorClosed("7")
			l.c.mu.Lock()
		}, 8 * time.Second, lockerEnter, "pl"},
		{"another door closing leaves the open one", func(l *Locker) {
			l.show(LockerOutcome{Kind: LockerOpen, Compartment: "7"}, lockerEnter)
			l.c.mu.Unlock()
			l.DoorClosed("8")
			l.c.mu.Lock()
		}, time.Second, lockerOpen, "en"},
		{"an open door stays however long", func(l *Locker) { l.show(LockerOutcome{Kind: LockerOpen, Compartment: "7"}, lockerEnter) }, 10 * time.Minute, lockerOpen, "en"},
		{"the wait goes on", func(l *Locker) { l.show(LockerOutcome{Kind: LockerWait, Wait: 16 * time.Second}, lockerEnter) }, 15 * time.Second, lockerWait, "en"},
		{"the wait ends", func(l *Locker) { l.show(LockerOutcome{Kind: LockerWait, Wait: 16 * time.Second}, lockerEnter) }, 16 * time.Second, lockerEnter, "en"},
		{"a wrong code that must be waited for", func(l *Locker) { l.show(LockerOutcome{Kind: LockerWrong, Wait: 4 * time.Second}, lockerEnter) }, 3 * time.Second, lockerWait, "en"},
		{"a wrong code's wait ends", func(l *Locker) { l.show(LockerOutcome{Kind: LockerWrong, Wait: 4 * time.Second}, lockerEnter) }, 4 * time.Second, lockerEnter, "en"},
		{"a code half typed is dropped when nobody is there", func(l *Locker) { l.code = "K7M" }, 40 * time.Second, lockerEnter, "pl"},
		{"the one-time code is given up when nobody is there", func(l *Locker) {
			l.show(LockerOutcome{Kind: LockerSecondFactor, Deposit: "d-8"}, lockerEnter)
		}, 40 * time.Second, lockerEnter, "pl"},
		{"blocked stays a while", func(l *Locker) { l.show(LockerOutcome{Kind: LockerBlocked}, lockerEnter) }, 39 * time.Second, lockerBlocked, "en"},
		{"lock failed is left when nobody is there", func(l *Locker) {
			l.show(LockerOutcome{Kind: LockerLockFailed, Deposit: "d-7", Compartment: "7"}, lockerEnter)
		}, 40 * time.Second, lockerEnter, "pl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := at("10:12")
			l := lockerAt(&now, &lockerRecorder{})
			l.c.mu.Lock()
			l.lang = "en"
			l.lastTouch = now
			tc.set(l)
			l.c.mu.Unlock()
			// Nobody touches the screen: the loop turns only when it asked
			// to be woken, never at the time the test looks.
			end := at("10:12").Add(tc.after)
			for next := turn(l, img, now, nil); !next.IsZero() && !next.After(end); next = turn(l, img, now, nil) {
				now = next
			}
			l.c.mu.Lock()
			defer l.c.mu.Unlock()
			if l.mode != tc.want || l.lang != tc.lang {
				t.Errorf("after %v: %s in %s, want %s in %s", tc.after, lockerModeName(l.mode, false), l.lang, lockerModeName(tc.want, false), tc.lang)
			}
		})
	}
}

// TestLockerTyped: what a keyboard or a scanner types becomes the code
// the device is asked about: any case, with or without the dash; letters
// codes never have are not taken; a code too short is not sent.
func TestLockerTyped(t *testing.T) {
	img := ebiten.NewImage(1920, 1080)
	defer img.Deallocate()
	tests := []struct {
		typed   string
		call    string // "" when nothing is sent
		message string
	}{
		{"k7m2-x9p5", "code K7M2X9P5", ""},
		{"K7M2 X9P5", "code K7M2X9P5", ""},
		{"K7M2X9P5QQ", "code K7M2X9P5", ""},
		{"K7O0M2I1X9LUP5", "code K7M2X9P5", ""},
		{"K7M2", "", "locker.code_short"},
	}
	for _, tc := range tests {
		t.Run(tc.typed, func(t *testing.T) {
			now := at("10:12")
			rec := &lockerRecorder{answers: map[string]LockerOutcome{"code K7M2X9P5": {Kind: LockerOpen, Compartment: "7"}}}
			l := lockerAt(&now, rec)
			turn(l, img, now, &input{chars: []rune(tc.typed), enter: true})
			if tc.call == "" {
				l.c.mu.Lock()
				defer l.c.mu.Unlock()
				if want := l.tx().T(tc.message, "n", queue.LockerCodeLength); l.message != want || l.mode != lockerEnter {
					t.Errorf("typed %q: %s saying %q, want the keypad saying %q", tc.typed, lockerModeName(l.mode, false), l.message, want)
				}
				if calls := rec.snapshot(); len(calls) > 0 {
					t.Errorf("typed %q: device asked %q", tc.typed, calls)
				}
				return
			}
			if !waitfor.Within(5*time.Second, func() bool {
				l.c.mu.Lock()
				defer l.c.mu.Unlock()
				return l.mode == lockerOpen
			}) {
				t.Fatalf("typed %q: the compartment never opened", tc.typed)
			}
			if calls := rec.snapshot(); !slices.Equal(calls, []string{tc.call}) {
				t.Errorf("typed %q: device asked %q, want %q", tc.typed, calls, tc.call)
			}
		})
	}
}

// FuzzLockerKeys: whatever a scanner or keyboard types, the keypad holds
// at most a code's length of the code alphabet, and the one-time code's
// field at most six digits.
func FuzzLockerKeys(f *testing.F) {
	for _, s := range []string{"k7m2-x9p5", "ABCD-EFGH\n", "żółw 0123456789", "\x00\xff", "1234567890123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		l := NewLocker(LockerOptions{Panel: LandscapeHD})
		l.keys(&input{chars: []rune(typed), backspace: strings.HasSuffix(typed, "\b")})
		if len(l.code) > queue.LockerCodeLength || strings.Trim(l.code, CodeAlphabet) != "" {
			t.Errorf("typed %q: the code field holds %q", typed, l.code)
		}
		l.mode, l.out.Deposit = lockerSecondFactor, "d-8"
		l.keys(&input{chars: []rune(typed)})
		if len(l.otp) > secondFactorLength || strings.Trim(l.otp, "0123456789") != "" {
			t.Errorf("typed %q: the one-time code field holds %q", typed, l.otp)
		}
	})
}
