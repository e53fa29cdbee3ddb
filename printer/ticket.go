package printer

import (
	"fmt"
	"image"
	"time"

	"github.com/numerek/numerek/printer/escpos"
	"github.com/numerek/numerek/printer/raster"
)

// Ticket is what one queue ticket says, every text already in the
// resident's language (package printer/ticketfmt makes one from raw
// values). Empty fields are left off the paper.
type Ticket struct {
	Office      string // "Urząd Miasta Krakowa"
	Service     string // "Rejestracja pojazdów"
	NumberLabel string // "Twój numer"
	Number      string // "A123", printed large
	Priority    string // e.g. "Pierwszeństwo": printed reversed under the number
	Ahead       string // "Przed Tobą: 3 osoby"
	Wait        string // "Szacowany czas oczekiwania: ok. 15 min"
	Issued      string // "Wydano: 21.11.2026, 14:05"
	QRURL       string // the e-ticket address, printed as a QR code
	QRCaption   string // "Śledź kolejkę w telefonie"
	Footer      string // the office's closing line
	Logo        image.Image

	// PaperMM narrows the layout to 58 mm paper on an 80 mm printer set up
	// for it; 0 uses the profile's paper.
	PaperMM int
}

// Encoded is one print job: its bytes, what printing them takes (the
// spans the Printer paces by), and how each line was sent.
type Encoded struct {
	escpos.Job
	Lines []LineReport
}

// RasterLines counts the lines of text that had to be drawn.
func (e Encoded) RasterLines() int {
	n := 0
	for _, l := range e.Lines {
		if l.Raster && !l.QR {
			n++
		}
	}
	return n
}

// widthFor is the printable width for a ticket on this encoder's printer.
func (e *Encoder) widthFor(paperMM int) (int, error) {
	p := e.profile
	switch {
	case paperMM == 0 || paperMM == p.PaperMM:
		return p.WidthDots, nil
	case paperMM == 58 && p.PaperMM == 80:
		return min(p.WidthDots, 384*p.DPI/203), nil
	default:
		return 0, fmt.Errorf("a %d mm ticket does not fit printer profile %s (%d mm paper)", paperMM, p.Name, p.PaperMM)
	}
}

// Ticket lays out t and encodes it for the printer, ending with a cut.
func (e *Encoder) Ticket(t Ticket) (Encoded, error) {
	if t.Number == "" {
		return Encoded{}, fmt.Errorf("ticket has no number")
	}
	width, err := e.widthFor(t.PaperMM)
	if err != nil {
		return Encoded{}, err
	}
	d := e.newDoc(width)
	d.feed(16)
	narrow := width < 500
	center := func(size int, bold bool) style {
		return style{size: size, bold: bold, align: escpos.Center}
	}

	if t.Logo != nil && !t.Logo.Bounds().Empty() && !d.drawable() {
		d.lines = append(d.lines, LineReport{Text: "[logo]", Omitted: true})
	} else if t.Logo != nil && !t.Logo.Bounds().Empty() {
		lw := min(t.Logo.Bounds().Dx(), width*3/5)
		d.image(raster.FromImage(t.Logo, lw), escpos.Center)
		d.feed(12)
	}
	d.text(t.Office, center(1, true))
	serviceSize := 2
	if narrow && len([]rune(clean(t.Service))) > d.columns(center(2, true))*3 {
		serviceSize = 1 // a long name at double size would take four lines
	}
	d.text(t.Service, center(serviceSize, true))
	d.rule()
	d.text(t.NumberLabel, center(1, false))
	d.number(t.Number)
	if t.Priority != "" {
		d.text(t.Priority, style{size: 1, bold: true, align: escpos.Center, reverse: true})
		d.feed(6)
	}
	d.rule()
	d.text(t.Ahead, center(1, true))
	d.text(t.Wait, center(1, false))
	d.text(t.Issued, center(1, false))
	if t.QRURL != "" {
		// A QR code wants four modules of white around it.
		d.feed(24)
		module := 6
		if narrow {
			module = 5
		}
		if err := d.qr(t.QRURL, module); err != nil {
			return Encoded{}, err
		}
		d.feed(24)
		d.text(t.QRCaption, center(1, false))
		d.text(t.QRURL, style{size: 1, align: escpos.Center, small: true})
	}
	if t.Footer != "" {
		d.rule()
		d.text(t.Footer, center(1, false))
	}
	d.cut()
	return Encoded{Job: d.b.Job(), Lines: d.lines}, nil
}

