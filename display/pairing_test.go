package display

import (
	"fmt"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	"github.com/numerek/numerek/display/displaytest"
)

// pairingPanels are the panels the pairing screen is checked on: full HD
// either way up, and a counter's 7-inch panel.
var pairingPanels = map[string]Panel{
	"landscape": LandscapeHD,
	"portrait":  PortraitHD,
	"small":     {Width: 800, Height: 480},
}

// pairingSteps are the pairing screen's states: waiting for the server,
// a code, a new code after a refusal with the server lost meanwhile.
func pairingSteps(p *Pairing, prefix string) []step {
	view := PairingView{
		Code: "K7M2-X9P4", URI: "https://numerek.cus-starachowice.pl/staff/devices",
		URIComplete: "https://numerek.cus-starachowice.pl/staff/devices?code=K7M2X9P4",
		Fingerprint: "3f2a 9c01 77be 40d2 e1a8 0c5f 93b6 21e7", Server: "https://numerek.cus-starachowice.pl",
	}
	return []step{
		{prefix + "-connecting", func() { p.view = PairingView{Fingerprint: view.Fingerprint, Server: view.Server} }},
		{prefix, func() { p.c.mu.Unlock(); p.SetView(view); p.c.mu.Lock() }},
		{prefix + "-refused-offline", func() {
			v := view
			v.Code, v.URIComplete, v.Refused, v.Unreachable = "H3WQ-7TNA", view.URI+"?code=H3WQ7TNA", true, true
			p.c.mu.Unlock()
			p.SetView(v)
			p.c.mu.Lock()
		}},
		{prefix + "-card-problem", func() {
			v := view
			v.CardProblem = Bilingual{
				Polish:  "wiersz 7: hasło Wi-Fi ma 6 znaków: musi mieć od 8 do 63 znaków bez polskich liter albo 64 cyfry szesnastkowe",
				English: "line 7: the Wi-Fi password has 6 characters: it must be 8 to 63 characters without national letters, or 64 hexadecimal digits",
			}
			p.c.mu.Unlock()
			p.SetView(v)
			p.c.mu.Lock()
		}},
	}
}

func pairingShots(dir string) error {
	panel := displaytest.Param("panel")
	p := NewPairing(PairingConfig{Panel: pairingPanels[panel]})
	return runShots(p, dir, pairingSteps(p, "pairing-"+panel), func() shotMeta { return shotMeta{Regions: toMeta(p.regions)} })
}

// TestPairingScreens: the code large and readable, a QR an admin's phone
// reads to the page with the code, on each panel; goldens reviewed.
func TestPairingScreens(t *testing.T) {
	t.Parallel()
	for _, panel := range []string{"landscape", "portrait", "small"} {
		t.Run(panel, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			displaytest.Run(t, "pairing-shots", dir, time.Minute, "panel="+panel)
			for _, shot := range []struct{ suffix, qr string }{
				{"-connecting", ""},
				{"", "https://numerek.cus-starachowice.pl/staff/devices?code=K7M2X9P4"},
				{"-refused-offline", "https://numerek.cus-starachowice.pl/staff/devices?code=H3WQ7TNA"},
				{"-card-problem", "https://numerek.cus-starachowice.pl/staff/devices?code=K7M2X9P4"},
			} {
				name := "pairing-" + panel + shot.suffix
				img := compareGolden(t, dir, name)
				var meta shotMeta
				readJSON(t, dir+"/"+name+".json", &meta)
				code := meta.Regions["code"]
				if s := share(img, scaleMeta(code, panel), colInk); shot.qr != "" && (s < 0.05 || s > 0.6) {
					t.Errorf("%s: the code's box is %.0f%% ink, want a large code drawn", name, 100*s)
				}
				if shot.qr == "" {
					continue
				}
				q := scaleMeta(meta.Regions["qr"], panel)
				crop := img.(interface {
					SubImage(image.Rectangle) image.Image
				}).SubImage(image.Rect(int(q[0]), int(q[1]), int(q[0]+q[2]), int(q[1]+q[3])))
				if got := decodeQR(t, crop); got != shot.qr {
					t.Errorf("%s: the QR reads %q, want %q", name, got, shot.qr)
				}
			}
		})
	}
}

// scaleMeta turns a region of the pairing screen's layout into the
// picture's pixels.
func scaleMeta(r [4]float64, panel string) [4]float64 {
	p := pairingPanels[panel]
	w, h := float64(p.Width), float64(p.Height)
	s := min(w/pairingLong, h/pairingShort)
	if h > w {
		s = min(w/pairingShort, h/pairingLong)
	}
	return [4]float64{r[0] * s, r[1] * s, r[2] * s, r[3] * s}
}

// TestPairingTextFits: every text of the pairing screen is drawn whole,
// inside the screen, over no other, on every panel.
func TestPairingTextFits(t *testing.T) {
	for name, panel := range pairingPanels {
		p := NewPairing(PairingConfig{Panel: panel})
		w, h := panel.Logical()
		img := ebiten.NewImage(w, h)
		for _, st := range pairingSteps(p, name) {
			f := layOut(p, img, st.apply)
			if len(f.Texts) < 6 {
				t.Errorf("%s: %d texts drawn", st.name, len(f.Texts))
			}
			for _, problem := range layoutProblems(f) {
				t.Errorf("%s: %s", st.name, problem)
			}
			all := fmt.Sprint(f.Texts)
			if strings.Contains(st.name, "refused") && !strings.Contains(all, "odrzucono") {
				t.Errorf("%s: the refusal is not said", st.name)
			}
			if strings.Contains(st.name, "card-problem") && (!strings.Contains(all, "wiersz 7") || !strings.Contains(all, "line 7")) {
				t.Errorf("%s: the card's mistake is not said in both languages: %s", st.name, all)
			}
		}
		img.Deallocate()
	}
}
