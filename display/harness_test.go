package display

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/internal/goldens"
	"github.com/numerek/numerek/internal/waitfor"
)

var update = flag.Bool("update", false, "rewrite the golden screenshots in testdata/golden")

func TestMain(m *testing.M) {
	displaytest.Main(m, scenarios)
}

// scenarios run in child processes, one window each.
var scenarios = map[string]displaytest.Scenario{
	"hall-shots":     hallShots,
	"counter-shots":  counterShots,
	"kiosk-shots":    kioskShots,
	"pairing-shots":  pairingShots,
	"text-fit":       textFitShots,
	"kiosk-issue":    kioskIssueFlow,
	"kiosk-code":     kioskCodeFlow,
	"kiosk-tech":     kioskTechFlow,
	"kiosk-rotated":  kioskRotatedFlow,
	"locker-shots":   lockerShots,
	"locker-taps":    lockerTapsFlow,
	"locker-scanner": lockerScannerFlow,
	"bench-idle":     benchIdle,
	"bench-call":     benchCall,
}

func windowTitle() string { return fmt.Sprintf("numerek-test-%d", os.Getpid()) }

// step changes a screen; the frame drawn after it is saved under name.
type step struct {
	name  string
	apply func()
}

// shotMeta is what a child tells about a saved frame besides its pixels.
type shotMeta struct {
	Buttons []buttonMeta `json:"buttons,omitempty"`
	Regions map[string][4]float64
	PxPerMM float64
}

type buttonMeta struct {
	ID   string
	Rect [4]float64
}

// buttonsMeta are buttons laid out at scale (0: 1), in the frame's pixels.
func buttonsMeta(buttons []button, scale float64) []buttonMeta {
	var out []buttonMeta
	for _, t := range targetsOf(buttons, scale) {
		r := t.Rect
		out = append(out, buttonMeta{t.ID, [4]float64{float64(r.Min.X), float64(r.Min.Y), float64(r.Dx()), float64(r.Dy())}})
	}
	return out
}

// runShots shows s and saves, for each step, the frame drawn after it as
// dir/<name>.png with dir/<name>.json (meta is asked under the lock).
func runShots(s Screen, dir string, steps []step, meta func() shotMeta) error {
	c := s.base()
	return runSteps(s, steps, true, func(name string, f *image.RGBA) error {
		if err := writePNG(filepath.Join(dir, name+".png"), f); err != nil {
			return err
		}
		if meta == nil {
			return nil
		}
		c.mu.Lock()
		m := meta()
		c.mu.Unlock()
		data, _ := json.Marshal(m)
		return os.WriteFile(filepath.Join(dir, name+".json"), data, 0o644)
	})
}

// runSteps shows s and gives each frame drawn after a step to saved, with
// the step's name; without pixels the frame is not read back from the GPU
// (which is slow) and saved is given nil.
func runSteps(s Screen, steps []step, pixels bool, saved func(name string, f *image.RGBA) error) error {
	c := s.base()
	i := 0
	var err error
	apply := func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if f := steps[i].apply; f != nil {
			f()
		}
		c.changed()
	}
	apply()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	done := false
	next := func(f *image.RGBA) bool {
		if done {
			return true
		}
		if err = saved(steps[i].name, f); err != nil {
			done = true
			return true
		}
		i++
		if i == len(steps) {
			done = true
			return true
		}
		apply()
		return false
	}
	opts := RunOptions{Windowed: true, WindowScale: 0.5, Title: windowTitle()}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if pixels {
		opts.Capture = func(f *image.RGBA, _ time.Time) bool { return next(f) }
	} else {
		opts.OnFrame = func(time.Time) {
			if next(nil) {
				stop()
			}
		}
	}
	runErr := Run(runCtx, s, opts)
	if runErr != nil {
		return runErr
	}
	if ctx.Err() != nil {
		return fmt.Errorf("timed out at step %d of %d", i, len(steps))
	}
	return err
}

// driver drives a screen in its window with real X input from a
// goroutine while the main goroutine runs Ebiten.
type driver struct {
	c *core
	// buttons are the screen's touch targets as last drawn (called with
	// c.mu held).
	buttons func() []button
	scale   float64
	// timeout bounds the whole run; 0 means 2 minutes.
	timeout  time.Duration
	win      displaytest.Window
	frames   atomic.Int64
	mu       sync.Mutex
	last     *image.RGBA
	lastMode kioskMode
	// firstIn is the first frame drawn in each mode, with what the kiosk
	// said then: a screen shown briefly (a ticket's 1.5 s) is seen even
	// when a loaded machine lets the script look only after it has gone.
	firstIn map[kioskMode]modeFrame
}

