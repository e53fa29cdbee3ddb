package display

import (
	"context"
	"image"

	"errors"
	"fmt"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"strings"
	"testing"
	"time"

	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/queue"
)

func panelFor(orientation string) Panel {
	if orientation == "portrait" {
		return PortraitHD
	}
	return LandscapeHD
}

func toMeta(rs map[string]rect) map[string][4]float64 {
	out := map[string][4]float64{}
	for k, r := range rs {
		out[k] = [4]float64{r.x, r.y, r.w, r.h}
	}
	return out
}

// hallShots: the hall at 10:12 with the morning's calls, then a new call
// (blinking), then offline.
func hallShots(dir string) error {
	orient, lang := displaytest.Param("orientation"), displaytest.Param("lang")
	o := busyOffice()
	now := at("10:12")
	h := NewHall(HallConfig{Panel: panelFor(orient), Lang: lang, Location: warsaw, Now: func() time.Time { return now },
		Message: "Godziny pracy: pon.–pt. 7:30–15:30 · Prosimy zachować numerek do końca wizyty"})
	prefix := "hall-" + orient + "-" + lang
	steps := []step{
		{prefix, func() { h.view = o.view(now); h.hasView = true }},
		{prefix + "-newcall", func() {
			seen := o.st.Seq
			o.do(now, queue.CallNext{Counter: 1})
			fresh := o.st.CallsSince(seen)
			if len(fresh) != 1 {
				panic(fmt.Sprintf("new call gives %d fresh calls", len(fresh)))
			}
			h.c.mu.Unlock()
			h.SetView(o.view(now), fresh)
			h.c.mu.Lock()
		}},
		{prefix + "-offline", func() { h.c.online = false; h.blinkFrom = time.Time{} }},
	}
	return runShots(h, dir, steps, func() shotMeta { return shotMeta{Regions: toMeta(h.regions)} })
}

func TestHallScreens(t *testing.T) {
	t.Parallel() // windows on X servers of their own (displaytest.Run)
	for _, tc := range []struct{ orientation, lang string }{{"landscape", "pl"}, {"portrait", "pl"}, {"landscape", "uk"}} {
		t.Run(tc.orientation+"-"+tc.lang, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			displaytest.Run(t, "hall-shots", dir, time.Minute, "orientation="+tc.orientation, "lang="+tc.lang)
			prefix := "hall-" + tc.orientation + "-" + tc.lang
			var meta shotMeta
			img := compareGolden(t, dir, prefix)
			readJSON(t, dir+"/"+prefix+".json", &meta)
			// The newest call, F002 at counter 4, is drawn white on navy,
			// not blinking: the first view is history.
			if s := share(img, meta.Regions["number"], colWhite); s < 0.15 || s > 0.8 {
				t.Errorf("newest call's number region is %.0f%% white text, want a drawn number", 100*s)
			}
			if s := share(img, meta.Regions["call"], colAmber); s > 0.01 {
				t.Errorf("the first view blinks (%.0f%% amber)", 100*s)
			}

			img = compareGolden(t, dir, prefix+"-newcall")
			readJSON(t, dir+"/"+prefix+"-newcall.json", &meta)
			if s := share(img, meta.Regions["call"], colAmber); s < 0.5 {
				t.Errorf("a new call's box is %.0f%% amber, want it blinking bright", 100*s)
			}
			if s := share(img, meta.Regions["number"], colNavy); s < 0.15 {
				t.Errorf("the new call's number is %.0f%% navy on amber, want a drawn number", 100*s)
			}

			img = compareGolden(t, dir, prefix+"-offline")
			readJSON(t, dir+"/"+prefix+"-offline.json", &meta)
			banner, ok := meta.Regions["banner"]
			if !ok {
				t.Fatal("offline hall draws no banner")
			}
			if s := share(img, banner, colRed); s < 0.6 {
				t.Errorf("offline banner is %.0f%% red", 100*s)
			}
			// The last state is kept: the call box still shows a number.
			if s := share(img, meta.Regions["number"], colWhite); s < 0.15 {
				t.Errorf("offline hall lost the newest call (%.0f%% white)", 100*s)
			}
		})
	}
}

