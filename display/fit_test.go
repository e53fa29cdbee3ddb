package display

import (
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/numerek/numerek/display/displaytest"
	"github.com/numerek/numerek/officeconfig"
	"github.com/numerek/numerek/queue"
)

var fitShots = flag.String("fitshots", "", "show every frame TestTextFits checks in a window and write it as a PNG into this folder, to look at")

// The layout test: every screen, in every language of each example office
// and in both orientations, lays out every text whole (or as the office's
// short form) inside the screen and its tile, and no two texts overlap.

// textMeta is a drawnText with its boxes as x, y, w, h.
type textMeta struct {
	Text, Short     string
	Lines           []string
	Size            float64
	Box, Area, Tile [4]float64
}

// frameTexts are the texts of one frame of W x H logical pixels.
type frameTexts struct {
	W, H  float64
	Texts []textMeta
}

func rectMeta(r rect) [4]float64 { return [4]float64{r.x, r.y, r.w, r.h} }

// exampleOffices are the example offices the layout is checked with.
func exampleOffices(tb testing.TB) []string {
	files, err := filepath.Glob("../examples/offices/*.toml")
	if err != nil || len(files) < 2 {
		tb.Fatalf("example offices: %v %v", files, err)
	}
	return files
}

// busyExample is the first office of an example file on a Monday morning,
// viewed at 10:12: all counters but the last two open and serving, the
// last but one on a break, the last closed; people wait for every service,
// and the last service has given all of today's tickets.
func busyExample(path string) (*office, *queue.Office) {
	cfg, err := officeconfig.Load(path)
	if err != nil {
		panic(err)
	}
	qo := cfg.Offices[0]
	last := len(qo.Services) - 1
	qo.Services[last].DailyCap = 2
	o := &office{st: queue.NewState(qo)}
	for i, s := range qo.Services {
		n := 3 + (i*3)%5
		if i == last {
			n = 2
		}
		o.issue(at("09:30").Add(time.Duration(i)*5*time.Minute), s.ID, n)
	}
	n := len(qo.Counters)
	for j, c := range qo.Counters[:n-1] {
		t := at("10:00").Add(time.Duration(j) * time.Minute)
		o.do(t, queue.SetCounter{Counter: c.Number, Status: queue.CounterOpenStatus})
		if _, _, err := o.st.Execute(t, "test", queue.CallNext{Counter: c.Number}); err != nil {
			continue // nobody waits for what this counter serves
		}
		if j == n-2 {
			o.do(t, queue.Finish{Counter: c.Number})
			o.do(t, queue.SetCounter{Counter: c.Number, Status: queue.CounterPausedStatus})
		}
	}
	return o, qo
}

// longWaits is the view at now with waits from minutes to hours, the
// longest texts a service's line can have.
func longWaits(o *office, now time.Time) queue.View {
	v := o.st.View(now)
	for i := range v.Services {
		m := 12 + 5*i
		switch i % 3 {
		case 1:
			m = 95 + 10*i
		case 2:
			m = 145 + i
		}
		v.Services[i].EstimatedWaitS = int64(m) * 60
	}
	return v
}

// fitPanel is the panel of a screen in an orientation, the portrait one
// hung on its side as examples/devices/hall.toml has it.
func fitPanel(screen, orientation string) Panel {
	p := LandscapeHD
	if screen == "counter" {
		p = SmallCounter
	}
	if orientation == "portrait" {
		p.Rotation = 90
	}
	return p
}

// fitScreen is one screen of the office in path, in an orientation, and
// the states it is checked in: each in every language of the office.
func fitScreen(screen, orient, path string) (Screen, []step, error) {
	return fitScreenOn(fitPanel(screen, orient), screen, path)
}