// modeFrame is a frame and the ticket and language the kiosk showed in it.
type modeFrame struct {
	frame        *image.RGBA
	number, lang string
}

// runDriven runs k in a window and script beside it. With pixels, each
// frame is read back from the GPU for the script (d.last); without, only
// counted, which spares a full-HD copy a frame.
func runDriven(k *Kiosk, scale float64, pixels bool, script func(d *driver) error) error {
	d := &driver{c: k.c, buttons: func() []button { return k.buttons }, scale: scale, firstIn: map[kioskMode]modeFrame{}}
	return d.run(k, pixels, func(f *image.RGBA) {
		k.c.mu.Lock()
		mode := k.drawnMode
		shown := modeFrame{frame: f, number: k.outcome.Number, lang: k.lang}
		k.c.mu.Unlock()
		d.mu.Lock()
		d.lastMode = mode
		if _, ok := d.firstIn[mode]; !ok && f != nil {
			d.firstIn[mode] = shown
		}
		d.mu.Unlock()
	}, script)
}

// run shows s in a window and runs script beside it; seen is told of each
// frame drawn (nil without pixels).
func (d *driver) run(s Screen, pixels bool, seen func(f *image.RGBA), script func(d *driver) error) error {
	// Generous: a passing flow never waits it out, and a loaded machine
	// can take seconds a tap.
	ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(d.timeout, 2*time.Minute))
	defer cancel()
	var scriptErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer cancel()
		w, err := displaytest.FindWindow(windowTitle(), 20*time.Second)
		if err != nil {
			scriptErr = err
			return
		}
		d.win = w
		if err := d.waitFrames(1); err != nil {
			scriptErr = err
			return
		}
		// X input sent in the first moments after the window is shown
		// can be lost before GLFW has selected it; let the window settle.
		time.Sleep(500 * time.Millisecond)
		scriptErr = script(d)
	}()
	frame := func(f *image.RGBA) {
		if seen != nil {
			seen(f)
		}
		d.mu.Lock()
		d.last = f
		d.mu.Unlock()
		d.frames.Add(1)
	}
	opts := RunOptions{Windowed: true, WindowScale: d.scale, Title: windowTitle()}
	if pixels {
		opts.Capture = func(f *image.RGBA, _ time.Time) bool { frame(f); return false }
	} else {
		opts.OnFrame = func(time.Time) { frame(nil) }
	}
	err := Run(ctx, s, opts)
	<-done
	return errors.Join(err, scriptErr)
}

func (d *driver) waitFrames(n int64) error {
	// Generous: software GL on a machine running several windowed tests
	// at once can take seconds a frame.
	if !waitfor.Within(30*time.Second, func() bool { return d.frames.Load() >= n }) {
		return fmt.Errorf("no frame %d after 30 s", n)
	}
	return nil
}

// tap clicks the middle of button id and waits for the frame it causes.
func (d *driver) tap(id string) error {
	d.c.mu.Lock()
	var b *button
	buttons := d.buttons()
	for i := range buttons {
		if buttons[i].id == id {
			b = &buttons[i]
		}
	}
	var x, y float64
	if b != nil {
		x, y = b.r.center()
	}
	d.c.mu.Unlock()
	if b == nil {
		return fmt.Errorf("no button %q on the screen", id)
	}
	return d.tapAt(x, y)
}

// tapAt clicks the logical point x, y, checks the screen took it as a
// tap, and waits for the frame it causes.
func (d *driver) tapAt(x, y float64) error {
	n := d.frames.Load()
	if err := d.click(x, y); err != nil {
		return err
	}
	return d.waitFrames(n + 1)
}

// click clicks the logical point x, y and checks the screen took it as a
// tap. A click the window never got as a press (on a loaded machine a
// frame can take longer than the click is held, and the press and the
// release fall between two looks at the mouse) is clicked again, as the
// kioskd tests do; one the screen counted is never repeated, so a retry
// cannot make a second action. Three lost clicks in a row are a failure.
func (d *driver) click(x, y float64) error {
	seen := d.c.taps.Load()
	px, py := fromLogical(d.c.panel, x, y)
	for try := 1; ; try++ {
		if err := d.win.Click(int(px*d.scale), int(py*d.scale)); err != nil {
			return err
		}
		// A loaded screen can take seconds to count a click: one clicked
		// again too soon is a key pressed twice.
		if waitfor.Within(5*time.Second, func() bool { return d.c.taps.Load() > seen }) {
			return nil
		}
		if try == 3 {
			return fmt.Errorf("none of three clicks at %.0f,%.0f was taken as a tap", x, y)
		}
		fmt.Fprintf(os.Stderr, "a click at %.0f,%.0f was not taken as a tap; clicking again\n", x, y)
	}
}