// counterShots: counter 1 serving, flashing on a new call, counter 5 on a
// break, counter 6 closed, and offline.
func counterShots(dir string) error {
	o := busyOffice()
	now := at("10:12")
	d := NewCounter(CounterConfig{Panel: SmallCounter, Number: 1, Location: warsaw, Now: func() time.Time { return now }})
	steps := []step{
		{"counter-serving", func() { d.c.mu.Unlock(); d.SetView(o.view(now)); d.c.mu.Lock() }},
		{"counter-newcall", func() {
			o.do(now, queue.Finish{Counter: 1})
			o.do(now, queue.CallNext{Counter: 1})
			d.c.mu.Unlock()
			d.SetView(o.view(now))
			d.c.mu.Lock()
		}},
		{"counter-paused", func() {
			d.cfg.Number = 5
			d.flashFrom = time.Time{}
			d.c.mu.Unlock()
			d.SetView(o.view(now))
			d.c.mu.Lock()
		}},
		{"counter-closed", func() { d.cfg.Number = 6; d.c.mu.Unlock(); d.SetView(o.view(now)); d.c.mu.Lock() }},
		{"counter-offline", func() {
			d.cfg.Number = 1
			d.c.online = false
			d.c.mu.Unlock()
			d.SetView(o.view(now))
			d.c.mu.Lock()
			d.flashFrom = time.Time{}
		}},
	}
	return runShots(d, dir, steps, nil)
}

func TestCounterScreens(t *testing.T) {
	t.Parallel() // windows on X servers of their own (displaytest.Run)
	dir := t.TempDir()
	displaytest.Run(t, "counter-shots", dir, time.Minute)
	img := compareGolden(t, dir, "counter-serving")
	if s := share(img, [4]float64{0, 200, 800, 200}, colWhite); s < 0.05 {
		t.Errorf("serving counter shows %.0f%% white in the number's place", 100*s)
	}
	img = compareGolden(t, dir, "counter-newcall")
	if s := share(img, [4]float64{0, 100, 800, 380}, colAmber); s < 0.4 {
		t.Errorf("a new call does not flash: %.0f%% amber", 100*s)
	}
	img = compareGolden(t, dir, "counter-paused")
	if s := share(img, [4]float64{0, 100, 800, 230}, colAmber); s < 0.05 {
		t.Errorf("the break is not written in amber: %.0f%%", 100*s)
	}
	compareGolden(t, dir, "counter-closed")
	img = compareGolden(t, dir, "counter-offline")
	if s := share(img, [4]float64{0, 430, 800, 50}, colRed); s < 0.5 {
		t.Errorf("offline counter has no red bar: %.0f%%", 100*s)
	}
}

// recorder is KioskActions that records calls and answers as told.
type recorder struct {
	issueOut   Outcome
	issueErr   error
	checkInOut Outcome
	checkInErr func(code string) error
	calls      []string
	prints     int
}

func (r *recorder) Issue(_ context.Context, service, lang string, priority bool) (Outcome, error) {
	r.calls = append(r.calls, fmt.Sprintf("issue %s %s %v", service, lang, priority))
	out := r.issueOut
	out.Service = service
	return out, r.issueErr
}

func (r *recorder) CheckIn(_ context.Context, code, lang string) (Outcome, error) {
	r.calls = append(r.calls, fmt.Sprintf("checkin %s %s", code, lang))
	if r.checkInErr != nil {
		if err := r.checkInErr(code); err != nil {
			return Outcome{}, err
		}
	}
	return r.checkInOut, nil
}

func (r *recorder) TestPrint(context.Context) error { r.prints++; return nil }
func (r *recorder) TestSound(context.Context) error { return errors.New("no sound card") }
func (r *recorder) Quit()                           {}

const ticketURL = "https://kolejka.starachowice.example/t/2026-11-23-B004?k=Zq8Jr2"

// decodeQR reads the QR code in img as a phone would.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("QR bitmap: %v", err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no readable QR code on the screen: %v", err)
	}
	return res.GetText()
}