// fitScreenOn is fitScreen on a panel of its own.
func fitScreenOn(panel Panel, screen, path string) (Screen, []step, error) {
	o, qo := busyExample(path)
	now := at("10:12")
	var (
		s     Screen
		steps []step
	)
	langs := qo.Languages
	switch screen {
	case "hall":
		h := NewHall(HallConfig{Panel: panel, Location: warsaw, Now: func() time.Time { return now },
			Message: "Godziny przyjęć: pon.–pt. 7:30–15:30 · Prosimy o zachowanie ciszy"})
		s = h
		empty := &office{st: queue.NewState(qo)}
		for _, lang := range langs {
			set := func(v queue.View) {
				h.cfg.Lang, h.tx.lang, h.cfg.CounterWord = lang, lang, h.cfg.Catalog.T(lang, "hall.counter_word")
				h.view, h.hasView = v, true
			}
			steps = append(steps,
				step{"hall-" + lang, func() { h.c.online = true; h.blinkFrom = time.Time{}; set(longWaits(o, now)) }},
				step{"hall-" + lang + "-blink", func() { h.blinkFrom, h.blinkUntil = now, now.Add(time.Hour) }},
				step{"hall-" + lang + "-offline", func() { h.blinkFrom = time.Time{}; h.c.online = false }},
				step{"hall-" + lang + "-no-calls", func() { h.c.online = true; set(empty.st.View(now)) }},
				step{"hall-" + lang + "-closed", func() { set(empty.st.View(at("16:30"))) }},
			)
		}
	case "counter":
		d := NewCounter(CounterConfig{Panel: panel, Number: qo.Counters[0].Number, Location: warsaw, Now: func() time.Time { return now }})
		s = d
		n := len(qo.Counters)
		free := qo.Counters[1].Number
		v := longWaits(o, now)
		for i, c := range v.Counters {
			if c.Number == free {
				v.Counters[i].Current = nil
			}
		}
		show := func(number int) {
			d.cfg.Number = number
			d.known = false
			for _, cv := range v.Counters {
				if cv.Number == number {
					d.counter, d.known = cv, true
				}
			}
		}
		for _, lang := range langs {
			steps = append(steps,
				step{"counter-" + lang + "-serving", func() {
					d.cfg.Lang, d.tx.lang, d.cfg.CounterWord = lang, lang, d.cfg.Catalog.T(lang, "hall.counter_word")
					d.c.online = true
					show(qo.Counters[0].Number)
				}},
				step{"counter-" + lang + "-flash", func() { d.flashFrom = now }},
				step{"counter-" + lang + "-free", func() { d.flashFrom = time.Time{}; show(free) }},
				step{"counter-" + lang + "-paused", func() { show(qo.Counters[n-2].Number) }},
				step{"counter-" + lang + "-closed", func() { show(qo.Counters[n-1].Number) }},
				step{"counter-" + lang + "-offline", func() { d.c.online = false; show(qo.Counters[0].Number) }},
			)
		}
	case "kiosk":
		k := NewKiosk(KioskConfig{Panel: panel, Languages: langs, Location: warsaw, TechPIN: "2468", Now: func() time.Time { return now }}, &recorder{}, &recorder{})
		s = k
		k.view = longWaits(o, now)
		k.SetDeviceInfo([]string{"Urządzenie: kiosk-parter (ticket), wersja 0.1.0", "Serwer: http://10.0.0.2:8080, urząd " + qo.ID, "Drukarka: usb:///dev/usb/lp0 (TM-T20III)", "Dane: /var/lib/kioskd"})
		for _, lang := range langs {
			// The service whose name is longest in lang, and another.
			longest, other := qo.Services[0], qo.Services[1]
			for _, sv := range qo.Services {
				if len([]rune(sv.Name(lang))) > len([]rune(longest.Name(lang))) {
					other, longest = longest, sv
				}
			}
			p := "kiosk-" + lang
			steps = append(steps,
				step{p + "-start", func() {
					k.reset()
					k.lang, k.c.online, k.printer = lang, true, PrinterStatus{Ready: true}
				}},
				step{p + "-priority", func() { k.priority = true }},
				step{p + "-printer-down", func() { k.priority = false; k.printer = PrinterStatus{Ready: false, Detail: "brak papieru"} }},
				step{p + "-offline-printer-down", func() { k.c.online = false }},
				step{p + "-busy", func() {
					k.c.online, k.printer = true, PrinterStatus{Ready: true}
					k.mode, k.busyText = modeBusy, k.tx().T("kiosk.printing")
				}},
				step{p + "-ticket", func() {
					k.finish(Outcome{Number: longest.Prefix + "004", Service: longest.ID, Printed: true, Ahead: 13, EstimatedWait: 135 * time.Minute}, nil, false)
				}},
				step{p + "-ticket-qr", func() {
					k.finish(Outcome{Number: other.Prefix + "012", Service: other.ID, Printed: false, Ahead: 3, EstimatedWait: 26 * time.Minute, ETicketURL: ticketURL}, nil, false)
				}},
				step{p + "-booked", func() {
					k.finish(Outcome{Number: longest.Prefix + "005", Service: longest.ID, Printed: true, BookedFor: at("10:30")}, nil, false)
				}},
				step{p + "-code", func() { k.reset(); k.lang = lang; k.mode = modeCode; k.code = "K7M2X9" }},
				step{p + "-code-wrong", func() {
					k.code = "K7M2X9P4"
					k.finish(Outcome{}, &queue.Error{Kind: queue.NotFound, Message: "no booking"}, true)
				}},
				step{p + "-too-early", func() {
					k.finish(Outcome{}, &queue.Error{Kind: queue.Refused, Refusal: &queue.Refusal{Reason: queue.ReasonTooEarly, Until: at("10:40")}}, true)
				}},
				step{p + "-pin", func() { k.reset(); k.lang = lang; k.mode = modePIN; k.pin = "24" }},
				step{p + "-tech", func() {
					k.mode = modeTech
					k.c.online = false
					k.printer = PrinterStatus{Ready: false, Detail: "pokrywa otwarta"}
				}},
			)
		}
	default:
		return nil, nil, fmt.Errorf("no screen %q", screen)
	}
	return s, steps, nil
}

