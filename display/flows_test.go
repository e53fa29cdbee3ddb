package display

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/localize"
	"github.com/numerek/numerek/queue"
)

// syncRecorder guards a recorder: actions run on the kiosk's goroutines.
type syncRecorder struct {
	mu sync.Mutex
	r  recorder
}

func (s *syncRecorder) Issue(ctx context.Context, service, lang string, priority bool) (Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Issue(ctx, service, lang, priority)
}

func (s *syncRecorder) CheckIn(ctx context.Context, code, lang string) (Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.CheckIn(ctx, code, lang)
}

func (s *syncRecorder) TestPrint(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.TestPrint(ctx)
}

func (s *syncRecorder) TestSound(ctx context.Context) error { return s.r.TestSound(ctx) }
func (s *syncRecorder) Quit()                               {}

func (s *syncRecorder) snapshot() ([]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.r.calls), s.r.prints
}

// flowResult is what a driven kiosk reports to the parent test.
type flowResult struct {
	Calls    []string
	Prints   int
	Messages []string
	Lang     string
	Mode     int
}

func liveKiosk(panel Panel, rec *syncRecorder, cfg KioskConfig) *Kiosk {
	o := busyOffice()
	cfg.Panel, cfg.Location = panel, warsaw
	k := NewKiosk(cfg, rec, rec)
	k.SetView(o.view(at("10:12")))
	return k
}

// kioskIssueFlow: English, priority, "800+" -> Issue(child800, en, true);
// the ticket screen, then back to the Polish start screen by itself.
func kioskIssueFlow(dir string) error {
	rec := &syncRecorder{r: recorder{issueOut: Outcome{Number: "B004", Printed: true, Ahead: 3, EstimatedWait: 20 * time.Minute}}}
	k := liveKiosk(LandscapeHD, rec, KioskConfig{TicketShownFor: 1500 * time.Millisecond})
	var res flowResult
	err := runDriven(k, 0.5, true, func(d *driver) error {
		for _, id := range []string{"lang:en", "priority", "service:child800"} {
			if err := d.tap(id); err != nil {
				return err
			}
		}
		// The frame and what the screen said are taken when it was drawn:
		// on a loaded machine the ticket's 1.5 s can pass before the
		// script looks, and the kiosk is back in Polish.
		if err := d.until("the ticket screen", 5*time.Second, func() bool { _, ok := d.shownIn(modeTicket); return ok }); err != nil {
			return err
		}
		ticket, _ := d.shownIn(modeTicket)
		frame, shown := ticket.frame, fmt.Sprintf("ticket %s lang %s", ticket.number, ticket.lang)
		if err := writePNG(filepath.Join(dir, "ticket.png"), frame); err != nil {
			return err
		}
		res.Messages = append(res.Messages, shown)
		// No input from here: the kiosk must wake itself to go back.
		if err := d.until("the start screen after the ticket", 5*time.Second, func() bool { return k.mode == modeStart }); err != nil {
			return err
		}
		res.Lang = k.Lang()
		return nil
	})
	res.Calls, _ = rec.snapshot()
	return errors.Join(err, writeJSON(filepath.Join(dir, "result.json"), res))
}

func TestKioskIssueByTaps(t *testing.T) {
	t.Parallel() // a window on an X server of its own (displaytest.Run)
	dir := t.TempDir()
	displaytest.Run(t, "kiosk-issue", dir, 2*time.Minute)
	var res flowResult
	readJSON(t, filepath.Join(dir, "result.json"), &res)
	if want := []string{"issue child800 en true"}; !slices.Equal(res.Calls, want) {
		t.Errorf("actions called %q, want %q", res.Calls, want)
	}
	if want := []string{"ticket B004 lang en"}; !slices.Equal(res.Messages, want) {
		t.Errorf("ticket screen showed %q, want %q", res.Messages, want)
	}
	if res.Lang != "pl" {
		t.Errorf("after the ticket the kiosk speaks %q, want the default pl", res.Lang)
	}
	img := displaytest.ReadPNG(t, filepath.Join(dir, "ticket.png"))
	// "B004" is drawn large in navy in the white card.
	if s := share(img, [4]float64{200, 330, 1400, 300}, colNavy); s < 0.08 {
		t.Errorf("ticket screen shows %.0f%% navy where the number goes", 100*s)
	}
}