// kioskShots: every kiosk screen; the start screen in each language.
func kioskShots(dir string) error {
	orient := displaytest.Param("orientation")
	o := busyOffice()
	now := at("10:12")
	k := NewKiosk(KioskConfig{Panel: panelFor(orient), Location: warsaw, TechPIN: "2468", Now: func() time.Time { return now }}, &recorder{}, &recorder{})
	k.view = o.view(now)
	k.SetDeviceInfo([]string{"Urządzenie: kiosk-parter", "Wersja: 0.1.0", "Adres: 192.0.2.15"})
	p := "kiosk-" + orient
	var steps []step
	langs := []string{"pl", "en", "lt", "ru", "uk"}
	if orient == "portrait" {
		langs = []string{"pl", "uk"}
	}
	for _, lang := range langs {
		steps = append(steps, step{p + "-start-" + lang, func() { k.lang = lang }})
	}
	steps = append(steps,
		step{p + "-priority", func() { k.lang = "pl"; k.priority = true }},
		step{p + "-printer-down", func() { k.priority = false; k.printer = PrinterStatus{Ready: false, Detail: "brak papieru"} }},
		step{p + "-offline", func() { k.printer = PrinterStatus{Ready: true}; k.c.online = false }},
		step{p + "-busy", func() {
			k.c.online = true
			k.printer = PrinterStatus{Ready: true}
			k.mode, k.busyText = modeBusy, k.tx().T("kiosk.printing")
		}},
		step{p + "-ticket", func() {
			k.finish(Outcome{Number: "B004", Service: "child800", Printed: true, Ahead: 3, EstimatedWait: 26 * time.Minute}, nil, false)
		}},
		step{p + "-ticket-qr-uk", func() {
			k.lang = "uk"
			k.finish(Outcome{Number: "B004", Service: "child800", Printed: false, Ahead: 3, EstimatedWait: 26 * time.Minute, ETicketURL: ticketURL}, nil, false)
		}},
		step{p + "-code", func() { k.reset(); k.mode = modeCode; k.code = "K7M2X9" }},
		step{p + "-code-wrong", func() {
			k.code = "K7M2X9P4"
			k.finish(Outcome{}, &queue.Error{Kind: queue.NotFound, Message: "no booking"}, true)
		}},
		step{p + "-too-early", func() {
			k.finish(Outcome{}, &queue.Error{Kind: queue.Refused, Refusal: &queue.Refusal{Reason: queue.ReasonTooEarly, Until: at("10:40")}}, true)
		}},
		step{p + "-pin", func() { k.reset(); k.mode = modePIN; k.pin = "24" }},
		step{p + "-tech", func() {
			k.mode = modeTech
			k.c.online = false
			k.printer = PrinterStatus{Ready: false, Detail: "pokrywa otwarta"}
		}},
	)
	return runShots(k, dir, steps, func() shotMeta {
		return shotMeta{PxPerMM: k.c.panel.PxPerMM(), Buttons: buttonsMeta(k.buttons, k.drawScale)}
	})
}

func TestKioskScreens(t *testing.T) {
	t.Parallel() // windows on X servers of their own (displaytest.Run)
	for _, orient := range []string{"landscape", "portrait"} {
		t.Run(orient, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			displaytest.Run(t, "kiosk-shots", dir, 90*time.Second, "orientation="+orient)
			names := []string{"start-pl", "start-en", "start-lt", "start-ru", "start-uk", "priority", "printer-down", "offline", "busy", "ticket", "ticket-qr-uk", "code", "code-wrong", "too-early", "pin", "tech"}
			if orient == "portrait" {
				names = []string{"start-pl", "start-uk", "priority", "printer-down", "offline", "busy", "ticket", "ticket-qr-uk", "code", "code-wrong", "too-early", "pin", "tech"}
			}
			for _, n := range names {
				name := "kiosk-" + orient + "-" + n
				img := compareGolden(t, dir, name)
				if n == "ticket-qr-uk" {
					if got := decodeQR(t, img); got != ticketURL {
						t.Errorf("%s: the QR code on screen reads %q, want %q", name, got, ticketURL)
					}
				}
				var meta shotMeta
				readJSON(t, dir+"/"+name+".json", &meta)
				minPx := 15 * meta.PxPerMM
				ids := map[string]bool{}
				for _, b := range meta.Buttons {
					ids[b.ID] = true
					if b.Rect[2] < minPx || b.Rect[3] < minPx {
						t.Errorf("%s: button %s is %.0fx%.0f px, under 15 mm (%.0f px)", name, b.ID, b.Rect[2], b.Rect[3], minPx)
					}
				}
				if strings.HasPrefix(n, "start") || n == "priority" {
					for _, want := range []string{"lang:pl", "lang:en", "lang:lt", "lang:ru", "lang:uk", "confirm", "priority", "service:family", "closed:documents"} {
						if !ids[want] {
							t.Errorf("%s: no button %s", name, want)
						}
					}
				}
				if n == "code" {
					for _, r := range CodeAlphabet {
						if !ids["key:"+string(r)] {
							t.Errorf("%s: keypad lacks %c", name, r)
						}
					}
					for _, r := range "01IO" {
						if ids["key:"+string(r)] {
							t.Errorf("%s: keypad offers %c, which codes never use", name, r)
						}
					}
				}
			}
		})
	}
}
