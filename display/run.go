package display

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"
)

// Screen is one of this package's screens: *Kiosk, *Counter, *Hall,
// *Locker or *Pairing.
type Screen interface {
	base() *core
}

// RunOptions are how Run shows a screen.
type RunOptions struct {
	// Windowed shows a window instead of taking the whole screen, with the
	// mouse cursor visible: for development and tests. Production runs
	// fullscreen with no cursor.
	Windowed bool
	// WindowScale sizes the window against the panel (0.5 for half); 0
	// means 1. The picture is still drawn at the panel's full size.
	WindowScale float64
	// Title names the window (tests find it by this name).
	Title string
	// Screenshot, when set, is a PNG file the first fully drawn frame is
	// written to (upright, at the logical size).
	Screenshot string
	// ExitAfterScreenshot makes Run return once Screenshot is written.
	ExitAfterScreenshot bool
	// Capture, when set, is given every drawn frame (upright, logical
	// size) and when it was drawn; returning true ends Run. Capturing
	// reads the picture back from the GPU, so leave it nil in production.
	Capture func(frame *image.RGBA, at time.Time) (stop bool)
	// OnCloseRefused, when set, is told each time the window system asks a
	// full-screen screen to close (Alt+F4 under a window manager, say) and
	// the screen stays: the public must not be able to leave the program.
	// A windowed screen closes when asked.
	OnCloseRefused func()
	// OnFrame, when set, is told when each frame has been drawn, once the
	// GPU has finished it (a one-pixel read-back waits for that): for
	// measuring, not for production.
	OnFrame func(at time.Time)
	// OnDraw, when set, is told each time a frame is drawn (a screen
	// that did not change draws none), without waiting for the GPU: cheap
	// enough to count frames in production.
	OnDraw func()
}

// Run shows s until ctx is cancelled, Capture asks to stop, or a windowed
// screen's window is closed. It must be called from the main goroutine (Ebiten draws on the
// main thread) and only once per process: Ebiten runs one game per process.
//
// It keeps the screen idle between changes: the screen is not cleared every
// frame, Draw does nothing unless something changed, and the loop runs in
// Ebiten's minimum FPS mode, where it waits in the window system's event
// queue until input arrives or a screen change schedules a frame. (Skipping
// Draw alone still wakes the loop 60 times a second, about 3% of a core
// under Mesa's software GL; the event wait costs well under 1%.)
func Run(ctx context.Context, s Screen, opts RunOptions) error {
	c := s.base()
	if err := c.panel.Validate(); err != nil {
		return err
	}
	g := &game{c: c, opts: opts, ctx: ctx, started: time.Now()}
	scale := opts.WindowScale
	if scale <= 0 {
		scale = 1
	}
	ebiten.SetWindowSize(int(math.Round(float64(c.panel.Width)*scale)), int(math.Round(float64(c.panel.Height)*scale)))
	title := opts.Title
	if title == "" {
		title = "Numerek"
	}
	ebiten.SetWindowTitle(title)
	ebiten.SetScreenClearedEveryFrame(false)
	//lint:ignore SA1019 FPSModeVsyncOffMinimum is the only mode that waits for events instead of polling; see the doc above.
	ebiten.SetFPSMode(ebiten.FPSModeVsyncOffMinimum) //nolint:staticcheck
	// One Update for every frame: in this mode frames come only with events,
	// and a frame the tick clock finds too soon after the last would run no
	// Update at all, leaving a tap's release unseen until the next event.
	ebiten.SetTPS(ebiten.SyncWithFPS)
	ebiten.SetRunnableOnUnfocused(true)
	ebiten.SetWindowClosingHandled(true)
	if !opts.Windowed {
		ebiten.SetFullscreen(true)
		ebiten.SetCursorMode(ebiten.CursorModeHidden)
	}
	c.running.Store(true)
	defer c.running.Store(false)
	done := make(chan struct{})
	go g.waker(done)
	// The first frame must not wait for an input event.
	c.wakeUp()
	err := ebiten.RunGameWithOptions(g, &ebiten.RunGameOptions{X11ClassName: "numerek", X11InstanceName: "numerek"})
	close(done)
	g.stopTimer()
	if err != nil {
		return fmt.Errorf("running the %s screen: %w", c.name, err)
	}
	return g.err
}