// kioskCodeFlow: the keypad with a typo corrected, a wrong code, then the
// scanner typing a code that is too early.
func kioskCodeFlow(dir string) error {
	rec := &syncRecorder{r: recorder{checkInErr: func(code string) error {
		if code == "K7M2X9P4" {
			return &queue.Error{Kind: queue.NotFound, Message: "no booking " + code}
		}
		return fmt.Errorf("confirming booking %s: %w", code, &queue.Error{Kind: queue.Refused, Message: "too early",
			Refusal: &queue.Refusal{Reason: queue.ReasonTooEarly, Until: at("10:40")}})
	}}}
	k := liveKiosk(LandscapeHD, rec, KioskConfig{Now: func() time.Time { return at("10:12") }})
	var res flowResult
	err := runDriven(k, 0.5, false, func(d *driver) error {
		taps := []string{"confirm", "key:K", "key:7", "key:M", "key:2", "key:X", "key:9", "key:P", "key:Z", "backspace", "key:4", "ok"}
		for _, id := range taps {
			if err := d.tap(id); err != nil {
				return err
			}
		}
		if err := d.until("the wrong code message", 5*time.Second, func() bool { return k.mode == modeMessage }); err != nil {
			return err
		}
		res.Messages = append(res.Messages, k.message)
		if err := d.until("the message drawn", 2*time.Second, func() bool { return k.drawnMode == modeMessage }); err != nil {
			return err
		}
		if err := d.tap("ok"); err != nil {
			return err
		}
		if err := d.until("the keypad drawn", 2*time.Second, func() bool { return k.drawnMode == modeCode }); err != nil {
			return err
		}
		if err := d.tap("cancel"); err != nil {
			return err
		}
		// A barcode scanner types the code in lower case and presses Enter.
		if err := d.win.Type("k7m2x9p5\n"); err != nil {
			return err
		}
		if err := d.until("the too-early message", 5*time.Second, func() bool { return k.mode == modeMessage }); err != nil {
			return err
		}
		res.Messages = append(res.Messages, k.message)
		return nil
	})
	res.Calls, _ = rec.snapshot()
	return errors.Join(err, writeJSON(filepath.Join(dir, "result.json"), res))
}

func TestKioskBookingCode(t *testing.T) {
	t.Parallel() // a window on an X server of its own (displaytest.Run)
	dir := t.TempDir()
	displaytest.Run(t, "kiosk-code", dir, 2*time.Minute)
	var res flowResult
	readJSON(t, filepath.Join(dir, "result.json"), &res)
	if want := []string{"checkin K7M2X9P4 pl", "checkin K7M2X9P5 pl"}; !slices.Equal(res.Calls, want) {
		t.Errorf("actions called %q, want %q", res.Calls, want)
	}
	cat := orCatalog(nil)
	want := []string{
		cat.T("pl", "kiosk.code_wrong", "code", "K7M2X9P4"),
		localize.Refusal(cat, "pl", &queue.Refusal{Reason: queue.ReasonTooEarly, Until: at("10:40")}, warsaw, at("10:12")),
	}
	if !slices.Equal(res.Messages, want) {
		t.Errorf("kiosk said %q, want %q", res.Messages, want)
	}
}