// until waits until cond, checked under the screen's lock, holds.
func (d *driver) until(what string, timeout time.Duration, cond func() bool) error {
	held := waitfor.Within(timeout, func() bool {
		d.c.mu.Lock()
		defer d.c.mu.Unlock()
		return cond()
	})
	if !held {
		return fmt.Errorf("waited %v for %s", timeout, what)
	}
	return nil
}

// shownIn is the first frame drawn in mode, if one was.
func (d *driver) shownIn(mode kioskMode) (modeFrame, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f, ok := d.firstIn[mode]
	return f, ok
}

func (d *driver) save(path string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.last == nil {
		return errors.New("no frame yet")
	}
	return writePNG(path, d.last)
}

// fromLogical turns a point of the logical picture into panel pixels.
func fromLogical(p Panel, x, y float64) (float64, float64) {
	lw, lh := p.Logical()
	switch p.Rotation {
	case 90:
		return float64(lh) - y, x
	case 180:
		return float64(lw) - x, float64(lh) - y
	case 270:
		return y, float64(lw) - x
	}
	return x, y
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
}

// compareGolden compares the frame dir/name.png with testdata/golden,
// allowing a few pixels to differ slightly (anti-aliasing between GL
// drivers); -update rewrites a golden file the frame differs from, and
// only those, so the ones left alone keep their approval (see
// checkReviewed).
func compareGolden(t *testing.T, dir, name string) image.Image {
	t.Helper()
	got := displaytest.ReadPNG(t, filepath.Join(dir, name+".png"))
	golden := filepath.Join("testdata", "golden", name+".png")
	differs := "there is no golden image"
	if _, err := os.Stat(golden); err == nil {
		differs = pixelDiff(got, displaytest.ReadPNG(t, golden))
	}
	if differs != "" {
		if !*update {
			t.Errorf("%s: %s %s (run with -update if the change is meant; the new frame is in %s)", name, differs, golden, dir)
			return got
		}
		data, err := os.ReadFile(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s; rewritten", golden, differs)
	}
	checkReviewed(t, golden)
	return got
}

// pixelDiff says how got differs from want beyond anti-aliasing, or "".
func pixelDiff(got, want image.Image) string {
	if got.Bounds() != want.Bounds() {
		return fmt.Sprintf("the frame is %v, not %v like", got.Bounds(), want.Bounds())
	}
	// On the pixels' bytes: a full-HD frame through image.Image's At
	// boxes two colours per pixel, and the goldens are many.
	g, w := asRGBA(got), asRGBA(want)
	diff, total := 0, len(g.Pix)/4
	for i := 0; i+3 < len(g.Pix); i += 4 {
		if max(byteDiff(g.Pix[i], w.Pix[i]), byteDiff(g.Pix[i+1], w.Pix[i+1]), byteDiff(g.Pix[i+2], w.Pix[i+2])) > 48 {
			diff++
		}
	}
	if float64(diff) > 0.002*float64(total) {
		return fmt.Sprintf("%d of %d pixels differ from", diff, total)
	}
	return ""
}

// asRGBA is img as RGBA pixels starting at (0, 0).
func asRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) && r.Stride == 4*r.Rect.Dx() {
		return r
	}
	b := img.Bounds()
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Rect, img, b.Min, draw.Src)
	return r
}

func byteDiff(a, b uint8) uint8 {
	if a > b {
		return a - b
	}
	return b - a
}

// checkReviewed fails t unless a person has looked at the golden image at
// path as it is now (internal/goldens). A golden image accepted by -update
// alone once held a hall that cut every service name to its first word.
func checkReviewed(t *testing.T, path string) {
	t.Helper()
	ok, err := goldens.Reviewed(path)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Errorf("%s has not been looked at as it is now: open it, and only if it shows what residents should see, run go run ./internal/goldens/review --accept --by NAME display/testdata/golden", path)
	}
}

func colorDistance(a, b color.Color) int {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := max(absDiff(ar, br), absDiff(ag, bg), absDiff(ab, bb))
	return int(d >> 8)
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// share is the fraction of pixels in r whose colour is near c.
func share(img image.Image, r [4]float64, c color.Color) float64 {
	n, hit := 0, 0
	for y := int(r[1]); y < int(r[1]+r[3]); y++ {
		for x := int(r[0]); x < int(r[0]+r[2]); x++ {
			n++
			if colorDistance(img.At(x, y), c) < 40 {
				hit++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hit) / float64(n)
}