// number prints the ticket number as large as the paper allows, up to six
// times the normal size.
func (d *doc) number(n string) {
	n = clean(n)
	runes := len([]rune(n))
	if d.e.mode == RasterMode {
		px := d.e.fonts.FitSize(raster.Bold, n, d.width-4*rasterMargin, 24, 170)
		bm := d.e.fonts.Text(raster.Bold, px, n)
		d.lines = append(d.lines, LineReport{Text: n, Raster: true})
		d.image(bm, escpos.Center)
		d.feed(8)
		return
	}
	size := max(1, min(6, d.width/(cellW*max(runes, 1))))
	d.text(n, style{size: size, bold: true, align: escpos.Center})
}

// TestPage encodes the page `kioskctl print-test` prints: the printer's
// profile, every language's alphabet (each line says whether it went as
// text, and in which code page, or as a picture), the sizes, a QR code and
// a cut.
func (e *Encoder) TestPage(now time.Time) (Encoded, error) {
	d := e.newDoc(e.profile.WidthDots)
	p := e.profile
	d.text("Numerek test page", style{size: 2, bold: true, align: escpos.Center})
	d.text(fmt.Sprintf("%s (%s %s)", p.Name, p.Vendor, p.Model), style{size: 1, align: escpos.Center})
	d.text(fmt.Sprintf("%d mm, %d dots, %d dpi, %s mode", p.PaperMM, d.width, p.DPI, e.mode), style{size: 1, align: escpos.Center})
	d.text("pictures: "+p.Images().String(), style{size: 1, align: escpos.Center})
	d.text(now.Format("2006-01-02 15:04:05 MST"), style{size: 1, align: escpos.Center})
	d.rule()
	for _, a := range Alphabets() {
		d.text(a.Language+":", style{size: 1, bold: true})
		before := len(d.lines)
		d.text(a.Letters, style{size: 1})
		var how []string
		for _, l := range d.lines[before:] {
			if l.Omitted {
				how = append(how, "left out")
			} else if l.Raster {
				how = append(how, "drawn")
			} else {
				how = append(how, l.CodePage)
			}
		}
		d.text(fmt.Sprintf("(%v)", how), style{size: 1, small: true})
	}
	d.rule()
	for size := 1; size <= 3; size++ {
		d.text(fmt.Sprintf("Size %dx", size), style{size: size, bold: size > 1})
	}
	d.text("Bold", style{size: 1, bold: true})
	d.text("Reverse", style{size: 1, reverse: true})
	d.text("Font B", style{size: 1, small: true})
	d.text("Right", style{size: 1, align: escpos.Right})
	d.rule()
	d.feed(8)
	if err := d.qr(TestPageURL, 6); err != nil {
		return Encoded{}, err
	}
	d.text(TestPageURL, style{size: 1, align: escpos.Center, small: true})
	d.cut()
	return Encoded{Job: d.b.Job(), Lines: d.lines}, nil
}

// TestPageURL is what the test page's QR code holds.
const TestPageURL = "https://numerek.example/printer-test"

// Alphabet is one language's letters, as the test page prints them.
type Alphabet struct {
	Code     string // "pl", as i18n names the language
	Language string
	Letters  string
}

// Alphabets are the five ticket languages, capitals then small letters.
func Alphabets() []Alphabet {
	return []Alphabet{
		{Code: "pl", Language: "Polski", Letters: "AĄBCĆDEĘFGHIJKLŁMNŃOÓPRSŚTUWYZŹŻ aąbcćdeęfghijklłmnńoóprsśtuwyzźż"},
		{Code: "en", Language: "English", Letters: "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789"},
		{Code: "lt", Language: "Lietuvių", Letters: "AĄBCČDEĘĖFGHIĮYJKLMNOPRSŠTUŲŪVZŽ aąbcčdeęėfghiįyjklmnoprsštuųūvzž"},
		{Code: "ru", Language: "Русский", Letters: "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ абвгдеёжзийклмнопрстуфхцчшщъыьэюя"},
		{Code: "uk", Language: "Українська", Letters: "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"},
	}
}