// Loop is how a screen's loop goes, for the device's health report and
// systemd's watchdog.
type Loop struct {
	Running bool
	// LastTurn is when the loop last ran Update: it turns on input, on a
	// change to show, and when Nudge asks.
	LastTurn time.Time
	// LastFrame is when a frame was last drawn (the screen is drawn only
	// when what it shows changed).
	LastFrame time.Time
}

// LoopOf says how s's loop goes.
func LoopOf(s Screen) Loop {
	c := s.base()
	l := Loop{Running: c.running.Load()}
	if n := c.lastUpdate.Load(); n != 0 {
		l.LastTurn = time.Unix(0, n)
	}
	if n := c.lastFrame.Load(); n != 0 {
		l.LastFrame = time.Unix(0, n)
	}
	return l
}

// Nudge asks s's loop for one turn although nothing changed, so that a
// loop that waits for events shows it is alive (LastTurn moves); a loop
// stuck in Update or Draw does not turn.
func Nudge(s Screen) { s.base().wakeUp() }

// errStop ends the game without an error.
var errStop = errors.New("stop")

// core is what every screen shares: the lock that guards its state, the
// dirty flag, and the clock.
type core struct {
	name  string
	panel Panel
	now   func() time.Time
	impl  painter

	mu    sync.Mutex
	dirty bool

	running atomic.Bool
	// lastUpdate and lastFrame (unix nanoseconds) are when the loop last
	// turned and last drew a frame, for Loop.
	lastUpdate, lastFrame atomic.Int64
	// wake asks the waker for a frame.
	wake chan struct{}
	// taps counts the taps the screen has been given, so a test can tell a
	// tap that was seen from one that was not.
	taps atomic.Int64
	// online is whether the server can be reached, as the device last said
	// (guarded by mu).
	online bool
	// drawn are the texts the last frame laid out (guarded by mu), for
	// the layout tests.
	drawn []drawnText
	// ident is the identity shown over the picture, or nil (guarded by
	// mu); grabs wait for the picture on screen (guarded by mu).
	ident *identity
	// notice is the card ShowNotice keeps up, or nil (guarded by mu).
	notice *identity
	grabs  []chan<- *image.RGBA
}

// setOnline records whether the server can be reached, redrawing if that
// changed; every screen shows it.
func (c *core) setOnline(online bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.online != online {
		c.online = online
		c.changed()
	}
}

// painter is a screen's own part, called with core.mu held.
type painter interface {
	// update handles input and the passing of time, marking the screen
	// dirty when what it shows changes.
	update(now time.Time, in *input)
	// draw paints the whole picture.
	draw(dst *canvas, now time.Time)
	// nextChange is when time alone will next change the picture (a new
	// minute on the clock, the end of a blink), or zero for never.
	nextChange(now time.Time) time.Time
}

func newCore(name string, p Panel, now func() time.Time, impl painter) *core {
	if now == nil {
		now = time.Now
	}
	return &core{name: name, panel: p, now: now, impl: impl, dirty: true, wake: make(chan struct{}, 1), online: true}
}

// changed marks the screen for redrawing and wakes the loop. It must be
// called with mu held; waking does not block.
func (c *core) changed() {
	c.dirty = true
	c.wakeUp()
}