// layOut applies a step to s and lays out a frame on img as Run would,
// returning the texts it drew. Ebiten takes drawing commands before its
// game runs (it keeps them for the GPU), so this needs no window: the
// layout of every state in every language is checked in moments.
func layOut(s Screen, img *ebiten.Image, apply func()) frameTexts {
	c := s.base()
	c.mu.Lock()
	defer c.mu.Unlock()
	if apply != nil {
		apply()
	}
	var texts []drawnText
	dst := newCanvas(img, &texts)
	c.impl.draw(dst, c.now())
	// The texts are recorded in the layout's pixels.
	switch s := s.(type) {
	case *Kiosk:
		dst = dst.scaled(s.drawScale)
	case *Pairing:
		dst = dst.scaled(s.drawScale)
	case *Locker:
		dst = dst.scaled(s.drawScale)
	}
	w, h := dst.size()
	f := frameTexts{W: w, H: h}
	for _, t := range texts {
		f.Texts = append(f.Texts, textMeta{Text: t.Text, Short: t.Short, Lines: t.Lines, Size: t.Size,
			Box: rectMeta(t.Box), Area: rectMeta(t.Area), Tile: rectMeta(t.Tile)})
	}
	return f
}

// checkLayout lays out step st of s on img and reports what a resident
// could not read whole (see layoutProblems).
func checkLayout(t *testing.T, s Screen, img *ebiten.Image, st step) frameTexts {
	t.Helper()
	f := layOut(s, img, st.apply)
	if len(f.Texts) == 0 {
		t.Errorf("%s: no text recorded", st.name)
	}
	for _, p := range layoutProblems(f) {
		t.Errorf("%s: %s", st.name, p)
	}
	return f
}

// textFitShots shows one screen of one office in one orientation in a
// window through its states and writes each frame as a PNG into the
// folder -fitshots names, for a person to look at.
func textFitShots(string) error {
	screen, orient, path, dir := displaytest.Param("screen"), displaytest.Param("orientation"), displaytest.Param("office"), displaytest.Param("shots")
	s, steps, err := fitScreen(screen, orient, path)
	if err != nil {
		return err
	}
	prefix := screen + "-" + orient + "-" + strings.TrimSuffix(filepath.Base(path), ".toml") + "-"
	return runSteps(s, steps, true, func(name string, frame *image.RGBA) error {
		return writePNG(filepath.Join(dir, prefix+name+".png"), frame)
	})
}

// layoutProblems says what in f a resident could not read whole: a text
// drawn other than as asked (or as the office's short form), outside the
// screen or its tile, or over another text.
func layoutProblems(f frameTexts) []string {
	const slack = 1.0 // anti-aliasing and rounding
	inside := func(in, out [4]float64) bool {
		return in[0] >= out[0]-slack && in[1] >= out[1]-slack &&
			in[0]+in[2] <= out[0]+out[2]+slack && in[1]+in[3] <= out[1]+out[3]+slack
	}
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	screen := [4]float64{0, 0, f.W, f.H}
	var out []string
	for i, t := range f.Texts {
		drawn := words(strings.Join(t.Lines, " "))
		switch {
		case drawn == words(t.Text):
		case t.Short != "" && drawn == words(t.Short):
		default:
			out = append(out, fmt.Sprintf("%q is drawn as %q", t.Text, strings.Join(t.Lines, " / ")))
		}
		if !inside(t.Box, screen) {
			out = append(out, fmt.Sprintf("%q at %v is off the %vx%v screen", t.Text, t.Box, f.W, f.H))
		}
		if !inside(t.Tile, screen) {
			out = append(out, fmt.Sprintf("the tile %v of %q is off the screen", t.Tile, t.Text))
		}
		if !inside(t.Box, t.Tile) {
			out = append(out, fmt.Sprintf("%q at %v leaves its tile %v", t.Text, t.Box, t.Tile))
		}
		for _, u := range f.Texts[:i] {
			w := min(t.Box[0]+t.Box[2], u.Box[0]+u.Box[2]) - max(t.Box[0], u.Box[0])
			h := min(t.Box[1]+t.Box[3], u.Box[1]+u.Box[3]) - max(t.Box[1], u.Box[1])
			if w > slack && h > slack {
				out = append(out, fmt.Sprintf("%q at %v overlaps %q at %v", t.Text, t.Box, u.Text, u.Box))
			}
		}
	}
	return out
}

