package device

import (
	"context"
	"fmt"
	"image"
	_ "image/png" // logos
	"os"
	"time"

	"github.com/numerek/numerek/device/kiosk"
	"github.com/numerek/numerek/display"
	"github.com/numerek/numerek/i18n"
	"github.com/numerek/numerek/printer"
	"github.com/numerek/numerek/printer/profiles"
	"github.com/numerek/numerek/protocol"
)

// buildKiosk makes the lobby kiosk: its touch screen, its printer, and
// the issuing behind them.
func (d *dev) buildKiosk(ctx context.Context) (display.Screen, error) {
	pc := d.cfg.Printer
	prof, err := profiles.Lookup(pc.Profile)
	if err != nil {
		return nil, err
	}
	mode, err := printer.ParseMode(pc.Mode)
	if err != nil {
		return nil, err
	}
	if err := printer.Check(prof, mode, d.cfg.Languages, pc.Logo != ""); err != nil {
		d.log.Error("the printer cannot print all the office's tickets need", "err", err)
	}
	p, err := printer.Open(ctx, pc.URI, prof, printer.Options{
		Mode: mode, StatusTimeout: time.Second, Logger: d.log, Transports: d.opts.Printers,
	})
	if err != nil {
		return nil, err
	}
	var logo image.Image
	if pc.Logo != "" {
		if logo, err = readLogo(pc.Logo); err != nil {
			return nil, err
		}
	}
	k := kiosk.New(d.client, d.follower, d.db, d.clock, p, kiosk.Options{
		IssueTimeout: d.cfg.Server.IssueTimeout, LeaseSize: d.cfg.Lease.Size, LeaseLow: d.cfg.Lease.Low,
		PaperMM: pc.PaperMM, Logo: logo, CheckEvery: pc.CheckEvery, AfterJournal: d.opts.AfterJournal, Log: d.log,
		Observer: d.metrics.kiosk(),
	})
	o := d.office(ctx, 5*time.Second)
	d.sound = &soundOnce{log: d.log, now: d.clock.Now}
	screen := display.NewKiosk(display.KioskConfig{
		Panel: d.panel(), Languages: d.cfg.Languages, DefaultLang: d.cfg.Languages[0], Location: location(o),
		IdleTimeout: d.cfg.Screen.IdleTimeout, TechPIN: d.cfg.TechnicianPIN, Now: d.clock.Now,
		Context: ctx,
	}, screenActions{k: k}, techActions{d: d, k: k})
	k.OnPrinterStatus(func(st printer.Status) {
		screen.SetPrinterStatus(display.PrinterStatus{Ready: st.Ready(), Detail: st.String() + " · " + pc.URI})
	})
	cat, lang := i18n.Messages(), d.cfg.Languages[0]
	screen.SetDeviceInfo([]string{
		cat.T(lang, "device.info.device", "name", d.cfg.Name, "role", string(d.cfg.Role), "version", d.opts.Version),
		cat.T(lang, "device.info.server", "url", d.cfg.Server.URL, "office", d.cfg.Server.Office),
		cat.T(lang, "device.info.printer", "uri", pc.URI, "model", prof.Name),
		cat.T(lang, "device.info.data", "dir", d.cfg.DataDir),
	})
	d.testPrint = k.TestPrint
	d.spawn("kiosk", func(ctx context.Context) error {
		defer p.Close()
		defer d.sound.close()
		return k.Run(ctx)
	})
	ks, w := &kioskScreen{d: d, screen: screen}, d.follower.Watch()
	d.spawn("kiosk screen", func(ctx context.Context) error { return d.feed(ctx, w, 30*time.Second, ks.react) })
	d.health.setRole(printerHealth(k, pc.URI), nil)
	d.status = func() any {
		st, err := k.Stats()
		if err != nil {
			return map[string]string{"error": err.Error()}
		}
		return KioskStatus{Stats: st, Screen: d.screenInfo(), Lang: screen.Lang(), Taps: screen.Taps(), Targets: screen.Targets()}
	}
	return screen, nil
}

