package printer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/numerek/numerek/printer/profiles"
)

// Shortfall is what an office's tickets lose on a printer model that
// prints no pictures at all: everything Numerek would have drawn. The
// horizontal rules are not among it; they become lines of dashes.
type Shortfall struct {
	Profile profiles.Profile
	// QR: the e-ticket's QR code cannot be printed (the model has no QR
	// encoder of its own either).
	QR bool
	// Logo: the office logo cannot be printed.
	Logo bool
	// Languages are the ticket languages some of whose letters no code
	// page of the printer holds; those lines are left off the paper.
	Languages []string
	// Raster: raster mode was asked for; text goes in the printer's font.
	Raster bool
}

func (s *Shortfall) Error() string {
	p := s.Profile
	var lost []string
	if s.QR {
		lost = append(lost, "the e-ticket QR code")
	}
	if s.Logo {
		lost = append(lost, "the office logo")
	}
	if len(s.Languages) > 0 {
		lost = append(lost, fmt.Sprintf("every line in %s with letters no code page of the printer holds (they are drawn on other printers)", strings.Join(s.Languages, ", ")))
	}
	msg := fmt.Sprintf("printer model %s (%s %s) prints no pictures: the capability data lists neither raster images (GS v 0), column images (ESC *) nor graphics (GS ( L) for it", p.Name, p.Vendor, p.Model)
	if len(lost) > 0 {
		msg += "; its tickets will lack " + strings.Join(lost, "; ")
	}
	if s.Raster {
		msg += "; raster mode is impossible, text goes in the printer's own font"
	}
	return msg
}

// Check says whether a printer of profile p can print everything an
// office's tickets need: their text in langs (i18n codes), the e-ticket
// QR code, and the logo when the office has one. It returns nil when it
// can, and a *Shortfall naming the model and what its tickets would lack
// when it cannot; kioskd and `kioskctl print-test` say so at start.
func Check(p profiles.Profile, mode Mode, langs []string, logo bool) error {
	if p.Images() != profiles.NoImages {
		return nil // whatever the printer cannot say in text, it is drawn
	}
	s := &Shortfall{Profile: p, QR: !p.NativeQR, Logo: logo, Raster: mode == RasterMode}
	enc := NewEncoder(p, TextMode)
	for _, a := range Alphabets() {
		if !slices.Contains(langs, a.Code) {
			continue
		}
		if !slices.ContainsFunc(enc.pages, func(pg pageSlot) bool { return pg.page.Covers(a.Letters) }) {
			s.Languages = append(s.Languages, a.Code)
		}
	}
	if !s.QR && !s.Logo && len(s.Languages) == 0 && !s.Raster {
		return nil
	}
	return s
}