// TestTextFits: on every screen (hall, counter display, kiosk), in both
// orientations, every language of each example office and every state,
// each text is drawn whole or as the office's short form, inside the
// screen and its tile, over no other text. With -fitshots it also shows
// every frame in a window and saves it, to look at.
func TestTextFits(t *testing.T) {
	// The example offices on every screen; an office with names too long
	// for any place on the screens that show service names, which must
	// show its short names instead.
	type run struct {
		path    string
		screens []string
		short   bool
	}
	var runs []run
	for _, path := range exampleOffices(t) {
		runs = append(runs, run{path, []string{"hall", "counter", "kiosk"}, false})
	}
	runs = append(runs, run{"testdata/offices/long-names.toml", []string{"hall", "kiosk"}, true})
	for _, r := range runs {
		shorts, ran := 0, 0
		for _, screen := range r.screens {
			for _, orient := range []string{"landscape", "portrait"} {
				name := strings.TrimSuffix(filepath.Base(r.path), ".toml") + "-" + screen + "-" + orient
				t.Run(name, func(t *testing.T) {
					ran++
					s, steps, err := fitScreen(screen, orient, r.path)
					if err != nil {
						t.Fatal(err)
					}
					w, h := s.base().panel.Logical()
					img := ebiten.NewImage(w, h)
					defer img.Deallocate()
					for _, st := range steps {
						f := checkLayout(t, s, img, st)
						for _, tx := range f.Texts {
							if tx.Short != "" && strings.Join(tx.Lines, " ") == tx.Short {
								shorts++
							}
						}
					}
					if *fitShots != "" {
						dir, err := filepath.Abs(*fitShots)
						if err == nil {
							err = os.MkdirAll(dir, 0o755)
						}
						if err != nil {
							t.Fatal(err)
						}
						displaytest.Run(t, "text-fit", t.TempDir(), 6*time.Minute, "screen="+screen, "orientation="+orient, "office="+r.path, "shots="+dir)
					}
				})
			}
		}
		// (Unless -run left some of them out.)
		if r.short && ran == 2*len(r.screens) && shorts == 0 {
			t.Errorf("%s: no screen shows a service's short name, though the full names cannot fit", r.path)
		}
	}
}

// TestKioskButtonsStayPut: the start screen's buttons do not move when
// the server or the printer goes away or comes back, so a tap aimed at
// one service cannot land on another as a notice appears.
func TestKioskButtonsStayPut(t *testing.T) {
	for _, orient := range []string{"landscape", "portrait"} {
		t.Run(orient, func(t *testing.T) {
			o, qo := busyExample(exampleOffices(t)[0])
			now := at("10:12")
			k := NewKiosk(KioskConfig{Panel: fitPanel("kiosk", orient), Languages: qo.Languages, Location: warsaw, Now: func() time.Time { return now }}, &recorder{}, &recorder{})
			k.view = longWaits(o, now)
			w, h := k.c.panel.Logical()
			img := ebiten.NewImage(w, h)
			defer img.Deallocate()
			states := []struct {
				name    string
				online  bool
				printer bool
			}{{"all well", true, true}, {"offline", false, true}, {"printer down", true, false}, {"offline, printer down", false, false}}
			var want []Target
			for _, st := range states {
				layOut(k, img, func() { k.c.online, k.printer = st.online, PrinterStatus{Ready: st.printer} })
				got := k.Targets()
				if len(got) < 5 {
					t.Fatalf("%s: %d targets drawn, want the services, languages, confirm and priority", st.name, len(got))
				}
				if want == nil {
					want = got
					continue
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: targets\n%v\nwant, as with all well,\n%v", st.name, got, want)
				}
			}
		})
	}
}

