// Package printer prints Numerek's queue tickets on ESC/POS thermal
// printers, 58 and 80 mm, in Polish, English, Lithuanian, Russian and
// Ukrainian.
//
// A ticket is a plain Ticket of finished strings (package
// printer/ticketfmt makes one from the queue's values in the resident's
// language). An Encoder lays it out for a printer profile (package
// printer/profiles) and turns it into ESC/POS bytes: each line goes as text
// in a code page the printer really has that holds every letter of it, and
// a line no code page can carry is drawn with the Go fonts and sent as a
// raster image, so no letter is ever printed wrong. RasterMode draws every
// line. The QR code of the e-ticket goes through the printer's own QR
// encoder where the profile has one, else it is drawn. Pictures go in the
// form the model prints (profiles.Profile.Images): GS v 0 raster bands,
// ESC * column strips on models without those (24-dot, or 8-dot where the
// model has no high density), or GS ( L graphics. A model that prints no
// picture gets text alone, and Check says what its tickets would lack.
//
// A Printer is reached by URI (see Transports.Parse) through the
// transports in Options.Transports: Builtin has serial://, usb://, tcp://
// and file://; a program adds others to its map, as kioskd and kioskctl
// add printer/emulator's emulator://DIR (an in-process emulator writing a
// PNG per ticket) with emulator.Register. Use:
//
//	p, err := printer.Open(ctx, "serial:///dev/ttyUSB0?baud=19200", profile, printer.Options{})
//	st, err := p.Print(ctx, ticket) // checks status, sends paced, waits for the end
//	st, err = p.Status(ctx)         // st.Ready(), st.Has(printer.PaperOut), ...
//
// Open fails only for a URI it cannot use; a printer not reachable yet is
// Disconnected until it is. Print refuses a printer that is not ready with
// a *StatusError (see errors.As; errors.Is(err, ErrNotReady)), reports a
// line that fails mid-ticket as Disconnected, and reconnects on the next
// call. A ticket reads the status twice: DLE EOT 1 before (can it
// print?), and GS r after the cut, which the printer answers only once it
// has printed everything (did it?). A printer that does not answer a
// status request within
// Options.StatusTimeout is NotAnswering, never taken for fine. Jobs go one
// at a time: Status waits while a ticket is being sent. With
// Options.AutoStatusBack the printer also reports changes by itself (GS a),
// read without waiting by AutoStatus. Writes are paced against a model of the
// printer's input buffer and print speed, and raster images go in bands
// smaller than the buffer, so a printer with a 4 KB buffer on a 9600-baud
// line without flow control loses no byte. The pacing reads no bytes: the
// Encoder's escpos.Builder records, command by command, the paper each
// moves and the cuts (escpos.Span), and the model runs on those, so a
// column strip's line feed counts its 24 dots.
//
// Subpackages: escpos (command bytes, their spans, the parser that reads
// them back, and status bits), codepage (the
// character sets of ESC t), raster (1-bit images, Go-font text, QR),
// profiles (printer models, from escpos-printer-db), emulator (an ESC/POS
// printer in software, on a pty or TCP port 9100) and ticketfmt.
package printer