// wakeUp asks for a frame without blocking.
func (c *core) wakeUp() {
	if !c.running.Load() {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// input is what the resident did since the last update, in logical pixels.
type input struct {
	taps      []image.Point
	chars     []rune
	enter     bool
	backspace bool
	escape    bool
}

// game adapts a screen to ebiten.Game.
type game struct {
	c       *core
	opts    RunOptions
	ctx     context.Context
	started time.Time

	canvas     *ebiten.Image
	shapes     *shapes
	lastScreen *ebiten.Image
	shotDone   bool
	err        error

	timerMu sync.Mutex
	timer   *time.Timer
	timerAt time.Time

	touches []ebiten.TouchID
	in      input

	// updates counts Update calls begun, so the waker knows a frame came.
	updates atomic.Int64
}

// waker turns requests for a frame into frames. ebiten.ScheduleFrame posts
// an empty event that ends the loop's wait, but a request made while a
// frame is under way can be swallowed (GLFW drains the empty events when
// it polls, as it does around showing the window), and then the loop
// would sleep on until the next input. So the waker asks again, backing
// off, until an Update has begun after the request: that frame's Draw
// sees whatever was changed before it.
func (g *game) waker(done <-chan struct{}) {
	ctxDone := g.ctx.Done()
	for {
		select {
		case <-done:
			return
		case <-ctxDone:
			ctxDone = nil
		case <-g.c.wake:
		}
		seen := g.updates.Load()
		for d := time.Millisecond; g.updates.Load() <= seen; d = min(2*d, 50*time.Millisecond) {
			//lint:ignore SA1019 the screen is drawn only when it changed, so it
			// is not cleared every frame; a frame is asked for when it must be.
			ebiten.ScheduleFrame()
			select {
			case <-done:
				return
			case <-time.After(d):
			}
		}
	}
}

func (g *game) Update() error {
	g.updates.Add(1)
	g.c.lastUpdate.Store(time.Now().UnixNano())
	if g.err != nil {
		if errors.Is(g.err, errStop) {
			g.err = nil
		}
		return ebiten.Termination
	}
	if g.ctx.Err() != nil {
		return ebiten.Termination
	}
	if ebiten.IsWindowBeingClosed() {
		if g.opts.Windowed {
			return ebiten.Termination
		}
		if g.opts.OnCloseRefused != nil {
			g.opts.OnCloseRefused()
		}
	}
	in := g.readInput()
	g.c.taps.Add(int64(len(in.taps)))
	now := g.c.now()
	g.c.mu.Lock()
	g.c.dismissIdentity(in)
	g.c.swallowTaps(in)
	g.c.impl.update(now, in)
	next := earliest(g.c.impl.nextChange(now), g.c.expireIdentity(now))
	g.c.mu.Unlock()
	g.arm(next, now)
	return nil
}

func (g *game) readInput() *input {
	in := &g.in
	in.taps = in.taps[:0]
	in.chars = ebiten.AppendInputChars(in.chars[:0])
	in.enter = inpututil.IsKeyJustPressed(ebiten.KeyEnter) || inpututil.IsKeyJustPressed(ebiten.KeyNumpadEnter)
	in.backspace = inpututil.IsKeyJustPressed(ebiten.KeyBackspace)
	in.escape = inpututil.IsKeyJustPressed(ebiten.KeyEscape)
	// A tap is the moment the button goes down. Ebiten stamps each press
	// with the tick that first reports it, so the just-pressed flag holds
	// even when the finger is lifted before that tick runs; tracking the
	// pressed state ourselves instead misses a tap whenever a release goes
	// unseen.
	if inpututil.IsMouseButtonJustPressed(ebiten.MouseButtonLeft) {
		in.taps = append(in.taps, g.logical(ebiten.CursorPositionF()))
	}
	g.touches = inpututil.AppendJustPressedTouchIDs(g.touches[:0])
	for _, id := range g.touches {
		in.taps = append(in.taps, g.logical(ebiten.TouchPositionF(id)))
	}
	return in
}

func (g *game) logical(x, y float64) image.Point {
	lx, ly := g.c.panel.toLogical(x, y)
	return image.Pt(int(lx), int(ly))
}

// arm wakes the loop at the screen's next timed change.
func (g *game) arm(next, now time.Time) {
	g.timerMu.Lock()
	defer g.timerMu.Unlock()
	if next.Equal(g.timerAt) {
		return
	}
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	g.timerAt = next
	if next.IsZero() {
		return
	}
	// The screen's clock may be a test's fixed clock: wait by the real one
	// for the same span.
	g.timer = time.AfterFunc(max(next.Sub(now), time.Millisecond), func() {
		g.timerMu.Lock()
		g.timerAt = time.Time{}
		g.timerMu.Unlock()
		g.c.wakeUp()
	})
}

func (g *game) stopTimer() {
	g.timerMu.Lock()
	defer g.timerMu.Unlock()
	if g.timer != nil {
		g.timer.Stop()
	}
}

func (g *game) Draw(screen *ebiten.Image) {
	c := g.c
	c.mu.Lock()
	if screen != g.lastScreen {
		// A new offscreen (first frame, or recreated by Ebiten) holds nothing.
		c.dirty = true
		g.lastScreen = screen
	}
	grabs := c.grabs
	c.grabs = nil
	target := screen
	if c.panel.Rotation != 0 {
		if g.canvas == nil {
			lw, lh := c.panel.Logical()
			g.canvas = ebiten.NewImage(lw, lh)
		}
		target = g.canvas
	}
	if !c.dirty {
		c.mu.Unlock()
		// The picture is still there (the screen is not cleared between
		// frames): a grab reads it as it is.
		if len(grabs) > 0 {
			deliver(g.read(target), grabs)
		}
		return
	}
	c.drawn = nil
	if g.shapes == nil {
		g.shapes = newShapes()
	}
	dst := newCanvas(target, &c.drawn)
	dst.shapes = g.shapes
	c.impl.draw(dst, c.now())
	if c.ident != nil {
		c.ident.draw(dst)
	}
	if c.notice != nil {
		c.notice.draw(dst)
	}
	g.shapes.endFrame()
	c.dirty = false
	c.mu.Unlock()
	drawnAt := time.Now()
	c.lastFrame.Store(drawnAt.UnixNano())
	if g.opts.OnDraw != nil {
		g.opts.OnDraw()
	}

	if target != screen {
		lw, lh := c.panel.Logical()
		op := &ebiten.DrawImageOptions{}
		op.GeoM.Rotate(float64(c.panel.Rotation) * math.Pi / 180)
		switch c.panel.Rotation {
		case 90:
			op.GeoM.Translate(float64(lh), 0)
		case 180:
			op.GeoM.Translate(float64(lw), float64(lh))
		case 270:
			op.GeoM.Translate(0, float64(lw))
		}
		screen.DrawImage(g.canvas, op)
	}
	if g.opts.OnFrame != nil {
		px := make([]byte, 4)
		target.SubImage(image.Rect(0, 0, 1, 1)).(*ebiten.Image).ReadPixels(px)
		g.opts.OnFrame(time.Now())
	}
	wantShot := g.opts.Screenshot != "" && !g.shotDone
	if !wantShot && g.opts.Capture == nil && len(grabs) == 0 {
		return
	}
	frame := g.read(target)
	deliver(frame, grabs)
	if wantShot {
		g.shotDone = true
		if err := writePNG(g.opts.Screenshot, frame); err != nil {
			g.err = err
			return
		}
		if g.opts.ExitAfterScreenshot {
			g.err = errStop
			c.wakeUp()
		}
	}
	if g.opts.Capture != nil && g.opts.Capture(frame, drawnAt) {
		if g.err == nil {
			g.err = errStop
		}
		c.wakeUp()
	}
}

// deliver hands frame to each grab waiting for it (their channels have
// room for it; a grab that gave up is not waited for).
func deliver(frame *image.RGBA, grabs []chan<- *image.RGBA) {
	for _, g := range grabs {
		g <- frame
	}
}

// read copies what was drawn on img back from the GPU.
func (g *game) read(img *ebiten.Image) *image.RGBA {
	b := img.Bounds()
	frame := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	img.ReadPixels(frame.Pix)
	return frame
}

func (g *game) Layout(int, int) (int, int) {
	return g.c.panel.Width, g.c.panel.Height
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing screenshot: %w", err)
	}
	w := bufio.NewWriter(f)
	// The fastest compression: a screenshot is taken while the screen
	// runs, and a smaller file is not worth the CPU a device needs.
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img); err != nil {
		f.Close()
		return fmt.Errorf("writing screenshot %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing screenshot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing screenshot %s: %w", path, err)
	}
	return nil
}
