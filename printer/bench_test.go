package printer_test

import (
	"strconv"
	"testing"

	"github.com/numerek/numerek/printer"
)

// benchTicket is the Polish example ticket whose footer mixes Polish and
// Ukrainian, which no single code page holds: one line must be drawn.
func benchTicket() printer.Ticket {
	tk := exampleTicket("pl")
	tk.Footer = "Obsługa także po ukraińsku / Обслуговування українською"
	return tk
}

// BenchmarkEncodeTicket encodes a full 80 mm ticket with a QR code and a
// drawn line: with the printer's own QR encoder, and with a drawn QR code
// for printers that lack one. Target: under 2 ms a ticket.
func BenchmarkEncodeTicket(b *testing.B) {
	native := lookup(b, "tm-t20ii")
	drawnQR := native
	drawnQR.NativeQR = false
	tk := benchTicket()
	for _, bc := range []struct {
		name string
		enc  *printer.Encoder
	}{
		{"native-qr", printer.NewEncoder(native, printer.TextMode)},
		{"raster-qr", printer.NewEncoder(drawnQR, printer.TextMode)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			out, err := bc.enc.Ticket(tk)
			if err != nil {
				b.Fatal(err)
			}
			if out.RasterLines() == 0 {
				b.Fatal("benchmark ticket has no drawn line")
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := bc.enc.Ticket(tk); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/ticket")
		})
	}
}

// BenchmarkTicketBytes measures what a ticket costs on the line in text
// mode and raster mode at both widths, and how long the line needs to
// carry it at 9600 and 115200 baud (ten bits a byte).
func BenchmarkTicketBytes(b *testing.B) {
	tk := benchTicket()
	for _, width := range []int{80, 58} {
		prof := profileFor(b, width)
		for _, mode := range []printer.Mode{printer.TextMode, printer.RasterMode} {
			b.Run(mode.String()+"-"+strconv.Itoa(width), func(b *testing.B) {
				enc := printer.NewEncoder(prof, mode)
				var n int
				for b.Loop() {
					out, err := enc.Ticket(tk)
					if err != nil {
						b.Fatal(err)
					}
					n = len(out.Bytes)
				}
				b.ReportMetric(float64(n), "bytes/ticket")
				b.ReportMetric(float64(n)*10/9600, "s@9600baud")
				b.ReportMetric(float64(n)*10/115200, "s@115200baud")
			})
		}
	}
}
