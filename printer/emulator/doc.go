// Package emulator is an ESC/POS printer in software. It reads what a
// printer would receive with the parser of package printer/escpos, draws
// the paper it would print (a PNG per ticket), answers status requests
// (DLE EOT, GS r, Automatic Status Back) and can be put into the faults a
// kiosk meets: cover open, paper out (after so many tickets, or mid-ticket
// with Config.PaperDots), a jammed cutter, a printer that falls silent.
// Config models what makes a real printer lose bytes: a small input
// buffer, a slow serial line, a slow print mechanism.
//
// It serves as a network printer (ListenTCP, port 9100) or a serial one
// (ServePTY, a pseudo-terminal); or, in the same process, as the printer
// of an emulator:///DIR URI, which a program that wants it adds to the
// transports it opens printers with (Register): package printer itself
// does not know the scheme.
package emulator