// kioskTechFlow: the idle timeout, then the four corners and the PIN to
// the service screen, a test print there, and the idle timeout again. The
// kiosk idles after 6 s: a loaded builder takes seconds for a frame, and
// each step must come before the kiosk goes back to its start.
func kioskTechFlow(dir string) error {
	rec := &syncRecorder{}
	k := liveKiosk(LandscapeHD, rec, KioskConfig{TechPIN: "2468", IdleTimeout: 6 * time.Second})
	var res flowResult
	err := runDriven(k, 0.5, false, func(d *driver) error {
		if err := d.tap("lang:uk"); err != nil {
			return err
		}
		if k.Lang() != "uk" {
			return fmt.Errorf("tapping Українська gives %s", k.Lang())
		}
		if err := d.until("the idle timeout", 15*time.Second, func() bool { return k.lang == "pl" }); err != nil {
			return err
		}
		W, H := k.c.panel.Logical()
		corners := func() error {
			for _, p := range [][2]float64{{5, 5}, {float64(W) - 5, 5}, {float64(W) - 5, float64(H) - 5}, {5, float64(H) - 5}} {
				if err := d.click(p[0], p[1]); err != nil {
					return err
				}
			}
			return d.until("the PIN pad", 1500*time.Millisecond, func() bool { return k.drawnMode == modePIN })
		}
		if err := corners(); err != nil {
			return err
		}
		for _, id := range []string{"key:2", "key:4", "key:6", "key:8", "ok"} {
			if err := d.tap(id); err != nil {
				return err
			}
		}
		if err := d.until("the service screen", 2*time.Second, func() bool { return k.drawnMode == modeTech }); err != nil {
			k.c.mu.Lock()
			defer k.c.mu.Unlock()
			return fmt.Errorf("%w (PIN typed %q, message %q, mode %d)", err, k.pin, k.message, k.mode)
		}
		if err := d.tap("tech:print"); err != nil {
			return err
		}
		if err := d.until("the test print", 2*time.Second, func() bool { _, n := rec.snapshot(); return n == 1 }); err != nil {
			return err
		}
		return d.until("the idle timeout on the service screen", 15*time.Second, func() bool { return k.mode == modeStart })
	})
	res.Calls, res.Prints = rec.snapshot()
	return errors.Join(err, writeJSON(filepath.Join(dir, "result.json"), res))
}

func TestKioskTechnicianAndIdle(t *testing.T) {
	t.Parallel() // a window on an X server of its own (displaytest.Run)
	dir := t.TempDir()
	displaytest.Run(t, "kiosk-tech", dir, 2*time.Minute)
	var res flowResult
	readJSON(t, filepath.Join(dir, "result.json"), &res)
	if res.Prints != 1 || len(res.Calls) != 0 {
		t.Errorf("test prints %d, resident actions %q; want one test print and no ticket", res.Prints, res.Calls)
	}
}

// kioskRotatedFlow: a landscape panel hung on its side shows the portrait
// layout; taps land on the right service.
func kioskRotatedFlow(dir string) error {
	rec := &syncRecorder{r: recorder{issueOut: Outcome{Number: "A005", Printed: true}}}
	k := liveKiosk(Panel{Width: 1920, Height: 1080, Rotation: 90}, rec, KioskConfig{})
	err := runDriven(k, 0.5, true, func(d *driver) error {
		if err := d.save(filepath.Join(dir, "rotated.png")); err != nil {
			return err
		}
		if err := d.tap("service:family"); err != nil {
			return err
		}
		return d.until("the issue", 5*time.Second, func() bool { calls, _ := rec.snapshot(); return len(calls) == 1 })
	})
	var res flowResult
	res.Calls, _ = rec.snapshot()
	return errors.Join(err, writeJSON(filepath.Join(dir, "result.json"), res))
}

func TestKioskRotatedPanel(t *testing.T) {
	t.Parallel() // a window on an X server of its own (displaytest.Run)
	dir := t.TempDir()
	displaytest.Run(t, "kiosk-rotated", dir, 2*time.Minute)
	var res flowResult
	readJSON(t, filepath.Join(dir, "result.json"), &res)
	if want := []string{"issue family pl false"}; !slices.Equal(res.Calls, want) {
		t.Errorf("actions called %q, want %q", res.Calls, want)
	}
	img := displaytest.ReadPNG(t, filepath.Join(dir, "rotated.png"))
	if b := img.Bounds(); b.Dx() != 1080 || b.Dy() != 1920 {
		t.Errorf("a rotated panel's frame is %v, want the 1080x1920 portrait picture", b.Size())
	}
}