// printerHealth is the kiosk's printer in the health report: its full
// status as the kiosk last read it, and the last ticket printed.
func printerHealth(k *kiosk.Kiosk, uri string) func() *protocol.PrinterHealth {
	return func() *protocol.PrinterHealth {
		ph := k.PrinterHealth()
		h := &protocol.PrinterHealth{
			URI: uri, Online: ph.Online, CoverOpen: ph.CoverOpen, PaperNearEnd: ph.PaperNearEnd, PaperOut: ph.PaperOut,
			CutterError: ph.CutterError, Error: ph.Error, LastTicket: ph.LastTicket, LastPrinted: ph.LastPrinted,
		}
		if ph.Read.IsZero() {
			h.Online, h.Error = false, "not read yet"
		}
		return h
	}
}

// KioskStatus is the kiosk's part of the status page (role_status): its
// journal and printer, and the touch targets of its screen (kioskctl tap
// uses them).
type KioskStatus struct {
	kiosk.Stats
	Screen ScreenInfo `json:"screen"`
	// Lang is the language the resident has chosen on the screen.
	Lang string `json:"lang"`
	// Taps counts the touches the screen has taken since kioskd started.
	Taps    int64            `json:"taps"`
	Targets []display.Target `json:"targets"`
}

// ScreenInfo says how the screen's logical pixels reach the window.
type ScreenInfo struct {
	Title       string  `json:"title"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	Rotation    int     `json:"rotation"`
	Windowed    bool    `json:"windowed"`
	WindowScale float64 `json:"window_scale"`
}

// WindowPoint is where a point of the screen's logical picture is in its
// window (or on the panel), after rotation and the window's scale.
func (s ScreenInfo) WindowPoint(p image.Point) image.Point {
	lw, lh := s.Width, s.Height
	if s.Rotation == 90 || s.Rotation == 270 {
		lw, lh = lh, lw
	}
	x, y := p.X, p.Y
	switch s.Rotation {
	case 90:
		x, y = lh-p.Y, p.X
	case 180:
		x, y = lw-p.X, lh-p.Y
	case 270:
		x, y = p.Y, lw-p.X
	}
	scale := s.WindowScale
	if scale <= 0 || !s.Windowed {
		scale = 1
	}
	return image.Pt(int(float64(x)*scale), int(float64(y)*scale))
}

func (d *dev) screenInfo() ScreenInfo {
	s := d.cfg.Screen
	return ScreenInfo{
		Title: "numerek-" + d.cfg.Name, Width: s.Width, Height: s.Height, Rotation: s.Rotation,
		Windowed: s.Windowed || d.opts.Windowed, WindowScale: s.WindowScale,
	}
}

func readLogo(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading the ticket logo: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("reading the ticket logo %s: %w", path, err)
	}
	return img, nil
}

// screenActions is what the kiosk's screen asks of the device.
type screenActions struct{ k *kiosk.Kiosk }

func (a screenActions) Issue(ctx context.Context, service, lang string, priority bool) (display.Outcome, error) {
	res, err := a.k.Issue(ctx, service, lang, priority)
	return outcome(res), err
}

func (a screenActions) CheckIn(ctx context.Context, code, lang string) (display.Outcome, error) {
	res, err := a.k.CheckIn(ctx, code, lang)
	return outcome(res), err
}

func outcome(r kiosk.Result) display.Outcome {
	return display.Outcome{
		Number: r.Number, Service: r.Service, Printed: r.Printed, ETicketURL: r.ETicketURL,
		Ahead: r.Ahead, EstimatedWait: r.EstimatedWait, BookedFor: r.BookedFor,
	}
}

// techActions are the service screen's buttons.
type techActions struct {
	d *dev
	k *kiosk.Kiosk
}

func (t techActions) TestPrint(ctx context.Context) error { return t.k.TestPrint(ctx) }

func (t techActions) TestSound(ctx context.Context) error {
	return t.d.sound.test(ctx, t.d.cfg.Languages[0])
}

func (t techActions) Quit() {
	t.d.log.Info("quit from the service screen")
	t.d.quit()
}