// TestKioskOnSmallerPanels: the kiosk's screens, laid out for a full-HD
// panel, fit the touchscreens offices also buy (Raspberry Pi's 7-inch
// 800x480, 10-inch 1024x600 and 1280x800, a 15.6-inch 1366x768, on its
// side too): every text whole, every key of the keypad there, inside the
// panel, apart from the others, and big enough for a finger.
func TestKioskOnSmallerPanels(t *testing.T) {
	const minKeyMM = 7.0 // a fingertip's contact, with room to spare
	panels := []struct {
		name  string
		panel Panel
	}{
		{"7in-800x480", Panel{Width: 800, Height: 480, WidthMM: 154}},
		{"10in-1024x600", Panel{Width: 1024, Height: 600, WidthMM: 222}},
		{"10in-1280x800", Panel{Width: 1280, Height: 800, WidthMM: 217}},
		{"15in-1366x768", Panel{Width: 1366, Height: 768, WidthMM: 344}},
		{"15in-1366x768-portrait", Panel{Width: 1366, Height: 768, WidthMM: 344, Rotation: 90}},
	}
	office := exampleOffices(t)[0]
	for _, pc := range panels {
		t.Run(pc.name, func(t *testing.T) {
			s, steps, err := fitScreenOn(pc.panel, "kiosk", office)
			if err != nil {
				t.Fatal(err)
			}
			k := s.(*Kiosk)
			w, h := pc.panel.Logical()
			img := ebiten.NewImage(w, h)
			defer img.Deallocate()
			pxPerMM := pc.panel.PxPerMM()
			keypads := 0
			for _, st := range steps {
				f := layOut(s, img, st.apply)
				for _, p := range layoutProblems(f) {
					t.Errorf("%s: %s", st.name, p)
				}
				targets := k.Targets()
				keys := 0
				for i, tg := range targets {
					r := tg.Rect
					if !r.In(image.Rect(0, 0, w, h)) {
						t.Errorf("%s: %s at %v is not inside the %dx%d panel", st.name, tg.ID, r, w, h)
					}
					if mm := float64(min(r.Dx(), r.Dy())) / pxPerMM; mm < minKeyMM {
						t.Errorf("%s: %s at %v is %.1f mm across, want at least %v mm", st.name, tg.ID, r, mm, minKeyMM)
					}
					for _, u := range targets[:i] {
						if r.Overlaps(u.Rect) {
							t.Errorf("%s: %s at %v overlaps %s at %v", st.name, tg.ID, r, u.ID, u.Rect)
						}
					}
					if strings.HasPrefix(tg.ID, "key:") {
						keys++
					}
				}
				if strings.HasSuffix(st.name, "-code") {
					keypads++
					if want := len([]rune(CodeAlphabet)); keys != want {
						t.Errorf("%s: %d keys on the keypad, want %d", st.name, keys, want)
					}
				}
			}
			if keypads == 0 {
				t.Error("no keypad was laid out")
			}
		})
	}
}

// TestLayoutProblems: the checker itself finds a cut text, a text out of
// its tile and two texts on top of each other, and passes a short form.
func TestLayoutProblems(t *testing.T) {
	tile := [4]float64{0, 0, 300, 100}
	ok := textMeta{Text: "Świadczenie wychowawcze 800+", Short: "Św. wychowawcze 800+", Lines: []string{"Św. wychowawcze", "800+"}, Box: [4]float64{10, 10, 200, 60}, Tile: tile}
	tests := []struct {
		name  string
		texts []textMeta
		want  string
	}{
		{"short form", []textMeta{ok}, ""},
		{"cut to a word", []textMeta{{Text: "Świadczenia rodzinne", Lines: []string{"Świadczenia"}, Box: [4]float64{10, 10, 100, 30}, Tile: tile}}, `is drawn as "Świadczenia"`},
		{"ellipsis", []textMeta{{Text: "ok. 12 min", Lines: []string{"ok. 1…"}, Box: [4]float64{10, 10, 100, 30}, Tile: tile}}, "is drawn as"},
		{"out of its tile", []textMeta{{Text: "ok. 12 min", Lines: []string{"ok. 12 min"}, Box: [4]float64{250, 10, 100, 30}, Tile: tile}}, "leaves its tile"},
		{"off the screen", []textMeta{{Text: "10:12", Lines: []string{"10:12"}, Box: [4]float64{1900, 10, 100, 30}, Tile: [4]float64{0, 0, 1920, 1080}}}, "off the"},
		{"overlap", []textMeta{ok, {Text: "Poniedziałek", Lines: []string{"Poniedziałek"}, Box: [4]float64{150, 20, 100, 30}, Tile: tile}}, "overlaps"},
	}
	for _, tt := range tests {
		got := strings.Join(layoutProblems(frameTexts{W: 1920, H: 1080, Texts: tt.texts}), "\n")
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want one saying %q", tt.name, got, tt.want)
		}
	}
}
